//! API keys created and revoked from the command line work (and stop working) on a running server
//! that shares the same metadata store.

use breadcrumb_http::cli::{Command, execute};
use breadcrumb_http::config::Config;
use breadcrumb_http::startup::spawn;
use reqwest::StatusCode;

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config::defaults(dir);
    c.addr = "127.0.0.1:0".parse().unwrap();
    c.secret_key = Some("test-secret-key-that-is-long-enough-0001".into());
    c
}

fn args(words: &str) -> Vec<String> {
    words.split_whitespace().map(String::from).collect()
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or_default().to_string()
}

async fn sources_status(addr: std::net::SocketAddr, key: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("http://{addr}/v1/sources/database"))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn keys_created_on_the_command_line_authenticate_until_revoked() {
    let dir = std::env::temp_dir().join(breadcrumb_core::ids::new_id("bc_cli"));
    let c = config(&dir);

    let err = execute(&c, Command::parse(&args("keys create")).unwrap())
        .await
        .unwrap_err();
    assert!(err.contains("no partner"), "{err}");

    let out = execute(&c, Command::parse(&args("partners create acme")).unwrap())
        .await
        .unwrap();
    let first_key = last_line(&out);
    assert!(first_key.starts_with("bc_"), "{out}");
    let listed = execute(&c, Command::ListPartners).await.unwrap();
    let partner_id = listed.split('\t').next().unwrap().to_string();
    assert!(listed.contains("acme"));

    // one partner: --partner may be left out
    let second_key = last_line(
        &execute(&c, Command::parse(&args("keys create")).unwrap())
            .await
            .unwrap(),
    );
    let third_key = last_line(
        &execute(
            &c,
            Command::parse(&args(&format!(
                "keys create --partner {partner_id} --label ci"
            )))
            .unwrap(),
        )
        .await
        .unwrap(),
    );
    assert_ne!(second_key, third_key);
    let unknown = execute(
        &c,
        Command::parse(&args("keys create --partner partner_nope")).unwrap(),
    )
    .await
    .unwrap_err();
    assert!(unknown.contains("partner_nope"), "{unknown}");

    // the store keeps only hashes
    let raw = std::fs::read(dir.join("breadcrumb.db")).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    for k in [&first_key, &second_key, &third_key] {
        assert!(!raw.contains(k.as_str()), "a clear-text key is stored");
    }

    let (server, _) = spawn(&c).await.unwrap();
    for k in [&first_key, &second_key, &third_key] {
        assert_eq!(sources_status(server.addr, k).await, StatusCode::OK);
    }
    let revoked = execute(
        &c,
        Command::RevokeKey {
            key: second_key.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(revoked, "revoked");
    assert_eq!(
        sources_status(server.addr, &second_key).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sources_status(server.addr, &first_key).await,
        StatusCode::OK
    );
    let again = execute(&c, Command::RevokeKey { key: second_key })
        .await
        .unwrap_err();
    assert!(again.contains("no active API key"));
    server.stop().await;

    assert!(Command::parse(&args("keys create --colour red")).is_err());
    assert!(Command::parse(&args("keys create --label")).is_err());
    assert_eq!(Command::parse(&[]).unwrap(), Command::Serve);
}

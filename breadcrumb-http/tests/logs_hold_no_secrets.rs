//! Every log line the server writes, at TRACE and for every crate (sqlx, hyper, reqwest
//! included), while it is handed each kind of secret: a connector password (for a source that
//! works and one that fails), the partner's API key, an embed token, the server's model key and
//! a partner's own model key. None of them may appear.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;
use support::app::{App, KEY};
use support::scripted_llm::{ScriptedLlm, answer, tool};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn no_secret_reaches_the_log_even_at_trace() {
    let log = Captured::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(log.clone())
        .with_ansi(false)
        .init();

    let llm = ScriptedLlm::start(vec![
        tool("run_sql", r#"{"sql": "SELECT count(*) AS n FROM orders"}"#),
        answer("You have some orders."),
    ])
    .await;
    let app = App::start(Some(&llm), |c| {
        c.partner_model_hosts = vec!["127.0.0.1".into()]
    })
    .await;
    let password = "Pw-for-the-log-test-91731";
    for database in ["test", "no_such_database_91731"] {
        let (s, e) = app
            .partner(
                "POST",
                "/v1/sources/database",
                Some(
                    json!({"database_type": "postgres", "host": "127.0.0.1", "port": 5432,
                    "database": database, "username": "postgres", "password": password}),
                ),
            )
            .await;
        assert!(
            s == StatusCode::CREATED || s == StatusCode::BAD_REQUEST,
            "{s}: {e}"
        );
    }
    let (s, m) = app.ask("logs-1", "How many orders?").await;
    assert_eq!(s, StatusCode::OK, "{m}");
    let partner_key = "sk-partner-for-the-log-test-55120";
    let (s, v) = app
        .partner(
            "PUT",
            "/v1/settings/model",
            Some(json!({"provider": "openai", "base_url": llm.base_url(), "model": "p", "api_key": partner_key})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    llm.push(answer("From the partner's model."));
    let (s, m) = app.ask("logs-1", "And now?").await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["text"], "From the partner's model.");

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("TRACE") && text.lines().count() > 100,
        "the capture works: {} lines",
        text.lines().count()
    );
    let token_signature = app.token.rsplit('.').next().unwrap().to_string();
    for (what, secret) in [
        ("connector password", password),
        ("partner API key", KEY),
        ("embed token", token_signature.as_str()),
        ("server's model key", "sk-test-secret-llm-key"),
        ("partner's model key", partner_key),
    ] {
        assert!(
            !text.contains(secret),
            "the {what} is in the log:\n{}",
            text.lines()
                .filter(|l| l.contains(secret))
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

//! The embed page in a real browser: headless Chromium (Debian's package) driven over WebDriver by
//! chromedriver. An end user opens `/embed#token=…`, asks a question, and sees the answer, its SQL
//! and its rows; a reload shows the conversation again. Skips loudly without Chromium, and fails
//! instead under `CI=true` (`.ci/run` installs it).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use breadcrumb_http::config::Config;
use breadcrumb_http::startup::spawn;
use serde_json::{Value, json};

const KEY: &str = "bc_browser_test_key_0123456789";

/// A chromedriver process, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(name: &str) -> Option<String> {
    ["/usr/bin/", "/usr/local/bin/"]
        .iter()
        .map(|d| format!("{d}{name}"))
        .find(|p| std::path::Path::new(p).exists())
}

async fn start_driver() -> Option<Driver> {
    let (Some(driver), Some(_)) = (which("chromedriver"), which("chromium")) else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "chromium and chromedriver are required under CI=true (apt-get install chromium chromium-driver)"
            );
        }
        eprintln!(
            "\n*** SKIPPED: chromium/chromedriver not installed (apt-get install chromium chromium-driver) ***\n"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let d = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Ok(r) = reqwest::get(format!("{}/status", d.url)).await
            && r.status().is_success()
        {
            return Some(d);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not become ready");
}

/// The few WebDriver commands the test needs.
struct Session {
    http: reqwest::Client,
    base: String,
}

impl Session {
    async fn new(driver: &Driver) -> Session {
        let http = reqwest::Client::new();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
            }
        }}});
        let r: Value = http
            .post(format!("{}/session", driver.url))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_string();
        Session {
            http,
            base: format!("{}/session/{id}", driver.url),
        }
    }
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r: Value = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(r["value"].get("error").is_none(), "WebDriver {path}: {r}");
        r["value"].clone()
    }
    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }
    async fn script(&self, js: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": js, "args": []}),
        )
        .await
    }
    async fn type_into(&self, css: &str, text: &str) {
        let e = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        let id = e
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("element id")
            .to_string();
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .await;
    }
    /// Polls a script until it returns something other than null.
    async fn wait_for(&self, js: &str) -> Value {
        let started = Instant::now();
        loop {
            let v = self.script(js).await;
            if !v.is_null() {
                return v;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "timed out waiting for: {js}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    async fn close(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

const ASSISTANT: &str = "const m=[...document.querySelectorAll('.msg.assistant')];\
    if(!m.length)return null;const l=m[m.length-1];\
    return {count:m.length,text:l.querySelector('.text').textContent,\
    sql:(l.querySelector('.sql')||{}).textContent||null,\
    cells:[...l.querySelectorAll('td')].map(td=>td.textContent),\
    status:document.getElementById('status').textContent}";

#[tokio::test]
async fn an_end_user_asks_a_question_on_the_embed_page_and_sees_rows_of_their_space() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let dir = std::env::temp_dir().join(breadcrumb_core::ids::new_id("bc_browser"));
    let mut config = Config::defaults(&dir);
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.secret_key = Some("test-secret-key-that-is-long-enough-0001".into());
    config.bootstrap_api_key = Some(KEY.into());
    config.demo = true;
    let (server, _) = spawn(&config).await.unwrap();
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let spaces: Value = http
        .get(format!("{base}/v1/spaces"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let acme = spaces
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["customer_id"] == "acme")
        .expect("demo space acme")
        .clone();
    let token: Value = http
        .post(format!("{base}/v1/embed/token"))
        .header("X-API-Key", KEY)
        .json(&json!({"email": "ann@acme.test", "name": "Ann", "customer_id": "acme", "space_id": acme["space_id"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().expect("embed token").to_string();

    // What the API answers for the same question is what the page must show.
    let question = "Total amount of orders by month";
    let expected: Value = http
        .post(format!("{base}/v1/conversations/api-check/messages"))
        .bearer_auth(&token)
        .json(&json!({ "text": question }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected_first = expected["data"]["rows"][0][0].to_string();
    assert!(expected["sql"].is_string(), "{expected}");

    let browser = Session::new(&driver).await;
    let page = format!("{base}/embed#token={token}&conversation=browser-conv");
    browser.goto(&page).await;
    browser
        .wait_for("return document.readyState==='complete'?true:null")
        .await;
    browser
        .type_into("#q", &format!("{question}\u{E007}"))
        .await;
    let shown = browser.wait_for(ASSISTANT).await;
    assert_eq!(shown["status"], "", "the page reported an error: {shown}");
    assert!(!shown["text"].as_str().unwrap().is_empty(), "{shown}");
    assert_eq!(shown["sql"], expected["sql"], "{shown}");
    assert_eq!(
        shown["cells"][0].as_str().unwrap(),
        expected_first.trim_matches('"'),
        "{shown}"
    );
    // The chart arrives as the server's SVG, loaded with the token, and is drawn.
    let drawn = browser
        .wait_for("const i=document.querySelector('.msg.assistant img.chart');return i&&i.complete&&i.naturalWidth>0?i.naturalWidth:null")
        .await;
    assert_eq!(drawn, json!(640));
    assert_eq!(
        browser
            .script("return document.getElementById('progress').textContent")
            .await,
        json!(""),
        "progress is cleared once the answer is shown"
    );

    // A reload shows the stored conversation: the question and the answer.
    browser.goto("about:blank").await;
    browser.goto(&page).await;
    let roles = browser
        .wait_for("const m=[...document.querySelectorAll('.msg')].map(e=>e.dataset.role);return m.length>=2?m:null")
        .await;
    assert_eq!(roles, json!(["user", "assistant"]));

    // A page without a token says so instead of failing silently.
    browser.goto(&format!("{base}/embed")).await;
    let status = browser
        .wait_for("const s=document.getElementById('status').textContent;return s?s:null")
        .await;
    assert!(
        status.as_str().unwrap().contains("No embed token"),
        "{status}"
    );

    browser.close().await;
    server.stop().await;
}

//! A Breadcrumb server with demo data on port 0, an end user of customer `acme`, and helpers.

#![allow(dead_code)]

use breadcrumb_http::config::Config;
use breadcrumb_http::startup::{Running, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::scripted_llm::ScriptedLlm;

pub const KEY: &str = "bc_llm_test_key_0123456789abcdef";

pub struct App {
    pub server: Running,
    pub dir: std::path::PathBuf,
    pub http: reqwest::Client,
    pub token: String,
}

impl App {
    pub async fn start(llm: Option<&ScriptedLlm>, tune: impl FnOnce(&mut Config)) -> App {
        let dir = std::env::temp_dir().join(breadcrumb_core::ids::new_id("bc_llm"));
        let mut c = Config::defaults(&dir);
        c.addr = "127.0.0.1:0".parse().unwrap();
        c.secret_key = Some("test-secret-key-that-is-long-enough-0001".into());
        c.bootstrap_api_key = Some(KEY.into());
        c.demo = true;
        if let Some(l) = llm {
            c.llm_base_url = Some(l.base_url());
            c.llm_model = Some("scripted-model".into());
            c.llm_api_key = Some("sk-test-secret-llm-key".into());
            c.llm_timeout_secs = 1;
        }
        tune(&mut c);
        let (server, _) = spawn(&c).await.expect("server starts");
        let mut app = App {
            server,
            dir,
            http: reqwest::Client::new(),
            token: String::new(),
        };
        let spaces = app.partner("GET", "/v1/spaces", None).await.1;
        let acme = spaces
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["customer_id"] == "acme")
            .unwrap()
            .clone();
        let (s, t) = app
            .partner(
                "POST",
                "/v1/embed/token",
                Some(json!({"email": "ann@acme.test", "name": "Ann", "customer_id": "acme", "space_id": acme["space_id"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{t}");
        app.token = t["token"].as_str().unwrap().to_string();
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }

    pub async fn partner(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self
            .http
            .request(method.parse().unwrap(), self.url(path))
            .header("X-API-Key", KEY);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn ask(&self, conversation: &str, text: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url(&format!("/v1/conversations/{conversation}/messages")))
            .bearer_auth(&self.token)
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn messages(&self, conversation: &str) -> Vec<Value> {
        let resp = self
            .http
            .get(self.url(&format!("/v1/conversations/{conversation}/messages")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let page: Value = resp.json().await.unwrap();
        page["messages"].as_array().unwrap().clone()
    }

    /// The question and a reply are both stored, in order.
    pub async fn assert_kept(&self, conversation: &str, question: &str) -> Value {
        let ms = self.messages(conversation).await;
        assert!(ms.len() >= 2, "{ms:?}");
        let (q, a) = (&ms[ms.len() - 2], &ms[ms.len() - 1]);
        assert_eq!(
            (q["role"].as_str(), q["text"].as_str()),
            (Some("user"), Some(question))
        );
        assert_eq!(a["role"], "assistant");
        assert!(!a["text"].as_str().unwrap().is_empty());
        a.clone()
    }
}

//! A real HTTP server on loopback that speaks the OpenAI Chat Completions protocol (and the
//! Anthropic Messages API) with scripted replies, recording every request it receives.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

#[derive(Clone)]
pub enum Reply {
    /// Status, body and headers.
    Http(u16, Value, Vec<(&'static str, String)>),
    /// Wait, then reply.
    After(Duration, Box<Reply>),
}

#[derive(Default)]
struct Script {
    replies: Mutex<VecDeque<Reply>>,
    /// Used when the script runs out.
    fallback: Mutex<Option<Reply>>,
    requests: Mutex<Vec<Value>>,
}

pub struct ScriptedLlm {
    pub addr: SocketAddr,
    script: Arc<Script>,
}

async fn respond(State(s): State<Arc<Script>>, Json(body): Json<Value>) -> Response {
    s.requests.lock().unwrap().push(body);
    let next = s
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .or_else(|| s.fallback.lock().unwrap().clone());
    let mut reply = next.unwrap_or_else(|| {
        Reply::Http(500, json!({"error": {"message": "script ran out"}}), vec![])
    });
    loop {
        match reply {
            Reply::After(d, r) => {
                tokio::time::sleep(d).await;
                reply = *r;
            }
            Reply::Http(status, body, headers) => {
                let mut resp = (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
                for (k, v) in headers {
                    resp.headers_mut().insert(k, v.parse().unwrap());
                }
                return resp;
            }
        }
    }
}

impl ScriptedLlm {
    pub async fn start(replies: Vec<Reply>) -> ScriptedLlm {
        let script = Arc::new(Script {
            replies: Mutex::new(replies.into()),
            ..Default::default()
        });
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(respond))
            .route("/v1/messages", post(respond))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ScriptedLlm { addr, script }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn fallback(&self, r: Reply) {
        *self.script.fallback.lock().unwrap() = Some(r);
    }

    pub fn push(&self, r: Reply) {
        self.script.replies.lock().unwrap().push_back(r);
    }

    pub fn requests(&self) -> Vec<Value> {
        self.script.requests.lock().unwrap().clone()
    }

    /// Everything the model was ever sent, as one text (for "never in the prompt" checks).
    pub fn all_prompts(&self) -> String {
        serde_json::to_string(&self.requests()).unwrap()
    }
}

pub const USAGE: (u64, u64) = (100, 20);

fn usage() -> Value {
    json!({"prompt_tokens": USAGE.0, "completion_tokens": USAGE.1, "total_tokens": USAGE.0 + USAGE.1})
}

/// An OpenAI reply that calls one tool.
pub fn tool(name: &str, arguments: &str) -> Reply {
    tools(&[(name, arguments)])
}

pub fn tools(calls: &[(&str, &str)]) -> Reply {
    let calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (n, a))| json!({"id": format!("call_{i}"), "type": "function", "function": {"name": n, "arguments": a}}))
        .collect();
    Reply::Http(
        200,
        json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "scripted",
               "choices": [{"index": 0, "finish_reason": "tool_calls",
                            "message": {"role": "assistant", "content": null, "tool_calls": calls}}],
               "usage": usage()}),
        vec![],
    )
}

/// An OpenAI reply that answers in words.
pub fn answer(text: &str) -> Reply {
    Reply::Http(
        200,
        json!({"id": "chatcmpl-2", "object": "chat.completion", "model": "scripted",
               "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": text}}],
               "usage": usage()}),
        vec![],
    )
}

pub fn anthropic_tool(name: &str, input: Value) -> Reply {
    Reply::Http(
        200,
        json!({"id": "msg_1", "type": "message", "role": "assistant", "stop_reason": "tool_use",
               "content": [{"type": "text", "text": "Let me look."},
                           {"type": "tool_use", "id": "toolu_1", "name": name, "input": input}],
               "usage": {"input_tokens": USAGE.0, "output_tokens": USAGE.1}}),
        vec![],
    )
}

pub fn anthropic_answer(text: &str) -> Reply {
    Reply::Http(
        200,
        json!({"id": "msg_2", "type": "message", "role": "assistant", "stop_reason": "end_turn",
               "content": [{"type": "text", "text": text}],
               "usage": {"input_tokens": USAGE.0, "output_tokens": USAGE.1}}),
        vec![],
    )
}

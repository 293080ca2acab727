//! The Anthropic Messages API with tool use (`POST {base}/messages`).

use async_trait::async_trait;
use serde_json::{Value, json};

use super::http::Transport;
use super::{ChatMessage, ChatModel, ChatRequest, ChatResponse, ModelSettings, ToolCall, Usage};
use crate::error::{Error, Result};

pub struct AnthropicClient {
    transport: Transport,
    url: String,
    model: String,
    api_key: Option<String>,
}

impl AnthropicClient {
    pub fn new(s: &ModelSettings) -> Result<Self> {
        Ok(AnthropicClient {
            transport: Transport::new(s)?,
            url: format!("{}/messages", s.base_url.trim_end_matches('/')),
            model: s.model.clone(),
            api_key: s.api_key.clone(),
        })
    }

    fn body(&self, r: &ChatRequest) -> Value {
        let mut messages: Vec<Value> = Vec::new();
        for m in &r.messages {
            let (role, content) = match m {
                ChatMessage::User(t) => ("user", json!([{"type": "text", "text": t}])),
                ChatMessage::Assistant { text, tool_calls } => {
                    let mut blocks = Vec::new();
                    if let Some(t) = text {
                        blocks.push(json!({"type": "text", "text": t}));
                    }
                    for c in tool_calls {
                        let input: Value =
                            serde_json::from_str(&c.arguments).unwrap_or_else(|_| json!({}));
                        blocks.push(
                            json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}),
                        );
                    }
                    ("assistant", Value::Array(blocks))
                }
                ChatMessage::Tool { call_id, content } => (
                    "user",
                    json!([{"type": "tool_result", "tool_use_id": call_id, "content": content}]),
                ),
            };
            // The API wants alternating roles: consecutive tool results join one user turn.
            match messages.last_mut() {
                Some(last) if last["role"] == role => {
                    if let (Some(a), Some(b)) = (last["content"].as_array_mut(), content.as_array())
                    {
                        a.extend(b.iter().cloned());
                    }
                }
                _ => messages.push(json!({"role": role, "content": content})),
            }
        }
        json!({
            "model": self.model,
            "system": r.system,
            "messages": messages,
            "max_tokens": r.max_tokens,
            "tools": r.tools.iter().map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters})).collect::<Vec<_>>(),
        })
    }
}

fn parse(v: &Value) -> Result<ChatResponse> {
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Upstream("the model's answer has no content".into()))?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => tool_calls.push(ToolCall {
                id: b
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("tool")
                    .to_string(),
                name: b
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                arguments: b.get("input").map(Value::to_string).unwrap_or_default(),
            }),
            _ => {}
        }
    }
    Ok(ChatResponse {
        text: (!text.trim().is_empty()).then_some(text),
        tool_calls,
        usage: Usage {
            input_tokens: v
                .pointer("/usage/input_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            output_tokens: v
                .pointer("/usage/output_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        },
    })
}

#[async_trait]
impl ChatModel for AnthropicClient {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let body = self.body(request);
        let v = self
            .transport
            .send_json(|| {
                let mut b = self
                    .transport
                    .http
                    .post(&self.url)
                    .header("anthropic-version", "2023-06-01")
                    .json(&body);
                if let Some(k) = &self.api_key {
                    b = b.header("x-api-key", k);
                }
                b
            })
            .await?;
        parse(&v)
    }
}

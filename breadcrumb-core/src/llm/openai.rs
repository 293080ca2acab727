//! The OpenAI Chat Completions protocol with tool calling (`POST {base}/chat/completions`).

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use serde_json::{Value, json};

use super::http::Transport;
use super::{ChatMessage, ChatModel, ChatRequest, ChatResponse, ModelSettings, ToolCall, Usage};
use crate::error::{Error, Result};

pub struct OpenAiClient {
    transport: Transport,
    url: String,
    model: String,
    api_key: Option<String>,
    /// OpenAI's reasoning models refuse `max_tokens` and want `max_completion_tokens`, which
    /// older servers (Ollama, llama.cpp) do not know; set once a server has asked for it.
    completion_tokens: AtomicBool,
}

impl OpenAiClient {
    pub fn new(s: &ModelSettings) -> Result<Self> {
        Ok(OpenAiClient {
            transport: Transport::new(s)?,
            url: format!("{}/chat/completions", s.base_url.trim_end_matches('/')),
            model: s.model.clone(),
            api_key: s.api_key.clone(),
            completion_tokens: AtomicBool::new(false),
        })
    }

    fn body(&self, r: &ChatRequest) -> Value {
        let mut messages = vec![json!({"role": "system", "content": r.system})];
        for m in &r.messages {
            messages.push(match m {
                ChatMessage::User(t) => json!({"role": "user", "content": t}),
                ChatMessage::Assistant { text, tool_calls } => {
                    let mut o = json!({"role": "assistant", "content": text});
                    if !tool_calls.is_empty() {
                        o["tool_calls"] = tool_calls
                            .iter()
                            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
                            .collect();
                    }
                    o
                }
                ChatMessage::Tool { call_id, content } => {
                    json!({"role": "tool", "tool_call_id": call_id, "content": content})
                }
            });
        }
        let mut body = json!({"model": self.model, "messages": messages});
        let limit = if self.completion_tokens.load(Ordering::Relaxed) {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body[limit] = json!(r.max_tokens);
        if !r.tools.is_empty() {
            body["tools"] = r
                .tools
                .iter()
                .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
                .collect();
        }
        body
    }
}

pub(super) fn parse(v: &Value) -> Result<ChatResponse> {
    let msg = v
        .pointer("/choices/0/message")
        .ok_or_else(|| Error::Upstream("the model's answer has no message".into()))?;
    let tool_calls = msg
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(|calls| {
            calls
                .iter()
                .enumerate()
                .map(|(i, c)| ToolCall {
                    id: c
                        .get("id")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("call_{i}")),
                    name: c
                        .pointer("/function/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    arguments: match c.pointer("/function/arguments") {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                        None => String::new(),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let usage = Usage {
        input_tokens: v
            .pointer("/usage/prompt_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        output_tokens: v
            .pointer("/usage/completion_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    };
    Ok(ChatResponse {
        text: msg
            .get("content")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string),
        tool_calls,
        usage,
    })
}

#[async_trait]
impl ChatModel for OpenAiClient {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse> {
        match self.send(request).await {
            Err(Error::Upstream(why))
                if why.contains("max_completion_tokens")
                    && !self.completion_tokens.swap(true, Ordering::Relaxed) =>
            {
                tracing::info!(model = %self.model, "the model wants max_completion_tokens");
                self.send(request).await
            }
            other => other,
        }
    }
}

impl OpenAiClient {
    async fn send(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let body = self.body(request);
        let v = self
            .transport
            .send_json(|| {
                let mut b = self.transport.http.post(&self.url).json(&body);
                if let Some(k) = &self.api_key {
                    // Azure OpenAI reads `api-key`; everyone else the bearer token.
                    b = b.bearer_auth(k).header("api-key", k);
                }
                b
            })
            .await?;
        parse(&v)
    }
}

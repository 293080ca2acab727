//! Language models, provider-neutral: a chat with tool calling. The agent loop speaks only
//! [`ChatModel`]; the HTTP clients for the OpenAI Chat Completions protocol (OpenAI, Azure
//! OpenAI, Ollama, vLLM, llama.cpp, LM Studio, OpenRouter) and the Anthropic Messages API live
//! behind the `llm` feature.

#[cfg(feature = "llm")]
mod anthropic;
#[cfg(feature = "llm")]
mod http;
#[cfg(feature = "llm")]
mod openai;

#[cfg(feature = "llm")]
pub use self::{anthropic::AnthropicClient, http::HttpModels, openai::OpenAiClient};

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::Result;

/// One turn of a chat.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatMessage {
    User(String),
    Assistant {
        text: Option<String>,
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one tool call, sent back to the model.
    Tool {
        call_id: String,
        content: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The model's arguments as it wrote them: JSON text that may be malformed.
    pub arguments: String,
}

/// A tool the model may call: a name, what it does, and a JSON Schema of its arguments.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub system: String,
    pub messages: Vec<ChatMessage>,
    pub tools: Vec<ToolSpec>,
    pub max_tokens: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatResponse {
    pub text: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Usage,
}

/// Tokens a model counted for a request (or a sum of requests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, o: Usage) {
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
    }
}

#[async_trait]
pub trait ChatModel: Send + Sync {
    /// One completion. Errors are `Error::Upstream` with a sentence an end user may read.
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The OpenAI Chat Completions protocol, spoken by most servers.
    Openai,
    Anthropic,
}

/// Which model to call and how. The key is a secret: never logged, never returned.
#[derive(Clone, PartialEq)]
pub struct ModelSettings {
    pub provider: Provider,
    /// For example `https://api.openai.com/v1` or `http://localhost:11434/v1` (Ollama).
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    /// Per request, including the time to read the whole answer.
    pub timeout: Duration,
    /// Retries after a 429 or 5xx, honouring `Retry-After`.
    pub max_retries: u32,
    /// Which addresses the client may connect to.
    pub reach: Reach,
}

/// Which addresses a model client may connect to. Checked on the addresses a name resolves to
/// when the connection is made, so a public name that points at a private address is caught too.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Reach {
    /// Any address: the server's own model, chosen by its operator.
    #[default]
    Any,
    /// Public addresses only, except these hosts: a partner's own model must not point the
    /// server at its neighbours (a cloud metadata service, a database on the private network).
    Public { allowed_hosts: Vec<String> },
}

/// Loopback, private, link-local, unique-local or unspecified: not for a partner's model.
pub fn is_internal_ip(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(ip) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT, used for cluster-internal addresses.
                || (ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(ip) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal_ip(IpAddr::V4(v4)))
        }
    }
}

impl std::fmt::Debug for ModelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSettings")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("reach", &self.reach)
            .finish()
    }
}

/// Builds a model client from settings (a partner's own, or the server's).
pub trait ModelFactory: Send + Sync {
    fn model(&self, settings: &ModelSettings) -> Result<std::sync::Arc<dyn ChatModel>>;
}

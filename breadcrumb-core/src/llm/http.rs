//! What both HTTP clients share: one reqwest client, timeouts, and retries with backoff on 429
//! and 5xx that honour `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;

use super::{ChatModel, ModelFactory, ModelSettings, Provider, Reach, is_internal_ip};
use crate::error::{Error, Result};

/// Longest wait a `Retry-After` may ask for before the client gives up instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

pub(super) struct Transport {
    pub http: reqwest::Client,
    pub timeout: Duration,
    pub max_retries: u32,
}

impl Transport {
    pub fn new(settings: &ModelSettings) -> Result<Self> {
        // No model API redirects; following one would take the request (and its key) to an
        // address nobody checked, such as a cloud metadata service.
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10).min(settings.timeout))
            .redirect(reqwest::redirect::Policy::none());
        if let Reach::Public { allowed_hosts } = &settings.reach {
            builder = builder.dns_resolver(PublicOnly {
                allowed_hosts: allowed_hosts.clone(),
            });
        }
        let http = builder
            .build()
            .map_err(|e| Error::Internal(format!("HTTP client: {e}")))?;
        Ok(Transport {
            http,
            timeout: settings.timeout,
            max_retries: settings.max_retries,
        })
    }

    /// Sends `build()` until it succeeds, retrying 429 and 5xx (and connection failures) with
    /// exponential backoff or the server's `Retry-After`. Returns the JSON body of a success.
    pub async fn send_json(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<serde_json::Value> {
        let mut attempt = 0u32;
        loop {
            let sent = build().timeout(self.timeout).send().await;
            let (retryable, wait, why) = match sent {
                Ok(resp) if resp.status().is_success() => {
                    return resp.json().await.map_err(|e| {
                        Error::Upstream(format!("the model's answer was not valid JSON: {e}"))
                    });
                }
                Ok(resp) => {
                    let status = resp.status();
                    let wait = retry_after(resp.headers());
                    let body = resp.text().await.unwrap_or_default();
                    let retryable =
                        status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                    (retryable, wait, describe(status, &body))
                }
                Err(e) if e.is_timeout() => (
                    true,
                    None,
                    format!(
                        "the model did not answer within {} s",
                        self.timeout.as_secs()
                    ),
                ),
                Err(e) if e.is_connect() => {
                    (true, None, "the model server cannot be reached".to_string())
                }
                Err(e) => (false, None, format!("the model request failed: {e}")),
            };
            if !retryable || attempt >= self.max_retries {
                return Err(Error::Upstream(why));
            }
            let backoff = Duration::from_millis(250 * 2u64.pow(attempt.min(6)));
            let wait = wait.unwrap_or(backoff);
            if wait > MAX_RETRY_AFTER {
                return Err(Error::Upstream(format!(
                    "{why}; the model server asks to wait {} s",
                    wait.as_secs()
                )));
            }
            tracing::info!(attempt, wait_ms = wait.as_millis() as u64, reason = %why, "retrying the model");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// Resolves names to their public addresses only (all of them for an allowed host), so that a
/// partner's model URL cannot reach the server's neighbours through a name that points inward.
struct PublicOnly {
    allowed_hosts: Vec<String>,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let allowed = self
            .allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&host));
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<std::net::SocketAddr> = found
                .into_iter()
                .filter(|a| allowed || !is_internal_ip(a.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} resolves only to loopback or private addresses, which a partner's model may not use"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(h: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = h.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
    Some(Duration::from_millis(secs.max(0) as u64))
}

/// A failure as a sentence, with the server's own message when it gave one (never the request,
/// which holds the key only in a header).
fn describe(status: StatusCode, body: &str) -> String {
    let detail = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.pointer("/message"))
                .and_then(|m| m.as_str().map(str::to_string))
        })
        .unwrap_or_default();
    let what = match status {
        StatusCode::TOO_MANY_REQUESTS => "the model server is rate-limiting requests",
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => "the model server refused the API key",
        StatusCode::NOT_FOUND => "the model server does not know this model or path",
        s if s.is_server_error() => "the model server failed",
        _ => "the model server refused the request",
    };
    let detail: String = detail.chars().take(300).collect();
    if detail.is_empty() {
        format!("{what} (HTTP {})", status.as_u16())
    } else {
        format!("{what} (HTTP {}): {detail}", status.as_u16())
    }
}

/// Makes OpenAI-protocol or Anthropic clients from settings.
#[derive(Default)]
pub struct HttpModels;

impl ModelFactory for HttpModels {
    fn model(&self, s: &ModelSettings) -> Result<Arc<dyn ChatModel>> {
        Ok(match s.provider {
            Provider::Openai => Arc::new(super::OpenAiClient::new(s)?),
            Provider::Anthropic => Arc::new(super::AnthropicClient::new(s)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use reqwest::dns::Resolve;

    use super::PublicOnly;

    #[tokio::test]
    async fn a_name_that_points_inward_resolves_to_nothing_unless_allowed() {
        let refuse = PublicOnly {
            allowed_hosts: vec![],
        };
        let err = match refuse.resolve("localhost".parse().unwrap()).await {
            Ok(_) => panic!("localhost resolved for a partner's model"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("loopback or private"), "{err}");
        let allow = PublicOnly {
            allowed_hosts: vec!["LOCALHOST".into()],
        };
        let addrs: Vec<_> = allow
            .resolve("localhost".parse().unwrap())
            .await
            .expect("an allowed host resolves")
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}

//! Which agent answers, and what it may spend: a partner's own model (settings stored with the
//! key sealed), else the server's default agent; token usage per customer and the optional
//! monthly quota.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Breadcrumb, Principal};
use crate::agent::{Agent, LlmAgent};
use crate::error::{Error, Result};
use crate::llm::{ModelSettings, Provider, Reach, Usage};

/// `PUT /v1/settings/model` body: the partner's own model for its conversations.
#[derive(Clone, Deserialize, ToSchema)]
pub struct SetModel {
    pub provider: Provider,
    /// An OpenAI-compatible or Anthropic base URL, e.g. `https://api.openai.com/v1`.
    #[schema(max_length = 500, pattern = "^https?://")]
    pub base_url: String,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub model: String,
    /// Stored sealed; never returned.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for SetModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetModel")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The partner's model as it may be shown: never the key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ModelView {
    pub provider: Provider,
    pub base_url: String,
    pub model: String,
    pub has_api_key: bool,
}

#[derive(Serialize, Deserialize)]
struct StoredModel {
    provider: Provider,
    base_url: String,
    model: String,
    api_key: Option<String>,
}

/// Tokens a customer used this month.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct CustomerUsage {
    pub customer_id: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The first day of the month counted, UTC.
    pub since: chrono::DateTime<Utc>,
    /// The monthly quota, when one is configured.
    pub quota: Option<u64>,
}

fn setting_key(partner_id: &str) -> String {
    format!("model:{partner_id}")
}

pub(super) fn month_start(now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

fn next_month(now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    let (y, m) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

impl Breadcrumb {
    pub async fn set_model(&self, who: &Principal, body: SetModel) -> Result<ModelView> {
        let p = who.partner()?;
        let url = url::Url::parse(&body.base_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .filter(|_| body.base_url.chars().count() <= 500);
        let Some(url) = url else {
            return Err(Error::validation(
                "base_url",
                "`base_url` is an http:// or https:// URL with a host, such as https://api.openai.com/v1",
            ));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::validation(
                "base_url",
                "`base_url` may not hold credentials; give the key as `api_key`, which is stored sealed",
            ));
        }
        if let Some(host) = internal_host(&url)
            && !self
                .config
                .partner_model_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&host))
        {
            return Err(Error::validation(
                "base_url",
                format!(
                    "`base_url` points at {host}, a loopback or private address; the server's operator can allow it with BREADCRUMB_PARTNER_MODEL_HOSTS"
                ),
            ));
        }
        if body.model.trim().is_empty() || body.model.chars().count() > 200 {
            return Err(Error::validation("model", "`model` names the model"));
        }
        if self.models.is_none() {
            return Err(Error::Validation(vec![crate::error::FieldError::body(
                "provider",
                "this server was built without model clients",
                "value_error",
            )]));
        }
        let stored = StoredModel {
            provider: body.provider,
            base_url: body.base_url.trim_end_matches('/').to_string(),
            model: body.model,
            api_key: body.api_key.filter(|k| !k.is_empty()),
        };
        let json = serde_json::to_string(&stored).map_err(Error::internal)?;
        self.store
            .put_setting(
                &setting_key(&p.partner_id),
                &self.secret.cipher().seal(&json),
            )
            .await?;
        Ok(view(&stored))
    }

    pub async fn get_model(&self, who: &Principal) -> Result<ModelView> {
        let p = who.partner()?;
        match self.stored_model(&p.partner_id).await? {
            Some(m) => Ok(view(&m)),
            None => Err(Error::NotFound("model settings")),
        }
    }

    pub async fn delete_model(&self, who: &Principal) -> Result<()> {
        let p = who.partner()?;
        if self.stored_model(&p.partner_id).await?.is_none() {
            return Err(Error::NotFound("model settings"));
        }
        self.store
            .put_setting(&setting_key(&p.partner_id), "")
            .await?;
        Ok(())
    }

    async fn stored_model(&self, partner_id: &str) -> Result<Option<StoredModel>> {
        let sealed = self.store.get_setting(&setting_key(partner_id)).await?;
        self.open_model(sealed.as_deref().unwrap_or_default())
    }

    fn open_model(&self, sealed: &str) -> Result<Option<StoredModel>> {
        if sealed.is_empty() {
            return Ok(None);
        }
        let json = self.secret.cipher().open(sealed)?;
        Ok(Some(serde_json::from_str(&json).map_err(Error::internal)?))
    }

    /// The partner's own model when it set one, else the server's agent. The setting is read on
    /// every call (it is one small row) so that a change made through any instance on the same
    /// store takes effect at once; the client is rebuilt only when the setting changed (every
    /// seal has its own nonce, so any change shows).
    pub(super) async fn agent_for(&self, partner_id: &str) -> Result<Arc<dyn Agent>> {
        let Some(factory) = &self.models else {
            return Ok(self.agent.clone());
        };
        let sealed = self
            .store
            .get_setting(&setting_key(partner_id))
            .await?
            .unwrap_or_default();
        if let Some((built_from, agent)) = self
            .partner_agents
            .lock()
            .map_err(Error::internal)?
            .get(partner_id)
            && *built_from == sealed
        {
            return Ok(agent.clone());
        }
        let agent: Arc<dyn Agent> = match self.open_model(&sealed)? {
            None => self.agent.clone(),
            Some(m) => {
                let model = factory.model(&ModelSettings {
                    provider: m.provider,
                    base_url: m.base_url,
                    model: m.model,
                    api_key: m.api_key,
                    timeout: Duration::from_secs(60),
                    max_retries: 2,
                    reach: Reach::Public {
                        allowed_hosts: self.config.partner_model_hosts.clone(),
                    },
                })?;
                Arc::new(LlmAgent::new(model, self.config.agent_limits))
            }
        };
        self.partner_agents
            .lock()
            .map_err(Error::internal)?
            .insert(partner_id.to_string(), (sealed, agent.clone()));
        Ok(agent)
    }

    /// Refuses a question when the customer used its monthly tokens, before anything is stored.
    pub(super) async fn check_quota(&self, partner_id: &str, customer_id: &str) -> Result<()> {
        let Some(quota) = self.config.monthly_token_quota else {
            return Ok(());
        };
        if customer_id.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let used: u64 = self
            .store
            .usage_since(partner_id, Some(customer_id), month_start(now))
            .await?
            .iter()
            .map(|(_, u)| u.total())
            .sum();
        if used >= quota {
            return Err(Error::QuotaExceeded(format!(
                "customer {customer_id} has used {used} of its {quota} model tokens this month; the quota resets on {}",
                next_month(now).format("%Y-%m-%d")
            )));
        }
        Ok(())
    }

    /// Tokens per customer this month (partners only).
    pub async fn usage(
        &self,
        who: &Principal,
        customer_id: Option<&str>,
    ) -> Result<Vec<CustomerUsage>> {
        let p = who.partner()?;
        let since = month_start(Utc::now());
        let rows = self
            .store
            .usage_since(&p.partner_id, customer_id, since)
            .await?;
        let rows = if rows.is_empty() {
            customer_id
                .map(|c| vec![(c.to_string(), Usage::default())])
                .unwrap_or_default()
        } else {
            rows
        };
        Ok(rows
            .into_iter()
            .map(|(customer_id, u)| CustomerUsage {
                customer_id,
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
                since,
                quota: self.config.monthly_token_quota,
            })
            .collect())
    }
}

/// The host of `url` when it is `localhost` or an IP literal in a loopback, private, link-local
/// or unspecified range, refused when the partner sets it. A name that resolves to such an
/// address is refused when the client connects ([`Reach::Public`]).
fn internal_host(url: &url::Url) -> Option<String> {
    let internal = match url.host()? {
        url::Host::Domain(d) => {
            let d = d.to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        url::Host::Ipv4(ip) => crate::llm::is_internal_ip(ip.into()),
        url::Host::Ipv6(ip) => crate::llm::is_internal_ip(ip.into()),
    };
    internal.then(|| {
        url.host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_string()
    })
}

fn view(m: &StoredModel) -> ModelView {
    ModelView {
        provider: m.provider,
        base_url: m.base_url.clone(),
        model: m.model.clone(),
        has_api_key: m.api_key.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::internal_host;

    #[test]
    fn private_and_loopback_model_hosts_are_recognised() {
        for (url, host) in [
            ("http://127.0.0.1:11434/v1", Some("127.0.0.1")),
            ("http://localhost/v1", Some("localhost")),
            ("http://user:pw@10.1.2.3/v1", Some("10.1.2.3")),
            ("http://169.254.169.254/latest", Some("169.254.169.254")),
            ("http://[::1]:8080/v1", Some("::1")),
            ("http://[::ffff:192.168.1.1]/", Some("::ffff:c0a8:101")),
            ("https://api.openai.com/v1", None),
            ("https://8.8.8.8/v1", None),
        ] {
            let parsed = url::Url::parse(url).unwrap();
            assert_eq!(internal_host(&parsed).as_deref(), host, "{url}");
        }
    }
}

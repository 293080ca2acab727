//! Configuration, read from the environment in this one place.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// The metadata store: `sqlite://…` or `postgres://…`.
    pub database_url: String,
    pub secret_key: Option<String>,
    pub bootstrap_api_key: Option<String>,
    pub llm_base_url: Option<String>,
    pub llm_model: Option<String>,
    pub llm_api_key: Option<String>,
    /// `openai` (the Chat Completions protocol; default) or `anthropic`.
    pub llm_provider: breadcrumb_core::llm::Provider,
    pub llm_timeout_secs: u64,
    /// Model tokens per customer per calendar month; unset for no limit.
    pub monthly_token_quota: Option<u64>,
    /// Loopback or private hosts a partner's own model may use (comma-separated in the env).
    pub partner_model_hosts: Vec<String>,
    pub demo: bool,
    pub token_lifetime_secs: i64,
    pub json_logs: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field(
                "bootstrap_api_key",
                &self.bootstrap_api_key.as_ref().map(|_| "***"),
            )
            .field("llm_base_url", &self.llm_base_url)
            .field("llm_model", &self.llm_model)
            .field("llm_api_key", &self.llm_api_key.as_ref().map(|_| "***"))
            .field("llm_provider", &self.llm_provider)
            .field("monthly_token_quota", &self.monthly_token_quota)
            .field("demo", &self.demo)
            .finish()
    }
}

/// A URL with its password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Everything at its default, with the data (and the SQLite store) under `data_dir`: for
    /// tests and embedding, which then set what they need.
    pub fn defaults(data_dir: &std::path::Path) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.to_path_buf(),
            database_url: format!("sqlite://{}/breadcrumb.db?mode=rwc", data_dir.display()),
            secret_key: None,
            bootstrap_api_key: None,
            llm_base_url: None,
            llm_model: None,
            llm_api_key: None,
            llm_provider: breadcrumb_core::llm::Provider::Openai,
            llm_timeout_secs: 60,
            monthly_token_quota: None,
            partner_model_hosts: Vec::new(),
            demo: false,
            token_lifetime_secs: 3600,
            json_logs: false,
        }
    }

    /// Reads `BREADCRUMB_*`; `demo_default` is what `BREADCRUMB_DEMO` means when unset.
    pub fn from_env(demo_default: bool) -> Result<Config, String> {
        let data_dir = PathBuf::from(var("BREADCRUMB_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let addr = var("BREADCRUMB_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|e| format!("BREADCRUMB_ADDR is not host:port: {e}"))?;
        let demo = match var("BREADCRUMB_DEMO").as_deref() {
            None => demo_default,
            Some("1" | "true" | "yes" | "on") => true,
            Some("0" | "false" | "no" | "off") => false,
            Some(other) => {
                return Err(format!(
                    "BREADCRUMB_DEMO must be true or false, not `{other}`"
                ));
            }
        };
        let token_lifetime_secs = match var("BREADCRUMB_TOKEN_TTL_SECS") {
            None => 3600,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|s| (60..=86_400 * 7).contains(s))
                .ok_or("BREADCRUMB_TOKEN_TTL_SECS must be 60 to 604800 seconds")?,
        };
        Ok(Config {
            addr,
            database_url: var("BREADCRUMB_DATABASE_URL").unwrap_or_else(|| {
                format!("sqlite://{}/breadcrumb.db?mode=rwc", data_dir.display())
            }),
            data_dir,
            secret_key: var("BREADCRUMB_SECRET_KEY"),
            bootstrap_api_key: var("BREADCRUMB_BOOTSTRAP_API_KEY"),
            llm_base_url: var("BREADCRUMB_LLM_BASE_URL"),
            llm_model: var("BREADCRUMB_LLM_MODEL"),
            llm_api_key: var("BREADCRUMB_LLM_API_KEY"),
            llm_provider: match var("BREADCRUMB_LLM_PROVIDER").as_deref() {
                None | Some("openai") => breadcrumb_core::llm::Provider::Openai,
                Some("anthropic") => breadcrumb_core::llm::Provider::Anthropic,
                Some(other) => {
                    return Err(format!(
                        "BREADCRUMB_LLM_PROVIDER must be openai or anthropic, not `{other}`"
                    ));
                }
            },
            llm_timeout_secs: match var("BREADCRUMB_LLM_TIMEOUT_SECS") {
                None => 60,
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|s| (1..=600).contains(s))
                    .ok_or("BREADCRUMB_LLM_TIMEOUT_SECS must be 1 to 600 seconds")?,
            },
            monthly_token_quota: match var("BREADCRUMB_MONTHLY_TOKEN_QUOTA") {
                None => None,
                Some(v) => {
                    Some(v.parse::<u64>().ok().filter(|n| *n > 0).ok_or(
                        "BREADCRUMB_MONTHLY_TOKEN_QUOTA must be a positive number of tokens",
                    )?)
                }
            },
            partner_model_hosts: var("BREADCRUMB_PARTNER_MODEL_HOSTS")
                .map(|v| {
                    v.split(',')
                        .map(|h| h.trim().to_string())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            demo,
            token_lifetime_secs,
            json_logs: var("BREADCRUMB_LOG_FORMAT").as_deref() == Some("json"),
        })
    }
}

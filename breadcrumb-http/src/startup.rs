//! Building the server from configuration, and running it: on a given address for `main`, on
//! port 0 for tests (which learn the bound port).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use breadcrumb_core::agent::{Agent, LlmAgent, OfflineAgent};
use breadcrumb_core::connector::SqlxConnectors;
use breadcrumb_core::crypto::SecretKey;
use breadcrumb_core::llm::{HttpModels, ModelFactory, ModelSettings, Reach};
use breadcrumb_core::store::SqlStore;
use breadcrumb_core::{Breadcrumb, Principal, ServiceConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::{Config, redact_url};
use crate::{AppState, demo, metrics, router};

/// What start-up produced: the state to serve and, on first start, the new partner's key.
pub struct Built {
    pub state: AppState,
    pub new_api_key: Option<String>,
}

fn secret_key(config: &Config) -> Result<SecretKey, String> {
    if let Some(k) = &config.secret_key {
        return SecretKey::from_config(k).map_err(|e| e.to_string());
    }
    let path = config.data_dir.join("secret.key");
    let key = match std::fs::read_to_string(&path) {
        Ok(k) => k.trim().to_string(),
        Err(_) => {
            let k = SecretKey::generate_string();
            write_private(&path, &k)?;
            tracing::warn!(path = %path.display(), "BREADCRUMB_SECRET_KEY is not set: generated one and kept it in the data directory; set it explicitly in production");
            k
        }
    };
    SecretKey::from_config(&key).map_err(|e| e.to_string())
}

fn write_private(path: &std::path::Path, content: &str) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(content.as_bytes()).map_err(|e| e.to_string())
}

/// Opens the metadata store and the service, as the server and the command line both need.
pub async fn open_service(config: &Config) -> Result<Breadcrumb, String> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        format!(
            "cannot create the data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let secret = secret_key(config)?;
    tracing::info!(store = %redact_url(&config.database_url), "opening the metadata store");
    let store = SqlStore::connect(&config.database_url)
        .await
        .map_err(plain)?;
    let service_config = ServiceConfig {
        token_lifetime: chrono::Duration::seconds(config.token_lifetime_secs),
        monthly_token_quota: config.monthly_token_quota,
        partner_model_hosts: config.partner_model_hosts.clone(),
        ..Default::default()
    };
    let agent = default_agent(config, &service_config)?;
    Ok(Breadcrumb::new(
        Arc::new(store),
        Arc::new(SqlxConnectors {
            data_dir: config.data_dir.clone(),
            connect_timeout: Duration::from_secs(10),
        }),
        agent,
        secret,
        service_config,
    )
    .await
    .map_err(plain)?
    .with_models(Arc::new(HttpModels)))
}

/// The server's model when `BREADCRUMB_LLM_BASE_URL` is set, else the offline agent.
fn default_agent(config: &Config, sc: &ServiceConfig) -> Result<Arc<dyn Agent>, String> {
    let Some(base_url) = &config.llm_base_url else {
        tracing::info!("no BREADCRUMB_LLM_BASE_URL: the offline agent answers");
        return Ok(Arc::new(OfflineAgent));
    };
    let model = config
        .llm_model
        .clone()
        .ok_or("BREADCRUMB_LLM_MODEL is required with BREADCRUMB_LLM_BASE_URL")?;
    let settings = ModelSettings {
        provider: config.llm_provider,
        base_url: base_url.clone(),
        model,
        api_key: config.llm_api_key.clone(),
        timeout: Duration::from_secs(config.llm_timeout_secs),
        max_retries: 3,
        reach: Reach::Any,
    };
    tracing::info!(provider = ?settings.provider, base_url = %redact_url(&settings.base_url), model = %settings.model, "answering with a language model");
    let client = HttpModels.model(&settings).map_err(plain)?;
    Ok(Arc::new(LlmAgent::new(client, sc.agent_limits)))
}

/// Start-up messages meant for an operator: internal errors carry their own sentence.
fn plain(e: breadcrumb_core::Error) -> String {
    match e {
        breadcrumb_core::Error::Internal(m) => m,
        other => other.to_string(),
    }
}

pub async fn build(config: &Config) -> Result<Built, String> {
    let service = open_service(config).await?;
    let mut new_api_key = None;
    let partner = match &config.bootstrap_api_key {
        Some(key) => Some(
            service
                .ensure_partner_with_key("bootstrap", key)
                .await
                .map_err(|e| e.to_string())?,
        ),
        None if service
            .store()
            .count_partners()
            .await
            .map_err(|e| e.to_string())?
            == 0 =>
        {
            let (p, key) = service
                .create_partner("default")
                .await
                .map_err(|e| e.to_string())?;
            new_api_key = Some(key);
            Some(p)
        }
        None => None,
    };
    if config.demo {
        demo::ensure_database(&config.data_dir)
            .await
            .map_err(|e| format!("demo data: {e}"))?;
        if let Some(p) = partner {
            demo::ensure_registered(&service, &Principal::Partner(p))
                .await
                .map_err(|e| format!("demo data: {e}"))?;
        }
    }
    Ok(Built {
        state: AppState {
            service: Arc::new(service),
            metrics: Arc::new(metrics::Metrics::default()),
        },
        new_api_key,
    })
}

/// A server running in the background, stopped gracefully on drop or `stop()`.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Builds and serves on `config.addr` (port 0 picks a free one) in the background.
pub async fn spawn(config: &Config) -> Result<(Running, Option<String>), String> {
    let built = build(config).await?;
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(built.state.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok((
        Running {
            addr,
            state: built.state,
            stop: Some(tx),
            task: Some(task),
        },
        built.new_api_key,
    ))
}

/// Runs until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn run(config: Config) -> Result<(), String> {
    let built = build(&config).await?;
    if let Some(key) = &built.new_api_key {
        // Printed once, to the terminal only: the key is stored as a hash and cannot be shown again.
        println!("\nA partner was created. Its API key (shown only now):\n\n    {key}\n");
    }
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%addr, demo = config.demo, "Breadcrumb is listening; API reference at http://{addr}/docs");
    axum::serve(listener, router(built.state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Logs as text, or JSON with `BREADCRUMB_LOG_FORMAT=json`; `RUST_LOG` filters.
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let b = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if json {
        b.json().try_init()
    } else {
        b.try_init()
    };
}

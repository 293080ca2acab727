//! The application service: the one entry point every transport calls, with a [`Principal`].
//! It decides every authorization question; anything outside a caller's scope is `NotFound`, so
//! ids cannot be probed.

mod conversations;
mod embed;
mod models;
mod sources;
mod spaces;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;

pub use models::{CustomerUsage, ModelView, SetModel};

use crate::agent::{Agent, AgentLimits};
use crate::connector::{Connector, ConnectorFactory, QueryLimits};
use crate::crypto::{self, SecretKey};
use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::llm::ModelFactory;
use crate::model::{ConnectionSpec, Partner, StoredSource};
use crate::store::MetaStore;
use crate::token::TokenService;

/// Who is calling.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// A partner, by API key: may call everything, within its own data.
    Partner(Partner),
    /// An end user, by embed token: conversations only, within the token's scope.
    EndUser(EndUser),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EndUser {
    pub partner_id: String,
    pub user_id: String,
    pub customer_id: String,
    pub space_id: Option<String>,
}

impl Principal {
    pub fn partner_id(&self) -> &str {
        match self {
            Principal::Partner(p) => &p.partner_id,
            Principal::EndUser(u) => &u.partner_id,
        }
    }

    /// Partner-only operations refuse end users, before they look at the request.
    pub fn partner(&self) -> Result<&Partner> {
        match self {
            Principal::Partner(p) => Ok(p),
            Principal::EndUser(_) => Err(Error::Forbidden),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub token_lifetime: chrono::Duration,
    pub query_limits: QueryLimits,
    /// How many earlier messages the agent sees.
    pub history_window: usize,
    /// Bounds on a model-driven answer.
    pub agent_limits: AgentLimits,
    /// Model tokens one customer may use per calendar month (UTC); `None` for no limit.
    pub monthly_token_quota: Option<u64>,
    /// Hosts a partner's own model may name even though they are loopback or private
    /// addresses (by default refused, so a partner cannot point the server at its neighbours).
    pub partner_model_hosts: Vec<String>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            token_lifetime: chrono::Duration::hours(1),
            query_limits: QueryLimits::default(),
            history_window: 20,
            agent_limits: AgentLimits::default(),
            monthly_token_quota: None,
            partner_model_hosts: Vec::new(),
        }
    }
}

pub struct Breadcrumb {
    store: Arc<dyn MetaStore>,
    connectors: Arc<dyn ConnectorFactory>,
    agent: Arc<dyn Agent>,
    secret: SecretKey,
    tokens: TokenService,
    config: ServiceConfig,
    /// One pooled connector per source, reused across requests.
    open: Mutex<HashMap<String, Arc<dyn Connector>>>,
    /// When this instance last read each source's schema from the database.
    schema_read: Mutex<HashMap<String, std::time::Instant>>,
    /// Builds clients for partners' own models; `None` when built without them.
    models: Option<Arc<dyn ModelFactory>>,
    /// The agent of each partner that set its own model.
    partner_agents: Mutex<HashMap<String, BuiltAgent>>,
}

/// A partner's agent with the sealed setting it was built from: another instance on the same
/// store may change the setting at any time.
type BuiltAgent = (String, Arc<dyn Agent>);

const KEY_CHECK: &str = "secret_key_check";
const KEY_CHECK_TEXT: &str = "breadcrumb secret key check";

impl Breadcrumb {
    /// Builds the service. Fails when the store was created under another secret key: starting
    /// anyway would leave every stored password undecryptable.
    pub async fn new(
        store: Arc<dyn MetaStore>,
        connectors: Arc<dyn ConnectorFactory>,
        agent: Arc<dyn Agent>,
        secret: SecretKey,
        config: ServiceConfig,
    ) -> Result<Self> {
        let cipher = secret.cipher();
        match store.get_setting(KEY_CHECK).await? {
            Some(sealed) => {
                if cipher.open(&sealed).ok().as_deref() != Some(KEY_CHECK_TEXT) {
                    return Err(Error::Internal(
                        "BREADCRUMB_SECRET_KEY is not the key this metadata store was created with; \
                         stored credentials cannot be decrypted. Start with the original key."
                            .into(),
                    ));
                }
            }
            None => {
                store
                    .put_setting(KEY_CHECK, &cipher.seal(KEY_CHECK_TEXT))
                    .await?
            }
        }
        let tokens = TokenService::new(&secret, config.token_lifetime)?;
        Ok(Breadcrumb {
            store,
            connectors,
            agent,
            secret,
            tokens,
            config,
            open: Mutex::new(HashMap::new()),
            schema_read: Mutex::new(HashMap::new()),
            models: None,
            partner_agents: Mutex::new(HashMap::new()),
        })
    }

    /// Lets partners bring their own model (`PUT /v1/settings/model`).
    pub fn with_models(mut self, factory: Arc<dyn ModelFactory>) -> Self {
        self.models = Some(factory);
        self
    }

    pub fn store(&self) -> &Arc<dyn MetaStore> {
        &self.store
    }

    /// A partner by API key.
    pub async fn authenticate_key(&self, key: &str) -> Result<Principal> {
        if key.is_empty() || key.len() > 256 {
            return Err(Error::Unauthorized);
        }
        match self
            .store
            .partner_by_key_hash(&crypto::hash_api_key(key))
            .await?
        {
            Some(p) => Ok(Principal::Partner(p)),
            None => Err(Error::Unauthorized),
        }
    }

    /// An end user by embed token.
    pub async fn authenticate_token(&self, token: &str) -> Result<Principal> {
        let c = self.tokens.verify(token)?;
        Ok(Principal::EndUser(EndUser {
            partner_id: c.partner,
            user_id: c.sub,
            customer_id: c.customer,
            space_id: c.space,
        }))
    }

    /// Creates a partner and its first API key; the key is returned once and stored only hashed.
    pub async fn create_partner(&self, name: &str) -> Result<(Partner, String)> {
        let partner = Partner {
            partner_id: new_id("partner"),
            name: name.to_string(),
            created_at: Utc::now(),
        };
        self.store.insert_partner(&partner).await?;
        let key = crypto::generate_api_key();
        self.store
            .insert_api_key(&partner.partner_id, &crypto::hash_api_key(&key), "initial")
            .await?;
        Ok((partner, key))
    }

    /// A new key for an existing partner; the key is returned once and stored only hashed.
    pub async fn create_api_key(&self, partner_id: &str, label: &str) -> Result<String> {
        if !self
            .store
            .list_partners()
            .await?
            .iter()
            .any(|p| p.partner_id == partner_id)
        {
            return Err(Error::NotFound("partner"));
        }
        let key = crypto::generate_api_key();
        self.store
            .insert_api_key(partner_id, &crypto::hash_api_key(&key), label)
            .await?;
        Ok(key)
    }

    /// Revokes a key by its value (only its holder can name it); false when it was not active.
    pub async fn revoke_api_key(&self, key: &str) -> Result<bool> {
        self.store.revoke_api_key(&crypto::hash_api_key(key)).await
    }

    /// Makes sure a partner holds exactly this key (for scripts that must know their key).
    pub async fn ensure_partner_with_key(&self, name: &str, key: &str) -> Result<Partner> {
        if key.len() < 16 {
            return Err(Error::Internal(
                "a bootstrap API key must have at least 16 characters".into(),
            ));
        }
        if let Some(p) = self
            .store
            .partner_by_key_hash(&crypto::hash_api_key(key))
            .await?
        {
            return Ok(p);
        }
        let partner = Partner {
            partner_id: new_id("partner"),
            name: name.to_string(),
            created_at: Utc::now(),
        };
        self.store.insert_partner(&partner).await?;
        self.store
            .insert_api_key(&partner.partner_id, &crypto::hash_api_key(key), "bootstrap")
            .await?;
        Ok(partner)
    }

    /// The pooled connector of a stored source, opened on first use.
    async fn connector(&self, source: &StoredSource) -> Result<Arc<dyn Connector>> {
        let id = &source.connector.source_id;
        if let Some(c) = self.open.lock().map_err(Error::internal)?.get(id) {
            return Ok(c.clone());
        }
        let c = &source.connector;
        let spec = ConnectionSpec {
            database_type: c.database_type,
            host: c.host.clone(),
            port: c.port,
            database: c.database.clone(),
            username: c.username.clone(),
            password: self.secret.cipher().open(&source.password_sealed)?,
        };
        let conn = self.connectors.open(&spec).await?;
        self.open
            .lock()
            .map_err(Error::internal)?
            .insert(id.clone(), conn.clone());
        Ok(conn)
    }
}

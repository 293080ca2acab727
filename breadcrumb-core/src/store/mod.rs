//! Metadata storage: small role traits, combined by [`MetaStore`]. Implementations: in memory
//! (tests, embedding) and SQL over sqlx (SQLite by default, PostgreSQL for several instances).
//! Every lookup is scoped by partner, so a store cannot hand one partner another's row.

mod memory;
#[cfg(feature = "sqlx")]
mod sql;

pub use memory::MemoryStore;
#[cfg(feature = "sqlx")]
pub use sql::SqlStore;

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{Conversation, Message, Partner, Space, StoredSource, User};
use crate::schema::SourceSchema;

#[async_trait]
pub trait PartnerStore: Send + Sync {
    async fn insert_partner(&self, partner: &Partner) -> Result<()>;
    async fn count_partners(&self) -> Result<u64>;
    /// Every partner, oldest first (for the command line).
    async fn list_partners(&self) -> Result<Vec<Partner>>;
    /// Stores the hash of a key; the key itself is never stored.
    async fn insert_api_key(&self, partner_id: &str, key_hash: &str, label: &str) -> Result<()>;
    async fn partner_by_key_hash(&self, key_hash: &str) -> Result<Option<Partner>>;
    async fn revoke_api_key(&self, key_hash: &str) -> Result<bool>;
}

#[async_trait]
pub trait SettingStore: Send + Sync {
    async fn get_setting(&self, name: &str) -> Result<Option<String>>;
    async fn put_setting(&self, name: &str, value: &str) -> Result<()>;
}

#[async_trait]
pub trait SourceStore: Send + Sync {
    async fn insert_source(&self, source: &StoredSource) -> Result<()>;
    async fn list_sources(&self, partner_id: &str) -> Result<Vec<StoredSource>>;
    async fn get_source(&self, partner_id: &str, source_id: &str) -> Result<Option<StoredSource>>;
    async fn delete_source(&self, partner_id: &str, source_id: &str) -> Result<bool>;
    /// Replaces the schema read from the source (tables may come and go); false when unknown.
    async fn update_source_schema(
        &self,
        partner_id: &str,
        source_id: &str,
        schema: &SourceSchema,
    ) -> Result<bool>;
}

#[async_trait]
pub trait SpaceStore: Send + Sync {
    async fn insert_space(&self, space: &Space) -> Result<()>;
    async fn list_spaces(&self, partner_id: &str) -> Result<Vec<Space>>;
    async fn get_space(&self, partner_id: &str, space_id: &str) -> Result<Option<Space>>;
    async fn delete_space(&self, partner_id: &str, space_id: &str) -> Result<bool>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// The partner's user with this email, created with `candidate` if there is none.
    async fn upsert_user(&self, candidate: &User) -> Result<User>;
}

#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Fails with `Conflict` when the id is taken, by this partner or another.
    async fn insert_conversation(&self, conversation: &Conversation) -> Result<()>;
    async fn get_conversation(&self, conversation_id: &str) -> Result<Option<Conversation>>;
    async fn list_conversations(
        &self,
        partner_id: &str,
        user_id: Option<&str>,
    ) -> Result<Vec<Conversation>>;
    async fn delete_conversation(&self, conversation_id: &str) -> Result<bool>;
    async fn insert_message(&self, conversation_id: &str, message: &Message) -> Result<()>;
    /// Messages oldest first, strictly after `after` (a message id), at most `limit`.
    async fn list_messages(
        &self,
        conversation_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Message>>;
    /// The newest `limit` messages, oldest first: the agent's memory, read on every turn
    /// without paging through the whole conversation.
    async fn latest_messages(&self, conversation_id: &str, limit: u32) -> Result<Vec<Message>>;
    async fn get_message(&self, conversation_id: &str, message_id: &str)
    -> Result<Option<Message>>;
}

/// Tokens used by the model, per answer, for usage reports and quotas.
#[async_trait]
pub trait UsageStore: Send + Sync {
    async fn record_usage(&self, record: &UsageRecord) -> Result<()>;
    /// Sums since `since`, per customer (`""` for conversations without one), optionally for one.
    async fn usage_since(
        &self,
        partner_id: &str,
        customer_id: Option<&str>,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(String, crate::llm::Usage)>>;
}

#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    pub partner_id: String,
    pub customer_id: String,
    pub message_id: String,
    pub usage: crate::llm::Usage,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Everything the service needs from storage.
pub trait MetaStore:
    PartnerStore + SettingStore + SourceStore + SpaceStore + UserStore + ConversationStore + UsageStore
{
}

impl<T> MetaStore for T where
    T: PartnerStore
        + SettingStore
        + SourceStore
        + SpaceStore
        + UserStore
        + ConversationStore
        + UsageStore
{
}

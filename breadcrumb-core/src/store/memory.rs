//! The in-memory store: the reference implementation that the conformance suite also runs on.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::error::Error;

#[derive(Default)]
struct State {
    partners: Vec<Partner>,
    usage: Vec<UsageRecord>,
    keys: HashMap<String, (String, bool)>,
    settings: HashMap<String, String>,
    sources: Vec<StoredSource>,
    spaces: Vec<Space>,
    users: Vec<User>,
    conversations: Vec<Conversation>,
    messages: HashMap<String, Vec<Message>>,
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> Result<T> {
        let mut guard = self
            .state
            .lock()
            .map_err(|_| Error::Internal("memory store lock poisoned".into()))?;
        Ok(f(&mut guard))
    }
}

#[async_trait]
impl PartnerStore for MemoryStore {
    async fn insert_partner(&self, partner: &Partner) -> Result<()> {
        self.with(|s| s.partners.push(partner.clone()))
    }
    async fn count_partners(&self) -> Result<u64> {
        self.with(|s| s.partners.len() as u64)
    }
    async fn list_partners(&self) -> Result<Vec<Partner>> {
        self.with(|s| s.partners.clone())
    }
    async fn insert_api_key(&self, partner_id: &str, key_hash: &str, _label: &str) -> Result<()> {
        self.with(|s| {
            s.keys
                .insert(key_hash.to_string(), (partner_id.to_string(), true));
        })
    }
    async fn partner_by_key_hash(&self, key_hash: &str) -> Result<Option<Partner>> {
        self.with(|s| match s.keys.get(key_hash) {
            Some((pid, true)) => s.partners.iter().find(|p| &p.partner_id == pid).cloned(),
            _ => None,
        })
    }
    async fn revoke_api_key(&self, key_hash: &str) -> Result<bool> {
        self.with(|s| match s.keys.get_mut(key_hash) {
            Some(entry) if entry.1 => {
                entry.1 = false;
                true
            }
            _ => false,
        })
    }
}

#[async_trait]
impl SettingStore for MemoryStore {
    async fn get_setting(&self, name: &str) -> Result<Option<String>> {
        self.with(|s| s.settings.get(name).cloned())
    }
    async fn put_setting(&self, name: &str, value: &str) -> Result<()> {
        self.with(|s| {
            s.settings.insert(name.into(), value.into());
        })
    }
}

#[async_trait]
impl SourceStore for MemoryStore {
    async fn insert_source(&self, source: &StoredSource) -> Result<()> {
        self.with(|s| s.sources.push(source.clone()))
    }
    async fn list_sources(&self, partner_id: &str) -> Result<Vec<StoredSource>> {
        self.with(|s| {
            s.sources
                .iter()
                .filter(|x| x.partner_id == partner_id)
                .cloned()
                .collect()
        })
    }
    async fn get_source(&self, partner_id: &str, source_id: &str) -> Result<Option<StoredSource>> {
        self.with(|s| {
            s.sources
                .iter()
                .find(|x| x.partner_id == partner_id && x.connector.source_id == source_id)
                .cloned()
        })
    }
    async fn delete_source(&self, partner_id: &str, source_id: &str) -> Result<bool> {
        self.with(|s| {
            let before = s.sources.len();
            s.sources
                .retain(|x| !(x.partner_id == partner_id && x.connector.source_id == source_id));
            before != s.sources.len()
        })
    }
    async fn update_source_schema(
        &self,
        partner_id: &str,
        source_id: &str,
        schema: &SourceSchema,
    ) -> Result<bool> {
        self.with(|s| {
            match s
                .sources
                .iter_mut()
                .find(|x| x.partner_id == partner_id && x.connector.source_id == source_id)
            {
                Some(x) => {
                    x.schema = schema.clone();
                    true
                }
                None => false,
            }
        })
    }
}

#[async_trait]
impl SpaceStore for MemoryStore {
    async fn insert_space(&self, space: &Space) -> Result<()> {
        self.with(|s| s.spaces.push(space.clone()))
    }
    async fn list_spaces(&self, partner_id: &str) -> Result<Vec<Space>> {
        self.with(|s| {
            s.spaces
                .iter()
                .filter(|x| x.partner_id == partner_id)
                .cloned()
                .collect()
        })
    }
    async fn get_space(&self, partner_id: &str, space_id: &str) -> Result<Option<Space>> {
        self.with(|s| {
            s.spaces
                .iter()
                .find(|x| x.partner_id == partner_id && x.space_id == space_id)
                .cloned()
        })
    }
    async fn delete_space(&self, partner_id: &str, space_id: &str) -> Result<bool> {
        self.with(|s| {
            let before = s.spaces.len();
            s.spaces
                .retain(|x| !(x.partner_id == partner_id && x.space_id == space_id));
            before != s.spaces.len()
        })
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn upsert_user(&self, candidate: &User) -> Result<User> {
        self.with(|s| {
            if let Some(u) = s
                .users
                .iter()
                .find(|u| u.partner_id == candidate.partner_id && u.email == candidate.email)
            {
                return u.clone();
            }
            s.users.push(candidate.clone());
            candidate.clone()
        })
    }
}

#[async_trait]
impl ConversationStore for MemoryStore {
    async fn insert_conversation(&self, c: &Conversation) -> Result<()> {
        self.with(|s| {
            if s.conversations
                .iter()
                .any(|x| x.conversation_id == c.conversation_id)
            {
                return Err(Error::Conflict("conversation id is taken".into()));
            }
            s.conversations.push(c.clone());
            Ok(())
        })?
    }
    async fn get_conversation(&self, id: &str) -> Result<Option<Conversation>> {
        self.with(|s| {
            s.conversations
                .iter()
                .find(|c| c.conversation_id == id)
                .cloned()
        })
    }
    async fn list_conversations(
        &self,
        partner_id: &str,
        user_id: Option<&str>,
    ) -> Result<Vec<Conversation>> {
        self.with(|s| {
            s.conversations
                .iter()
                .filter(|c| {
                    c.partner_id == partner_id
                        && (user_id.is_none() || c.user_id.as_deref() == user_id)
                })
                .cloned()
                .collect()
        })
    }
    async fn delete_conversation(&self, id: &str) -> Result<bool> {
        self.with(|s| {
            let before = s.conversations.len();
            s.conversations.retain(|c| c.conversation_id != id);
            s.messages.remove(id);
            before != s.conversations.len()
        })
    }
    async fn insert_message(&self, id: &str, m: &Message) -> Result<()> {
        self.with(|s| {
            s.messages
                .entry(id.to_string())
                .or_default()
                .push(m.clone())
        })
    }
    async fn list_messages(
        &self,
        id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Message>> {
        self.with(|s| {
            let mut all: Vec<Message> = s.messages.get(id).cloned().unwrap_or_default();
            all.sort_by(|a, b| a.message_id.cmp(&b.message_id));
            all.into_iter()
                .filter(|m| after.is_none_or(|a| m.message_id.as_str() > a))
                .take(limit as usize)
                .collect()
        })
    }
    async fn latest_messages(&self, id: &str, limit: u32) -> Result<Vec<Message>> {
        self.with(|s| {
            let mut all: Vec<Message> = s.messages.get(id).cloned().unwrap_or_default();
            all.sort_by(|a, b| a.message_id.cmp(&b.message_id));
            let skip = all.len().saturating_sub(limit as usize);
            all.split_off(skip)
        })
    }
    async fn get_message(&self, id: &str, message_id: &str) -> Result<Option<Message>> {
        self.with(|s| {
            s.messages
                .get(id)
                .and_then(|ms| ms.iter().find(|m| m.message_id == message_id).cloned())
        })
    }
}

#[async_trait]
impl UsageStore for MemoryStore {
    async fn record_usage(&self, r: &UsageRecord) -> Result<()> {
        self.with(|s| s.usage.push(r.clone()))
    }
    async fn usage_since(
        &self,
        partner_id: &str,
        customer_id: Option<&str>,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(String, crate::llm::Usage)>> {
        self.with(|s| {
            let mut sums: std::collections::BTreeMap<String, crate::llm::Usage> =
                Default::default();
            for r in s.usage.iter().filter(|r| {
                r.partner_id == partner_id
                    && r.at >= since
                    && customer_id.is_none_or(|c| c == r.customer_id)
            }) {
                *sums.entry(r.customer_id.clone()).or_default() += r.usage;
            }
            sums.into_iter().collect()
        })
    }
}

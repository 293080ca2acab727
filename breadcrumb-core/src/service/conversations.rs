//! Conversations and messages: who may see which, the agent's run, and paging.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::Utc;

use super::{Breadcrumb, EndUser, Principal};
use crate::agent::{AgentRequest, DataScope, EventSink};
use crate::error::{Error, FieldError, Result};
use crate::filters::Filters;
use crate::guard::{SpaceGuard, SqlDialect};
use crate::ids::{is_valid_client_id, new_id, new_message_id};
use crate::model::{
    Conversation, ConversationView, CreateConversation, DataSourceRef, DataSourceType, Message,
    MessagePage, Role,
};
use crate::store::UsageRecord;

pub const MAX_MESSAGE_LEN: usize = 10_000;

fn check_id(id: &str) -> Result<()> {
    if is_valid_client_id(id) {
        Ok(())
    } else {
        Err(Error::Validation(vec![FieldError {
            loc: vec!["path".into(), "conversation_id".into()],
            msg: "a conversation id matches ^[A-Za-z0-9_-]{1,128}$".into(),
            kind: "value_error".into(),
        }]))
    }
}

fn dialect_of(t: crate::model::DatabaseType) -> SqlDialect {
    use crate::model::DatabaseType as D;
    match t {
        D::Postgres => SqlDialect::Postgres,
        D::Redshift => SqlDialect::Redshift,
        D::Mysql => SqlDialect::Mysql,
        D::Sqlite => SqlDialect::Sqlite,
    }
}

impl Breadcrumb {
    /// The conversation if this caller may see it; `NotFound` otherwise, whether or not it exists.
    async fn visible_conversation(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<Option<Conversation>> {
        check_id(id)?;
        let Some(c) = self.store.get_conversation(id).await? else {
            return Ok(None);
        };
        if c.partner_id != who.partner_id() {
            return Err(Error::NotFound("conversation"));
        }
        match who {
            Principal::Partner(_) => Ok(Some(c)),
            Principal::EndUser(u) => {
                let in_scope = c.user_id.as_deref() == Some(u.user_id.as_str())
                    && c.customer_id.as_deref() == Some(u.customer_id.as_str())
                    && c.data_sources.iter().all(|d| {
                        d.kind == DataSourceType::Space
                            && u.space_id.as_ref().is_none_or(|s| s == &d.id)
                    });
                if in_scope {
                    Ok(Some(c))
                } else {
                    Err(Error::NotFound("conversation"))
                }
            }
        }
    }

    async fn conversation(&self, who: &Principal, id: &str) -> Result<Conversation> {
        self.visible_conversation(who, id)
            .await?
            .ok_or(Error::NotFound("conversation"))
    }

    /// An end user's first message to a new id creates the conversation over the token's scope.
    async fn create_for_user(&self, u: &EndUser, id: &str) -> Result<Conversation> {
        let spaces = self.store.list_spaces(&u.partner_id).await?;
        let data_sources: Vec<DataSourceRef> = spaces
            .iter()
            .filter(|s| {
                s.customer_id == u.customer_id
                    && u.space_id.as_ref().is_none_or(|sid| sid == &s.space_id)
            })
            .map(|s| DataSourceRef {
                kind: DataSourceType::Space,
                id: s.space_id.clone(),
                name: s.name.clone(),
            })
            .collect();
        if data_sources.is_empty() {
            return Err(Error::NotFound("space"));
        }
        let c = Conversation {
            conversation_id: id.to_string(),
            partner_id: u.partner_id.clone(),
            user_id: Some(u.user_id.clone()),
            customer_id: Some(u.customer_id.clone()),
            data_sources,
            created_at: Utc::now(),
        };
        match self.store.insert_conversation(&c).await {
            Ok(()) => Ok(c),
            // Taken by someone else meanwhile: do not reveal that it exists.
            Err(Error::Conflict(_)) => Err(Error::NotFound("conversation")),
            Err(e) => Err(e),
        }
    }

    /// A partner's conversation over chosen spaces or whole sources.
    pub async fn create_conversation(
        &self,
        who: &Principal,
        req: CreateConversation,
    ) -> Result<ConversationView> {
        let p = who.partner()?;
        let id = match req.conversation_id {
            Some(id) => {
                check_id(&id)?;
                id
            }
            None => new_id("conv"),
        };
        if req.space_ids.is_empty() && req.source_ids.is_empty() {
            return Err(Error::validation(
                "space_ids",
                "name at least one space or source",
            ));
        }
        let mut data_sources = Vec::new();
        let mut customers = Vec::new();
        for sid in &req.space_ids {
            let s = self
                .store
                .get_space(&p.partner_id, sid)
                .await?
                .ok_or(Error::NotFound("space"))?;
            customers.push(s.customer_id.clone());
            data_sources.push(DataSourceRef {
                kind: DataSourceType::Space,
                id: s.space_id,
                name: s.name,
            });
        }
        for sid in &req.source_ids {
            let s = self
                .store
                .get_source(&p.partner_id, sid)
                .await?
                .ok_or(Error::NotFound("source"))?;
            data_sources.push(DataSourceRef {
                kind: DataSourceType::Source,
                id: s.connector.source_id.clone(),
                name: s
                    .connector
                    .source_name
                    .clone()
                    .unwrap_or_else(|| s.connector.database.clone()),
            });
        }
        customers.dedup();
        let c = Conversation {
            conversation_id: id,
            partner_id: p.partner_id.clone(),
            user_id: None,
            customer_id: if customers.len() == 1 && req.source_ids.is_empty() {
                customers.pop()
            } else {
                None
            },
            data_sources,
            created_at: Utc::now(),
        };
        self.store.insert_conversation(&c).await?;
        Ok(ConversationView::from(&c))
    }

    pub async fn get_conversation(&self, who: &Principal, id: &str) -> Result<ConversationView> {
        Ok(ConversationView::from(&self.conversation(who, id).await?))
    }

    pub async fn list_conversations(&self, who: &Principal) -> Result<Vec<ConversationView>> {
        let all = match who {
            Principal::Partner(p) => self.store.list_conversations(&p.partner_id, None).await?,
            Principal::EndUser(u) => {
                self.store
                    .list_conversations(&u.partner_id, Some(&u.user_id))
                    .await?
            }
        };
        let mut out = Vec::new();
        for c in all {
            if let Ok(Some(c)) = self.visible_conversation(who, &c.conversation_id).await {
                out.push(ConversationView::from(&c));
            }
        }
        Ok(out)
    }

    pub async fn delete_conversation(&self, who: &Principal, id: &str) -> Result<()> {
        let c = self.conversation(who, id).await?;
        self.store.delete_conversation(&c.conversation_id).await?;
        Ok(())
    }

    /// The scopes an agent may use for this conversation, each behind its own guard.
    async fn scopes(&self, c: &Conversation) -> Result<Vec<DataScope>> {
        let mut scopes = Vec::new();
        for d in &c.data_sources {
            let (source_id, filters) = match d.kind {
                DataSourceType::Space => match self.store.get_space(&c.partner_id, &d.id).await? {
                    Some(s) => (s.source_id.clone(), Filters::parse(s.filters.as_ref())?),
                    None => continue,
                },
                DataSourceType::Source => (d.id.clone(), Filters::default()),
            };
            let Some(source) = self.store.get_source(&c.partner_id, &source_id).await? else {
                continue;
            };
            let connector = self.connector(&source).await?;
            let schema = self.current_schema(&source).await;
            let guard = SpaceGuard::new(
                dialect_of(source.connector.database_type),
                &schema,
                &filters,
                connector.database(),
            )?;
            scopes.push(DataScope::new(
                d.clone(),
                Arc::new(guard),
                connector,
                self.config.query_limits,
            ));
        }
        Ok(scopes)
    }

    /// Stores the user's message, runs the agent, stores and returns its reply. A failure of the
    /// agent or a data source becomes an assistant message that says so; nothing is lost.
    pub async fn send_message(&self, who: &Principal, id: &str, text: &str) -> Result<Message> {
        self.send_message_with(who, id, text, None).await
    }

    /// As [`send_message`](Self::send_message), reporting progress to `events`. When the
    /// receiving side closes (the client went away), the agent stops at its next step and what
    /// it finished is stored as the reply.
    pub async fn send_message_with(
        &self,
        who: &Principal,
        id: &str,
        text: &str,
        events: Option<EventSink>,
    ) -> Result<Message> {
        if text.trim().is_empty() || text.chars().count() > MAX_MESSAGE_LEN {
            return Err(Error::validation(
                "text",
                format!("`text` has 1 to {MAX_MESSAGE_LEN} characters"),
            ));
        }
        let existing = self.visible_conversation(who, id).await?;
        // The quota is checked before anything is stored, a new conversation included.
        let (partner_id, customer) = match (&existing, who) {
            (Some(c), _) => (
                c.partner_id.clone(),
                c.customer_id.clone().unwrap_or_default(),
            ),
            (None, Principal::EndUser(u)) => (u.partner_id.clone(), u.customer_id.clone()),
            (None, Principal::Partner(_)) => return Err(Error::NotFound("conversation")),
        };
        self.check_quota(&partner_id, &customer).await?;
        let c = match (existing, who) {
            (Some(c), _) => c,
            (None, Principal::EndUser(u)) => self.create_for_user(u, id).await?,
            (None, Principal::Partner(_)) => return Err(Error::NotFound("conversation")),
        };
        let window = u32::try_from(self.config.history_window).unwrap_or(u32::MAX);
        let history = self
            .store
            .latest_messages(&c.conversation_id, window)
            .await?;
        let question = Message {
            text: text.to_string(),
            role: Role::User,
            visualization: None,
            message_id: new_message_id(),
            created_at: Utc::now(),
            sql: None,
            data: None,
            usage: None,
        };
        self.store
            .insert_message(&c.conversation_id, &question)
            .await?;
        let reply = match self.scopes(&c).await {
            Ok(scopes) if scopes.is_empty() => Ok(crate::agent::AgentReply {
                text: "The data of this conversation is no longer available.".into(),
                ..Default::default()
            }),
            Ok(scopes) => match self.agent_for(&c.partner_id).await {
                Ok(agent) => {
                    agent
                        .answer(AgentRequest {
                            question: text,
                            history: &history,
                            scopes: &scopes,
                            events: events.as_ref(),
                        })
                        .await
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let reply = reply.unwrap_or_else(|e| {
            tracing::warn!(conversation_id = %c.conversation_id, error = %e, "agent failed");
            crate::agent::AgentReply {
                text: format!("Sorry, I could not answer that: {}", plain(&e)),
                ..Default::default()
            }
        });
        let used = reply.usage;
        let answer = Message {
            text: reply.text,
            role: Role::Assistant,
            visualization: reply.visualization,
            message_id: new_message_id(),
            created_at: Utc::now(),
            sql: reply.sql,
            data: reply.data,
            usage: (used.total() > 0).then_some(used),
        };
        self.store
            .insert_message(&c.conversation_id, &answer)
            .await?;
        if used.total() > 0 {
            self.store
                .record_usage(&UsageRecord {
                    partner_id: c.partner_id.clone(),
                    customer_id: customer,
                    message_id: answer.message_id.clone(),
                    usage: used,
                    at: answer.created_at,
                })
                .await?;
        }
        Ok(answer)
    }

    /// A message's chart as SVG, for whoever may read the conversation.
    pub async fn chart_svg(&self, who: &Principal, id: &str, message_id: &str) -> Result<String> {
        let c = self.conversation(who, id).await?;
        let m = self
            .store
            .get_message(&c.conversation_id, message_id)
            .await?
            .ok_or(Error::NotFound("message"))?;
        let spec = m.visualization.ok_or(Error::NotFound("chart"))?;
        crate::agent::svg::render(&spec).ok_or(Error::NotFound("chart"))
    }

    pub async fn list_messages(
        &self,
        who: &Principal,
        id: &str,
        limit: Option<i64>,
        next_token: Option<&str>,
    ) -> Result<MessagePage> {
        let limit = limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(Error::Validation(vec![FieldError::query(
                "limit",
                "`limit` must be between 1 and 1000",
                "value_error",
            )]));
        }
        let c = self.conversation(who, id).await?;
        let after = match next_token {
            None | Some("") => None,
            Some(t) => Some(self.decode_cursor(&c.conversation_id, t)?),
        };
        let mut messages = self
            .store
            .list_messages(&c.conversation_id, after.as_deref(), limit as u32 + 1)
            .await?;
        let next_token = if messages.len() > limit as usize {
            messages.truncate(limit as usize);
            messages
                .last()
                .map(|m| self.encode_cursor(&c.conversation_id, &m.message_id))
        } else {
            None
        };
        Ok(MessagePage {
            messages,
            next_token,
        })
    }

    fn encode_cursor(&self, conversation: &str, message: &str) -> String {
        let data = format!("{conversation}|{message}");
        format!(
            "{}.{}",
            B64.encode(&data),
            self.secret.sign(data.as_bytes())
        )
    }

    fn decode_cursor(&self, conversation: &str, token: &str) -> Result<String> {
        let bad = || {
            Error::Validation(vec![FieldError::query(
                "next_token",
                "`next_token` is not one this server issued for this conversation",
                "value_error",
            )])
        };
        let (data, sig) = token.split_once('.').ok_or_else(bad)?;
        let data = B64
            .decode(data)
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or_else(bad)?;
        if !self.secret.verify(data.as_bytes(), sig) {
            return Err(bad());
        }
        match data.split_once('|') {
            Some((c, m)) if c == conversation => Ok(m.to_string()),
            _ => Err(bad()),
        }
    }
}

/// An error as an end user may read it: no internal detail.
fn plain(e: &Error) -> String {
    match e {
        Error::Internal(_) => "an internal error occurred".into(),
        Error::Source { message, .. } => format!("the database could not be reached ({message})"),
        other => other.to_string(),
    }
}

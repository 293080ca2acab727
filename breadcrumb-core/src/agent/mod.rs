//! The conversation agent: turns a question and the conversation so far into an answer, using
//! only [`DataScope`]s, whose one way to the data is the space guard.

pub mod chart;
mod llm;
mod offline;
pub mod svg;

pub use llm::{AgentLimits, LlmAgent};
pub use offline::OfflineAgent;

use std::sync::Arc;

use async_trait::async_trait;

use crate::connector::{Connector, QueryLimits};
use crate::error::Result;
use crate::guard::{GuardedSql, SpaceGuard, SqlDialect};
use crate::model::{DataSourceRef, Message, QueryData};
use crate::schema::SourceSchema;

/// One space (or source) of a conversation, as the agent may use it.
pub struct DataScope {
    pub reference: DataSourceRef,
    guard: Arc<SpaceGuard>,
    connector: Arc<dyn Connector>,
    limits: QueryLimits,
}

impl DataScope {
    pub fn new(
        reference: DataSourceRef,
        guard: Arc<SpaceGuard>,
        connector: Arc<dyn Connector>,
        limits: QueryLimits,
    ) -> Self {
        DataScope {
            reference,
            guard,
            connector,
            limits,
        }
    }

    /// The tables and columns of this scope: nothing outside it.
    pub fn schema(&self) -> &SourceSchema {
        self.guard.visible_schema()
    }

    pub fn dialect(&self) -> SqlDialect {
        self.guard.dialect()
    }

    /// Runs SQL through the guard. Whatever the SQL says, only the scope's rows are visible.
    pub async fn run(&self, sql: &str) -> Result<(GuardedSql, QueryData)> {
        let guarded = self.guard.check(sql)?;
        let data = self.connector.run(&guarded, &self.limits).await?;
        Ok((guarded, data))
    }
}

/// Progress while an answer is being worked out, for a client that streams it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentEvent {
    /// What the agent is doing, in words.
    Thinking { text: String },
    /// SQL about to run, as the space sees it.
    Sql { sql: String },
    /// The rows it returned.
    Rows { data: QueryData },
    /// The chart of the answer (Vega-Lite v5 as JSON text).
    Chart { visualization: String },
}

/// Where progress goes; closed when the client went away, which tells the agent to stop.
pub type EventSink = tokio::sync::mpsc::UnboundedSender<AgentEvent>;

pub struct AgentRequest<'a> {
    pub question: &'a str,
    /// Earlier messages of the conversation, oldest first.
    pub history: &'a [Message],
    pub scopes: &'a [DataScope],
    pub events: Option<&'a EventSink>,
}

impl AgentRequest<'_> {
    pub fn emit(&self, event: AgentEvent) {
        if let Some(e) = self.events {
            let _ = e.send(event);
        }
    }

    /// Whether the client that asked has gone away.
    pub fn abandoned(&self) -> bool {
        self.events.is_some_and(|e| e.is_closed())
    }

    /// Resolves when the client has gone away (never, without a client to watch).
    pub async fn gone(&self) {
        match self.events {
            Some(e) => e.closed().await,
            None => std::future::pending().await,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentReply {
    pub text: String,
    /// The SQL the answer rests on, as the space sees it.
    pub sql: Option<String>,
    pub data: Option<QueryData>,
    pub visualization: Option<String>,
    /// Tokens the model used for this answer.
    pub usage: crate::llm::Usage,
}

#[async_trait]
pub trait Agent: Send + Sync {
    async fn answer(&self, request: AgentRequest<'_>) -> Result<AgentReply>;
}

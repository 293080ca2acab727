//! The conversation agent: turns a question and the conversation so far into an answer, using
//! only [`DataScope`]s, whose one way to the data is the space guard.

pub mod chart;
mod offline;

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

pub struct AgentRequest<'a> {
    pub question: &'a str,
    /// Earlier messages of the conversation, oldest first.
    pub history: &'a [Message],
    pub scopes: &'a [DataScope],
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentReply {
    pub text: String,
    /// The SQL the answer rests on, as the space sees it.
    pub sql: Option<String>,
    pub data: Option<QueryData>,
    pub visualization: Option<String>,
}

#[async_trait]
pub trait Agent: Send + Sync {
    async fn answer(&self, request: AgentRequest<'_>) -> Result<AgentReply>;
}

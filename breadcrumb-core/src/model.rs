//! Domain types. Field names of the public ones are binding: they are the seed API's, to the letter.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::schema::SourceSchema;

/// The database engines a connector can speak to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseType {
    Postgres,
    Redshift,
    /// Extension: MySQL and MariaDB.
    Mysql,
    /// Extension: a SQLite file inside the server's data directory (the embedded demo).
    Sqlite,
}

impl DatabaseType {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Some(Self::Postgres),
            "redshift" => Some(Self::Redshift),
            "mysql" | "mariadb" => Some(Self::Mysql),
            "sqlite" => Some(Self::Sqlite),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Redshift => "redshift",
            Self::Mysql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }
}

/// `POST /v1/sources/database` body. Its `Debug` never prints the password.
#[derive(Clone, Deserialize, ToSchema)]
pub struct CreateSource {
    /// `postgres` or `redshift` (extensions: `mysql`, `sqlite`).
    #[schema(value_type = DatabaseType)]
    pub database_type: String,
    #[schema(min_length = 1, max_length = 253, pattern = "^[^\\s/]+$")]
    pub host: String,
    #[schema(minimum = 1, maximum = 65535)]
    pub port: i64,
    #[schema(min_length = 1, max_length = 128, pattern = "\\S")]
    pub database: String,
    #[schema(min_length = 1, max_length = 128, pattern = "\\S")]
    pub username: String,
    #[schema(max_length = 1024)]
    pub password: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub source_name: Option<String>,
}

impl std::fmt::Debug for CreateSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateSource")
            .field("database_type", &self.database_type)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("username", &self.username)
            .field("password", &"***")
            .field("source_name", &self.source_name)
            .finish()
    }
}

/// What a connector needs to reach a database. Its `Debug` never prints the password.
#[derive(Clone)]
pub struct ConnectionSpec {
    pub database_type: DatabaseType,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionSpec")
            .field("database_type", &self.database_type)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// A database connector as the API shows it: never with its password.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DatabaseConnector {
    pub source_id: String,
    pub database_type: DatabaseType,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    pub source_name: Option<String>,
    /// `READY`.
    pub status: String,
    /// Extension.
    pub created_at: DateTime<Utc>,
}

/// A connector as stored: the password sealed, the schema as read at creation.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSource {
    pub partner_id: String,
    pub connector: DatabaseConnector,
    pub password_sealed: String,
    pub schema: SourceSchema,
}

/// `POST /v1/spaces` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateSpace {
    pub source_id: String,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
    /// Chosen by the partner.
    #[schema(min_length = 1, max_length = 128, pattern = "\\S")]
    pub customer_id: String,
    /// Keys are column names; see the filter grammar in the README.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filters: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Space {
    pub space_id: String,
    pub source_id: String,
    pub name: String,
    pub partner_id: String,
    pub customer_id: String,
    #[schema(value_type = Option<Object>)]
    pub filters: Option<Value>,
    /// Extension.
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Partner {
    pub partner_id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub user_id: String,
    pub partner_id: String,
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/embed/token` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EmbedTokenRequest {
    #[serde(default)]
    pub customer_id: Option<String>,
    /// Identifies the user within the partner (compared without regard to case).
    #[schema(
        min_length = 1,
        max_length = 254,
        pattern = "^[^\\s\\u0000-\\u001f\\u007f]+$"
    )]
    pub email: String,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
    #[serde(default)]
    pub space_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmbedToken {
    pub token: String,
    /// Extension.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DataSourceType {
    Space,
    Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataSourceRef {
    #[serde(rename = "type")]
    pub kind: DataSourceType,
    pub id: String,
    pub name: String,
}

/// A conversation as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub conversation_id: String,
    pub partner_id: String,
    /// The end user who created it; `None` when the partner did.
    pub user_id: Option<String>,
    /// The customer whose spaces it reads; `None` for a partner's conversation over sources.
    pub customer_id: Option<String>,
    pub data_sources: Vec<DataSourceRef>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ConversationView {
    pub conversation_id: String,
    pub data_sources: Vec<DataSourceRef>,
    /// Extension.
    pub created_at: DateTime<Utc>,
}

impl From<&Conversation> for ConversationView {
    fn from(c: &Conversation) -> Self {
        ConversationView {
            conversation_id: c.conversation_id.clone(),
            data_sources: c.data_sources.clone(),
            created_at: c.created_at,
        }
    }
}

/// `POST /v1/conversations` body (extension).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateConversation {
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,128}$")]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub space_ids: Vec<String>,
    #[serde(default)]
    pub source_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ColumnMeta {
    pub name: String,
    /// The database's type name, lower case.
    #[serde(rename = "type")]
    pub data_type: String,
}

/// Rows of a query result, as JSON. Large integers and decimals are strings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Default)]
pub struct QueryData {
    pub columns: Vec<ColumnMeta>,
    /// Each row's values in column order: numbers, strings, booleans or null.
    #[schema(value_type = Vec<Vec<serde_json::Value>>)]
    pub rows: Vec<Vec<Value>>,
    /// True when the row or byte cap cut the result.
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Message {
    pub text: String,
    pub role: Role,
    /// A Vega-Lite v5 specification as JSON text, data inline.
    pub visualization: Option<String>,
    /// Extension.
    pub message_id: String,
    /// Extension.
    pub created_at: DateTime<Utc>,
    /// Extension: the SQL that ran, as the caller's space sees it.
    pub sql: Option<String>,
    /// Extension: the rows behind the answer.
    pub data: Option<QueryData>,
    /// Extension: tokens the model used for this answer (assistant messages of a model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<crate::llm::Usage>,
}

/// `POST /v1/conversations/{id}/messages` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SendMessage {
    #[schema(min_length = 1, max_length = 10000, pattern = "\\S")]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub next_token: Option<String>,
}

//! Data-source connectors. A connector only ever runs [`GuardedSql`]: the space guard is the one
//! way in. Each one reads its schema, and runs a query read-only, with a timeout and caps.

#[cfg(feature = "sqlx")]
mod decode;
#[cfg(feature = "sqlx")]
mod mysql;
#[cfg(feature = "sqlx")]
mod postgres;
#[cfg(feature = "sqlx")]
mod sqlite;

#[cfg(feature = "sqlx")]
pub use self::{mysql::MySqlConnector, postgres::PostgresConnector, sqlite::SqliteConnector};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::Result;
#[cfg(feature = "sqlx")]
use crate::error::{Error, SourceFailure};
use crate::guard::{GuardedSql, SqlDialect};
#[cfg(feature = "sqlx")]
use crate::model::DatabaseType;
use crate::model::{ConnectionSpec, QueryData};
use crate::schema::SourceSchema;

/// Bounds on one query's run.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub timeout: Duration,
    pub max_rows: usize,
    pub max_bytes: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            timeout: Duration::from_secs(15),
            max_rows: 5_000,
            max_bytes: 4 * 1024 * 1024,
        }
    }
}

#[async_trait]
pub trait Connector: Send + Sync {
    fn dialect(&self) -> SqlDialect;
    /// The database (MySQL) whose name may qualify a table, if any.
    fn database(&self) -> Option<&str> {
        None
    }
    /// Tables and columns of the source's default schema.
    async fn schema(&self) -> Result<SourceSchema>;
    /// Runs one guarded query read-only and rolls back, whatever happens.
    async fn run(&self, sql: &GuardedSql, limits: &QueryLimits) -> Result<QueryData>;
}

/// Opens connectors. Opening tests the connection; a failure says which of the contract's cases it is.
#[async_trait]
pub trait ConnectorFactory: Send + Sync {
    async fn open(&self, spec: &ConnectionSpec) -> Result<Arc<dyn Connector>>;
}

/// The sqlx-backed factory for every supported engine.
pub struct SqlxConnectors {
    /// SQLite sources may only name files inside this directory.
    pub data_dir: PathBuf,
    pub connect_timeout: Duration,
}

#[cfg(feature = "sqlx")]
#[async_trait]
impl ConnectorFactory for SqlxConnectors {
    async fn open(&self, spec: &ConnectionSpec) -> Result<Arc<dyn Connector>> {
        let open = async {
            Ok::<Arc<dyn Connector>, Error>(match spec.database_type {
                DatabaseType::Postgres | DatabaseType::Redshift => {
                    Arc::new(PostgresConnector::open(spec, self.connect_timeout).await?)
                }
                DatabaseType::Mysql => {
                    Arc::new(MySqlConnector::open(spec, self.connect_timeout).await?)
                }
                DatabaseType::Sqlite => {
                    Arc::new(SqliteConnector::open(&self.data_dir, &spec.database).await?)
                }
            })
        };
        match tokio::time::timeout(self.connect_timeout + Duration::from_secs(1), open).await {
            Ok(r) => r,
            Err(_) => Err(source_error(
                SourceFailure::Timeout,
                format!(
                    "the database did not answer within {} s",
                    self.connect_timeout.as_secs()
                ),
            )),
        }
    }
}

/// The connectors' own check, independent of the guard's: what is about to run is one query and
/// nothing else. A transaction's READ ONLY does not stop everything: MySQL and MariaDB run DDL
/// in one (it commits implicitly), and PostgreSQL's simple protocol runs `SELECT 1; COMMIT;
/// DROP TABLE t` as three statements, the last outside the read-only transaction. So each
/// connector refuses SQL with a `;` outside literals and names, or whose first word is not
/// SELECT, WITH or VALUES (or a parenthesis).
#[cfg(feature = "sqlx")]
pub(crate) fn one_query_only(dialect: SqlDialect, sql: &str) -> Result<()> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::{Token, Tokenizer};
    let refuse = |why: &str| {
        Err(crate::error::Error::QueryRejected(format!(
            "the data source runs one read-only query at a time: {why}"
        )))
    };
    let d = dialect.parser_dialect();
    let Ok(tokens) = Tokenizer::new(d.as_ref(), sql).tokenize() else {
        return refuse("the SQL does not tokenize");
    };
    let mut words = tokens.iter().filter(|t| !matches!(t, Token::Whitespace(_)));
    match words.next() {
        Some(Token::LParen) => {}
        Some(Token::Word(w))
            if matches!(w.keyword, Keyword::SELECT | Keyword::WITH | Keyword::VALUES) => {}
        _ => return refuse("it does not start with SELECT, WITH or VALUES"),
    }
    if tokens.iter().any(|t| matches!(t, Token::SemiColon)) {
        return refuse("it holds more than one statement");
    }
    Ok(())
}

#[cfg(feature = "sqlx")]
pub(crate) fn source_error(failure: SourceFailure, message: impl Into<String>) -> Error {
    Error::Source {
        failure,
        message: message.into(),
    }
}

/// Classifies a connection failure from sqlx into the contract's cases, without echoing secrets.
#[cfg(feature = "sqlx")]
pub(crate) fn connect_error(e: sqlx::Error, spec: &ConnectionSpec) -> Error {
    use sqlx::Error as E;
    let target = format!("{}:{}", spec.host, spec.port);
    match &e {
        E::Database(d) => {
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            match code.as_str() {
                // PostgreSQL: invalid_password, invalid_authorization_specification; MySQL: 1045, 1044
                "28P01" | "28000" | "1045" | "1044" | "1698" => source_error(
                    SourceFailure::AuthFailed,
                    format!(
                        "authentication failed for user `{}` at {target}",
                        spec.username
                    ),
                ),
                "3D000" | "1049" => source_error(
                    SourceFailure::UnknownDatabase,
                    format!("database `{}` does not exist at {target}", spec.database),
                ),
                _ => source_error(
                    SourceFailure::Unreachable,
                    format!(
                        "the database at {target} refused the connection: {}",
                        d.message()
                    ),
                ),
            }
        }
        E::PoolTimedOut => source_error(
            SourceFailure::Timeout,
            format!("connecting to {target} timed out"),
        ),
        E::Io(io) => {
            let msg = io.to_string();
            if msg.contains("failed to lookup")
                || msg.contains("Name or service not known")
                || msg.contains("nodename nor servname")
            {
                source_error(
                    SourceFailure::Unreachable,
                    format!("unknown host `{}`", spec.host),
                )
            } else if io.kind() == std::io::ErrorKind::ConnectionRefused {
                source_error(
                    SourceFailure::Unreachable,
                    format!("connection refused by {target}"),
                )
            } else if io.kind() == std::io::ErrorKind::TimedOut {
                source_error(
                    SourceFailure::Timeout,
                    format!("connecting to {target} timed out"),
                )
            } else {
                source_error(
                    SourceFailure::Unreachable,
                    format!("cannot reach {target}: {msg}"),
                )
            }
        }
        E::Tls(_) => source_error(
            SourceFailure::Unreachable,
            format!("TLS handshake with {target} failed"),
        ),
        other => source_error(
            SourceFailure::Unreachable,
            format!("cannot connect to {target}: {other}"),
        ),
    }
}

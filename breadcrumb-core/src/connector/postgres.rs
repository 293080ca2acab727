//! PostgreSQL and Redshift (which speaks PostgreSQL's protocol). Queries go over the simple
//! protocol: every value comes back as text, no catalog look-ups run for unknown types (Redshift
//! cannot run them), and no prepared statement is cached for SQL that is unique every time.

use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgPool, Row, ValueRef};

use super::decode::{RowSink, push_text_row};
use super::{Connector, QueryLimits, connect_error};
use crate::error::{Error, Result};
use crate::guard::{GuardedSql, SqlDialect};
use crate::model::{ConnectionSpec, DatabaseType, QueryData};
use crate::schema::{SourceSchema, TableSchema};

pub struct PostgresConnector {
    pool: PgPool,
    dialect: SqlDialect,
}

impl PostgresConnector {
    pub async fn open(spec: &ConnectionSpec, timeout: Duration) -> Result<Self> {
        let redshift = spec.database_type == DatabaseType::Redshift;
        let mut options = PgConnectOptions::new()
            .host(&spec.host)
            .port(spec.port)
            .username(&spec.username)
            .password(&spec.password)
            .database(&spec.database)
            .application_name("breadcrumb")
            .statement_cache_capacity(0);
        if redshift {
            options = options.extra_float_digits(None);
        }
        // One direct attempt first: a pool would retry a refused connection until its timeout.
        let mut probe = sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(|e| connect_error(e, spec))?;
        sqlx::raw_sql("SELECT 1")
            .execute(&mut probe)
            .await
            .map_err(|e| connect_error(e, spec))?;
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .min_connections(0)
            .acquire_timeout(timeout)
            .idle_timeout(Duration::from_secs(300))
            .connect_lazy_with(options);
        Ok(PostgresConnector {
            pool,
            dialect: if redshift {
                SqlDialect::Redshift
            } else {
                SqlDialect::Postgres
            },
        })
    }
}

/// A database error as the model and the user may see it: data exceptions (SQLSTATE class 22)
/// quote the offending value, which may come from a row outside the space, so quotes are cut.
pub(crate) fn scrub(code: &str, message: &str) -> String {
    if code.starts_with("22") {
        let mut out = String::new();
        let mut inside: Option<char> = None;
        for ch in message.chars() {
            match inside {
                Some(q) if ch == q => {
                    out.push('…');
                    out.push(ch);
                    inside = None;
                }
                Some(_) => {}
                None if ch == '"' || ch == '\'' => {
                    out.push(ch);
                    inside = Some(ch);
                }
                None => out.push(ch),
            }
        }
        out
    } else {
        message.to_string()
    }
}

fn query_error(e: sqlx::Error, limits: &QueryLimits) -> Error {
    match &e {
        sqlx::Error::Database(d) => {
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            if code == "57014" {
                Error::QueryFailed(format!(
                    "the query ran longer than {} ms and was cancelled",
                    limits.timeout.as_millis()
                ))
            } else {
                Error::QueryFailed(scrub(&code, d.message()))
            }
        }
        other => Error::Internal(format!("data source: {other}")),
    }
}

#[async_trait]
impl Connector for PostgresConnector {
    fn dialect(&self) -> SqlDialect {
        self.dialect
    }

    async fn schema(&self) -> Result<SourceSchema> {
        let rows = sqlx::raw_sql(
            "SELECT c.table_name::text, c.column_name::text, c.data_type::text \
             FROM information_schema.columns c \
             JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
             ORDER BY c.table_name, c.ordinal_position",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| Error::Internal(format!("reading the schema: {e}")))?;
        let mut schema = SourceSchema::default();
        for row in rows {
            let text = |i: usize| -> Result<String> {
                row.try_get_raw(i)
                    .ok()
                    .and_then(|v| v.as_str().ok().map(str::to_string))
                    .ok_or_else(|| Error::Internal("unreadable schema row".into()))
            };
            let (table, column, data_type) = (text(0)?, text(1)?, text(2)?);
            schema
                .tables
                .entry(table)
                .or_insert_with(TableSchema::default)
                .columns
                .insert(column, data_type);
        }
        Ok(schema)
    }

    async fn run(&self, sql: &GuardedSql, limits: &QueryLimits) -> Result<QueryData> {
        super::one_query_only(self.dialect(), sql.as_str())?;
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| Error::QueryFailed(format!("the data source is unavailable: {e}")))?;
        // Read-only from its first statement, on PostgreSQL and Redshift alike.
        let mut tx = conn
            .begin_with("BEGIN READ ONLY")
            .await
            .map_err(|e| query_error(e, limits))?;
        let timeout_ms = limits.timeout.as_millis().max(1);
        let setup = if self.dialect == SqlDialect::Redshift {
            format!("SET statement_timeout TO {timeout_ms}")
        } else {
            format!(
                "SET LOCAL statement_timeout = {timeout_ms}; \
                 SET LOCAL lock_timeout = 1000; SET LOCAL idle_in_transaction_session_timeout = {timeout_ms}; \
                 SET LOCAL work_mem = '32MB'; SET LOCAL search_path = public; \
                 SET LOCAL standard_conforming_strings = on"
            )
        };
        sqlx::raw_sql(AssertSqlSafe(setup))
            .execute(&mut *tx)
            .await
            .map_err(|e| query_error(e, limits))?;
        let mut sink = RowSink::new(limits.max_rows, limits.max_bytes);
        {
            let mut rows = sqlx::raw_sql(AssertSqlSafe(sql.as_str().to_string())).fetch(&mut *tx);
            while let Some(row) = rows.try_next().await.map_err(|e| query_error(e, limits))? {
                let more = push_text_row(&mut sink, &row, |r, i| {
                    let v = r.try_get_raw(i)?;
                    Ok((!v.is_null()).then(|| v.as_str().unwrap_or("(binary)").to_string()))
                })
                .map_err(|e| query_error(e, limits))?;
                if !more {
                    break;
                }
            }
        }
        // Nothing a query did may outlive it.
        tx.rollback().await.map_err(|e| query_error(e, limits))?;
        if self.dialect == SqlDialect::Postgres {
            // Session state (settings, temporary objects, advisory locks, listeners) must not
            // survive into the next query that borrows this connection. If the reset fails, the
            // connection is closed instead of going back to the pool.
            if sqlx::raw_sql("DISCARD ALL")
                .execute(&mut *conn)
                .await
                .is_err()
            {
                let _ = conn.detach().close().await;
            }
        }
        Ok(sink.data)
    }
}

//! MySQL and MariaDB. Queries run in a READ ONLY transaction with a statement time limit and are
//! always rolled back; values come back as text over the simple protocol.

use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, Connection, MySqlPool, Row, ValueRef};

use super::decode::{RowSink, push_text_row};
use super::{Connector, QueryLimits, connect_error};
use crate::error::{Error, Result};
use crate::guard::{GuardedSql, SqlDialect};
use crate::model::{ConnectionSpec, QueryData};
use crate::schema::{SourceSchema, TableSchema};

/// The session mode every guarded query runs under.
const SQL_MODE: &str = "SET SESSION sql_mode = 'PIPES_AS_CONCAT,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";

pub struct MySqlConnector {
    pool: MySqlPool,
    database: String,
}

impl MySqlConnector {
    pub async fn open(spec: &ConnectionSpec, timeout: Duration) -> Result<Self> {
        let options = MySqlConnectOptions::new()
            .host(&spec.host)
            .port(spec.port)
            .username(&spec.username)
            .password(&spec.password)
            .database(&spec.database)
            .statement_cache_capacity(0);
        // One direct attempt first: a pool would retry a refused connection until its timeout.
        let probe = sqlx::MySqlConnection::connect_with(&options)
            .await
            .map_err(|e| connect_error(e, spec))?;
        let _ = probe.close().await;
        let pool = MySqlPoolOptions::new()
            .max_connections(5)
            .acquire_timeout(timeout)
            .connect_lazy_with(options);
        Ok(MySqlConnector {
            pool,
            database: spec.database.clone(),
        })
    }
}

fn query_error(e: sqlx::Error, limits: &QueryLimits) -> Error {
    match &e {
        sqlx::Error::Database(d) => {
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            if code == "3024" || code == "1969" || d.message().contains("max_statement_time") {
                Error::QueryFailed(format!(
                    "the query ran longer than {} ms and was cancelled",
                    limits.timeout.as_millis()
                ))
            } else {
                // MySQL quotes offending values in data errors; never show them.
                Error::QueryFailed(super::postgres::scrub("22", d.message()))
            }
        }
        other => Error::Internal(format!("data source: {other}")),
    }
}

#[async_trait]
impl Connector for MySqlConnector {
    fn dialect(&self) -> SqlDialect {
        SqlDialect::Mysql
    }

    fn database(&self) -> Option<&str> {
        Some(&self.database)
    }

    async fn schema(&self) -> Result<SourceSchema> {
        let rows = sqlx::query(
            "SELECT CAST(c.TABLE_NAME AS CHAR), CAST(c.COLUMN_NAME AS CHAR), CAST(c.DATA_TYPE AS CHAR) \
             FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
             ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
             WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' \
             ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| Error::Internal(format!("reading the schema: {e}")))?;
        let mut schema = SourceSchema::default();
        for r in rows {
            let t: String = r.try_get(0).map_err(Error::internal)?;
            let c: String = r.try_get(1).map_err(Error::internal)?;
            let ty: String = r.try_get(2).map_err(Error::internal)?;
            schema
                .tables
                .entry(t)
                .or_insert_with(TableSchema::default)
                .columns
                .insert(c, ty.to_ascii_lowercase());
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
        let secs = limits.timeout.as_secs_f64().max(0.001);
        // MariaDB names the limit max_statement_time (seconds), MySQL max_execution_time (ms).
        let _ = sqlx::raw_sql(AssertSqlSafe(format!(
            "SET SESSION max_statement_time = {secs}"
        )))
        .execute(&mut *conn)
        .await;
        let _ = sqlx::raw_sql(AssertSqlSafe(format!(
            "SET SESSION max_execution_time = {}",
            limits.timeout.as_millis()
        )))
        .execute(&mut *conn)
        .await;
        // The guard writes literals and names for this mode: backslash escapes on (no
        // NO_BACKSLASH_ESCAPES), double quotes for strings only (no ANSI_QUOTES), and `||` as
        // concatenation, as sqlparser reads it. A partner's server default must not change that.
        sqlx::raw_sql(SQL_MODE)
            .execute(&mut *conn)
            .await
            .map_err(|e| query_error(e, limits))?;
        sqlx::raw_sql("START TRANSACTION READ ONLY")
            .execute(&mut *conn)
            .await
            .map_err(|e| query_error(e, limits))?;
        let mut sink = RowSink::new(limits.max_rows, limits.max_bytes);
        let result = async {
            let mut rows = sqlx::raw_sql(AssertSqlSafe(sql.as_str().to_string())).fetch(&mut *conn);
            while let Some(row) = rows.try_next().await.map_err(|e| query_error(e, limits))? {
                let more = push_text_row(&mut sink, &row, |r, i| {
                    if r.try_get_raw(i)?.is_null() {
                        return Ok(None);
                    }
                    Ok(Some(
                        r.try_get_unchecked::<String, _>(i)
                            .unwrap_or_else(|_| "(binary)".into()),
                    ))
                })
                .map_err(|e| query_error(e, limits))?;
                if !more {
                    break;
                }
            }
            Ok::<(), Error>(())
        }
        .await;
        let rollback = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
        result?;
        rollback.map_err(|e| query_error(e, limits))?;
        Ok(sink.data)
    }
}

//! SQLite files inside the server's data directory (the embedded demo). A path never comes from
//! a request: the `database` field is a bare file name, resolved inside the directory, opened
//! read-only.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Row, SqlitePool, TypeInfo, ValueRef};

use super::decode::RowSink;
use super::{Connector, QueryLimits, source_error};
use crate::error::{Error, Result, SourceFailure};
use crate::guard::{GuardedSql, SqlDialect};
use crate::model::QueryData;
use crate::schema::{SourceSchema, TableSchema};

pub struct SqliteConnector {
    pool: SqlitePool,
}

/// A bare file name such as `demo.db`; anything with a separator or `..` is refused.
pub fn resolve_file(data_dir: &Path, name: &str) -> Result<PathBuf> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if !ok {
        return Err(Error::validation(
            "database",
            "for sqlite, `database` is a file name inside the server's data directory",
        ));
    }
    Ok(data_dir.join(name))
}

impl SqliteConnector {
    pub async fn open(data_dir: &Path, name: &str) -> Result<Self> {
        let path = resolve_file(data_dir, name)?;
        if !path.is_file() {
            return Err(source_error(
                SourceFailure::UnknownDatabase,
                format!("there is no SQLite database `{name}` in the data directory"),
            ));
        }
        let options = SqliteConnectOptions::new().filename(&path).read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| {
                source_error(
                    SourceFailure::Unreachable,
                    format!("cannot open `{name}`: {e}"),
                )
            })?;
        sqlx::raw_sql("PRAGMA query_only = 1; SELECT 1")
            .execute(&pool)
            .await
            .map_err(|e| {
                source_error(
                    SourceFailure::Unreachable,
                    format!("`{name}` is not a SQLite database: {e}"),
                )
            })?;
        Ok(SqliteConnector { pool })
    }
}

fn query_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) => Error::QueryFailed(d.message().to_string()),
        other => Error::Internal(format!("data source: {other}")),
    }
}

#[async_trait]
impl Connector for SqliteConnector {
    fn dialect(&self) -> SqlDialect {
        SqlDialect::Sqlite
    }

    async fn schema(&self) -> Result<SourceSchema> {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| Error::Internal(format!("reading the schema: {e}")))?;
        let mut schema = SourceSchema::default();
        for table in tables {
            let rows = sqlx::query("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                .bind(&table)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| Error::Internal(format!("reading the schema: {e}")))?;
            let mut t = TableSchema::default();
            for r in rows {
                let name: String = r.try_get(0).map_err(Error::internal)?;
                let ty: String = r.try_get(1).map_err(Error::internal)?;
                t.columns.insert(name, ty.to_ascii_lowercase());
            }
            schema.tables.insert(table, t);
        }
        Ok(schema)
    }

    async fn run(&self, sql: &GuardedSql, limits: &QueryLimits) -> Result<QueryData> {
        super::one_query_only(self.dialect(), sql.as_str())?;
        let deadline = std::time::Instant::now() + limits.timeout;
        let work = async {
            let mut conn = self.pool.acquire().await.map_err(query_error)?;
            // SQLite checks the handler every thousand virtual-machine steps and stops the
            // statement (SQLITE_INTERRUPT) once the deadline has passed, so a runaway query frees
            // its connection instead of running on after the caller gave up.
            conn.lock_handle()
                .await
                .map_err(query_error)?
                .set_progress_handler(1000, move || std::time::Instant::now() < deadline);
            let mut sink = RowSink::new(limits.max_rows, limits.max_bytes);
            // A computed column (`count(*)`, `strftime(…)`) has no declared type; it gets the
            // storage class of its first non-NULL value instead of SQLite's `NULL`.
            let mut seen: Vec<Option<&'static str>> = Vec::new();
            let mut rows = sqlx::raw_sql(AssertSqlSafe(sql.as_str().to_string())).fetch(&mut *conn);
            while let Some(row) = rows.try_next().await.map_err(query_error)? {
                sink.columns_from(&row);
                let mut out = Vec::with_capacity(row.len());
                seen.resize(row.len(), None);
                for (i, class_seen) in seen.iter_mut().enumerate() {
                    let raw = row.try_get_raw(i).map_err(query_error)?;
                    let v = if raw.is_null() {
                        serde_json::Value::Null
                    } else {
                        let info = raw.type_info();
                        let class = info.name();
                        *class_seen = class_seen.or(match class {
                            "INTEGER" => Some("integer"),
                            "REAL" => Some("real"),
                            "BLOB" => Some("blob"),
                            _ => Some("text"),
                        });
                        match class {
                            "INTEGER" => serde_json::Value::from(
                                row.try_get::<i64, _>(i).map_err(query_error)?,
                            ),
                            "REAL" => serde_json::Number::from_f64(
                                row.try_get::<f64, _>(i).map_err(query_error)?,
                            )
                            .map(serde_json::Value::Number)
                            .unwrap_or(serde_json::Value::Null),
                            "BLOB" => serde_json::Value::String("(binary)".into()),
                            _ => serde_json::Value::String(
                                row.try_get::<String, _>(i).map_err(query_error)?,
                            ),
                        }
                    };
                    out.push(v);
                }
                if !sink.push(out) {
                    break;
                }
            }
            drop(rows);
            for (column, class) in sink.data.columns.iter_mut().zip(&seen) {
                if let (true, Some(class)) = (column.data_type == "null", class) {
                    column.data_type = (*class).to_string();
                }
            }
            if let Ok(mut h) = conn.lock_handle().await {
                h.remove_progress_handler();
            }
            Ok::<_, Error>(sink.data)
        };
        let timed_out = || {
            Error::QueryFailed(format!(
                "the query ran longer than {} ms and was cancelled",
                limits.timeout.as_millis()
            ))
        };
        match tokio::time::timeout(limits.timeout + std::time::Duration::from_millis(500), work)
            .await
        {
            Ok(Err(Error::QueryFailed(m))) if m.contains("interrupted") => Err(timed_out()),
            Ok(r) => r,
            Err(_) => Err(Error::QueryFailed(format!(
                "the query ran longer than {} ms and was cancelled",
                limits.timeout.as_millis()
            ))),
        }
    }
}

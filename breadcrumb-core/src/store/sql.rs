//! The SQL metadata store, one implementation for SQLite and PostgreSQL through sqlx's `Any`
//! driver: the schema uses only types both share (TEXT, BIGINT) and `$n` placeholders, which
//! both accept, so there is one set of statements to keep right.

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use super::*;
use crate::error::Error;

/// Each step runs once, in order; the store records how far it got.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS bc_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bc_partners (partner_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bc_api_keys (key_hash TEXT PRIMARY KEY, partner_id TEXT NOT NULL REFERENCES bc_partners (partner_id), label TEXT NOT NULL, active BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bc_sources (source_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL, body TEXT NOT NULL, password_sealed TEXT NOT NULL, schema_json TEXT NOT NULL, created_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bc_spaces (space_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL, source_id TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bc_users (user_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL, email TEXT NOT NULL, name TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (partner_id, email))",
    "CREATE TABLE IF NOT EXISTS bc_conversations (conversation_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL, user_id TEXT, customer_id TEXT, data_sources TEXT NOT NULL, created_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bc_messages (message_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS bc_messages_by_conversation ON bc_messages (conversation_id, message_id)",
    "CREATE TABLE IF NOT EXISTS bc_usage (message_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL, customer_id TEXT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS bc_usage_by_customer ON bc_usage (partner_id, customer_id, at)",
];

pub struct SqlStore {
    pool: AnyPool,
}

fn db(e: sqlx::Error) -> Error {
    Error::Internal(format!("metadata store: {e}"))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(Error::internal)
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Internal(format!("corrupt stored record: {e}")))
}

fn micros(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn time(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us).single().unwrap_or_default()
}

impl SqlStore {
    /// Opens (and for SQLite creates) the store at `url` and brings its schema up to date.
    /// `sqlite://path?mode=rwc` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let is_sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(if is_sqlite { 1 } else { 10 })
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| Error::Internal(format!("cannot open the metadata store: {e}")))?;
        let store = SqlStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        sqlx::query("CREATE TABLE IF NOT EXISTS bc_migrations (step BIGINT PRIMARY KEY)")
            .execute(&self.pool)
            .await
            .map_err(db)?;
        let done: i64 = sqlx::query("SELECT COUNT(*) FROM bc_migrations")
            .fetch_one(&self.pool)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(db)?;
        for (i, step) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
            let mut tx = self.pool.begin().await.map_err(db)?;
            sqlx::query(*step).execute(&mut *tx).await.map_err(db)?;
            sqlx::query("INSERT INTO bc_migrations (step) VALUES ($1)")
                .bind(i as i64)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
        }
        Ok(())
    }

    fn source(row: &AnyRow) -> Result<StoredSource> {
        Ok(StoredSource {
            partner_id: row.try_get("partner_id").map_err(db)?,
            connector: parse(&row.try_get::<String, _>("body").map_err(db)?)?,
            password_sealed: row.try_get("password_sealed").map_err(db)?,
            schema: parse(&row.try_get::<String, _>("schema_json").map_err(db)?)?,
        })
    }

    fn conversation(row: &AnyRow) -> Result<Conversation> {
        Ok(Conversation {
            conversation_id: row.try_get("conversation_id").map_err(db)?,
            partner_id: row.try_get("partner_id").map_err(db)?,
            user_id: row.try_get("user_id").map_err(db)?,
            customer_id: row.try_get("customer_id").map_err(db)?,
            data_sources: parse(&row.try_get::<String, _>("data_sources").map_err(db)?)?,
            created_at: time(row.try_get("created_at").map_err(db)?),
        })
    }
}

#[async_trait]
impl PartnerStore for SqlStore {
    async fn insert_partner(&self, p: &Partner) -> Result<()> {
        sqlx::query("INSERT INTO bc_partners (partner_id, name, created_at) VALUES ($1, $2, $3)")
            .bind(p.partner_id.clone())
            .bind(p.name.clone())
            .bind(micros(&p.created_at))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
    async fn count_partners(&self) -> Result<u64> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM bc_partners")
            .fetch_one(&self.pool)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(db)?;
        Ok(n.max(0) as u64)
    }
    async fn list_partners(&self) -> Result<Vec<Partner>> {
        sqlx::query(
            "SELECT partner_id, name, created_at FROM bc_partners ORDER BY created_at, partner_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(|r| {
            Ok(Partner {
                partner_id: r.try_get("partner_id").map_err(db)?,
                name: r.try_get("name").map_err(db)?,
                created_at: time(r.try_get("created_at").map_err(db)?),
            })
        })
        .collect()
    }
    async fn insert_api_key(&self, partner_id: &str, key_hash: &str, label: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO bc_api_keys (key_hash, partner_id, label, active) VALUES ($1, $2, $3, 1)",
        )
        .bind(key_hash.to_string())
        .bind(partner_id.to_string())
        .bind(label.to_string())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
    async fn partner_by_key_hash(&self, key_hash: &str) -> Result<Option<Partner>> {
        let row = sqlx::query(
            "SELECT p.partner_id, p.name, p.created_at FROM bc_api_keys k JOIN bc_partners p ON p.partner_id = k.partner_id WHERE k.key_hash = $1 AND k.active = 1",
        )
        .bind(key_hash.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|r| {
            Ok(Partner {
                partner_id: r.try_get("partner_id").map_err(db)?,
                name: r.try_get("name").map_err(db)?,
                created_at: time(r.try_get("created_at").map_err(db)?),
            })
        })
        .transpose()
    }
    async fn revoke_api_key(&self, key_hash: &str) -> Result<bool> {
        let r = sqlx::query("UPDATE bc_api_keys SET active = 0 WHERE key_hash = $1 AND active = 1")
            .bind(key_hash.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(r.rows_affected() > 0)
    }
}

#[async_trait]
impl SettingStore for SqlStore {
    async fn get_setting(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM bc_settings WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.map(|r| r.try_get(0).map_err(db)).transpose()
    }
    async fn put_setting(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query("INSERT INTO bc_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
            .bind(name.to_string())
            .bind(value.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
}

#[async_trait]
impl SourceStore for SqlStore {
    async fn insert_source(&self, s: &StoredSource) -> Result<()> {
        sqlx::query("INSERT INTO bc_sources (source_id, partner_id, body, password_sealed, schema_json, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(s.connector.source_id.clone())
            .bind(s.partner_id.clone())
            .bind(json(&s.connector)?)
            .bind(s.password_sealed.clone())
            .bind(json(&s.schema)?)
            .bind(micros(&s.connector.created_at))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
    async fn list_sources(&self, partner_id: &str) -> Result<Vec<StoredSource>> {
        sqlx::query("SELECT * FROM bc_sources WHERE partner_id = $1 ORDER BY created_at, source_id")
            .bind(partner_id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(Self::source)
            .collect()
    }
    async fn get_source(&self, partner_id: &str, source_id: &str) -> Result<Option<StoredSource>> {
        sqlx::query("SELECT * FROM bc_sources WHERE partner_id = $1 AND source_id = $2")
            .bind(partner_id.to_string())
            .bind(source_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(Self::source)
            .transpose()
    }
    async fn delete_source(&self, partner_id: &str, source_id: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM bc_sources WHERE partner_id = $1 AND source_id = $2")
            .bind(partner_id.to_string())
            .bind(source_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(r.rows_affected() > 0)
    }
    async fn update_source_schema(
        &self,
        partner_id: &str,
        source_id: &str,
        schema: &SourceSchema,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE bc_sources SET schema_json = $1 WHERE partner_id = $2 AND source_id = $3",
        )
        .bind(json(schema)?)
        .bind(partner_id.to_string())
        .bind(source_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(r.rows_affected() > 0)
    }
}

#[async_trait]
impl SpaceStore for SqlStore {
    async fn insert_space(&self, s: &Space) -> Result<()> {
        sqlx::query("INSERT INTO bc_spaces (space_id, partner_id, source_id, body, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(s.space_id.clone())
            .bind(s.partner_id.clone())
            .bind(s.source_id.clone())
            .bind(json(s)?)
            .bind(micros(&s.created_at))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
    async fn list_spaces(&self, partner_id: &str) -> Result<Vec<Space>> {
        sqlx::query(
            "SELECT body FROM bc_spaces WHERE partner_id = $1 ORDER BY created_at, space_id",
        )
        .bind(partner_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(|r| parse(&r.try_get::<String, _>(0).map_err(db)?))
        .collect()
    }
    async fn get_space(&self, partner_id: &str, space_id: &str) -> Result<Option<Space>> {
        sqlx::query("SELECT body FROM bc_spaces WHERE partner_id = $1 AND space_id = $2")
            .bind(partner_id.to_string())
            .bind(space_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|r| parse(&r.try_get::<String, _>(0).map_err(db)?))
            .transpose()
    }
    async fn delete_space(&self, partner_id: &str, space_id: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM bc_spaces WHERE partner_id = $1 AND space_id = $2")
            .bind(partner_id.to_string())
            .bind(space_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(r.rows_affected() > 0)
    }
}

#[async_trait]
impl UserStore for SqlStore {
    async fn upsert_user(&self, u: &User) -> Result<User> {
        sqlx::query("INSERT INTO bc_users (user_id, partner_id, email, name, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (partner_id, email) DO NOTHING")
            .bind(u.user_id.clone())
            .bind(u.partner_id.clone())
            .bind(u.email.clone())
            .bind(u.name.clone())
            .bind(micros(&u.created_at))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        let r = sqlx::query("SELECT user_id, partner_id, email, name, created_at FROM bc_users WHERE partner_id = $1 AND email = $2")
            .bind(u.partner_id.clone())
            .bind(u.email.clone())
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(User {
            user_id: r.try_get("user_id").map_err(db)?,
            partner_id: r.try_get("partner_id").map_err(db)?,
            email: r.try_get("email").map_err(db)?,
            name: r.try_get("name").map_err(db)?,
            created_at: time(r.try_get("created_at").map_err(db)?),
        })
    }
}

#[async_trait]
impl ConversationStore for SqlStore {
    async fn insert_conversation(&self, c: &Conversation) -> Result<()> {
        let r = sqlx::query("INSERT INTO bc_conversations (conversation_id, partner_id, user_id, customer_id, data_sources, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(c.conversation_id.clone())
            .bind(c.partner_id.clone())
            .bind(c.user_id.clone())
            .bind(c.customer_id.clone())
            .bind(json(&c.data_sources)?)
            .bind(micros(&c.created_at))
            .execute(&self.pool)
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(Error::Conflict("conversation id is taken".into()))
            }
            Err(e) => Err(db(e)),
        }
    }
    async fn get_conversation(&self, id: &str) -> Result<Option<Conversation>> {
        sqlx::query("SELECT * FROM bc_conversations WHERE conversation_id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(Self::conversation)
            .transpose()
    }
    async fn list_conversations(
        &self,
        partner_id: &str,
        user_id: Option<&str>,
    ) -> Result<Vec<Conversation>> {
        let rows = match user_id {
            Some(u) => sqlx::query("SELECT * FROM bc_conversations WHERE partner_id = $1 AND user_id = $2 ORDER BY created_at, conversation_id")
                .bind(partner_id.to_string())
                .bind(u.to_string())
                .fetch_all(&self.pool)
                .await,
            None => sqlx::query("SELECT * FROM bc_conversations WHERE partner_id = $1 ORDER BY created_at, conversation_id")
                .bind(partner_id.to_string())
                .fetch_all(&self.pool)
                .await,
        }
        .map_err(db)?;
        rows.iter().map(Self::conversation).collect()
    }
    async fn delete_conversation(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("DELETE FROM bc_messages WHERE conversation_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let r = sqlx::query("DELETE FROM bc_conversations WHERE conversation_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(r.rows_affected() > 0)
    }
    async fn insert_message(&self, id: &str, m: &Message) -> Result<()> {
        sqlx::query(
            "INSERT INTO bc_messages (message_id, conversation_id, body) VALUES ($1, $2, $3)",
        )
        .bind(m.message_id.clone())
        .bind(id.to_string())
        .bind(json(m)?)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
    async fn list_messages(
        &self,
        id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Message>> {
        sqlx::query("SELECT body FROM bc_messages WHERE conversation_id = $1 AND message_id > $2 ORDER BY message_id LIMIT $3")
            .bind(id.to_string())
            .bind(after.unwrap_or("").to_string())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(|r| parse(&r.try_get::<String, _>(0).map_err(db)?))
            .collect()
    }
    async fn latest_messages(&self, id: &str, limit: u32) -> Result<Vec<Message>> {
        let mut newest: Vec<Message> = sqlx::query(
            "SELECT body FROM bc_messages WHERE conversation_id = $1 ORDER BY message_id DESC LIMIT $2",
        )
        .bind(id.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(|r| parse(&r.try_get::<String, _>(0).map_err(db)?))
        .collect::<Result<_>>()?;
        newest.reverse();
        Ok(newest)
    }
    async fn get_message(&self, id: &str, message_id: &str) -> Result<Option<Message>> {
        sqlx::query("SELECT body FROM bc_messages WHERE conversation_id = $1 AND message_id = $2")
            .bind(id.to_string())
            .bind(message_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|r| parse(&r.try_get::<String, _>(0).map_err(db)?))
            .transpose()
    }
}

#[async_trait]
impl UsageStore for SqlStore {
    async fn record_usage(&self, r: &UsageRecord) -> Result<()> {
        sqlx::query("INSERT INTO bc_usage (message_id, partner_id, customer_id, input_tokens, output_tokens, at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(r.message_id.clone())
            .bind(r.partner_id.clone())
            .bind(r.customer_id.clone())
            .bind(i64::try_from(r.usage.input_tokens).unwrap_or(i64::MAX))
            .bind(i64::try_from(r.usage.output_tokens).unwrap_or(i64::MAX))
            .bind(micros(&r.at))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
    async fn usage_since(
        &self,
        partner_id: &str,
        customer_id: Option<&str>,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(String, crate::llm::Usage)>> {
        // CAST: PostgreSQL's SUM of BIGINT is NUMERIC, which the Any driver does not read.
        sqlx::query(
            "SELECT customer_id, CAST(SUM(input_tokens) AS BIGINT), CAST(SUM(output_tokens) AS BIGINT) FROM bc_usage \
             WHERE partner_id = $1 AND at >= $2 AND ($3 = '' OR customer_id = $3) GROUP BY customer_id ORDER BY customer_id",
        )
        .bind(partner_id.to_string())
        .bind(micros(&since))
        .bind(customer_id.unwrap_or("").to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(|r| {
            let n = |i: usize| -> Result<u64> {
                Ok(r.try_get::<i64, _>(i).map_err(db)?.max(0) as u64)
            };
            Ok((
                r.try_get(0).map_err(db)?,
                crate::llm::Usage {
                    input_tokens: n(1)?,
                    output_tokens: n(2)?,
                },
            ))
        })
        .collect()
    }
}

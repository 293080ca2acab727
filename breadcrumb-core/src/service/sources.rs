//! Database connectors: created only after a live test, passwords sealed, schema read once.

use chrono::Utc;

use super::{Breadcrumb, Principal};
use crate::error::{Error, FieldError, Result};
use crate::ids::new_id;
use crate::model::{ConnectionSpec, CreateSource, DatabaseConnector, DatabaseType, StoredSource};
use crate::schema::SourceSchema;

/// How long a conversation trusts the schema this instance last read from a source.
pub(super) const SCHEMA_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);

fn check_text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize, required: bool) {
    if required && value.trim().is_empty() {
        errors.push(FieldError::body(
            field,
            format!("`{field}` must not be empty"),
            "value_error",
        ));
    } else if value.chars().count() > max {
        errors.push(FieldError::body(
            field,
            format!("`{field}` has at most {max} characters"),
            "value_error",
        ));
    }
}

impl Breadcrumb {
    pub async fn list_sources(&self, who: &Principal) -> Result<Vec<DatabaseConnector>> {
        let p = who.partner()?;
        Ok(self
            .store
            .list_sources(&p.partner_id)
            .await?
            .into_iter()
            .map(|s| s.connector)
            .collect())
    }

    pub async fn get_source(&self, who: &Principal, source_id: &str) -> Result<DatabaseConnector> {
        let p = who.partner()?;
        self.store
            .get_source(&p.partner_id, source_id)
            .await?
            .map(|s| s.connector)
            .ok_or(Error::NotFound("source"))
    }

    /// The source's schema as it is now (read again from the database, and stored); the stored
    /// one when the database cannot be reached.
    pub async fn source_schema(&self, who: &Principal, source_id: &str) -> Result<SourceSchema> {
        let p = who.partner()?;
        let source = self
            .store
            .get_source(&p.partner_id, source_id)
            .await?
            .ok_or(Error::NotFound("source"))?;
        Ok(self.fresh_schema(&source).await.unwrap_or(source.schema))
    }

    /// Reads the source's schema again and stores it when it changed. Tables come and go after
    /// a connector is created: a space may filter on a column that is new, and a new table with
    /// the filter columns belongs to every space of the source.
    pub(super) async fn fresh_schema(&self, source: &StoredSource) -> Result<SourceSchema> {
        let schema = self.connector(source).await?.schema().await?;
        let id = &source.connector.source_id;
        if schema != source.schema {
            tracing::info!(source_id = %id, tables = schema.tables.len(), "the source's schema changed");
            self.store
                .update_source_schema(&source.partner_id, id, &schema)
                .await?;
        }
        self.schema_read
            .lock()
            .map_err(Error::internal)?
            .insert(id.clone(), std::time::Instant::now());
        Ok(schema)
    }

    /// The schema a conversation works with: read again when this instance last read it more
    /// than [`SCHEMA_MAX_AGE`] ago, else as stored.
    pub(super) async fn current_schema(&self, source: &StoredSource) -> SourceSchema {
        let last = self
            .schema_read
            .lock()
            .ok()
            .and_then(|m| m.get(&source.connector.source_id).copied());
        if last.is_some_and(|t| t.elapsed() < SCHEMA_MAX_AGE) {
            return source.schema.clone();
        }
        match self.fresh_schema(source).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(source_id = %source.connector.source_id, error = %e, "could not read the schema again; using the stored one");
                source.schema.clone()
            }
        }
    }

    /// Validates, tests the connection, reads the schema, and only then stores anything.
    pub async fn create_source(
        &self,
        who: &Principal,
        req: CreateSource,
    ) -> Result<DatabaseConnector> {
        let p = who.partner()?;
        let mut errors = Vec::new();
        let database_type = DatabaseType::parse(&req.database_type);
        if database_type.is_none() {
            errors.push(FieldError::body(
                "database_type",
                "`database_type` must be `postgres` or `redshift` (or the extensions `mysql`, `sqlite`)",
                "enum",
            ));
        }
        let sqlite = database_type == Some(DatabaseType::Sqlite);
        check_text(&mut errors, "host", &req.host, 253, !sqlite);
        check_text(&mut errors, "database", &req.database, 128, true);
        check_text(&mut errors, "username", &req.username, 128, !sqlite);
        check_text(&mut errors, "password", &req.password, 1024, false);
        if let Some(n) = &req.source_name {
            check_text(&mut errors, "source_name", n, 200, false);
        }
        if !(1..=65535).contains(&req.port) {
            errors.push(FieldError::body(
                "port",
                "`port` must be between 1 and 65535",
                "value_error",
            ));
        }
        if req
            .host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        {
            errors.push(FieldError::body(
                "host",
                "`host` is a host name or IP address",
                "value_error",
            ));
        }
        let (Some(database_type), true) = (database_type, errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let spec = ConnectionSpec {
            database_type,
            host: req.host.trim().to_string(),
            port: req.port as u16,
            database: req.database.clone(),
            username: req.username.clone(),
            password: req.password.clone(),
        };
        let conn = self.connectors.open(&spec).await?;
        let schema = conn.schema().await?;
        let connector = DatabaseConnector {
            source_id: new_id("src"),
            database_type,
            host: spec.host.clone(),
            port: spec.port,
            database: spec.database.clone(),
            username: spec.username.clone(),
            source_name: req.source_name.filter(|n| !n.trim().is_empty()),
            status: "READY".into(),
            created_at: Utc::now(),
        };
        let stored = StoredSource {
            partner_id: p.partner_id.clone(),
            connector: connector.clone(),
            password_sealed: self.secret.cipher().seal(&spec.password),
            schema,
        };
        self.store.insert_source(&stored).await?;
        self.open
            .lock()
            .map_err(Error::internal)?
            .insert(connector.source_id.clone(), conn);
        tracing::info!(source_id = %connector.source_id, database_type = database_type.as_str(), "source created");
        Ok(connector)
    }

    /// Refuses while spaces still use the source, so that no space is left pointing at nothing.
    pub async fn delete_source(&self, who: &Principal, source_id: &str) -> Result<()> {
        let p = who.partner()?;
        if self
            .store
            .get_source(&p.partner_id, source_id)
            .await?
            .is_none()
        {
            return Err(Error::NotFound("source"));
        }
        let in_use = self
            .store
            .list_spaces(&p.partner_id)
            .await?
            .iter()
            .filter(|s| s.source_id == source_id)
            .count();
        if in_use > 0 {
            return Err(Error::Conflict(format!(
                "{in_use} space(s) still use this source; delete them first"
            )));
        }
        self.store.delete_source(&p.partner_id, source_id).await?;
        self.open.lock().map_err(Error::internal)?.remove(source_id);
        Ok(())
    }
}

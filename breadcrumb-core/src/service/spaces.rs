//! Spaces: a source, a customer, and filters typed against the source's columns.

use chrono::Utc;

use super::{Breadcrumb, Principal};
use crate::error::{Error, FieldError, Result};
use crate::filters::Filters;
use crate::ids::new_id;
use crate::model::{CreateSpace, Space};

impl Breadcrumb {
    pub async fn create_space(&self, who: &Principal, req: CreateSpace) -> Result<Space> {
        let p = who.partner()?;
        let mut errors = Vec::new();
        if req.name.trim().is_empty() || req.name.chars().count() > 200 {
            errors.push(FieldError::body(
                "name",
                "`name` has 1 to 200 characters",
                "value_error",
            ));
        }
        if req.customer_id.trim().is_empty() || req.customer_id.chars().count() > 128 {
            errors.push(FieldError::body(
                "customer_id",
                "`customer_id` has 1 to 128 characters",
                "value_error",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let filters = Filters::parse(req.filters.as_ref())?;
        let source = self
            .store
            .get_source(&p.partner_id, &req.source_id)
            .await?
            .ok_or(Error::NotFound("source"))?;
        // A filter column the stored schema lacks may be one added since: read it again.
        if let Err(e) = filters.validate(&source.schema) {
            match self.fresh_schema(&source).await {
                Ok(schema) => filters.validate(&schema)?,
                Err(_) => return Err(e),
            }
        }
        let space = Space {
            space_id: new_id("space"),
            source_id: req.source_id,
            name: req.name,
            partner_id: p.partner_id.clone(),
            customer_id: req.customer_id,
            filters: req.filters.filter(|f| !f.is_null()),
            created_at: Utc::now(),
        };
        self.store.insert_space(&space).await?;
        Ok(space)
    }

    pub async fn list_spaces(&self, who: &Principal) -> Result<Vec<Space>> {
        self.store.list_spaces(&who.partner()?.partner_id).await
    }

    pub async fn get_space(&self, who: &Principal, space_id: &str) -> Result<Space> {
        self.store
            .get_space(&who.partner()?.partner_id, space_id)
            .await?
            .ok_or(Error::NotFound("space"))
    }

    pub async fn delete_space(&self, who: &Principal, space_id: &str) -> Result<()> {
        if self
            .store
            .delete_space(&who.partner()?.partner_id, space_id)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound("space"))
        }
    }
}

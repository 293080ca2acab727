//! Embed tokens: a user of a partner's customer, scoped to one space or all of the customer's.

use chrono::Utc;

use super::{Breadcrumb, Principal};
use crate::error::{Error, FieldError, Result};
use crate::ids::new_id;
use crate::model::{EmbedToken, EmbedTokenRequest, User};

impl Breadcrumb {
    pub async fn issue_embed_token(
        &self,
        who: &Principal,
        req: EmbedTokenRequest,
    ) -> Result<EmbedToken> {
        let p = who.partner()?;
        let mut errors = Vec::new();
        // The email identifies the user within the partner; its format is the partner's
        // business (the seed's own sample sends "string"), so only what a lookup key needs.
        let email = req.email.trim().to_lowercase();
        let valid_email = !email.is_empty()
            && email.chars().count() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid_email {
            errors.push(FieldError::body(
                "email",
                "`email` has 1 to 254 characters and no spaces",
                "value_error",
            ));
        }
        if req.name.trim().is_empty() || req.name.chars().count() > 200 {
            errors.push(FieldError::body(
                "name",
                "`name` has 1 to 200 characters",
                "value_error",
            ));
        }
        if req.customer_id.is_none() && req.space_id.is_none() {
            errors.push(FieldError::body(
                "customer_id",
                "give `customer_id`, `space_id` or both",
                "missing",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let spaces = self.store.list_spaces(&p.partner_id).await?;
        let customer = match (&req.customer_id, &req.space_id) {
            (Some(c), space) => {
                if !spaces.iter().any(|s| &s.customer_id == c) {
                    return Err(Error::NotFound("customer"));
                }
                if let Some(sid) = space {
                    let s = spaces
                        .iter()
                        .find(|s| &s.space_id == sid)
                        .ok_or(Error::NotFound("space"))?;
                    if &s.customer_id != c {
                        return Err(Error::validation(
                            "space_id",
                            "this space does not belong to that customer",
                        ));
                    }
                }
                c.clone()
            }
            (None, Some(sid)) => spaces
                .iter()
                .find(|s| &s.space_id == sid)
                .ok_or(Error::NotFound("space"))?
                .customer_id
                .clone(),
            (None, None) => {
                return Err(Error::validation(
                    "customer_id",
                    "give `customer_id`, `space_id` or both",
                ));
            }
        };
        let user = self
            .store
            .upsert_user(&User {
                user_id: new_id("user"),
                partner_id: p.partner_id.clone(),
                email,
                name: req.name.trim().to_string(),
                created_at: Utc::now(),
            })
            .await?;
        let (token, expires_at) = self.tokens.issue(
            &p.partner_id,
            &customer,
            req.space_id.as_deref(),
            &user.user_id,
        )?;
        Ok(EmbedToken { token, expires_at })
    }
}

//! Request extractors: the caller's principal, and JSON bodies whose errors take the API's shape.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use breadcrumb_core::error::FieldError;
use breadcrumb_core::{Error, Principal};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller: `X-API-Key` for partners, `Authorization: Bearer` for end users.
pub struct Auth(pub Principal);

impl<S> FromRequestParts<S> for Auth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        if let Some(key) = parts.headers.get("x-api-key") {
            let key = key.to_str().map_err(|_| Error::Unauthorized)?;
            return Ok(Auth(app.service.authenticate_key(key.trim()).await?));
        }
        if let Some(h) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let h = h.to_str().map_err(|_| Error::Unauthorized)?;
            let token = h
                .strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
                .ok_or(Error::Unauthorized)?;
            return Ok(Auth(app.service.authenticate_token(token.trim()).await?));
        }
        Err(Error::Unauthorized.into())
    }
}

/// A partner caller: end users are refused before their request body is even read.
pub struct PartnerAuth(pub Principal);

impl<S> FromRequestParts<S> for PartnerAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Auth(who) = Auth::from_request_parts(parts, state).await?;
        who.partner()?;
        Ok(PartnerAuth(who))
    }
}

/// A JSON body. Malformed JSON, missing fields and wrong types are 422s naming the field.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| Error::PayloadTooLarge(e.body_text()))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(Body)
            .map_err(|e| ApiError(Error::Validation(vec![field_error(e)])))
    }
}

fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let inner = e.inner();
    let mut loc = vec!["body".to_string()];
    let path = e.path().to_string();
    if path != "." {
        loc.extend(path.split('.').map(str::to_string));
    }
    let msg = inner.to_string();
    let kind = match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "json_invalid",
        _ if msg.starts_with("missing field") => "missing",
        _ => "type_error",
    };
    if let Some(field) = msg
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        loc.push(field.to_string());
    }
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    FieldError {
        loc,
        msg,
        kind: kind.into(),
    }
}

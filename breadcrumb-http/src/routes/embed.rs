//! `/v1/embed/token`.

use axum::Json;
use axum::extract::State;
use breadcrumb_core::model::{EmbedToken, EmbedTokenRequest};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Body, PartnerAuth};

/// Generate embed token
#[utoipa::path(post, path = "/v1/embed/token", tag = "embed", security(("APIKeyHeader" = [])),
    request_body = EmbedTokenRequest, responses((status = 200, body = EmbedToken), (status = 404), (status = 422)))]
pub async fn token(
    State(s): State<AppState>,
    PartnerAuth(who): PartnerAuth,
    Body(req): Body<EmbedTokenRequest>,
) -> ApiResult<Json<EmbedToken>> {
    Ok(Json(s.service.issue_embed_token(&who, req).await?))
}

//! `/v1/settings/model` (a partner's own model) and `/v1/usage` (model tokens per customer).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use breadcrumb_core::service::{CustomerUsage, ModelView, SetModel};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Body, PartnerAuth};

/// Set the partner's own model (its API key is stored sealed and never returned)
#[utoipa::path(put, path = "/v1/settings/model", tag = "settings", security(("APIKeyHeader" = [])),
    request_body = SetModel, responses((status = 200, body = ModelView), (status = 422)))]
pub async fn set_model(
    State(s): State<AppState>,
    PartnerAuth(who): PartnerAuth,
    Body(req): Body<SetModel>,
) -> ApiResult<Json<ModelView>> {
    Ok(Json(s.service.set_model(&who, req).await?))
}

/// The partner's own model
#[utoipa::path(get, path = "/v1/settings/model", tag = "settings", security(("APIKeyHeader" = [])),
    responses((status = 200, body = ModelView), (status = 404)))]
pub async fn get_model(
    State(s): State<AppState>,
    PartnerAuth(who): PartnerAuth,
) -> ApiResult<Json<ModelView>> {
    Ok(Json(s.service.get_model(&who).await?))
}

/// Go back to the server's model
#[utoipa::path(delete, path = "/v1/settings/model", tag = "settings", security(("APIKeyHeader" = [])),
    responses((status = 204), (status = 404)))]
pub async fn delete_model(
    State(s): State<AppState>,
    PartnerAuth(who): PartnerAuth,
) -> ApiResult<StatusCode> {
    s.service.delete_model(&who).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UsageQuery {
    customer_id: Option<String>,
}

/// Model tokens used this month, per customer
#[utoipa::path(get, path = "/v1/usage", tag = "settings", security(("APIKeyHeader" = [])),
    params(UsageQuery), responses((status = 200, body = Vec<CustomerUsage>)))]
pub async fn usage(
    State(s): State<AppState>,
    PartnerAuth(who): PartnerAuth,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Json<Vec<CustomerUsage>>> {
    Ok(Json(s.service.usage(&who, q.customer_id.as_deref()).await?))
}

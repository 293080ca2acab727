//! `/v1/spaces`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use breadcrumb_core::model::{CreateSpace, Space};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Body, PartnerAuth};

/// Create a new space
#[utoipa::path(post, path = "/v1/spaces", tag = "spaces", security(("APIKeyHeader" = [])),
    request_body = CreateSpace, responses((status = 201, body = Space), (status = 404), (status = 422)))]
pub async fn create(
    State(s): State<AppState>,
    PartnerAuth(who): PartnerAuth,
    Body(req): Body<CreateSpace>,
) -> ApiResult<(StatusCode, Json<Space>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_space(&who, req).await?),
    ))
}

/// List partner spaces
#[utoipa::path(get, path = "/v1/spaces", tag = "spaces", security(("APIKeyHeader" = [])),
    responses((status = 200, body = Vec<Space>)))]
pub async fn list(State(s): State<AppState>, Auth(who): Auth) -> ApiResult<Json<Vec<Space>>> {
    Ok(Json(s.service.list_spaces(&who).await?))
}

/// One space
#[utoipa::path(get, path = "/v1/spaces/{space_id}", tag = "spaces", security(("APIKeyHeader" = [])),
    responses((status = 200, body = Space), (status = 404)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Space>> {
    Ok(Json(s.service.get_space(&who, &id).await?))
}

/// Delete a space
#[utoipa::path(delete, path = "/v1/spaces/{space_id}", tag = "spaces", security(("APIKeyHeader" = [])),
    responses((status = 204), (status = 404)))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_space(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

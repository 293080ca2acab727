//! `/v1/sources/database`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use breadcrumb_core::model::{CreateSource, DatabaseConnector};
use breadcrumb_core::schema::SourceSchema;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Body, PartnerAuth};

/// List database connectors
#[utoipa::path(get, path = "/v1/sources/database", tag = "sources", security(("APIKeyHeader" = [])),
    responses((status = 200, body = Vec<DatabaseConnector>)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<Vec<DatabaseConnector>>> {
    Ok(Json(s.service.list_sources(&who).await?))
}

/// Create a database connector (tested before it is stored)
#[utoipa::path(post, path = "/v1/sources/database", tag = "sources", security(("APIKeyHeader" = [])),
    request_body = CreateSource, responses((status = 201, body = DatabaseConnector), (status = 400), (status = 422)))]
pub async fn create(
    State(s): State<AppState>,
    PartnerAuth(who): PartnerAuth,
    Body(req): Body<CreateSource>,
) -> ApiResult<(StatusCode, Json<DatabaseConnector>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_source(&who, req).await?),
    ))
}

/// One database connector
#[utoipa::path(get, path = "/v1/sources/database/{source_id}", tag = "sources", security(("APIKeyHeader" = [])),
    responses((status = 200, body = DatabaseConnector), (status = 404)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<DatabaseConnector>> {
    Ok(Json(s.service.get_source(&who, &id).await?))
}

/// Delete a database connector (refused while spaces use it)
#[utoipa::path(delete, path = "/v1/sources/database/{source_id}", tag = "sources", security(("APIKeyHeader" = [])),
    responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_source(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A source's schema as the partner sees it
#[utoipa::path(get, path = "/v1/sources/database/{source_id}/schema", tag = "sources", security(("APIKeyHeader" = [])),
    responses((status = 200, body = SourceSchema), (status = 404)))]
pub async fn schema(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<SourceSchema>> {
    Ok(Json(s.service.source_schema(&who, &id).await?))
}

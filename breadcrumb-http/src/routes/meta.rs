//! Health, readiness, metrics, the OpenAPI document, its reference page and the embed page.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use serde_json::json;
use utoipa::OpenApi;

use crate::{ApiDoc, AppState};

pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready when the metadata store answers.
pub async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    match s.service.store().count_partners().await {
        Ok(_) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({"status": "unavailable", "code": "not_ready", "detail": "the metadata store does not answer"}),
                ),
            )
        }
    }
}

pub async fn openapi() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}

/// A self-contained reference page: it renders `/openapi.json` with no script from elsewhere.
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("../../assets/docs.html"))
}

pub async fn embed_page() -> Html<&'static str> {
    Html(include_str!("../../assets/embed.html"))
}

pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

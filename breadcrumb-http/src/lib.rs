//! Breadcrumb's HTTP adapter: handlers parse the request, call [`breadcrumb_core::Breadcrumb`]
//! and map its errors in one place ([`error`]). No business rule lives here.

pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod routes;
pub mod startup;
pub mod stream;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use breadcrumb_core::Breadcrumb;
use breadcrumb_core::error::FieldError;
use serde_json::json;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

use routes::{conversations, embed, meta, settings, sources, spaces};

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Breadcrumb>,
    pub metrics: Arc<metrics::Metrics>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Breadcrumb API", version = "0.1.0", description = "This is the API for Breadcrumb"),
    paths(
        sources::list, sources::create, sources::get, sources::delete, sources::schema,
        spaces::create, spaces::list, spaces::get, spaces::delete,
        embed::token,
        conversations::send, conversations::messages, conversations::get, conversations::delete,
        conversations::create, conversations::list, conversations::chart,
        settings::set_model, settings::get_model, settings::delete_model, settings::usage,
    ),
    components(schemas(error::ErrorBody, error::ValidationErrorBody)),
    modifiers(&Security, &ErrorResponses),
    tags((name = "sources", description = "Manage data sources like database connectors"),
         (name = "spaces", description = "Manage spaces, which are filtered views of data sources shared with customers"),
         (name = "embed", description = "Endpoints for embedded authentication and user management"),
         (name = "conversations", description = "AI-powered chat interface for data analysis"),
         (name = "settings", description = "The partner's own model, and model usage per customer"))
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "APIKeyHeader",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        c.add_security_scheme(
            "BearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every operation's error answers, in the API's two error shapes: 401 for any that needs a
/// caller, 403 for the partner-only ones (an embed token), 422 for any that reads input, 500; and
/// the shape of the statuses a handler documents without a body (404, 409, 429, …).
struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let body = |schema: &str, description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(schema)))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let schemes = serde_json::to_string(&op.security).unwrap_or_default();
                let responses = &mut op.responses.responses;
                if schemes.contains("APIKeyHeader") {
                    responses.insert(
                        "401".into(),
                        body("ErrorBody", "missing, wrong or expired credentials"),
                    );
                    if !schemes.contains("BearerAuth") {
                        responses.insert(
                            "403".into(),
                            body("ErrorBody", "an embed token on a partner endpoint"),
                        );
                    }
                }
                if op.request_body.is_some()
                    || op.parameters.as_ref().is_some_and(|p| !p.is_empty())
                {
                    responses.insert(
                        "422".into(),
                        body("ValidationErrorBody", "invalid input, each problem named"),
                    );
                }
                responses.insert(
                    "500".into(),
                    body("ErrorBody", "an internal error (logged, never detailed)"),
                );
                for (status, response) in responses.iter_mut() {
                    let documented_without_body =
                        matches!(response, RefOr::T(r) if r.content.is_empty());
                    if status.starts_with('4') && documented_without_body {
                        let schema = if status == "422" {
                            "ValidationErrorBody"
                        } else {
                            "ErrorBody"
                        };
                        let description = match response {
                            RefOr::T(r) if !r.description.is_empty() => r.description.clone(),
                            _ => "an error".into(),
                        };
                        *response = body(schema, &description);
                    }
                }
            }
        }
    }
}

/// `limit` as given in the query string; a non-number is a 422 like any other bad input.
pub fn parse_limit(raw: Option<&str>) -> Result<Option<i64>, error::ApiError> {
    match raw {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
            error::ApiError(breadcrumb_core::Error::Validation(vec![FieldError::query(
                "limit",
                "`limit` must be an integer between 1 and 1000",
                "int_parsing",
            )]))
        }),
    }
}

/// Browsers must take every response for the type it declares (JSON stays JSON, never a page).
async fn no_sniff(mut r: axum::response::Response) -> axum::response::Response {
    r.headers_mut().insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    );
    r
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/v1/sources/database",
            get(sources::list).post(sources::create),
        )
        .route(
            "/v1/sources/database/{source_id}",
            get(sources::get).delete(sources::delete),
        )
        .route(
            "/v1/sources/database/{source_id}/schema",
            get(sources::schema),
        )
        .route("/v1/spaces", get(spaces::list).post(spaces::create))
        .route(
            "/v1/spaces/{space_id}",
            get(spaces::get).delete(spaces::delete),
        )
        .route("/v1/embed/token", axum::routing::post(embed::token))
        .route(
            "/v1/conversations",
            get(conversations::list).post(conversations::create),
        )
        .route(
            "/v1/conversations/{conversation_id}",
            get(conversations::get).delete(conversations::delete),
        )
        .route(
            "/v1/conversations/{conversation_id}/messages",
            get(conversations::messages).post(conversations::send),
        )
        .route(
            "/v1/conversations/{conversation_id}/messages/{message_id}/chart.svg",
            get(conversations::chart),
        )
        .route(
            "/v1/settings/model",
            get(settings::get_model)
                .put(settings::set_model)
                .delete(settings::delete_model),
        )
        .route("/v1/usage", get(settings::usage))
        .route("/healthz", get(meta::healthz))
        .route("/readyz", get(meta::readyz))
        .route("/metrics", get(meta::metrics))
        .route("/openapi.json", get(meta::openapi))
        .route("/docs", get(meta::docs))
        .route("/embed", get(meta::embed_page))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"detail": "no such endpoint", "code": "not_found"})),
            )
        })
        .method_not_allowed_fallback(|| async {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                axum::Json(
                    json!({"detail": "this endpoint does not take that method", "code": "method_not_allowed"}),
                ),
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::map_response(no_sniff))
        // Enforced where a body is read (`extract::Body`), so that a body over the limit gets
        // the API's error shape rather than a plain-text 413.
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

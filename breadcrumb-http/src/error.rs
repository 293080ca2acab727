//! The one place where core errors become HTTP responses. Internal details are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use breadcrumb_core::Error;
use serde_json::json;

pub struct ApiError(pub Error);

/// The body of every error but a 422 (documented in the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// A sentence for people.
    detail: String,
    /// A stable, machine-readable code (`not_found`, `source_unreachable`, …).
    code: String,
}

/// The body of a 422: each problem with where it is (`["body", "port"]`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ValidationErrorBody {
    detail: Vec<breadcrumb_core::error::FieldError>,
    /// Always `validation_error`.
    code: String,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Unauthorized | Error::TokenExpired => StatusCode::UNAUTHORIZED,
        Error::Forbidden => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::Source { .. } | Error::QueryRejected(_) | Error::QueryFailed(_) => {
            StatusCode::BAD_REQUEST
        }
        Error::QuotaExceeded(_) => StatusCode::TOO_MANY_REQUESTS,
        Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Upstream(_) => StatusCode::BAD_GATEWAY,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The status and JSON body of an error (also sent as a streamed `error` event).
pub fn body_of(e: &Error) -> (StatusCode, serde_json::Value) {
    let body = match e {
        Error::Validation(items) => json!({"detail": items, "code": e.code()}),
        Error::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            json!({"detail": "internal error", "code": e.code()})
        }
        _ => json!({"detail": e.to_string(), "code": e.code()}),
    };
    (status_of(e), body)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let (status, body) = body_of(&e);
        let mut resp = (status, Json(body)).into_response();
        if matches!(e, Error::Unauthorized | Error::TokenExpired) {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer, ApiKey"),
            );
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

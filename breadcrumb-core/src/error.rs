//! The one error type of the core. Every transport maps it to its own status codes in one place;
//! `code()` is the stable, machine-readable name clients can match on.

use std::fmt;

/// One field-level validation problem: where (`["body", "port"]`) and what.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub loc: Vec<String>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    pub fn body(field: &str, msg: impl Into<String>, kind: &str) -> Self {
        FieldError {
            loc: vec!["body".into(), field.into()],
            msg: msg.into(),
            kind: kind.into(),
        }
    }
    pub fn query(field: &str, msg: impl Into<String>, kind: &str) -> Self {
        FieldError {
            loc: vec!["query".into(), field.into()],
            msg: msg.into(),
            kind: kind.into(),
        }
    }
}

/// Why a data source could not be reached; each maps to its own error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFailure {
    Unreachable,
    AuthFailed,
    UnknownDatabase,
    Timeout,
    Unsupported,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("the embed token has expired")]
    TokenExpired,
    #[error("this endpoint is for partners (X-API-Key), not embed tokens")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid request")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    Source {
        failure: SourceFailure,
        message: String,
    },
    /// The space guard refused a query; the message is written for the model to correct itself.
    #[error("query refused: {0}")]
    QueryRejected(String),
    /// The database refused or failed a guarded query; the message is already scrubbed of values.
    #[error("query failed: {0}")]
    QueryFailed(String),
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("the request body is too large: {0}")]
    PayloadTooLarge(String),
    #[error("the language model failed: {0}")]
    Upstream(String),
    /// Storage or other internal failures; the detail is logged, never shown to a client.
    #[error("internal error")]
    Internal(String),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthorized => "unauthorized",
            Error::TokenExpired => "token_expired",
            Error::Forbidden => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::Validation(_) => "validation_error",
            Error::Conflict(_) => "conflict",
            Error::Source { failure, .. } => match failure {
                SourceFailure::Unreachable => "source_unreachable",
                SourceFailure::AuthFailed => "source_auth_failed",
                SourceFailure::UnknownDatabase => "source_unknown_database",
                SourceFailure::Timeout => "source_timeout",
                SourceFailure::Unsupported => "source_unsupported",
            },
            Error::QueryRejected(_) => "query_rejected",
            Error::QueryFailed(_) => "query_failed",
            Error::QuotaExceeded(_) => "quota_exceeded",
            Error::PayloadTooLarge(_) => "payload_too_large",
            Error::Upstream(_) => "upstream_error",
            Error::Internal(_) => "internal_error",
        }
    }

    pub fn validation(field: &str, msg: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::body(field, msg, "value_error")])
    }

    pub fn internal(e: impl fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

//! Request extractors: the caller's principal, and JSON bodies whose errors take the API's shape.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use breadcrumb_core::error::FieldError;
use breadcrumb_core::{Error, Principal};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Schema, SchemaType, Type};

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

/// A JSON body. Malformed JSON, missing fields and wrong types are 422s naming each field: like
/// FastAPI, whose error shape the API keeps, every missing field and every value of the wrong
/// JSON type is reported at once, read off the same schema the OpenAPI document shows.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned + utoipa::PartialSchema,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge(format!("the limit is {} bytes", crate::BODY_LIMIT))
            } else {
                Error::Validation(vec![FieldError {
                    loc: vec!["body".into()],
                    msg: format!("the body could not be read: {}", e.body_text()),
                    kind: "body_unreadable".into(),
                }])
            }
        })?;
        let mut value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            invalid(vec![FieldError {
                loc: vec!["body".into(), e.column().to_string()],
                msg: format!("the body is not valid JSON: {msg}"),
                kind: "json_invalid".into(),
            }])
        })?;
        let Value::Object(fields) = &mut value else {
            return Err(invalid(vec![FieldError {
                loc: vec!["body".into()],
                msg: "the body must be a JSON object".into(),
                kind: "model_attributes_type".into(),
            }]));
        };
        let problems = schema_problems(&T::schema(), fields);
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        serde_path_to_error::deserialize(value)
            .map(Body)
            .map_err(|e| invalid(vec![field_error(e)]))
    }
}

fn invalid(problems: Vec<FieldError>) -> ApiError {
    ApiError(Error::Validation(problems))
}

/// The missing required fields and the values whose JSON type the schema does not allow. An
/// integer written as `5432.0` is an integer to JSON Schema (and to FastAPI): it is made one.
fn schema_problems(schema: &RefOr<Schema>, body: &mut Map<String, Value>) -> Vec<FieldError> {
    let RefOr::T(Schema::Object(object)) = schema else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in &object.required {
        if !body.contains_key(name) {
            out.push(FieldError::body(name, "Field required", "missing"));
        }
    }
    for (name, property) in &object.properties {
        let Some(value) = body.get_mut(name) else {
            continue;
        };
        let Some(allowed) = json_types(property) else {
            continue;
        };
        if allowed.contains(&Type::Integer)
            && let Some(f) = value.as_f64()
            && !value.is_i64()
            && !value.is_u64()
            && f.fract() == 0.0
            && f.abs() < 9.0e15
        {
            *value = Value::from(f as i64);
        }
        if !allowed.iter().any(|t| is_of(value, t)) {
            let (what, kind) = match allowed.iter().find(|t| **t != Type::Null) {
                Some(Type::String) => ("a valid string", "string_type"),
                Some(Type::Integer) => ("a valid integer", "int_type"),
                Some(Type::Number) => ("a valid number", "float_type"),
                Some(Type::Boolean) => ("a valid boolean", "bool_type"),
                Some(Type::Array) => ("a valid list", "list_type"),
                Some(Type::Object) => ("a valid object", "dict_type"),
                _ => ("null", "none_required"),
            };
            out.push(FieldError::body(
                name,
                format!("Input should be {what}"),
                kind,
            ));
        }
    }
    out
}

/// The JSON types a property's schema allows; `None` when it does not say (a reference, any).
fn json_types(property: &RefOr<Schema>) -> Option<Vec<Type>> {
    match property {
        RefOr::T(Schema::Object(o)) => match &o.schema_type {
            SchemaType::Type(t) => Some(vec![t.clone()]),
            SchemaType::Array(ts) => Some(ts.clone()),
            SchemaType::AnyValue => None,
        },
        RefOr::T(Schema::Array(a)) => Some(match &a.schema_type {
            SchemaType::Array(ts) => ts.clone(),
            _ => vec![Type::Array],
        }),
        _ => None,
    }
}

fn is_of(v: &Value, t: &Type) -> bool {
    match t {
        Type::Null => v.is_null(),
        Type::String => v.is_string(),
        Type::Integer => v.is_i64() || v.is_u64(),
        Type::Number => v.is_number(),
        Type::Boolean => v.is_boolean(),
        Type::Array => v.is_array(),
        Type::Object => v.is_object(),
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
    let kind = if msg.starts_with("missing field") {
        "missing"
    } else {
        "type_error"
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

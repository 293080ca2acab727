//! `/v1/conversations`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use breadcrumb_core::model::{
    ConversationView, CreateConversation, Message, MessagePage, SendMessage,
};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Body, PartnerAuth};

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Paging {
    /// 1 to 1000, default 100.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// The `next_token` of the previous page, as it came.
    next_token: Option<String>,
}

/// A conversation id chosen by a client, or one the server made.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ConversationPath {
    #[param(pattern = "^[A-Za-z0-9_-]{1,128}$")]
    #[allow(dead_code)]
    conversation_id: String,
}

/// Send Message
///
/// With `Accept: text/event-stream` the reply streams as server-sent events: `thinking`, `sql`,
/// `rows`, `chart`, then `message` (the stored assistant message) or `error`.
#[utoipa::path(post, path = "/v1/conversations/{conversation_id}/messages", tag = "conversations",
    security(("APIKeyHeader" = []), ("BearerAuth" = [])), request_body = SendMessage, params(ConversationPath),
    responses((status = 200, body = Message, content_type = "application/json"),
              (status = 200, description = "server-sent events", content_type = "text/event-stream"),
              (status = 404), (status = 422), (status = 429)))]
pub async fn send(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(req): Body<SendMessage>,
) -> ApiResult<Response> {
    if crate::stream::wants_events(&headers) {
        return crate::stream::send_message(s, who, id, req.text).await;
    }
    Ok(Json(s.service.send_message(&who, &id, &req.text).await?).into_response())
}

/// A message's chart as SVG
#[utoipa::path(get, path = "/v1/conversations/{conversation_id}/messages/{message_id}/chart.svg",
    tag = "conversations", security(("APIKeyHeader" = []), ("BearerAuth" = [])),
    params(ConversationPath, ("message_id" = String, Path)),
    responses((status = 200, description = "the chart", content_type = "image/svg+xml"), (status = 404)))]
pub async fn chart(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path((id, message_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let svg = s.service.chart_svg(&who, &id, &message_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=300"),
            // Labels come from data and the model: even opened on its own, the SVG may run
            // no script and load nothing.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        svg,
    )
        .into_response())
}

/// Get Messages
#[utoipa::path(get, path = "/v1/conversations/{conversation_id}/messages", tag = "conversations",
    security(("APIKeyHeader" = []), ("BearerAuth" = [])), params(ConversationPath, Paging),
    responses((status = 200, body = MessagePage), (status = 404), (status = 422)))]
pub async fn messages(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    Query(p): Query<Paging>,
) -> ApiResult<Json<MessagePage>> {
    let limit = crate::parse_limit(p.limit.as_deref())?;
    Ok(Json(
        s.service
            .list_messages(&who, &id, limit, p.next_token.as_deref())
            .await?,
    ))
}

/// Get Conversation
#[utoipa::path(get, path = "/v1/conversations/{conversation_id}", tag = "conversations",
    security(("APIKeyHeader" = []), ("BearerAuth" = [])), params(ConversationPath), responses((status = 200, body = ConversationView), (status = 404)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(s.service.get_conversation(&who, &id).await?))
}

/// Delete Conversation
#[utoipa::path(delete, path = "/v1/conversations/{conversation_id}", tag = "conversations",
    security(("APIKeyHeader" = []), ("BearerAuth" = [])), params(ConversationPath), responses((status = 204), (status = 404)))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_conversation(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create a conversation over chosen spaces or sources (partner)
#[utoipa::path(post, path = "/v1/conversations", tag = "conversations", security(("APIKeyHeader" = [])),
    request_body = CreateConversation, responses((status = 201, body = ConversationView), (status = 404), (status = 409)))]
pub async fn create(
    State(s): State<AppState>,
    PartnerAuth(who): PartnerAuth,
    Body(req): Body<CreateConversation>,
) -> ApiResult<(StatusCode, Json<ConversationView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_conversation(&who, req).await?),
    ))
}

/// List the caller's conversations
#[utoipa::path(get, path = "/v1/conversations", tag = "conversations",
    security(("APIKeyHeader" = []), ("BearerAuth" = [])), responses((status = 200, body = Vec<ConversationView>)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<Vec<ConversationView>>> {
    Ok(Json(s.service.list_conversations(&who).await?))
}

//! `/v1/conversations`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
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
    limit: Option<String>,
    next_token: Option<String>,
}

/// Send Message
#[utoipa::path(post, path = "/v1/conversations/{conversation_id}/messages", tag = "conversations",
    security(("APIKeyHeader" = []), ("BearerAuth" = [])), request_body = SendMessage,
    responses((status = 200, body = Message), (status = 404), (status = 422)))]
pub async fn send(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    Body(req): Body<SendMessage>,
) -> ApiResult<Json<Message>> {
    Ok(Json(s.service.send_message(&who, &id, &req.text).await?))
}

/// Get Messages
#[utoipa::path(get, path = "/v1/conversations/{conversation_id}/messages", tag = "conversations",
    security(("APIKeyHeader" = []), ("BearerAuth" = [])), params(Paging),
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
    security(("APIKeyHeader" = []), ("BearerAuth" = [])), responses((status = 200, body = ConversationView), (status = 404)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(s.service.get_conversation(&who, &id).await?))
}

/// Delete Conversation
#[utoipa::path(delete, path = "/v1/conversations/{conversation_id}", tag = "conversations",
    security(("APIKeyHeader" = []), ("BearerAuth" = [])), responses((status = 204), (status = 404)))]
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

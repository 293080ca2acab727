//! Send Message as server-sent events. The work runs in its own task, so that a client that goes
//! away cancels only the agent (it sees the event channel close and stops at its next step): the
//! user's message and what finished are still stored.

use std::convert::Infallible;

use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use breadcrumb_core::Principal;
use breadcrumb_core::agent::AgentEvent;
use futures::stream::{self, Stream};
use tokio::sync::{mpsc, oneshot};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

pub fn wants_events(h: &HeaderMap) -> bool {
    h.get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}

fn event(e: &AgentEvent) -> Event {
    let (name, data) = match e {
        AgentEvent::Thinking { text } => ("thinking", serde_json::json!({ "text": text })),
        AgentEvent::Sql { sql } => ("sql", serde_json::json!({ "sql": sql })),
        AgentEvent::Rows { data } => ("rows", serde_json::json!(data)),
        AgentEvent::Chart { visualization } => (
            "chart",
            serde_json::json!({ "visualization": visualization }),
        ),
    };
    Event::default().event(name).data(data.to_string())
}

pub async fn send_message(
    s: AppState,
    who: Principal,
    id: String,
    text: String,
) -> ApiResult<Response> {
    let (tx, mut rx) = mpsc::unbounded_channel::<AgentEvent>();
    let (done_tx, mut done_rx) = oneshot::channel();
    let service = s.service.clone();
    tokio::spawn(async move {
        let r = service.send_message_with(&who, &id, &text, Some(tx)).await;
        let _ = done_tx.send(r);
    });
    // Refusals (404, 422, 429) come before any progress: answer them as plain HTTP errors.
    let first = tokio::select! {
        biased;
        e = rx.recv() => e,
        r = &mut done_rx => return finished_early(r),
    };
    let Some(first) = first else {
        return finished_early(done_rx.await);
    };
    let first = Some(first);
    let events = stream::unfold(
        (first, rx, Some(done_rx)),
        |(pending, mut rx, done)| async move {
            if let Some(e) = pending {
                return Some((Ok::<_, Infallible>(event(&e)), (None, rx, done)));
            }
            if let Some(e) = rx.recv().await {
                return Some((Ok(event(&e)), (None, rx, done)));
            }
            let done = done?;
            let last = match done.await {
                Ok(Ok(m)) => final_event(&m),
                Ok(Err(e)) => {
                    let (status, body) = crate::error::body_of(&e);
                    Event::default()
                        .event("error")
                        .data(serde_json::json!({"status": status.as_u16(), "detail": body["detail"], "code": body["code"]}).to_string())
                }
                Err(_) => Event::default()
                    .event("error")
                    .data(r#"{"status":500,"detail":"the request task ended","code":"internal"}"#),
            };
            Some((Ok(last), (None, rx, None)))
        },
    );
    Ok(sse(events))
}

/// The work ended before any progress: a refusal as a plain HTTP error, or (an agent that
/// reports nothing) the message alone as a one-event stream.
fn finished_early(
    r: Result<breadcrumb_core::Result<breadcrumb_core::model::Message>, oneshot::error::RecvError>,
) -> ApiResult<Response> {
    match r {
        Ok(Ok(m)) => Ok(sse(stream::iter([Ok::<_, Infallible>(final_event(&m))]))),
        Ok(Err(e)) => Err(ApiError(e)),
        Err(_) => Err(ApiError(breadcrumb_core::Error::Internal(
            "the request task ended".into(),
        ))),
    }
}

fn final_event(m: &breadcrumb_core::model::Message) -> Event {
    Event::default()
        .event("message")
        .data(serde_json::to_string(m).unwrap_or_default())
}

fn sse(s: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    Sse::new(s).keep_alive(KeepAlive::default()).into_response()
}

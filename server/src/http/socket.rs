//! `GET /api/v1/events`: the WebSocket of a browser tab. It subscribes to the
//! [`Hub`], says `ready`, passes on what the hub pushes, relays typing, and
//! closes with its session.

use std::collections::HashMap;

use app::types::{CausewayId, ClientFrame, Push, SocketEnd};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};

use crate::chat::ChatId;
use crate::error::{ApiError, WebSocketUpgrade};
use crate::http::extract::AuthUser;
use crate::http::state::AppState;
use crate::realtime::{READ_BUFFER, Subscription};
use crate::time::now_millis;

/// `GET /api/v1/events` (WebSocket) — a signed-in user. Pushes what happens in
/// their chats as [`Push`] JSON frames.
pub async fn connect(
    State(state): State<AppState>,
    user: AuthUser,
    WebSocketUpgrade(upgrade): WebSocketUpgrade,
) -> Response {
    let who = user.causeway_id(&state).to_string();
    // A signed-in request always has its session's id; without one the socket
    // could not be ended with its session, so it is not opened.
    let Some(session) = user.session_id else {
        return ApiError::unauthenticated().into_response();
    };
    upgrade
        .max_message_size(4 * 1024)
        // Clients send only pings and small typing frames. The library's default buffer,
        // 128 KiB per socket, allocated up front and zeroed at the first read,
        // would be most of an idle connection's memory (BENCHMARKS.md).
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| run(socket, state, who, session))
}

/// Is the session still there, with its user active? Asked once a socket is
/// subscribed: a session ended between the upgrade request and the
/// subscription was not there to be disconnected, so the socket ends itself.
async fn session_alive(state: &AppState, session: &str) -> Result<bool, ApiError> {
    Ok(state
        .store
        .session_with_user(session, now_millis())
        .await?
        .is_some_and(|(_, user)| user.is_active))
}

/// Tells everyone who shares a chat with `who` that they came online or went
/// offline. Best effort: a failed look-up is logged, never fatal to the socket.
async fn announce_presence(state: &AppState, who: &str, online: bool) {
    let Ok(member) = who.parse::<CausewayId>() else {
        return;
    };
    if let Err(error) = state.chats.announce_presence(&member, online).await {
        tracing::warn!(?error, "presence: chat partners not found");
    }
}

/// Least time between two typing notices of one socket for one chat. Short
/// enough that the notice of someone who types again right after sending
/// (which the client sends 1.1 s after its last one) goes through.
const TYPING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Relays "typing" to the chat's other members, if `who` is a member, at most
/// once per [`TYPING_INTERVAL`] per chat.
async fn relay_typing(
    state: &AppState,
    who: &str,
    chat_id: i64,
    last: &mut HashMap<i64, std::time::Instant>,
) {
    let now = std::time::Instant::now();
    if last
        .get(&chat_id)
        .is_some_and(|at| now.duration_since(*at) < TYPING_INTERVAL)
    {
        return;
    }
    if last.len() > 64 {
        last.retain(|_, at| now.duration_since(*at) < TYPING_INTERVAL);
    }
    last.insert(chat_id, now);
    let Ok(member) = who.parse::<CausewayId>() else {
        return;
    };
    if let Err(error) = state.chats.typing(&member, ChatId(chat_id), None).await {
        tracing::warn!(?error, "typing was not relayed");
    }
}

async fn run(socket: WebSocket, state: AppState, who: String, session: String) {
    let hub = state.hub.clone();
    let Subscription {
        id,
        mut pushes,
        mut end,
        first,
    } = hub.subscribe(&who, &session);
    if first {
        announce_presence(&state, &who, true).await;
    }
    let (mut sink, mut stream) = socket.split();
    let ended = match session_alive(&state, &session).await {
        Ok(true) => None,
        Ok(false) => Some(SocketEnd::SessionEnded),
        Err(error) => {
            tracing::warn!(?error, "a new socket's session could not be checked");
            Some(SocketEnd::SessionEnded)
        }
    };
    let ready = serde_json::to_string(&Push::Ready {
        client: state.client.version.clone(),
    })
    .unwrap_or_default();
    let opened = match ended {
        Some(why) => {
            let _ = sink.send(close_frame(why.code(), why.reason())).await;
            false
        }
        None => sink.send(WsMessage::Text(ready.into())).await.is_ok(),
    };
    if !opened {
        if hub.unsubscribe(&who, id) {
            announce_presence(&state, &who, false).await;
        }
        return;
    }
    let mut typing = HashMap::new();
    // Set once `end` has answered without a reason (its socket was dropped by
    // the hub, which `pushes` reports too): a finished receiver is not polled again.
    let mut end_gone = false;
    loop {
        tokio::select! {
            // An ended session closes the socket before anything still queued.
            biased;
            why = &mut end, if !end_gone => match why {
                Ok(why) => {
                    let _ = sink.send(close_frame(why.code(), why.reason())).await;
                    break;
                }
                Err(_) => end_gone = true,
            },
            push = pushes.recv() => match push {
                Some(text) => {
                    if sink.send(WsMessage::Text(text)).await.is_err() {
                        break;
                    }
                }
                // Dropped by the hub: the socket fell too far behind.
                None => {
                    let _ = sink
                        .send(close_frame(1013, "too far behind; reconnect and catch up"))
                        .await;
                    break;
                }
            },
            incoming = stream.next() => match incoming {
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(WsMessage::Text(text))) => {
                    // Unknown or malformed frames are ignored: an older or newer
                    // client must not lose its socket over them.
                    if let Ok(ClientFrame::Typing { chat_id }) = serde_json::from_str(text.as_str()) {
                        relay_typing(&state, &who, chat_id, &mut typing).await;
                    }
                }
                // Pings are answered by the library.
                Some(Ok(_)) => {}
            },
            () = hub.closing.cancelled() => {
                let _ = sink.send(close_frame(1001, "server shutting down")).await;
                break;
            }
        }
    }
    if hub.unsubscribe(&who, id) {
        announce_presence(&state, &who, false).await;
    }
}

fn close_frame(code: u16, reason: &'static str) -> WsMessage {
    WsMessage::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

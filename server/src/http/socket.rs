//! `GET /api/v1/events`: the WebSocket of a browser tab. It subscribes to the
//! [`Hub`], says `ready`, passes on what the hub pushes, relays typing, carries
//! a call's signalling between the tab and the forwarding unit, and closes
//! with its session.

use std::collections::HashMap;

use app::types::{CausewayId, ClientFrame, Push, SocketEnd};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};

use crate::chat::{Actor, ChatId};
use crate::error::{ApiError, WebSocketUpgrade};
use crate::http::extract::AuthUser;
use crate::http::state::AppState;
use crate::media::{ParticipantId, RoomId, Signal};
use crate::realtime::{READ_BUFFER, Subscription};
use crate::time::now_millis;

/// `GET /api/v1/events` (WebSocket) — a signed-in user. Pushes what happens in
/// their chats as [`Push`] JSON frames.
pub async fn connect(
    State(state): State<AppState>,
    user: AuthUser,
    WebSocketUpgrade(upgrade): WebSocketUpgrade,
) -> Response {
    let actor = crate::http::chats::actor(&state, &user);
    let who = user.causeway_id(&state).to_string();
    // A signed-in request always has its session's id; without one the socket
    // could not be ended with its session, so it is not opened.
    let Some(session) = user.session_id else {
        return ApiError::unauthenticated().into_response();
    };
    upgrade
        // Clients send pings, typing and a call's session descriptions (a
        // browser's offer with audio, video and a shared screen is under 16 KiB).
        .max_message_size(MAX_FRAME)
        // The library's default buffer,
        // 128 KiB per socket, allocated up front and zeroed at the first read,
        // would be most of an idle connection's memory (BENCHMARKS.md).
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| run(socket, state, who, actor, session))
}

/// The largest frame a client may send.
const MAX_FRAME: usize = 32 * 1024;

/// Calls one socket may be in at once.
const MAX_CALLS: usize = 2;

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

async fn run(socket: WebSocket, state: AppState, who: String, actor: Actor, session: String) {
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
    let mut calls = Calls::new(&state, actor);
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
                    match serde_json::from_str(text.as_str()) {
                        Ok(ClientFrame::Typing { chat_id }) => {
                            relay_typing(&state, &who, chat_id, &mut typing).await;
                        }
                        Ok(frame) => {
                            if let Some(reply) = calls.on_frame(frame).await
                                && sink.send(WsMessage::Text(reply.into())).await.is_err()
                            {
                                break;
                            }
                        }
                        Err(_) => {}
                    }
                }
                // Pings are answered by the library.
                Some(Ok(_)) => {}
            },
            signal = calls.signals.recv() => {
                if let Some(text) = signal
                    && sink.send(WsMessage::Text(text.into())).await.is_err()
                {
                    break;
                }
            }
            () = hub.closing.cancelled() => {
                let _ = sink.send(close_frame(1001, "server shutting down")).await;
                break;
            }
        }
    }
    calls.leave_all().await;
    if hub.unsubscribe(&who, id) {
        announce_presence(&state, &who, false).await;
    }
}

/// The calls one socket is in: its part of each, and the unit's signals for
/// it, turned into push frames.
struct Calls {
    state: AppState,
    actor: Actor,
    joined: HashMap<i64, (ParticipantId, tokio::task::JoinHandle<()>)>,
    outbox: tokio::sync::mpsc::Sender<String>,
    signals: tokio::sync::mpsc::Receiver<String>,
}

impl Calls {
    fn new(state: &AppState, actor: Actor) -> Calls {
        let (outbox, signals) = tokio::sync::mpsc::channel(16);
        Calls {
            state: state.clone(),
            actor,
            joined: HashMap::new(),
            outbox,
            signals,
        }
    }

    /// Handles a call frame; the push to answer with, if any.
    async fn on_frame(&mut self, frame: ClientFrame) -> Option<String> {
        let (chat_id, outcome) = match frame {
            ClientFrame::Typing { .. } => return None,
            ClientFrame::CallOffer { chat_id, sdp } => (chat_id, self.join(chat_id, &sdp).await),
            ClientFrame::CallAnswer { chat_id, sdp } => {
                (chat_id, self.answer(chat_id, &sdp).await.map(|()| None))
            }
            ClientFrame::CallLeave { chat_id } => {
                if self.leave(chat_id).await
                    && let Err(error) = self
                        .state
                        .chats
                        .left_call(&self.actor, ChatId(chat_id))
                        .await
                {
                    tracing::warn!(?error, "a hang-up was not told");
                }
                return None;
            }
            ClientFrame::CallDecline { chat_id } => (chat_id, self.decline(chat_id).await),
        };
        let push = match outcome {
            Ok(None) => return None,
            Ok(Some(push)) => push,
            Err(error) => Push::CallRefused {
                chat_id,
                code: error.code,
                message: error.message,
            },
        };
        serde_json::to_string(&push).ok()
    }

    async fn join(&mut self, chat_id: i64, sdp: &str) -> Result<Option<Push>, ApiError> {
        if self.joined.contains_key(&chat_id) {
            return Err(ApiError::conflict(
                "This tab is in the chat's call already.",
            ));
        }
        if self.joined.len() >= MAX_CALLS {
            return Err(ApiError::invalid_input(format!(
                "A tab may be in at most {MAX_CALLS} calls at once."
            )));
        }
        let offer = str0m::change::SdpOffer::from_sdp_string(sdp)
            .map_err(|e| ApiError::invalid_input(format!("The offer does not parse: {e}")))?;
        let media = &self.state.media;
        let room = RoomId(chat_id);
        let running = media.count(room).await.map_err(media_error)? > 0;
        self.state
            .chats
            .may_call(&self.actor, ChatId(chat_id), running)
            .await?;
        let member = self.actor.id().to_string();
        let joined = media
            .join(room, &member, offer)
            .await
            .map_err(media_error)?;
        let outbox = self.outbox.clone();
        let mut signals = joined.signals;
        let relay = tokio::spawn(async move {
            while let Some(Signal::Offer(offer)) = signals.recv().await {
                let push = Push::CallOffer {
                    chat_id,
                    sdp: offer.to_sdp_string(),
                };
                let Ok(text) = serde_json::to_string(&push) else {
                    continue;
                };
                if outbox.send(text).await.is_err() {
                    return;
                }
            }
        });
        self.joined.insert(chat_id, (joined.id, relay));
        Ok(Some(Push::CallAnswer {
            chat_id,
            sdp: joined.answer.to_sdp_string(),
            stream: crate::media::stream_of(joined.id),
        }))
    }

    /// Declines the call ringing in a direct chat: its caller is told. Only a
    /// member who is not in the call may, and only while it runs.
    async fn decline(&mut self, chat_id: i64) -> Result<Option<Push>, ApiError> {
        let running = self.state.media.rosters().get(RoomId(chat_id));
        let me = self.actor.id().to_string();
        let in_it = running
            .as_ref()
            .is_some_and(|r| r.people.iter().any(|(_, member)| *member == me));
        self.state
            .chats
            .decline_call(&self.actor, ChatId(chat_id), running.is_some(), in_it)
            .await?;
        Ok(None)
    }

    async fn answer(&mut self, chat_id: i64, sdp: &str) -> Result<(), ApiError> {
        let (participant, _) = self
            .joined
            .get(&chat_id)
            .ok_or_else(|| ApiError::invalid_input("This tab is not in the chat's call."))?;
        let answer = str0m::change::SdpAnswer::from_sdp_string(sdp)
            .map_err(|e| ApiError::invalid_input(format!("The answer does not parse: {e}")))?;
        self.state
            .media
            .answer(*participant, answer)
            .await
            .map_err(media_error)
    }

    /// Leaves the chat's call; whether this tab was in it.
    async fn leave(&mut self, chat_id: i64) -> bool {
        let Some((participant, relay)) = self.joined.remove(&chat_id) else {
            return false;
        };
        relay.abort();
        self.state.media.leave(participant).await;
        true
    }

    async fn leave_all(&mut self) {
        let chats: Vec<i64> = self.joined.keys().copied().collect();
        for chat_id in chats {
            self.leave(chat_id).await;
        }
    }
}

/// The unit's refusal as the API says it.
fn media_error(error: crate::media::MediaError) -> ApiError {
    use crate::media::MediaError;
    match error {
        MediaError::Invalid(message) => ApiError::invalid_input(message),
        MediaError::Full(_) => ApiError::conflict(error.to_string()),
        MediaError::Missing => ApiError::invalid_input("This tab is not in the chat's call."),
        MediaError::Stopped => ApiError::internal("the media service stopped"),
    }
}

fn close_frame(code: u16, reason: &'static str) -> WsMessage {
    WsMessage::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

//! Realtime delivery: one WebSocket per browser tab at `/api/v1/events`,
//! authenticated by the session. The [`Hub`] keeps each signed-in person's open
//! sockets and pushes to them what happens in their chats. A socket that cannot
//! keep up is closed rather than left to grow without bound; its client reconnects
//! and catches up over HTTP by sequence number.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use app::types::{CausewayId, ClientFrame, Push, SocketEnd};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::auth::AuthUser;
use crate::chats;
use crate::error::{ApiError, WebSocketUpgrade};
use crate::federation::protocol::Ephemeral;
use crate::federation::{other_servers, remote};
use crate::state::AppState;
use crate::time::now_millis;

/// Pushes a socket may have waiting before it is considered stuck.
const QUEUE: usize = 256;

/// The incoming-frame buffer of a socket; it grows for a larger frame (up to
/// the 4 KiB limit) when one comes.
const READ_BUFFER: usize = 1024;

/// A push as sent: its frame's text, shared by every socket it goes to (a
/// clone is a reference count, not a copy).
type Frame = Utf8Bytes;

/// One open socket: where its pushes go, the session it was opened with, and
/// how to end it with a close frame of ours.
#[derive(Debug)]
struct Socket {
    id: u64,
    session: String,
    sender: mpsc::Sender<Frame>,
    /// Taken when the socket is told to end; the socket removes itself from
    /// the hub as it closes, so presence goes offline the usual way.
    end: Option<oneshot::Sender<SocketEnd>>,
}

type Sockets = HashMap<String, Vec<Socket>>;

/// Who is connected, by Causeway ID.
#[derive(Debug)]
pub struct Hub {
    sockets: Mutex<Sockets>,
    next_id: AtomicU64,
    closing: CancellationToken,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            sockets: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            closing: CancellationToken::new(),
        }
    }
}

/// A socket's subscription: its id, its queue of pushes, the signal that ends it.
struct Subscription {
    id: u64,
    pushes: mpsc::Receiver<Frame>,
    end: oneshot::Receiver<SocketEnd>,
    /// The person's first open socket: they just came online.
    first: bool,
}

impl Hub {
    fn sockets(&self) -> std::sync::MutexGuard<'_, Sockets> {
        // Every critical section is a single insert, remove, retain or walk
        // that cannot panic half-way: a poisoned lock is still sound.
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a socket's queue, opened by `who` with session `session`.
    fn subscribe(&self, who: &str, session: &str) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, pushes) = mpsc::channel(QUEUE);
        let (end_sender, end) = oneshot::channel();
        let mut sockets = self.sockets();
        let list = sockets.entry(who.to_owned()).or_default();
        list.push(Socket {
            id,
            session: session.to_owned(),
            sender,
            end: Some(end_sender),
        });
        Subscription {
            id,
            pushes,
            end,
            first: list.len() == 1,
        }
    }

    /// Closes a socket's queue; `true` when it was the person's last (they went
    /// offline).
    fn unsubscribe(&self, who: &str, id: u64) -> bool {
        let mut sockets = self.sockets();
        if let Some(list) = sockets.get_mut(who) {
            list.retain(|socket| socket.id != id);
            if list.is_empty() {
                sockets.remove(who);
                return true;
            }
        }
        false
    }

    /// Ends the sockets that `pick` chooses with a close frame saying `why`;
    /// how many were told.
    fn end_where<'a>(
        list: impl Iterator<Item = &'a mut Socket>,
        why: SocketEnd,
        pick: impl Fn(&Socket) -> bool,
    ) -> usize {
        let mut told = 0;
        for socket in list.filter(|socket| pick(socket)) {
            if let Some(end) = socket.end.take() {
                // The socket may be closing already; then there is nobody to tell.
                let _ = end.send(why);
                told += 1;
            }
        }
        told
    }

    /// Closes every socket of `who` (a Causeway ID) but those opened with the
    /// session `except`: their sessions were ended (a password change ends the
    /// other sessions; a password set by an administrator, deactivation and
    /// deletion end them all). Call it after the sessions are deleted: a socket
    /// being opened meanwhile checks its session once it is subscribed.
    pub fn disconnect_user(&self, who: &str, except: Option<&str>, why: SocketEnd) -> usize {
        let mut sockets = self.sockets();
        let Some(list) = sockets.get_mut(who) else {
            return 0;
        };
        Self::end_where(list.iter_mut(), why, |socket| {
            Some(socket.session.as_str()) != except
        })
    }

    /// Closes the sockets opened with session `session` (signing out). Sign-out
    /// is rare, and finding them by session spares it a look-up of the user.
    pub fn disconnect_session(&self, session: &str, why: SocketEnd) -> usize {
        let mut sockets = self.sockets();
        Self::end_where(sockets.values_mut().flatten(), why, |socket| {
            socket.session == session
        })
    }

    /// Has the person at least one socket open?
    pub fn is_online(&self, who: &str) -> bool {
        self.sockets().contains_key(who)
    }

    /// Sends `push` to every open socket of the people named. Serialised once.
    pub fn publish<'a>(&self, to: impl IntoIterator<Item = &'a str>, push: &Push) {
        let text: Frame = match serde_json::to_string(push) {
            Ok(text) => text.into(),
            Err(error) => {
                tracing::error!(%error, "a push does not serialise");
                return;
            }
        };
        let mut sockets = self.sockets();
        for who in to {
            if let Some(list) = sockets.get_mut(who) {
                // A full queue means a stuck socket: dropping its sender closes it.
                list.retain(|socket| socket.sender.try_send(text.clone()).is_ok());
            }
        }
    }

    /// How many sockets are open (for metrics and tests).
    pub fn connections(&self) -> usize {
        self.sockets().values().map(Vec::len).sum()
    }

    /// Closes every socket (server shutdown).
    pub fn close(&self) {
        self.closing.cancel();
    }
}

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
    match state.store.chat_partners(who).await {
        Ok(partners) => {
            state.hub.publish(
                partners.iter().map(String::as_str),
                &Push::Presence {
                    member: member.clone(),
                    online,
                },
            );
            // Other servers with people who share a chat with `who` tell them.
            let servers = other_servers(
                &state.config.server_name,
                partners.iter().map(String::as_str),
            );
            remote::send_ephemeral(state, servers, Ephemeral::Presence { member, online });
        }
        Err(error) => tracing::warn!(%error, "presence: chat partners not found"),
    }
}

/// Least time between two typing notices of one socket for one chat.
const TYPING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

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
    let (Ok(Some(chat)), Ok(member)) = (state.store.chat(chat_id).await, who.parse()) else {
        return;
    };
    if let Err(error) = chats::relay_typing(state, &chat, &member, None).await {
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
    let ready = serde_json::to_string(&Push::Ready).unwrap_or_default();
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

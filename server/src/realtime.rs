//! Realtime delivery: one WebSocket per browser tab at `/api/v1/events`,
//! authenticated by the session. The [`Hub`] keeps each signed-in person's open
//! sockets and pushes to them what happens in their chats. A socket that cannot
//! keep up is closed rather than left to grow without bound; its client reconnects
//! and catches up over HTTP by sequence number.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use app::types::{Push, SocketEnd};
use axum::extract::ws::Utf8Bytes;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::chat::{Event, EventBus};

/// Pushes a socket may have waiting before it is considered stuck.
const QUEUE: usize = 256;

/// The incoming-frame buffer of a socket; it grows for a larger frame (up to
/// the 4 KiB limit) when one comes.
pub const READ_BUFFER: usize = 1024;

/// A push as sent: its frame's text, shared by every socket it goes to (a
/// clone is a reference count, not a copy).
pub type Frame = Utf8Bytes;

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
    /// Cancelled when the server stops: every socket closes.
    pub closing: CancellationToken,
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
pub struct Subscription {
    pub id: u64,
    /// The frames to send, each a serialised push.
    pub pushes: mpsc::Receiver<Frame>,
    /// Answers when the socket is to end, and why.
    pub end: oneshot::Receiver<SocketEnd>,
    /// The person's first open socket: they just came online.
    pub first: bool,
}

impl Hub {
    fn sockets(&self) -> std::sync::MutexGuard<'_, Sockets> {
        // Every critical section is a single insert, remove, retain or walk
        // that cannot panic half-way: a poisoned lock is still sound.
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a socket's queue, opened by `who` with session `session`.
    pub fn subscribe(&self, who: &str, session: &str) -> Subscription {
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
    pub fn unsubscribe(&self, who: &str, id: u64) -> bool {
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

/// Pushes the chat core's events to the open sockets of the people they
/// concern, until `stop`. One that falls behind the stream misses pushes; its
/// clients catch up by sequence number at their next `ready`.
pub fn follow(hub: &Arc<Hub>, events: &EventBus, stop: CancellationToken) {
    let mut events = events.follow();
    let hub = hub.clone();
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                () = stop.cancelled() => break,
            };
            match event {
                Ok(event) => hub.push(&event),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the hub fell behind the chat events");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

impl Hub {
    /// Pushes `event` to whom it concerns.
    fn push(&self, event: &Event) {
        fn to(list: &[String]) -> impl Iterator<Item = &str> {
            list.iter().map(String::as_str)
        }
        match event {
            Event::Chat {
                chat_id,
                event,
                to: members,
                ..
            } => self.publish(
                to(members),
                &Push::ChatEvent {
                    chat_id: chat_id.0,
                    event: event.clone(),
                },
            ),
            Event::Read {
                chat_id,
                member,
                seq,
                to: members,
                ..
            } => self.publish(
                to(members),
                &Push::Read {
                    chat_id: chat_id.0,
                    member: member.clone(),
                    seq: seq.0,
                },
            ),
            Event::Typing {
                chat_id,
                member,
                to: members,
                ..
            } => {
                let who = member.to_string();
                self.publish(
                    members.iter().map(String::as_str).filter(|m| *m != who),
                    &Push::Typing {
                        chat_id: chat_id.0,
                        member: member.clone(),
                    },
                );
            }
            Event::Presence {
                member,
                online,
                to: partners,
            } => self.publish(
                to(partners),
                &Push::Presence {
                    member: member.clone(),
                    online: *online,
                },
            ),
            Event::Call {
                chat_id,
                call,
                to: members,
            } => self.publish(
                to(members),
                &Push::Call {
                    chat_id: chat_id.0,
                    call: call.clone(),
                },
            ),
            Event::CallDeclined {
                chat_id,
                member,
                to: members,
            } => self.publish(
                to(members),
                &Push::CallDeclined {
                    chat_id: chat_id.0,
                    member: member.clone(),
                },
            ),
            Event::CallLeft {
                chat_id,
                member,
                to: members,
            } => self.publish(
                to(members),
                &Push::CallLeft {
                    chat_id: chat_id.0,
                    member: member.clone(),
                },
            ),
        }
    }
}

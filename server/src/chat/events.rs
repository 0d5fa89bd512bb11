//! The stream of what the chat core has committed (and of what is worth
//! passing on without being stored: typing and presence).
//!
//! Writers publish after their transaction commits; the live hub and the
//! federation follow the stream. An [`Event`] is plain data, complete in
//! itself (it names everyone it concerns), so that the stream can later be
//! carried between processes by a message bus without changing its followers.
//!
//! A follower that falls behind by more than the stream's capacity misses
//! events and is told so ([`tokio::sync::broadcast::error::RecvError::Lagged`]):
//! clients then catch up by sequence number, and the outbox from its cursors,
//! which is why nothing that must arrive depends on this stream alone.

use std::sync::Arc;

use app::types::{CallState, CausewayId, ChatEvent, ServerName};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::{ChatId, ChatLocation, Seq};

/// How many events a follower may fall behind before it misses some.
const CAPACITY: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// An event committed to chat `chat_id` here (hosted here, or applied to a
    /// copy from its host), as members see it. `to` holds the chat's members
    /// of this and other servers when it was committed, and someone who just
    /// left or was removed (who sees it too).
    Chat {
        chat_id: ChatId,
        location: ChatLocation,
        event: Box<ChatEvent>,
        to: Vec<String>,
    },
    /// `member`'s read position in chat `chat_id` moved to `seq`.
    Read {
        chat_id: ChatId,
        location: ChatLocation,
        member: CausewayId,
        seq: Seq,
        to: Vec<String>,
    },
    /// `member` is typing in chat `chat_id`, as `from` (another server) told,
    /// or as they typed here.
    Typing {
        chat_id: ChatId,
        location: ChatLocation,
        member: CausewayId,
        to: Vec<String>,
        from: Option<ServerName>,
    },
    /// `member` came online or went offline; `to` share a chat with them.
    Presence {
        member: CausewayId,
        online: bool,
        to: Vec<String>,
    },
    /// The call of chat `chat_id` (hosted here) changed: who is in it now, or
    /// `None` when it ended. `to` holds the chat's members.
    Call {
        chat_id: ChatId,
        call: Option<CallState>,
        to: Vec<String>,
    },
    /// `member` declined the call ringing in direct chat `chat_id`.
    CallDeclined {
        chat_id: ChatId,
        member: CausewayId,
        to: Vec<String>,
    },
    /// `member` hung up the call of chat `chat_id`.
    CallLeft {
        chat_id: ChatId,
        member: CausewayId,
        to: Vec<String>,
    },
}

/// Where events are published and followed. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }

    /// Passes `event` to every follower. With none, it goes nowhere.
    pub fn publish(&self, event: Event) {
        // An error means nobody follows yet (start-up, or a test's store alone).
        let _ = self.sender.send(Arc::new(event));
    }

    /// Follows the stream from now on.
    pub fn follow(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}

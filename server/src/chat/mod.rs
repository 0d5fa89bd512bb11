//! The chat core: every chat action, for whoever acts, is decided here.
//!
//! The HTTP handlers of `/api/v1/chats` and the federation's inbound path both
//! call [`ChatService`]; neither holds chat rules. The core reads and writes
//! chats through the store, and nothing else does. What it commits it
//! publishes on the [`EventBus`]; the live hub and the federation outbox follow
//! that stream instead of being called after each commit.
//!
//! A chat lives in one place ([`ChatLocation`]): hosted here, or a copy of a
//! chat hosted by another server. What a user does in a copy goes to the host
//! through [`HostLink`], a trait this module defines and federation
//! implements, so the core never depends on federation.

pub mod events;
mod present;
mod service;
#[cfg(test)]
mod tests;

use app::types::{CausewayId, ChatRole, ErrorCode, Message, ServerName};
use serde::{Deserialize, Serialize};

pub use crate::storage::{ChatId, Seq, UserId};
use crate::storage::{ChatRow, StorageError};

pub use events::{Event, EventBus};
pub use present::{chat_event, events_out, file_info, member_names, message_out};
pub use service::{ChatService, MAX_MEMBERS, attached_elsewhere, expired_unsent, local_partner};

/// Who acts in a chat: a signed-in user of this server, or a user of another
/// server on whose behalf their home server asks (who then holds the rights of
/// Federated Users here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A user of this server: their row's id, and their Causeway ID.
    Local(UserId, CausewayId),
    /// A user of another server, speaking through it.
    Remote(CausewayId),
}

impl Actor {
    pub fn id(&self) -> &CausewayId {
        match self {
            Actor::Local(_, id) | Actor::Remote(id) => id,
        }
    }

    /// Is this a user of another server?
    pub fn is_remote(&self) -> bool {
        matches!(self, Actor::Remote(_))
    }
}

/// Where a chat lives: here, or on the host whose copy this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChatLocation {
    Hosted,
    Copy {
        host: ServerName,
        /// The chat's id on its host.
        host_chat_id: i64,
    },
}

impl ChatLocation {
    /// Where `chat` lives, as its row says.
    pub fn of(chat: &ChatRow) -> Result<Self, ChatError> {
        match (&chat.host, chat.host_chat_id) {
            (Some(host), Some(host_chat_id)) => Ok(ChatLocation::Copy {
                host: ServerName::parse(host)
                    .map_err(|e| ChatError::Internal(format!("stored host {host:?}: {e}")))?,
                host_chat_id,
            }),
            (None, None) => Ok(ChatLocation::Hosted),
            _ => Err(ChatError::Internal(format!(
                "chat {} has half a host",
                chat.id
            ))),
        }
    }
}

/// Why a chat action was not done. The HTTP layer maps each kind to its
/// status; federation maps it to its protocol's refusal.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// Nothing of that kind there, or nothing the actor may see ("No such chat.").
    #[error("No such {0}.")]
    Missing(&'static str),
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request cannot be done as asked.
    #[error("{0}")]
    Invalid(String),
    /// The other server refused, for a reason of its own: passed on as it said.
    #[error("{message}")]
    Refused { code: ErrorCode, message: String },
    /// The other server is not one this server exchanges traffic with.
    #[error("{0}")]
    NotAllowed(String),
    /// The other server could not be reached or failed.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Something this server got wrong (a stored value it cannot read).
    #[error("{0}")]
    Internal(String),
}

/// What a member server asks the host to do for one of its users; also what
/// the core forwards for an action taken in a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    Send {
        client_id: String,
        body: String,
        #[serde(default)]
        reply_to: Option<i64>,
        /// A file uploaded to the host for this chat (the host's id).
        #[serde(default)]
        file: Option<i64>,
    },
    Edit {
        seq: Seq,
        body: String,
    },
    Delete {
        seq: Seq,
    },
    Read {
        seq: Seq,
    },
    Leave,
    /// Add people to a group chat (an owner or admin).
    AddMembers {
        members: Vec<CausewayId>,
    },
    /// Remove someone else from a group chat.
    Remove {
        member: CausewayId,
    },
    /// Change someone's role in a group chat (the owner).
    SetRole {
        member: CausewayId,
        role: ChatRole,
    },
}

/// What came of an action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDone {
    /// The stored message (send, edit, delete), with the host's ids.
    #[serde(default)]
    pub message: Option<Message>,
    /// A send that was a retry of one already stored.
    #[serde(default)]
    pub repeated: bool,
}

/// The way to the other servers, as the chat core needs it: federation
/// implements it.
#[async_trait::async_trait]
pub trait HostLink: Send + Sync {
    /// Asks the host of `chat`, a copy here, to do `action` for `actor`, a
    /// user of this server. The message in the answer carries this server's
    /// chat id and file ids.
    async fn forward(
        &self,
        chat: &ChatRow,
        actor: &CausewayId,
        action: Action,
    ) -> Result<ActionDone, ChatError>;

    /// Checks with their server that `id` exists and that `asker`, a user of
    /// this server, may chat with them.
    async fn reachable(&self, id: &CausewayId, asker: &CausewayId) -> Result<(), ChatError>;

    /// The direct chat of `me` with `with`, hosted by `with`'s server: asked
    /// of it and copied here.
    async fn open_direct(&self, me: &CausewayId, with: &CausewayId) -> Result<ChatRow, ChatError>;
}

/// Who is online, as the chat core shows it in member lists.
pub trait Presence: Send + Sync {
    fn is_online(&self, member: &str) -> bool;
}

/// The server that hosts the direct chat of users of `a` and `b`: the one
/// whose name sorts first, so both sides agree without asking.
pub fn direct_host<'a>(a: &'a ServerName, b: &'a ServerName) -> &'a ServerName {
    if a.as_str() <= b.as_str() { a } else { b }
}

/// The servers other than `own` among `members` (Causeway IDs), each once: the
/// other servers a chat's news concerns. Members of this server cost one string
/// split each (it runs on every message).
pub fn other_servers<'a>(
    own: &ServerName,
    members: impl IntoIterator<Item = &'a str>,
) -> Vec<ServerName> {
    let mut servers: Vec<ServerName> = Vec::new();
    for member in members {
        if let Some((_, server)) = member.rsplit_once('@')
            && server != own.as_str()
            && !servers.iter().any(|s| s.as_str() == server)
            && let Ok(server) = ServerName::parse(server)
        {
            servers.push(server);
        }
    }
    servers
}

//! What servers say to each other: the key document and the bodies of the
//! signed `/_causeway/v1` routes. Every field a peer sends is bounded where it
//! is read (see `inbound`).

use app::types::{CausewayId, ChatEvent, ChatKind, ChatRole, FederatedProfile, ServerName};
use serde::{Deserialize, Serialize};

/// Where a server publishes its keys.
pub const KEY_DOCUMENT_PATH: &str = "/.well-known/causeway/server";
/// The prefix of the signed server-to-server routes.
pub const PREFIX: &str = "/_causeway/v1";
/// The largest body a peer may send (a batch of events, an action).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// `GET /.well-known/causeway/server`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDocument {
    pub server_name: ServerName,
    pub keys: Vec<PublishedKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedKey {
    pub key_id: String,
    /// The raw 32-byte ed25519 public key, base64url without padding.
    pub public_key: String,
    /// Lowercase hex SHA-256 of the raw key (what administrators pin).
    pub fingerprint: String,
    /// For a retired key: until when signatures made with it are accepted.
    pub expires_at: Option<i64>,
}

/// `GET /_causeway/v1/users/{login}`: a user as the answering server lets
/// others see them, with the name to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteUser {
    pub display_name: String,
    pub profile: FederatedProfile,
}

/// A chat member as the host tells member servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberState {
    pub causeway_id: CausewayId,
    pub display_name: String,
    pub role: ChatRole,
    pub joined_seq: i64,
    pub read_seq: i64,
    /// For users of the host: online there when this was sent.
    #[serde(default)]
    pub online: bool,
}

/// A chat as its host tells a server with members in it: what it is, who is in
/// it now, and the events the receiver has not had yet, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatUpdate {
    /// The chat's id on the host.
    pub chat_id: i64,
    pub kind: ChatKind,
    pub title: String,
    pub created_by: CausewayId,
    pub created_at: i64,
    pub members: Vec<MemberState>,
    /// Events after the receiver's last one. Message events carry the message
    /// as it stands; `chat_id`s in them are the host's.
    pub events: Vec<ChatEvent>,
    /// The chat's last sequence number on the host when this was sent.
    pub last_seq: i64,
    /// What the servers of people of other servers signed for their events here.
    #[serde(default)]
    pub attestations: Vec<Attestation>,
}

/// A server's signature on something one of its users did in a chat hosted
/// elsewhere (see `trust`): the host passes it on with the event, so that the
/// other member servers can check who said it without trusting the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    pub actor: CausewayId,
    /// `send`, `edit`, `delete`, `leave`, `add`, `remove` or `role`.
    pub kind: String,
    /// The `client_id`, message number or person the action is about.
    pub reference: String,
    /// SHA-256 (hex) of the text sent or edited to; empty otherwise.
    #[serde(default)]
    pub body_sha256: String,
    pub key_id: String,
    /// Over [`Attestation::text`], base64url.
    pub signature: String,
}

impl Attestation {
    /// What the actor's server signs: the chat (host and its id there) and the action.
    pub fn text(&self, host: &ServerName, host_chat_id: i64) -> Vec<u8> {
        format!(
            "causeway-attestation-v1\n{host}\n{host_chat_id}\n{}\n{}\n{}\n{}",
            self.actor, self.kind, self.reference, self.body_sha256
        )
        .into_bytes()
    }
}

/// `POST /_causeway/v1/transactions`: the outbox's batch to one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub chats: Vec<ChatUpdate>,
}

/// The answer to a transaction: how many chats were applied, and those refused
/// for good (malformed, or not acceptable here), which the sender skips rather
/// than retries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionResult {
    pub applied: usize,
    #[serde(default)]
    pub refused: Vec<RefusedChat>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedChat {
    pub chat_id: i64,
    pub reason: String,
}

pub use crate::chat::{Action, ActionDone};

/// `POST /_causeway/v1/chats/{id}/actions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRequest {
    /// Who acts: always a user of the requesting server.
    pub actor: CausewayId,
    pub action: Action,
    /// The requesting server's signatures on the action, for the host to pass on.
    #[serde(default)]
    pub attestations: Vec<Attestation>,
}

/// `POST /_causeway/v1/direct`: the direct chat of a user of the requesting
/// server with a user of the answering one, which hosts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDirect {
    pub actor: CausewayId,
    pub with: CausewayId,
}

/// Short-lived news that is not stored: typing and presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Ephemeral {
    /// `member` is typing in the chat `chat_id` hosted by `host`.
    Typing {
        host: ServerName,
        chat_id: i64,
        member: CausewayId,
    },
    Presence {
        member: CausewayId,
        online: bool,
    },
    /// The sender has just started: whatever waits for it may be sent now
    /// rather than at the end of a backoff.
    Hello,
}

/// `POST /_causeway/v1/ephemeral`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EphemeralBatch {
    pub items: Vec<Ephemeral>,
}

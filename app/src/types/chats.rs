//! Chat kinds and member roles (the chats API's DTOs grow here).

use serde::{Deserialize, Serialize};

use super::{CausewayId, FileInfo};

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    /// Two people; one chat per pair.
    Direct,
    /// A titled chat with an owner, admins and members.
    Group,
}

impl ChatKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatKind::Direct => "direct",
            ChatKind::Group => "group",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "direct" => Some(ChatKind::Direct),
            "group" => Some(ChatKind::Group),
            _ => None,
        }
    }
}

/// A member's role in a chat, weakest first, so `role >= ChatRole::Admin` reads as
/// "may administer".
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatRole {
    Member,
    Admin,
    Owner,
}

impl ChatRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::Member => "member",
            ChatRole::Admin => "admin",
            ChatRole::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "member" => Some(ChatRole::Member),
            "admin" => Some(ChatRole::Admin),
            "owner" => Some(ChatRole::Owner),
            _ => None,
        }
    }
}

/// What happened in a chat: the kind of a [`ChatEvent`].
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Message,
    Edit,
    Delete,
    MemberAdded,
    MemberRemoved,
    MemberLeft,
    RoleChanged,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::Created,
        EventKind::Message,
        EventKind::Edit,
        EventKind::Delete,
        EventKind::MemberAdded,
        EventKind::MemberRemoved,
        EventKind::MemberLeft,
        EventKind::RoleChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Message => "message",
            EventKind::Edit => "edit",
            EventKind::Delete => "delete",
            EventKind::MemberAdded => "member_added",
            EventKind::MemberRemoved => "member_removed",
            EventKind::MemberLeft => "member_left",
            EventKind::RoleChanged => "role_changed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s)
    }

    /// Does the event carry a message (posted, edited or deleted)?
    pub fn about_a_message(self) -> bool {
        matches!(
            self,
            EventKind::Message | EventKind::Edit | EventKind::Delete
        )
    }
}

// Stored as their names, in TEXT columns, on either database.
#[cfg(feature = "ssr")]
super::text_column!(ChatKind, ChatRole, EventKind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_kinds_round_trip_through_their_names() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert_eq!(EventKind::parse("unknown"), None);
    }

    #[test]
    fn stored_names_round_trip_and_roles_are_ordered() {
        for kind in [ChatKind::Direct, ChatKind::Group] {
            assert_eq!(ChatKind::parse(kind.as_str()), Some(kind));
        }
        for role in [ChatRole::Member, ChatRole::Admin, ChatRole::Owner] {
            assert_eq!(ChatRole::parse(role.as_str()), Some(role));
            assert_eq!(
                serde_json::to_string(&role).unwrap(),
                format!("\"{}\"", role.as_str())
            );
        }
        assert!(ChatRole::Owner > ChatRole::Admin && ChatRole::Admin > ChatRole::Member);
        assert_eq!(ChatRole::parse("root"), None);
    }
}

/// A member of a chat as clients see them.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMember {
    pub causeway_id: CausewayId,
    pub display_name: String,
    pub role: ChatRole,
    /// The member has read the chat up to this sequence number.
    pub read_seq: i64,
    /// Has a browser tab open now.
    pub online: bool,
}

/// A message as it stands now. `seq` is its number in the chat.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub chat_id: i64,
    pub seq: i64,
    pub sender: CausewayId,
    pub client_id: String,
    /// Empty when deleted.
    pub body: String,
    pub reply_to: Option<i64>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    /// The file the message carries; `None` once the message is deleted.
    #[serde(default)]
    pub file: Option<FileInfo>,
}

/// A chat in the person's chat list.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSummary {
    pub id: i64,
    pub kind: ChatKind,
    /// The group's title, or the other person's name for a direct chat.
    pub title: String,
    pub last_seq: i64,
    pub last_at: i64,
    pub read_seq: i64,
    pub unread: i64,
    /// Of the unread messages, those that mention the person (`@login@server`).
    #[serde(default)]
    pub mentions: i64,
    /// The person muted the chat: no notifications and no place in the unread
    /// total, except for mentions.
    #[serde(default)]
    pub muted: bool,
    pub last_message: Option<Message>,
    /// The call running in the chat now, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallState>,
}

/// A call running in a chat: who is in it, since when.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallState {
    /// When its first participant joined (milliseconds since the epoch).
    pub since: i64,
    /// Who joined it first.
    pub started_by: CausewayId,
    /// Its participants, first joined first; someone in it from two tabs
    /// is there twice.
    pub people: Vec<CallPerson>,
}

impl CallState {
    /// Is `member` in the call (from any tab)?
    pub fn has(&self, member: &CausewayId) -> bool {
        self.people.iter().any(|p| &p.member == member)
    }

    /// How many different people are in it.
    pub fn headcount(&self) -> usize {
        let people = &self.people;
        (0..people.len())
            .filter(|&i| !people[..i].iter().any(|p| p.member == people[i].member))
            .count()
    }
}

/// One participant of a call: who, and the id of the stream their tracks
/// come down in (`MediaStream.id` in the browser).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallPerson {
    pub member: CausewayId,
    pub stream: String,
}

/// A message found by `GET /api/v1/search`, with where it is.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub chat_id: i64,
    pub chat_kind: ChatKind,
    /// The group's title, or the other person's name for a direct chat.
    pub chat_title: String,
    pub sender_name: String,
    pub message: Message,
}

/// `GET /api/v1/search?q=`: the newest matches first.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Pass as `before` for the next page; absent after the last one.
    pub next: Option<String>,
}

/// `PUT /api/v1/chats/{id}/mute`
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuteChat {
    pub muted: bool,
}

/// One chat with its members and the person's place in it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatDetail {
    pub id: i64,
    pub kind: ChatKind,
    pub title: String,
    pub members: Vec<ChatMember>,
    pub my_role: ChatRole,
    pub last_seq: i64,
    pub read_seq: i64,
}

/// `POST /api/v1/chats/direct`: the direct chat with this person (made if new).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenDirectChat {
    pub with: CausewayId,
}

/// `POST /api/v1/chats`: a group chat; its creator is the owner.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupChat {
    pub title: String,
    #[serde(default)]
    pub members: Vec<CausewayId>,
}

/// `POST /api/v1/chats/{id}/messages`. `client_id` is the sender's idempotency
/// key: sending again with the same one returns the first copy.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    pub client_id: String,
    /// May be empty when a file is sent.
    pub body: String,
    #[serde(default)]
    pub reply_to: Option<i64>,
    /// A file the sender uploaded to this chat (`POST /api/v1/chats/{id}/files`)
    /// and has not sent with another message.
    #[serde(default)]
    pub file: Option<i64>,
}

/// `PATCH /api/v1/chats/{id}/messages/{seq}`
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    pub body: String,
}

/// `PUT /api/v1/chats/{id}/read`: the person has read up to `seq`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadUpTo {
    pub seq: i64,
}

/// One event of a chat's log, for catching up after a reconnect.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatEvent {
    pub seq: i64,
    pub kind: EventKind,
    pub actor: CausewayId,
    pub at: i64,
    /// The member a membership event is about.
    pub subject: Option<CausewayId>,
    /// The new role of `member_added` and `role_changed`.
    pub role: Option<ChatRole>,
    /// The message posted, edited or deleted, as it stands now.
    pub message: Option<Message>,
}

/// `POST /api/v1/chats/{id}/members`: people to add to a group chat.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMembers {
    pub members: Vec<CausewayId>,
}

/// `PUT /api/v1/chats/{id}/members/{member}/role`. `owner` hands the chat over:
/// the caller becomes an admin.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetChatRole {
    pub role: ChatRole,
}

/// What the server pushes over the WebSocket `/api/v1/events`, one JSON text
/// frame each. After `ready` (and after every reconnect) a client fetches
/// `/api/v1/chats/{id}/events?after=` for the chats it shows, so nothing is missed;
/// sequence numbers tell it which events it already has.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Push {
    /// The first frame: from here on every push reaches this socket, so a client
    /// catches up over HTTP after it, not before, and misses nothing. `client`
    /// is the version of the browser client this server now serves (empty for
    /// a development build): a tab running another one offers to reload.
    Ready {
        #[serde(default, skip_serializing_if = "String::is_empty")]
        client: String,
    },
    /// Something happened in a chat the person is in (or was just removed from).
    ChatEvent { chat_id: i64, event: Box<ChatEvent> },
    /// A member's read position moved.
    Read {
        chat_id: i64,
        member: CausewayId,
        seq: i64,
    },
    /// A member is typing in a chat (sent at most every few seconds while they
    /// type; clients show it for a few seconds).
    Typing { chat_id: i64, member: CausewayId },
    /// Someone the person shares a chat with opened their first tab or closed
    /// their last one.
    Presence { member: CausewayId, online: bool },
    /// The server's answer to this socket's [`ClientFrame::CallOffer`]: the
    /// tab is in the chat's call, as the participant whose tracks the others
    /// receive in stream `stream`.
    CallAnswer {
        chat_id: i64,
        sdp: String,
        #[serde(default)]
        stream: String,
    },
    /// Tracks came or went in the chat's call: apply this offer and answer
    /// with [`ClientFrame::CallAnswer`].
    CallOffer { chat_id: i64, sdp: String },
    /// The call refused this socket (not a member, no right, a malformed
    /// description, a full conference), or ended its part.
    CallRefused {
        chat_id: i64,
        code: crate::types::ErrorCode,
        message: String,
    },
    /// A chat's call started, someone joined or left, or it ended (`call` is
    /// `None`): pushed to all the chat's members, in the call or not.
    Call {
        chat_id: i64,
        call: Option<CallState>,
    },
    /// `member` declined the call of a direct chat.
    CallDeclined { chat_id: i64, member: CausewayId },
    /// `member` hung up (rather than their tab going away, which only the
    /// roster shows): the other side of a direct call ends it too.
    CallLeft { chat_id: i64, member: CausewayId },
}

/// Why the server closed a WebSocket `/api/v1/events` for good: the close
/// frame's code (4000–4999 are the application's own). A client that gets one of
/// these does not reconnect; any other close (1001 shutdown, 1013 too far behind,
/// a network drop) is followed by a reconnection and a catch-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketEnd {
    /// The session was ended: signed out, or ended by a password change.
    SessionEnded,
    /// The account was deactivated by an administrator.
    AccountDisabled,
    /// The account was deleted by an administrator.
    AccountDeleted,
}

impl SocketEnd {
    pub const fn code(self) -> u16 {
        match self {
            Self::SessionEnded | Self::AccountDeleted => 4001,
            Self::AccountDisabled => 4003,
        }
    }

    /// The close frame's reason text (at most 123 bytes).
    pub const fn reason(self) -> &'static str {
        match self {
            Self::SessionEnded => "session ended",
            Self::AccountDisabled => "account disabled",
            Self::AccountDeleted => "account deleted",
        }
    }

    /// The end a close code stands for, if it is one of ours.
    pub const fn from_code(code: u16) -> Option<Self> {
        match code {
            4001 => Some(Self::SessionEnded),
            4003 => Some(Self::AccountDisabled),
            _ => None,
        }
    }
}

/// What a client may send over the WebSocket, one JSON text frame each.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// The person is typing in this chat.
    Typing { chat_id: i64 },
    /// Join (or start) the chat's call with this WebRTC offer.
    CallOffer { chat_id: i64, sdp: String },
    /// The answer to the server's [`Push::CallOffer`].
    CallAnswer { chat_id: i64, sdp: String },
    /// Leave the chat's call.
    CallLeave { chat_id: i64 },
    /// Decline the call ringing in this direct chat (the caller's tab is told).
    CallDecline { chat_id: i64 },
}

//! Chat kinds and member roles (the chats API's DTOs grow here).

use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;

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

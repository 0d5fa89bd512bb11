//! Numbers that mean different things get different types: a chat's id is
//! not an event's number, and the compiler says so when one is passed for
//! the other. Each is stored as the integer it wraps (`sqlx(transparent)`)
//! and travels as one in JSON (`serde(transparent)`).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! integer_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default,
            Serialize, Deserialize, sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(value: $name) -> i64 {
                value.0
            }
        }
    };
}

integer_id!(
    /// A chat's id on this server (a copy has its own; the host's is another
    /// server's number).
    ChatId
);

integer_id!(
    /// The number of an event in its chat: 1 for the chat's creation, then one
    /// more for each change, without gaps. A message is known by its event's
    /// number.
    Seq
);

integer_id!(
    /// A user's row on this server.
    UserId
);

impl Seq {
    /// The number before this one: "after `seq.before()`" includes `seq`.
    pub fn before(self) -> Seq {
        Seq(self.0 - 1)
    }
}

//! Wasm-safe types shared by the server and the browser: identifiers with total
//! parsers, the rights list, the DTOs of the HTTP API and its error codes.

/// Maps enums to TEXT columns of either database by their names (`as_str`
/// and `parse`), so that stored values are read back typed: a value the enum
/// does not know is a decoding error, not a string to be parsed later.
#[cfg(feature = "ssr")]
macro_rules! text_column {
    ($($name:ty),+) => {$(
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'q str as sqlx::Encode<'q, DB>>::encode_by_ref(&self.as_str(), buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                <$name>::parse(text).ok_or_else(|| {
                    format!("{text:?} is no {}", stringify!($name)).into()
                })
            }
        }
    )+};
}
#[cfg(feature = "ssr")]
pub(crate) use text_column;

pub mod auth;
pub mod chats;
pub mod directory;
pub mod error;
pub mod files;
pub mod ids;
pub mod mention;
pub mod rights;
pub mod settings;

pub use auth::{CurrentUser, LoginRequest};
pub use chats::{
    AddMembers, CallPerson, CallState, ChatDetail, ChatEvent, ChatKind, ChatMember, ChatRole,
    ChatSummary, ClientFrame, CreateGroupChat, EditMessage, EventKind, Message, MuteChat,
    OpenDirectChat, Push, ReadUpTo, SearchHit, SearchResults, SendMessage, SetChatRole, SocketEnd,
};
pub use directory::*;
pub use error::{ApiErrorBody, ErrorCode};
pub use files::FileInfo;
pub use ids::{CausewayId, IdError, Login, LoginOrId, ServerName};
pub use mention::{Mention, mentions, mentions_of};
pub use rights::Right;
pub use settings::*;

//! Wasm-safe types shared by the server and the browser: identifiers with total
//! parsers, the rights list, the DTOs of the HTTP API and its error codes.

pub mod auth;
pub mod chats;
pub mod directory;
pub mod error;
pub mod files;
pub mod ids;
pub mod rights;
pub mod settings;

pub use auth::{CurrentUser, LoginRequest};
pub use chats::{
    AddMembers, ChatDetail, ChatEvent, ChatKind, ChatMember, ChatRole, ChatSummary, ClientFrame,
    CreateGroupChat, EditMessage, Message, OpenDirectChat, Push, ReadUpTo, SendMessage,
    SetChatRole, SocketEnd,
};
pub use directory::*;
pub use error::{ApiErrorBody, ErrorCode};
pub use files::FileInfo;
pub use ids::{CausewayId, IdError, Login, LoginOrId, ServerName};
pub use rights::Right;
pub use settings::*;

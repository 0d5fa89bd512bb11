//! One component per screen.

mod account;
pub mod admin;
mod chats;
mod contacts;
pub mod login;
mod not_found;
mod search;

pub use account::AccountPage;
pub use chats::{ActiveCall, CallDock, ChatsPage};
pub use contacts::ContactsPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use search::SearchPage;

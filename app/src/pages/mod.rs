//! One component per screen.

mod account;
#[cfg(feature = "panel")]
pub mod admin;
mod chats;
mod contacts;
pub mod login;
mod not_found;
#[cfg(not(feature = "panel"))]
pub mod panel_elsewhere;

pub use account::AccountPage;
pub use chats::ChatsPage;
pub use contacts::ContactsPage;
pub use login::LoginPage;
pub use not_found::NotFound;

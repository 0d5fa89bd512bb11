//! One component per screen.

#[cfg(feature = "panel")]
mod account;
#[cfg(feature = "panel")]
pub mod admin;
mod chats;
mod contacts;
pub mod login;
mod not_found;
#[cfg(not(feature = "panel"))]
pub mod panel_elsewhere;
mod search;

#[cfg(feature = "panel")]
pub use account::AccountPage;
pub use chats::ChatsPage;
pub use contacts::ContactsPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use search::SearchPage;

/// Is the page at `path` one of the panel bundle's own: the control panel and
/// My account, pages people open rarely, which the chat bundle leaves out?
pub fn in_panel_bundle(path: &str) -> bool {
    path == "/account" || path == "/admin" || path.starts_with("/admin/")
}

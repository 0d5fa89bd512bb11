//! Authentication: password hashing, the database-backed session store, the
//! [`AuthUser`] extractor, sign-in/sign-out routes and the first administrator.

pub mod bootstrap;
mod extract;
pub mod password;
pub mod routes;
pub mod session_store;
pub mod throttle;

pub use extract::{AdminUser, AuthUser, ClientAddress, SessionAuth, authenticate};

//! Authentication's own work: password hashing, the database-backed session
//! store, sign-in throttling and the first administrator. The extractors and
//! the sign-in routes are in the HTTP layer (`http::extract`, `http::auth`).

pub mod bootstrap;
pub mod password;
pub mod session_store;
pub mod throttle;

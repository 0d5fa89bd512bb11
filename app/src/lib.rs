//! The part of Causeway that runs in both places: compiled into the server for
//! server-side rendering (`ssr`) and into WebAssembly for the browser (`hydrate`).
//!
//! - [`types`]: ids, rights, API DTOs and error codes, shared with the server.
//! - [`api`]: the typed client the UI uses to call `/api/v1` from the browser.
//! - [`app`]: the HTML shell, the router and the page list.
//! - [`pages`]: one component per screen.
//! - [`components`]: pieces shared by several pages.
//! - [`live`]: the tab's realtime connection; [`inbox`]: the tab's chat list and
//!   what is unread in it; [`notify`]: browser notifications.

#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod inbox;
pub mod live;
pub mod notify;
pub mod pages;
pub mod types;

pub use app::{App, Bundle, ClientBuild, shell};

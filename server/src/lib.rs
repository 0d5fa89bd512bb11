//! The Causeway server: one Axum application per server name, serving the
//! `/api/v1` JSON API, the server-rendered Leptos UI and its WebAssembly.
//!
//! A map for newcomers, in the order a request meets the modules:

/// What every user may do to their own account.
pub mod account;
/// The control panel's API: users, groups, rights, settings, audit log.
pub mod admin;
/// The audit log of sign-ins and administrative changes.
pub mod audit;
/// Passwords, sessions, the `AuthUser` extractor, sign-in and sign-out.
pub mod auth;
/// Users' photos: upload, removal, serving.
pub mod avatars;
/// The chat core: every chat action decided once, and the stream of events.
pub mod chat;
/// `/api/v1/chats`: the chat core over HTTP.
pub mod chats;
/// The `causeway` command line: `serve`, `migrate`, `admin create`.
pub mod cli;
/// Typed configuration: defaults, TOML file, `CAUSEWAY_*` environment.
pub mod config;
/// Address books and the user's merged contacts.
pub mod contacts;
/// `ApiError`, the JSON error every endpoint returns, and the `Json` extractor.
pub mod error;
/// What this server shows other servers (profiles filtered by Display Fields).
pub mod federation;
/// Files sent in chats: uploads, downloads with ranges, previews, the blob store.
pub mod files;
/// The router and the middleware every request passes.
pub mod http;
/// Prometheus metrics and their middleware.
pub mod metrics;
/// The OpenAPI document of the API.
pub mod openapi;
/// Realtime delivery over WebSockets.
pub mod realtime;
/// Effective rights: the union over a user's groups.
pub mod rights;
/// Start-up (store, migrations, first administrator) and graceful shutdown.
pub mod server;
/// Settings edited live in the control panel.
pub mod settings;
/// What handlers share: config, store, blob store, settings, metrics, Leptos options.
pub mod state;
/// The storage interface and its SQLite and PostgreSQL implementations.
pub mod storage;
/// Time as stored (Unix milliseconds).
pub mod time;
/// Checks of client input, failing with clear 422s.
pub mod validate;

pub(crate) use admin::entries as admin_entries;

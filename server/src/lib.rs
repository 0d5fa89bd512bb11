//! The Causeway server: one Axum application per server name, serving the
//! `/api/v1` JSON API, the server-rendered Leptos UI and its WebAssembly.
//!
//! A map for newcomers, in the order a request meets the modules:

/// The `causeway` command line: `serve`, `migrate`, `admin create`.
pub mod cli;
/// Typed configuration: defaults, TOML file, `CAUSEWAY_*` environment.
pub mod config;
/// Start-up (store, migrations, first administrator) and graceful shutdown.
pub mod server;
/// The router and the middleware every request passes.
pub mod http;
/// What handlers share: config, store, metrics, Leptos options.
pub mod state;
/// Passwords, sessions, the `AuthUser` extractor, sign-in and sign-out.
pub mod auth;
/// `ApiError`, the JSON error every endpoint returns, and the `Json` extractor.
pub mod error;
/// Prometheus metrics and their middleware.
pub mod metrics;
/// The storage interface and its SQLite and PostgreSQL implementations.
pub mod storage;
/// Time as stored (Unix milliseconds).
pub mod time;

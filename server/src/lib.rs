//! The Causeway server: one Axum application per server name, serving the
//! `/api/v1` JSON API, the server-rendered Leptos UI and its WebAssembly.
//!
//! A map for newcomers, in the order a request meets the modules:

/// Passwords, sessions, the `AuthUser` extractor, sign-in and sign-out.
pub mod auth;
/// The `causeway` command line: `serve`, `migrate`, `admin create`.
pub mod cli;
/// Typed configuration: defaults, TOML file, `CAUSEWAY_*` environment.
pub mod config;
/// `ApiError`, the JSON error every endpoint returns, and the `Json` extractor.
pub mod error;
/// The router and the middleware every request passes.
pub mod http;
/// Prometheus metrics and their middleware.
pub mod metrics;
/// Start-up (store, migrations, first administrator) and graceful shutdown.
pub mod server;
/// What handlers share: config, store, metrics, Leptos options.
pub mod state;
/// The storage interface and its SQLite and PostgreSQL implementations.
pub mod storage;
/// Time as stored (Unix milliseconds).
pub mod time;

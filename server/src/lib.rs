//! The Causeway server: one Axum application per server name, serving the
//! `/api/v1` JSON API, the server-to-server `/_causeway/v1` API, the
//! server-rendered Leptos UI and its WebAssembly.
//!
//! The modules form layers; each uses only those below it, and the graph of
//! `crate::` references between them has no cycles (`scripts/module-graph.py`
//! checks it in the test run):
//!
//! 1. foundation: [`time`], [`config`], [`error`], [`validate`];
//! 2. [`storage`]: the only code with SQL;
//! 3. domain services, each given what it needs: [`settings`], [`rights`],
//!    [`audit`], [`metrics`], [`files`], [`auth`], [`chat`] (the chat core and
//!    its event stream), [`realtime`] (the hub, following the events),
//!    [`federation`] (implementing the chat core's `HostLink`, following the
//!    events for its outbox);
//! 4. [`http`]: the router, `AppState`, the extractors and every handler;
//! 5. [`server`] (start-up and shutdown) and [`cli`].

pub mod audit;
pub mod auth;
pub mod calls;
pub mod chat;
pub mod cli;
pub mod config;
pub mod error;
pub mod federation;
pub mod files;
pub mod http;
pub mod media;
pub mod metrics;
pub mod realtime;
pub mod rights;
pub mod server;
pub mod settings;
pub mod storage;
pub mod time;
pub mod validate;

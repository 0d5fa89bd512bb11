//! [`AppState`]: everything a handler may need, passed explicitly (no globals),
//! so tests can run many servers in one process.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::federation::Federation;
use crate::files::Blobs;
use crate::metrics::Metrics;
use crate::realtime::Hub;
use crate::settings::Settings;
use crate::storage::Store;

#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// The control panel's live settings.
    pub settings: Settings,
    pub leptos: LeptosOptions,
    /// Open WebSockets, for realtime pushes.
    pub hub: Arc<Hub>,
    /// Where the contents of files sent in chats are kept.
    pub blobs: Blobs,
    /// Signing keys, peers, signed requests and the outbox.
    pub federation: Arc<Federation>,
    /// Cancelled when the server stops: background tasks end with it.
    pub tasks: CancellationToken,
    /// How many refusals of each reason the audit log has taken this minute.
    pub audit_cap: Arc<std::sync::Mutex<crate::audit::cap::RefusalCap>>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

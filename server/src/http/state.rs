//! [`AppState`]: everything a handler may need, passed explicitly (no globals),
//! so tests can run many servers in one process.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use tokio_util::sync::CancellationToken;

use crate::audit::Audit;
use crate::chat::{ChatService, EventBus, Presence};
use crate::config::Config;
use crate::federation::{self, Federation};
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
    /// The browser client in the site folder (its stylesheet and version).
    pub client: app::ClientBuild,
    /// Open WebSockets, for realtime pushes.
    pub hub: Arc<Hub>,
    /// Where the contents of files sent in chats are kept.
    pub blobs: Blobs,
    /// Signing keys, peers, signed requests and the outbox.
    pub federation: Arc<Federation>,
    /// Cancelled when the server stops: background tasks end with it.
    pub tasks: CancellationToken,
    /// The audit log (with its cap on refusals).
    pub audit: Audit,
    /// The stream of committed chat events (and typing, presence).
    pub events: EventBus,
    /// The chat core.
    pub chats: ChatService,
    /// What federation's work needs, made once at start-up.
    pub peers: federation::Context,
    /// Calls' forwarding unit.
    pub media: crate::media::Sfu,
}

impl AppState {
    /// What federation's work needs, handed to it.
    pub fn peers(&self) -> federation::Context {
        self.peers.clone()
    }
}

/// Online is connected here, or said online by the person's own server.
#[derive(Debug)]
pub struct Online {
    pub hub: Arc<Hub>,
    pub federation: Arc<Federation>,
}

impl Presence for Online {
    fn is_online(&self, member: &str) -> bool {
        self.hub.is_online(member) || self.federation.is_remote_online(member)
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

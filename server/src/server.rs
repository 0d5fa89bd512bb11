//! Starting and stopping one server: open the store, migrate, make sure there is
//! an administrator, then serve until told to stop.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::audit::Audit;
use crate::auth::bootstrap::{CreatedAdmin, ensure_first_admin};
use crate::chat::{ChatService, EventBus};
use crate::config::{Config, redact_url};
use crate::federation::{self, Federation, ServerKeys};
use crate::files::Blobs;
use crate::http::router;
use crate::http::state::{AppState, Online};
use crate::metrics::Metrics;
use crate::realtime::Hub;
use crate::settings::Settings;
use crate::storage::{Backend, Store};

/// Opens the database named by the config and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = connect(config).await?;
    migrate(&store).await?;
    Ok(store)
}

async fn connect(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url();
    Store::connect(&url, config.database.max_connections)
        .await
        .with_context(|| format!("opening the database ({})", redact_url(&url)))
}

async fn migrate(store: &Store) -> anyhow::Result<()> {
    let migrated = store
        .migrate()
        .await
        .context("applying database migrations");
    if migrated.is_err() {
        store.close().await;
    }
    migrated
}

/// Opens the database for serving: claims it first (a second server on the same
/// database is refused, before it migrates anything), then migrates.
pub async fn open_store_exclusive(config: &Config) -> anyhow::Result<Store> {
    let store = connect(config).await?;
    if let Err(error) = store.claim_exclusive().await {
        store.close().await;
        return Err(error.into());
    }
    migrate(&store).await?;
    Ok(store)
}

/// A server ready to accept connections.
pub struct Prepared {
    pub state: AppState,
    /// Set on a first start: the administrator created, with the password to show once.
    pub first_admin: Option<CreatedAdmin>,
}

/// Everything before listening: database, migrations, first administrator, state.
pub async fn prepare(config: Config) -> anyhow::Result<Prepared> {
    let store = open_store_exclusive(&config).await?;
    prepare_on(store, config).await
}

/// [`prepare`] on a store already opened by [`open_store_exclusive`].
pub async fn prepare_on(store: Store, config: Config) -> anyhow::Result<Prepared> {
    std::fs::create_dir_all(config.files_dir())
        .with_context(|| format!("creating the files folder {}", config.files_dir().display()))?;
    let first_admin = ensure_first_admin(&store)
        .await
        .context("creating the first administrator")?;
    let backend = match store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let site = crate::http::site::Site::load(&config.site_root, config.listen);
    let settings = Settings::load(store.clone(), &config)
        .await
        .context("loading the control panel's settings")?;
    let keys = ServerKeys::load(&store)
        .await
        .context("loading this server's signing key")?;
    let federation = Arc::new(Federation::new(
        config.server_name.clone(),
        keys,
        settings.clone(),
    ));
    let hub: Arc<Hub> = Arc::default();
    let events = EventBus::new();
    let config = Arc::new(config);
    let tasks = CancellationToken::new();
    let audit = Audit::new(store.clone());
    let blobs = Blobs::local(config.files_dir());
    let peers = federation::Context {
        config: config.clone(),
        store: store.clone(),
        settings: settings.clone(),
        federation: federation.clone(),
        hub: hub.clone(),
        events: events.clone(),
        blobs: blobs.clone(),
        audit: audit.clone(),
        tasks: tasks.clone(),
    };
    let chats = ChatService::new(
        store.clone(),
        settings.clone(),
        config.server_name.clone(),
        events.clone(),
        Arc::new(peers.clone()),
        Arc::new(Online {
            hub: hub.clone(),
            federation: federation.clone(),
        }),
    );
    let mut media = crate::media::Setup::at(config.media.udp);
    media.announce = config.media.announce;
    let media = crate::media::Sfu::start(media, tasks.clone())
        .await
        .with_context(|| format!("binding the media socket at {}", config.media.udp))?;
    let state = AppState {
        media,
        federation,
        tasks,
        blobs,
        settings,
        metrics: Arc::new(Metrics::new(backend)),
        config,
        store,
        leptos: site.leptos,
        client: site.client,
        hub,
        audit,
        events,
        chats,
        peers,
    };
    Ok(Prepared { state, first_admin })
}

/// Serves until `shutdown` is cancelled, then finishes in-flight requests, stops
/// background tasks and closes the database.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let tasks = state.tasks.clone();
    let store = state.store.clone();
    crate::realtime::follow(&state.hub, &state.events, state.tasks.clone());
    crate::calls::follow(
        state.media.rosters().clone(),
        state.chats.clone(),
        state.tasks.clone(),
    );
    crate::federation::spawn_background(&state.peers());
    crate::files::collect::spawn(&state.store, &state.blobs, state.tasks.clone());
    // Open WebSockets are not requests: close them when shutdown begins.
    tokio::spawn({
        let hub = state.hub.clone();
        let shutdown = shutdown.clone();
        async move {
            shutdown.cancelled().await;
            hub.close();
        }
    });
    let app = router(state, &tasks);
    // Pushes and answers are small writes that must leave at once: without
    // TCP_NODELAY a second small frame to a socket waits for the peer's
    // (delayed) acknowledgement of the first.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await
    .context("serving HTTP")?;
    tasks.cancel();
    store.close().await;
    Ok(())
}

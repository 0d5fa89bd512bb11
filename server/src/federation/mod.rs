//! Federation: this server's identity, signed requests to and from other
//! servers, and what crosses between them (profiles, chats, files).
//!
//! - `keys`: the ed25519 signing keys and their rotation.
//! - `signing`: what a signature covers.
//! - `protocol`: the bodies servers exchange.
//! - this file: [`Federation`], the outbound side — who may be talked to, where
//!   they are, their published keys (cached), and signed requests to them.
//! - `inbound`: what a peer's request passes before the chat core sees it.
//! - `profiles`: what this server tells others about its users.
//! - `client`: what this server asks of others for its users (look-ups,
//!   forwarding actions in copies to their host, files, typing, presence).
//! - `copies`: a chat's update from host to copies: built here, applied here.
//! - `link`: the chat core's way to the hosts of copies ([`crate::chat::HostLink`]).
//! - `follow`: what federation does with the chat core's events.
//! - `outbox`: delivering chat events to member servers, in order, applied once.
//! - `trust`: whom peers' users may reach here, and what a host may tell us.

pub mod addresses;
pub mod client;
pub mod copies;
pub mod follow;
pub mod inbound;
pub mod keys;
pub mod link;
pub mod outbox;
pub mod profiles;
pub mod protocol;
pub mod signing;
pub mod traffic;
pub mod trust;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::types::{ErrorCode, FederationMode, FederationSettings, ServerName};
use axum::http::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

pub use keys::ServerKeys;
pub use profiles::{name_for_peer, profile_for_peer};
use protocol::{KeyDocument, PublishedKey};

use crate::audit::Audit;
use crate::chat::EventBus;
use crate::config::Config;
use crate::error::ApiError;
use crate::files::Blobs;
use crate::realtime::Hub;
use crate::settings::Settings;
use crate::storage::Store;
use crate::time::now_millis;

pub use crate::chat::other_servers;

/// What federation's work needs of the rest of the server: handed to it by
/// the HTTP layer, and cloned into its background tasks. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Context {
    pub config: Arc<Config>,
    pub store: Store,
    pub settings: Settings,
    pub federation: Arc<Federation>,
    /// This server's open sockets: whom a peer's presence concerns.
    pub hub: Arc<Hub>,
    /// Where what federation applies to copies is published.
    pub events: EventBus,
    pub blobs: Blobs,
    pub audit: Audit,
    /// Cancelled when the server stops: the outbox's workers end with it.
    pub tasks: CancellationToken,
}

/// How long a peer's key document is trusted before it is fetched again.
const KEY_CACHE_TTL: Duration = Duration::from_secs(3600);
/// A key id not in the cached document makes the document be fetched again, at
/// most this often (a stream of forged key ids must not become a stream of fetches).
const KEY_REFETCH_MIN: Duration = Duration::from_secs(10);
/// Refused requests audited per claimed origin and reason each minute.
pub const AUDITED_REFUSALS_PER_MINUTE: u32 = crate::audit::cap::PER_MINUTE;
/// Most people of other servers noted as online at once (each shares a chat
/// with someone here; the bound holds whatever peers claim).
const MAX_REMOTE_ONLINE: usize = 100_000;
/// The largest key document read from a peer.
const MAX_KEY_DOCUMENT: usize = 64 * 1024;

/// Why a peer cannot be talked to, or what went wrong talking to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    /// This server's settings do not allow it.
    #[error("{0}")]
    NotAllowed(String),
    /// No answer, or an answer that makes no sense.
    #[error("{server} could not be reached: {reason}")]
    Unreachable { server: String, reason: String },
    /// The peer answered with an error.
    #[error("{server} refused: {message}")]
    Refused {
        server: String,
        status: u16,
        code: Option<ErrorCode>,
        message: String,
    },
}

impl PeerError {
    /// The error a user of this server sees when their request needed the peer.
    pub fn to_api(&self) -> ApiError {
        match self {
            PeerError::NotAllowed(message) => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::ServerNotAllowed,
                message.clone(),
            ),
            PeerError::Unreachable { server, .. } => ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::PeerUnavailable,
                format!("{server} cannot be reached right now. Try again in a moment."),
            ),
            // The peer's own refusal, passed on: its status for client errors
            // (not found, forbidden, invalid input) so that people read the
            // host's reason; a failure of the peer itself is a 502.
            PeerError::Refused {
                status,
                code,
                message,
                server,
            } => match (StatusCode::from_u16(*status), code) {
                // The peer does not federate with this server (any more).
                (_, Some(ErrorCode::ServerNotAllowed)) => ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::ServerNotAllowed,
                    format!("{server} does not accept traffic from this server at the moment."),
                ),
                (Ok(status), Some(code)) if status.is_client_error() => {
                    ApiError::new(status, *code, message.clone())
                }
                _ => ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    ErrorCode::PeerUnavailable,
                    format!("{server} could not do this right now. Try again in a moment."),
                ),
            },
        }
    }
}

/// Does this server's federation setting allow traffic with `server`? `Ok`
/// carries where it is (the white list's address, else `https://{server}`).
pub fn allowed(
    settings: &FederationSettings,
    own: &ServerName,
    server: &ServerName,
) -> Result<String, String> {
    if server == own {
        return Err(format!("{server} is this server."));
    }
    let entry = settings
        .whitelist
        .iter()
        .find(|entry| &entry.server_name == server);
    match settings.mode {
        FederationMode::Disabled => {
            return Err("Federation with other servers is turned off on this server.".into());
        }
        FederationMode::Whitelist if entry.is_none() => {
            return Err(format!("{server} is not on this server's white list."));
        }
        _ => {}
    }
    Ok(entry
        .and_then(|entry| entry.address.as_deref())
        .map(|address| address.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("https://{server}")))
}

/// The white list's pinned fingerprint for `server`, if any.
pub fn pinned(settings: &FederationSettings, server: &ServerName) -> Option<String> {
    settings
        .whitelist
        .iter()
        .find(|entry| &entry.server_name == server)
        .and_then(|entry| entry.key_fingerprint.clone())
        .map(|fingerprint| fingerprint.to_ascii_lowercase())
}

struct CachedKeys {
    keys: Vec<PublishedKey>,
    fetched: Instant,
}

/// The outbound side of federation, shared by every handler of this server.
pub struct Federation {
    own: ServerName,
    keys: ServerKeys,
    settings: Settings,
    /// For white-list addresses, which administrators chose.
    http: reqwest::Client,
    /// For servers reached at their bare name: public addresses only.
    public_http: reqwest::Client,
    key_cache: Mutex<HashMap<ServerName, CachedKeys>>,
    /// Users of other servers whose server said they are online.
    remote_online: Mutex<std::collections::HashSet<String>>,
    /// Wakes the outbox when there is something to deliver.
    pub outbox: outbox::Outbox,
    /// What this process saw of other servers lately.
    pub traffic: traffic::Traffic,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("own", &self.own)
            .finish_non_exhaustive()
    }
}

impl Federation {
    pub fn new(own: ServerName, keys: ServerKeys, settings: Settings) -> Self {
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("causeway/", env!("CARGO_PKG_VERSION")))
        };
        // Building fails only when TLS cannot be set up at all, at start.
        let http = builder().build().expect("the HTTP client builds");
        let public_http = builder()
            .dns_resolver(std::sync::Arc::new(addresses::PublicOnly))
            .build()
            .expect("the HTTP client builds");
        Self {
            own,
            public_http,
            keys,
            settings,
            http,
            key_cache: Mutex::default(),
            remote_online: Mutex::default(),
            outbox: outbox::Outbox::default(),
            traffic: traffic::Traffic::default(),
        }
    }

    /// Records what a peer said of one of its users' presence.
    pub fn note_presence(&self, member: &app::types::CausewayId, online: bool) {
        let mut online_now = self.remote_online.lock().expect("presence lock");
        if online {
            if online_now.len() >= MAX_REMOTE_ONLINE {
                // Only people who share a chat here are noted, so this is a
                // peer lying on a grand scale: its presence news waits.
                tracing::warn!(%member, "too many people of other servers online; not noted");
                return;
            }
            online_now.insert(member.to_string());
        } else {
            online_now.remove(&member.to_string());
        }
    }

    /// Did `server` sign `text` with its key `key_id` (fetched as for a signed
    /// request, and held to a pinned fingerprint)? An error when its keys
    /// cannot be had (or it may not be talked to).
    pub async fn signed_by(
        &self,
        server: &ServerName,
        key_id: &str,
        text: &[u8],
        signature: &str,
    ) -> Result<bool, PeerError> {
        let published = self.peer_keys(server, key_id).await?;
        let Some(key) = published
            .iter()
            .find(|k| k.key_id == key_id)
            .and_then(keys::verifying_key)
        else {
            return Ok(false);
        };
        if let Some(pin) = pinned(&self.settings.federation(), server)
            && keys::fingerprint(key.as_bytes()) != pin
        {
            return Ok(false);
        }
        Ok(signing::verify_raw(&key, text, signature))
    }

    /// How many people of other servers are noted as online.
    pub fn remote_online_count(&self) -> usize {
        self.remote_online.lock().expect("presence lock").len()
    }

    /// Is this user of another server online, as far as their server told?
    pub fn is_remote_online(&self, member: &str) -> bool {
        self.remote_online
            .lock()
            .expect("presence lock")
            .contains(member)
    }

    pub fn keys(&self) -> &ServerKeys {
        &self.keys
    }

    /// Where `server` is, or why it may not be talked to.
    pub fn address(&self, server: &ServerName) -> Result<String, PeerError> {
        allowed(&self.settings.federation(), &self.own, server).map_err(PeerError::NotAllowed)
    }

    /// Where `server` is and the client to reach it with: the white list's
    /// address as the administrator gave it, or `https://{name}` at a public
    /// address only (see [`addresses`]).
    fn route(&self, server: &ServerName) -> Result<(&reqwest::Client, String), PeerError> {
        let address = self.address(server)?;
        let configured = self
            .settings
            .federation()
            .whitelist
            .iter()
            .any(|e| &e.server_name == server && e.address.is_some());
        if configured {
            return Ok((&self.http, address));
        }
        if addresses::literal_ip(server.as_str()).is_some_and(|ip| !addresses::is_public(ip)) {
            return Err(PeerError::NotAllowed(format!(
                "{server} is not a public address; to federate with it, give its address on the white list."
            )));
        }
        Ok((&self.public_http, address))
    }

    /// The keys `server` publishes, from the cache or fetched. With `key_id`
    /// not among the cached ones, the document is fetched again (rate-limited).
    pub async fn peer_keys(
        &self,
        server: &ServerName,
        key_id: &str,
    ) -> Result<Vec<PublishedKey>, PeerError> {
        {
            let cache = self.key_cache.lock().expect("key cache lock");
            if let Some(cached) = cache.get(server) {
                let fresh = cached.fetched.elapsed() < KEY_CACHE_TTL;
                let known = cached.keys.iter().any(|k| k.key_id == key_id);
                if fresh && (known || cached.fetched.elapsed() < KEY_REFETCH_MIN) {
                    return Ok(cached.keys.clone());
                }
            }
        }
        let (http, address) = self.route(server)?;
        let unreachable = |reason: String| PeerError::Unreachable {
            server: server.to_string(),
            reason,
        };
        let response = http
            .get(format!("{address}{}", protocol::KEY_DOCUMENT_PATH))
            .send()
            .await
            .map_err(|e| unreachable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(unreachable(format!(
                "its key document answered {}",
                response.status()
            )));
        }
        let body = read_limited(response, MAX_KEY_DOCUMENT)
            .await
            .map_err(unreachable)?;
        let document: KeyDocument = serde_json::from_slice(&body)
            .map_err(|e| unreachable(format!("its key document does not parse: {e}")))?;
        if &document.server_name != server {
            return Err(unreachable(format!(
                "the key document at {address} is that of {}",
                document.server_name
            )));
        }
        let now = now_millis();
        let keys: Vec<PublishedKey> = document
            .keys
            .into_iter()
            .filter(|k| k.expires_at.is_none_or(|at| at > now))
            .take(16)
            .collect();
        self.key_cache.lock().expect("key cache lock").insert(
            server.clone(),
            CachedKeys {
                keys: keys.clone(),
                fetched: Instant::now(),
            },
        );
        Ok(keys)
    }

    /// A signed request to `destination` whose body hashes to `body_sha256`.
    fn signed(
        &self,
        destination: &ServerName,
        method: Method,
        path_and_query: &str,
        body_sha256: &str,
    ) -> Result<reqwest::RequestBuilder, PeerError> {
        let (http, address) = self.route(destination)?;
        let timestamp = now_millis();
        let transaction = signing::new_transaction_id();
        let signed = signing::Signed {
            method: method.as_str(),
            path_and_query,
            origin: self.own.as_str(),
            destination: destination.as_str(),
            timestamp,
            transaction: &transaction,
            body_sha256,
        };
        let (key_id, signature) = self.keys.sign(&signed.text());
        Ok(http
            .request(method, format!("{address}{path_and_query}"))
            .header(signing::ORIGIN, self.own.as_str())
            .header(signing::DESTINATION, destination.as_str())
            .header(signing::TIMESTAMP, timestamp.to_string())
            .header(signing::TRANSACTION, &transaction)
            .header(signing::KEY, key_id)
            .header(signing::SIGNATURE, signature))
    }

    /// Sends a prepared signed request; a successful answer (2xx, or 304) is
    /// returned to be read or streamed, an error answer becomes a [`PeerError`].
    async fn answer(
        &self,
        destination: &ServerName,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, PeerError> {
        let unreachable = |reason: String| PeerError::Unreachable {
            server: destination.to_string(),
            reason,
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                let reason = error.without_url().to_string();
                self.traffic
                    .failed(destination.as_str(), now_millis(), &reason);
                return Err(unreachable(reason));
            }
        };
        // Any answer, a refusal too, says the server is there.
        self.traffic.answered(destination.as_str(), now_millis());
        let status = response.status();
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(response);
        }
        let body = read_limited(response, protocol::MAX_BODY)
            .await
            .map_err(unreachable)?;
        let error: Option<app::types::error::ApiErrorBody> = serde_json::from_slice(&body).ok();
        Err(PeerError::Refused {
            server: destination.to_string(),
            status: status.as_u16(),
            code: error.as_ref().map(|e| e.error.code),
            message: error.map_or_else(
                || format!("it answered {status}"),
                |e| e.error.message.chars().take(500).collect(),
            ),
        })
    }

    /// [`Federation::answer`], read whole: at most [`protocol::MAX_BODY`] bytes.
    async fn answer_body(
        &self,
        destination: &ServerName,
        request: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, PeerError> {
        let response = self.answer(destination, request).await?;
        read_limited(response, protocol::MAX_BODY)
            .await
            .map_err(|reason| PeerError::Unreachable {
                server: destination.to_string(),
                reason,
            })
    }

    /// Sends a signed request to `destination` and returns the body (at most
    /// [`protocol::MAX_BODY`] bytes) of a successful answer.
    pub async fn send(
        &self,
        destination: &ServerName,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, PeerError> {
        let hash = signing::body_hash(&body);
        let request = self
            .signed(destination, method, path_and_query, &hash)?
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.answer_body(destination, request).await
    }

    /// A signed request whose answer is streamed (a file download): `headers`
    /// are passed along unsigned (`Range`, `If-None-Match`, `If-Range`).
    pub async fn fetch(
        &self,
        destination: &ServerName,
        path_and_query: &str,
        headers: reqwest::header::HeaderMap,
    ) -> Result<reqwest::Response, PeerError> {
        let request = self
            .signed(
                destination,
                Method::GET,
                path_and_query,
                &signing::body_hash(b""),
            )?
            .headers(headers);
        self.answer(destination, request).await
    }

    /// A signed upload of `length` bytes hashing to `sha256`, streamed from `body`.
    pub async fn upload(
        &self,
        destination: &ServerName,
        path_and_query: &str,
        body: reqwest::Body,
        length: u64,
        sha256: &str,
        media_type: &str,
    ) -> Result<Vec<u8>, PeerError> {
        let request = self
            .signed(destination, Method::POST, path_and_query, sha256)?
            .header(signing::CONTENT_SHA256, sha256)
            .header(reqwest::header::CONTENT_TYPE, media_type)
            .header(reqwest::header::CONTENT_LENGTH, length)
            .timeout(Duration::from_secs(3600))
            .body(body);
        self.answer_body(destination, request).await
    }

    /// [`Federation::send`] with a JSON body and a JSON answer.
    pub async fn call<T: Serialize, R: DeserializeOwned>(
        &self,
        destination: &ServerName,
        method: Method,
        path_and_query: &str,
        body: Option<&T>,
    ) -> Result<R, PeerError> {
        let body = match body {
            Some(body) => serde_json::to_vec(body).expect("requests serialise"),
            None => Vec::new(),
        };
        let answer = self.send(destination, method, path_and_query, body).await?;
        serde_json::from_slice(&answer).map_err(|e| PeerError::Unreachable {
            server: destination.to_string(),
            reason: format!("its answer does not parse: {e}"),
        })
    }
}

/// Reads a response body of at most `limit` bytes.
async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(format!("its answer is larger than {limit} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if body.len() + chunk.len() > limit {
            return Err(format!("its answer is larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Tells the other servers this one knows that it has started, so that what
/// they hold for it comes without waiting out their backoff.
async fn greet_peers(state: &Context) {
    let settings = state.settings.federation();
    let mut peers: Vec<ServerName> = settings
        .whitelist
        .iter()
        .map(|entry| entry.server_name.clone())
        .collect();
    match state.store.peers().await {
        Ok(rows) => peers.extend(
            rows.iter()
                .filter_map(|row| ServerName::parse(&row.server_name).ok()),
        ),
        Err(error) => tracing::warn!(%error, "the peers could not be read at start"),
    }
    peers.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    peers.dedup();
    peers.retain(|peer| allowed(&settings, &state.config.server_name, peer).is_ok());
    client::send_ephemeral(state, peers, protocol::Ephemeral::Hello);
}

/// Federation's background work: resuming the outbox, re-reading the keys
/// (another process may have rotated them) and forgetting old transaction ids.
pub fn spawn_background(state: &Context) {
    follow::spawn(state);
    let state = state.clone();
    tokio::spawn(async move {
        outbox::resume(&state).await;
        greet_peers(&state).await;
        let mut ticks = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = state.tasks.cancelled() => break,
            }
            if let Err(error) = state.federation.keys().reload(&state.store).await {
                tracing::warn!(%error, "re-reading the signing keys failed");
            }
            let before = now_millis() - 2 * signing::MAX_SKEW_MS;
            if let Err(error) = state.store.sweep_received(before).await {
                tracing::warn!(%error, "forgetting old transaction ids failed");
            }
        }
    });
}

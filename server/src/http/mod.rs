//! The HTTP surface: the `/api/v1` routes, the server-rendered pages, health and
//! metrics, and the middleware every request passes (tracing, metrics, sessions,
//! cross-site request checks, security headers).

use std::time::Duration;

use app::types::ErrorCode;
use app::{App, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, delete, get, patch, post, put};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio_util::sync::CancellationToken;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use self::extract::authenticate;
use crate::auth::session_store::DbSessionStore;
use crate::error::{ApiError, Json};
use crate::metrics;

use crate::federation;

pub mod account;
pub mod admin;
pub mod auth;
pub mod avatars;
pub mod chats;
pub mod contacts;
pub mod extract;
pub mod files;
pub mod openapi;
pub mod paging;
pub mod peers;
pub mod site;
pub mod socket;
pub mod state;

pub use extract::{AdminUser, AuthUser};
pub use state::AppState;

/// Largest JSON body an API endpoint reads. File uploads have their own limit
/// (a panel setting, checked by `files::upload`).
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "causeway_session";

/// Builds the application. `tasks` owns the background work (the expired-session
/// sweeper); cancelling it stops that work.
pub fn router(state: AppState, tasks: &CancellationToken) -> Router {
    let session_store = DbSessionStore::new(state.store.clone());
    spawn_session_sweeper(session_store.clone(), tasks.clone());
    let sessions = SessionManagerLayer::new(session_store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnSessionEnd);

    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/me/account", get(account::show))
        .route("/me/profile", patch(account::update_profile))
        .route("/me/password", put(account::change_password))
        .route("/me/address-book", put(contacts::set_personal))
        .route(
            "/me/avatar",
            put(avatars::upload)
                .delete(avatars::remove)
                .layer(DefaultBodyLimit::max(avatars::MAX_AVATAR_BYTES)),
        )
        .route("/avatars/{name}", get(avatars::serve))
        .route("/contacts", get(contacts::list))
        .route("/people/lookup", get(contacts::lookup))
        .route("/openapi.json", get(openapi::document))
        .route("/events", get(socket::connect))
        .route("/chats", get(chats::list).post(chats::create_group))
        .route("/chats/direct", post(chats::open_direct))
        .route("/chats/{id}", get(chats::show))
        .route(
            "/chats/{id}/messages",
            get(chats::history).post(chats::send),
        )
        .route(
            "/chats/{id}/messages/{seq}",
            patch(chats::edit).delete(chats::delete),
        )
        .route("/chats/{id}/read", put(chats::read))
        .route("/chats/{id}/mute", put(chats::mute))
        .route("/chats/{id}/members", post(chats::add_members))
        .route("/chats/{id}/members/{member}", delete(chats::remove_member))
        .route("/chats/{id}/members/{member}/role", put(chats::set_role))
        .route("/chats/{id}/events", get(chats::events))
        .route("/chats/{id}/search", get(chats::search))
        .route("/search", get(chats::search_everywhere))
        .route(
            "/chats/{id}/files",
            // The upload streams its body and enforces the panel's limit itself.
            post(files::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/chats/{id}/files/{file_id}", get(files::download))
        .route("/chats/{id}/files/{file_id}/preview", get(files::preview))
        .nest("/admin", admin::routes())
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY));

    let pages = Router::new()
        .leptos_routes(&state, generate_route_list(App), {
            let (options, client) = (state.leptos.clone(), state.client.clone());
            move || shell(options.clone(), client.clone())
        })
        .route_layer(from_fn_with_state(state.clone(), page_guard))
        .route_layer(from_fn(site::page_validators));

    let app = Router::new()
        .nest("/api/v1", api)
        // The nested router answers `/api/v1` itself, but not `/api/v1/`, which
        // would reach the pages' HTML 404.
        .route("/api/v1/", any(api_not_found))
        .nest(federation::protocol::PREFIX, peers::routes(&state))
        .route(
            federation::protocol::KEY_DOCUMENT_PATH,
            get(peers::key_document),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::serve))
        .route(
            "/login",
            post(auth::sign_in_form).layer(DefaultBodyLimit::max(auth::MAX_SIGN_IN_FORM)),
        )
        .merge(pages)
        .nest_service("/pkg", site::client_files(&state.leptos))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>({
            let client = state.client.clone();
            move |options| shell(options, client.clone())
        }))
        .layer(from_fn(same_origin_writes))
        .layer(sessions)
        .layer(default_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Pages send their own policy (with the hydration script's nonce); every
        // other response — JSON, errors, static files — allows nothing.
        .layer(default_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .layer(default_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(default_header(header::REFERRER_POLICY, "same-origin"))
        // No other site's window keeps a handle on ours, and no other site may
        // load our responses (photos, files, JSON) into its pages.
        .layer(default_header(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .layer(default_header(
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ))
        .layer(from_fn_with_state(state.metrics.clone(), metrics::track));
    // Only with trusted proxies configured is there a forwarded address to read.
    let trusted = state.config.trusted_networks();
    let app = if trusted.is_empty() {
        app
    } else {
        app.layer(from_fn_with_state(
            std::sync::Arc::from(trusted),
            crate::audit::forwarded_for,
        ))
    };
    app.layer(TraceLayer::new_for_http()).with_state(state)
}

/// Sets `name` to `value` on every response that does not set it itself.
fn default_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

fn spawn_session_sweeper(store: DbSessionStore, tasks: CancellationToken) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(300));
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    if let Err(error) = store.delete_expired().await {
                        tracing::warn!(%error, "deleting expired sessions failed; retrying later");
                    }
                }
                () = tasks.cancelled() => break,
            }
        }
    });
}

/// `GET /healthz` — anyone. 200 when the server can reach its database, else 503.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check: database unreachable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "The database is not reachable.",
            )
            .into_response()
        }
    }
}

async fn api_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "There is no such API endpoint.",
    )
}

async fn api_method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "This endpoint does not accept that method.",
    )
}

/// Pages need a signed-in session, except the sign-in page, which a signed-in
/// person skips; control-panel pages need an administrator. Redirects keep the
/// wanted address in `?next=`.
async fn page_guard(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let user = match authenticate(&session, &state).await {
        Ok(user) => user,
        Err(error) => return error.into_response(),
    };
    let signed_in = user.is_some();
    let path = request.uri().path();
    let admin_page = path == "/admin" || path.starts_with("/admin/");
    if admin_page && signed_in && !user.is_some_and(|u| u.user.is_admin) {
        // The control panel is for administrators; the API refuses the rest anyway.
        return Redirect::to("/").into_response();
    }
    if path == "/login" {
        if signed_in {
            return Redirect::to("/").into_response();
        }
    } else if !signed_in {
        let wanted = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let target = if wanted == "/" {
            "/login".to_owned()
        } else {
            let query = serde_urlencoded::to_string([("next", wanted)]).unwrap_or_default();
            format!("/login?{query}")
        };
        return Redirect::to(&target).into_response();
    }
    next.run(request).await
}

/// Refuses state-changing requests and WebSocket handshakes sent by another site:
/// the browser's `Sec-Fetch-Site` or `Origin` must say the request comes from this
/// origin.
/// Clients that send neither (scripts, bots, tests) are not browsers acting for
/// someone else, and pass; the session cookie is `SameSite=Lax` as a second line.
async fn same_origin_writes(request: Request, next: Next) -> Response {
    let method = request.method();
    // A WebSocket handshake is a GET that opens a channel: it gets the check too.
    let upgrade = request.headers().contains_key(header::UPGRADE);
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) && !upgrade {
        return next.run(request).await;
    }
    if from_another_site(request.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::CrossOrigin,
            "This request came from another site and was refused.",
        )
        .into_response();
    }
    next.run(request).await
}

/// Does the browser say this request comes from another site (`Sec-Fetch-Site`),
/// or name an `Origin` other than this host?
fn from_another_site(headers: &HeaderMap) -> bool {
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site" || v.as_bytes() == b"same-site");
    let foreign_origin = headers.get(header::ORIGIN).is_some_and(|origin| {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin = origin.to_str().unwrap_or("");
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        match (origin_host, host) {
            (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
            _ => true,
        }
    });
    cross_site || foreign_origin
}

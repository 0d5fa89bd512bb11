//! What every request from another server passes before a handler sees it, and
//! the routes it reaches. A refusal is a JSON error with a stable code and goes
//! to the audit log (`federation.refused`) with its reason.

use app::types::ErrorCode;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use super::protocol::{KeyDocument, MAX_BODY, RemoteUser};
use super::{Context, PeerError, keys, pinned, remote, signing};
use crate::audit::Actor;
use crate::error::{ApiError, Json, Path, Query};
use crate::state::AppState;
use crate::time::now_millis;

/// The server a verified request came from; handlers take it as an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer(pub app::types::ServerName);

/// The SHA-256 the origin signed for the body (for a streamed upload, what the
/// bytes must hash to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBody(pub String);

/// `/_causeway/v1/*`, every route behind [`verify`].
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/users/{login}", get(user))
        .route("/transactions", post(remote::receive))
        .route("/direct", post(remote::open_direct_here))
        .route("/chats/{id}/actions", post(remote::act))
        .route("/ephemeral", post(remote::ephemeral))
        .route(
            "/chats/{id}/files",
            post(crate::files::peer_upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/chats/{id}/files/{file_id}",
            get(crate::files::peer_download),
        )
        .route(
            "/chats/{id}/files/{file_id}/preview",
            get(crate::files::peer_preview),
        )
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "There is no such federation endpoint.",
            )
        })
        .route_layer(from_fn_with_state(state.clone(), verify))
}

/// `GET /.well-known/causeway/server` — anyone. This server's name and keys.
pub async fn key_document(State(state): State<AppState>) -> Json<KeyDocument> {
    Json(KeyDocument {
        server_name: state.config.server_name.clone(),
        keys: state.federation.keys().published(),
    })
}

/// Who asks about a user: one of the peer's users about to chat with them.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Asker {
    #[serde(rename = "as")]
    asker: Option<app::types::CausewayId>,
}

/// `GET /_causeway/v1/users/{login}[?as=]` — a peer. The user as Display Fields
/// let other servers see them; 404 for unknown and deactivated users alike, and
/// for users whom `as` (one of the peer's users) may not reach.
async fn user(
    State(app): State<AppState>,
    Extension(Peer(origin)): Extension<Peer>,
    Path(login): Path<String>,
    Query(Asker { asker }): Query<Asker>,
) -> Result<Json<RemoteUser>, ApiError> {
    let state = app.peers();
    let profile = super::profile_for_peer(&state, &login)
        .await?
        .ok_or_else(|| ApiError::missing("user"))?;
    if let Some(asker) = asker {
        if asker.server != origin {
            let error = ApiError::forbidden(format!("{origin} may ask only for its own users."));
            remote::audit_refusal(&state, &origin, &error).await;
            return Err(error);
        }
        super::trust::local_partner(&state, &profile.causeway_id, &asker)
            .await
            .map_err(|_| ApiError::missing("user"))?;
    }
    let user = state
        .store
        .user_by_login(profile.causeway_id.login.as_str())
        .await?
        .ok_or_else(|| ApiError::missing("user"))?;
    Ok(Json(RemoteUser {
        display_name: super::name_for_peer(&state, &user.login, &user.display_name),
        profile,
    }))
}

/// Writes a refusal (`federation.refused`) to the audit log, within the cap
/// for its reason.
pub(crate) async fn audit_capped(
    audit: &crate::audit::Audit,
    origin: &str,
    code: ErrorCode,
    actor: &Actor,
    detail: &str,
) {
    let target = (!origin.is_empty()).then_some(origin);
    audit
        .refusal(
            "federation.refused",
            code,
            origin,
            actor,
            target,
            Some(detail),
        )
        .await;
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A refused request: its error, and the reason the audit log keeps.
struct Refusal {
    status: StatusCode,
    code: ErrorCode,
    message: String,
}

fn refuse(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        code,
        message: message.into(),
    }
}

/// Checks, in order: the body's size, the signature headers, the destination,
/// the origin against the federation settings, the timestamp, the origin's key
/// (pinned fingerprint, if set), the signature, and that the transaction id is new.
pub async fn verify(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let address = crate::audit::address_in(request.extensions());
    let claimed = header(request.headers(), signing::ORIGIN)
        .map(|origin| origin.chars().take(255).collect::<String>());
    let cx = state.peers();
    match check(&cx, request).await {
        Ok((peer, request)) => {
            let mut request = request;
            request.extensions_mut().insert(peer);
            next.run(request).await
        }
        Err(refusal) => {
            tracing::info!(origin = ?claimed, reason = %refusal.message, "a federation request was refused");
            let origin = claimed.as_deref().unwrap_or_default();
            let actor = Actor {
                id: None,
                login: claimed.clone(),
                address,
            };
            audit_capped(&cx.audit, origin, refusal.code, &actor, &refusal.message).await;
            ApiError::new(refusal.status, refusal.code, refusal.message).into_response()
        }
    }
}

async fn check(state: &Context, request: Request) -> Result<(Peer, Request), Refusal> {
    let (parts, body) = request.into_parts();
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("The body is larger than {MAX_BODY} bytes."),
        )
    };
    // A file upload streams its body to the handler, which checks it against
    // the signed hash; any other body is read here (bounded) and hashed.
    let upload = parts.method == axum::http::Method::POST && parts.uri.path().ends_with("/files");
    let (body, body_sha256) = if upload {
        let declared = header(&parts.headers, signing::CONTENT_SHA256)
            .filter(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .ok_or_else(|| {
                refuse(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::BadSignature,
                    format!(
                        "A file upload needs a valid {} header.",
                        signing::CONTENT_SHA256
                    ),
                )
            })?
            .to_owned();
        (body, declared)
    } else {
        if header(&parts.headers, "content-length")
            .and_then(|length| length.parse::<u64>().ok())
            .is_some_and(|length| length > MAX_BODY as u64)
        {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| too_large())?;
        let hash = signing::body_hash(&bytes);
        (Body::from(bytes), hash)
    };

    let unsigned = |what: &str| {
        refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadSignature,
            format!("The request has no valid {what} header."),
        )
    };
    let headers = &parts.headers;
    let origin = header(headers, signing::ORIGIN)
        .and_then(|o| app::types::ServerName::parse(o).ok())
        .ok_or_else(|| unsigned(signing::ORIGIN))?;
    let destination =
        header(headers, signing::DESTINATION).ok_or_else(|| unsigned(signing::DESTINATION))?;
    let timestamp = header(headers, signing::TIMESTAMP)
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| unsigned(signing::TIMESTAMP))?;
    let transaction = header(headers, signing::TRANSACTION)
        .filter(|t| signing::valid_transaction_id(t))
        .ok_or_else(|| unsigned(signing::TRANSACTION))?;
    let key_id = header(headers, signing::KEY)
        .filter(|k| (1..=64).contains(&k.len()))
        .ok_or_else(|| unsigned(signing::KEY))?;
    let signature = header(headers, signing::SIGNATURE)
        .filter(|s| s.len() <= 128)
        .ok_or_else(|| unsigned(signing::SIGNATURE))?;

    let own = &state.config.server_name;
    if destination != own.as_str() {
        return Err(refuse(
            StatusCode::MISDIRECTED_REQUEST,
            ErrorCode::WrongDestination,
            format!(
                "This request is for {}, and this server is {own}.",
                destination.chars().take(255).collect::<String>()
            ),
        ));
    }
    let settings = state.settings.federation();
    super::allowed(&settings, own, &origin)
        .map_err(|reason| refuse(StatusCode::FORBIDDEN, ErrorCode::ServerNotAllowed, reason))?;
    let skew = (now_millis() - timestamp).abs();
    if skew > signing::MAX_SKEW_MS {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::StaleRequest,
            format!(
                "The request was signed {} s away from this server's clock; at most {} s are accepted.",
                skew / 1000,
                signing::MAX_SKEW_MS / 1000
            ),
        ));
    }

    let published =
        state
            .federation
            .peer_keys(&origin, key_id)
            .await
            .map_err(|error| match error {
                PeerError::NotAllowed(reason) => {
                    refuse(StatusCode::FORBIDDEN, ErrorCode::ServerNotAllowed, reason)
                }
                // What went wrong stays in this server's log: echoed to the
                // caller it would tell what answers inside this network.
                other => {
                    tracing::info!(%origin, error = %other, "a peer's keys could not be fetched");
                    refuse(
                        StatusCode::UNAUTHORIZED,
                        ErrorCode::BadSignature,
                        format!("The keys of {origin} could not be fetched."),
                    )
                }
            })?;
    let key = published
        .iter()
        .find(|k| k.key_id == key_id)
        .ok_or_else(|| {
            refuse(
                StatusCode::UNAUTHORIZED,
                ErrorCode::BadSignature,
                format!("{origin} publishes no key {key_id}."),
            )
        })?;
    let verifying = keys::verifying_key(key).ok_or_else(|| {
        refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadSignature,
            format!("The key {key_id} of {origin} is malformed."),
        )
    })?;
    if let Some(pin) = pinned(&settings, &origin) {
        let actual = keys::fingerprint(verifying.as_bytes());
        if actual != pin {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                ErrorCode::KeyMismatch,
                format!(
                    "The key of {origin} has the fingerprint {actual}, and the white list pins {pin}."
                ),
            ));
        }
    }
    // Inside the nested router the URI has lost its prefix; the signature
    // covers the path as sent.
    let uri = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let signed = signing::Signed {
        method: parts.method.as_str(),
        path_and_query,
        origin: origin.as_str(),
        destination,
        timestamp,
        transaction,
        body_sha256: &body_sha256,
    };
    if !signed.verify(&verifying, signature) {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadSignature,
            format!("The signature does not match the request and the key {key_id} of {origin}."),
        ));
    }
    let fresh = state
        .store
        .note_received(origin.as_str(), transaction, now_millis())
        .await
        .map_err(|error| {
            tracing::error!(%error, "recording a received transaction failed");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "The request could not be recorded; try again.",
            )
        })?;
    if !fresh {
        return Err(refuse(
            StatusCode::CONFLICT,
            ErrorCode::ReplayedTransaction,
            format!("The transaction {transaction} of {origin} was received before."),
        ));
    }
    let mut parts = parts;
    parts.extensions.insert(SignedBody(body_sha256));
    let request = Request::from_parts(parts, body);
    Ok((Peer(origin), request))
}

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

use super::state::AppState;
use crate::audit::Actor;
use crate::chat::direct_host;
use crate::chat::{self, ChatId};
use crate::error::{ApiError, Json, Path, Query};
use crate::federation::client::remote_user;
use crate::federation::copies::{apply, chat_update};
use crate::federation::inbound::{audit_capped, audit_refusal, hosted_here, peer_user};
use crate::federation::protocol::{
    ActionDone, ActionRequest, ChatUpdate, Ephemeral, EphemeralBatch, KeyDocument, MAX_BODY,
    OpenDirect, RefusedChat, RemoteUser, Transaction, TransactionResult,
};
use crate::federation::{Context, PeerError, keys, pinned, signing};
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
        .route("/transactions", post(receive))
        .route("/direct", post(open_direct_here))
        .route("/chats/{id}/actions", post(act))
        .route("/ephemeral", post(ephemeral))
        .route(
            "/chats/{id}/files",
            post(super::files::peer_upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/chats/{id}/files/{file_id}",
            get(super::files::peer_download),
        )
        .route(
            "/chats/{id}/files/{file_id}/preview",
            get(super::files::peer_preview),
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
    let profile = crate::federation::profile_for_peer(&state, &login)
        .await?
        .ok_or_else(|| ApiError::missing("user"))?;
    if let Some(asker) = asker {
        if asker.server != origin {
            let error = ApiError::forbidden(format!("{origin} may ask only for its own users."));
            audit_refusal(&state, &origin, &error).await;
            return Err(error);
        }
        crate::federation::trust::local_partner(&state, &profile.causeway_id, &asker)
            .await
            .map_err(|_| ApiError::missing("user"))?;
    }
    let user = state
        .store
        .user_by_login(profile.causeway_id.login.as_str())
        .await?
        .ok_or_else(|| ApiError::missing("user"))?;
    Ok(Json(RemoteUser {
        display_name: crate::federation::name_for_peer(&state, &user.login, &user.display_name),
        profile,
    }))
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
            cx.federation.traffic.heard(peer.0.as_str(), now_millis());
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
    crate::federation::allowed(&settings, own, &origin)
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

/// `POST /_causeway/v1/direct` — a peer, for one of its users. The direct chat
/// with a user of this server, hosted here: made if needed, and described.
pub async fn open_direct_here(
    State(app): State<AppState>,
    Extension(Peer(origin)): Extension<Peer>,
    Json(request): Json<OpenDirect>,
) -> Result<Json<ChatUpdate>, ApiError> {
    let state = app.peers();
    peer_user(&state, &origin, &request.actor).await?;
    let own = &state.config.server_name;
    if &request.with.server != own || direct_host(own, &origin) != own {
        return Err(ApiError::invalid_input(format!(
            "This server does not host the direct chat of {} and {}.",
            request.actor, request.with
        )));
    }
    // Learn the name of the person asking, if this server does not know it yet.
    if state
        .store
        .remote_profile(&request.actor.to_string())
        .await?
        .is_none()
    {
        remote_user(&state, &request.actor, None).await?;
    }
    let chat = app
        .chats
        .direct_for_peer(&request.with, &request.actor)
        .await?;
    let members = state.store.chat_members(chat.id).await?;
    // The events follow through the outbox.
    Ok(Json(
        chat_update(&state, &chat, members, Vec::new(), 0).await?,
    ))
}

/// `POST /_causeway/v1/chats/{id}/actions` — a peer, for one of its users who is
/// a member of this chat hosted here. Checked as any member's action, with the
/// rights of Federated Users.
pub async fn act(
    State(app): State<AppState>,
    Extension(Peer(origin)): Extension<Peer>,
    Path(id): Path<ChatId>,
    Json(request): Json<ActionRequest>,
) -> Result<Json<ActionDone>, ApiError> {
    let state = app.peers();
    peer_user(&state, &origin, &request.actor).await?;
    let chat = hosted_here(&state, id)
        .await?
        .ok_or_else(|| ApiError::missing("chat"))?;
    let attested = crate::federation::trust::accept_attestations(
        &state,
        &origin,
        chat.id,
        &request.actor,
        &request.action,
        &request.attestations,
    )
    .await;
    if let Err(error) = attested {
        audit_refusal(&state, &origin, &error).await;
        return Err(error);
    }
    let actor = chat::Actor::Remote(request.actor);
    match app.chats.act(&actor, chat.id, request.action).await {
        Ok(done) => Ok(Json(done)),
        Err(error) => Err(error.into()),
    }
}

/// `POST /_causeway/v1/transactions` — a peer hosting chats with members here.
/// Applies each chat's update; events already here are ignored.
pub async fn receive(
    State(app): State<AppState>,
    Extension(Peer(origin)): Extension<Peer>,
    Json(transaction): Json<Transaction>,
) -> Result<Json<TransactionResult>, ApiError> {
    let state = app.peers();
    if transaction.chats.len() > 256 {
        return Err(ApiError::invalid_input(
            "A transaction holds at most 256 chats.",
        ));
    }
    let own = &state.config.server_name;
    let mut result = TransactionResult::default();
    for update in transaction.chats {
        let ours = update.members.iter().any(|m| &m.causeway_id.server == own);
        let chat_id = update.chat_id;
        let known = state
            .store
            .chat_by_host(origin.as_str(), chat_id)
            .await?
            .is_some();
        if !ours && !known {
            // Nothing here for anyone of this server.
            continue;
        }
        match apply(&state, &origin, update).await {
            Ok(_) => result.applied += 1,
            // This chat's update will never be acceptable: say so, and let the
            // others through (a failure of this server is retried instead).
            Err(error) if error.is_refusal() => {
                tracing::warn!(%origin, chat_id, reason = %error.message, "a chat update was refused");
                audit_refusal(&state, &origin, &error).await;
                result.refused.push(RefusedChat {
                    chat_id,
                    reason: error.message,
                });
            }
            Err(error) => return Err(error),
        }
    }
    Ok(Json(result))
}

/// `POST /_causeway/v1/ephemeral` — a peer. Typing and presence, passed on to
/// the members here whom they concern.
pub async fn ephemeral(
    State(app): State<AppState>,
    Extension(Peer(origin)): Extension<Peer>,
    Json(batch): Json<EphemeralBatch>,
) -> Result<StatusCode, ApiError> {
    let state = app.peers();
    if batch.items.len() > 100 {
        return Err(ApiError::invalid_input("At most 100 items at once."));
    }
    let own = state.config.server_name.clone();
    for item in batch.items {
        match item {
            Ephemeral::Typing {
                host,
                chat_id,
                member,
            } => {
                let chat = if host == own {
                    // A member of another server types in a chat hosted here.
                    if member.server != origin {
                        continue;
                    }
                    hosted_here(&state, ChatId(chat_id)).await?
                } else if host == origin && member.server != own {
                    // A host relays its members' typing, never ours.
                    state.store.chat_by_host(host.as_str(), chat_id).await?
                } else {
                    None
                };
                let Some(chat) = chat else { continue };
                app.chats.typing(&member, chat.id, Some(&origin)).await?;
            }
            Ephemeral::Hello => state.federation.outbox.retry(&state, &origin),
            Ephemeral::Presence { member, online } => {
                if member.server != origin {
                    continue;
                }
                // Nobody here sharing a chat with them: nothing to tell,
                // nothing to remember (a peer cannot fill this server's
                // memory with people it makes up).
                if app.chats.announce_presence(&member, online).await? {
                    state.federation.note_presence(&member, online);
                }
            }
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

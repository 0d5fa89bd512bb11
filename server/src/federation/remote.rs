//! Chats that cross servers.
//!
//! A chat is hosted by the server it was created on; a direct chat between users
//! of two servers is hosted by the one whose name sorts first, so both sides
//! agree on one chat per pair without asking. Each other server with members in
//! a chat keeps a copy (`chats.host` set) that the host's outbox keeps up to
//! date; its users read from the copy and their changes (send, edit, delete,
//! read, leave) are forwarded to the host, which checks them again — its
//! Federated Users rights — and numbers and stores them before they come back
//! through the outbox.

use std::collections::HashMap;

use app::types::{CausewayId, ChatEvent, ChatKind, ServerName};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;

use super::Context;
use super::protocol::{
    Action, ActionDone, ActionRequest, ChatUpdate, Ephemeral, EphemeralBatch, OpenDirect, PREFIX,
    RemoteUser,
};
use crate::chat::{self, ChatLocation, Event};
use crate::error::ApiError;
use crate::storage::{
    Applied, ChatMemberRow, ChatRow, RemoteProfileRow, ReplicaChat, ReplicaEvent, ReplicaFile,
    ReplicaMessage, StorageError, direct_key,
};
use crate::time::now_millis;

/// The path and query of a file route of the host for `actor`.
fn file_path(host_chat_id: i64, rest: &str, actor: &CausewayId, name: Option<&str>) -> String {
    let mut query = vec![("as", actor.to_string())];
    if let Some(name) = name {
        query.push(("name", name.to_owned()));
    }
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    format!("{PREFIX}/chats/{host_chat_id}/files{rest}?{query}")
}

/// Passes an upload to a chat hosted elsewhere on to its host, streamed from
/// this server's blob store; the host's answer (its id for the file).
pub async fn upload_file(
    state: &Context,
    chat: &ChatRow,
    actor: &CausewayId,
    upload: &crate::files::Upload,
) -> Result<app::types::FileInfo, ApiError> {
    let (host, host_chat_id) =
        hosted_elsewhere(chat)?.ok_or_else(|| ApiError::internal("upload to a local chat"))?;
    let body = state
        .blobs
        .read(&upload.blob.sha256, 0, upload.blob.size)
        .await
        .map_err(|e| ApiError::internal(format!("reading an upload back: {e}")))?;
    let answer = state
        .federation
        .upload(
            &host,
            &file_path(host_chat_id, "", actor, Some(&upload.name)),
            reqwest::Body::wrap_stream(body.into_data_stream()),
            upload.blob.size,
            &upload.blob.sha256,
            &upload.media_type,
        )
        .await
        .map_err(|e| e.to_api())?;
    serde_json::from_slice(&answer)
        .map_err(|e| ApiError::internal(format!("{host} answered an upload with: {e}")))
}

/// Streams a file of a chat hosted elsewhere from its host (which checks its
/// Federated Users rights). The headers are this server's own decision, from
/// what it knows of the file (`file`, its copy's record): the host's type and
/// disposition are never passed on, a preview is only ever one of the
/// previewable image types, and no more bytes than the file has are sent.
pub async fn download_file(
    state: &Context,
    chat: &ChatRow,
    actor: &CausewayId,
    file: &crate::storage::FileRow,
    preview: Option<&str>,
    request_headers: &axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use futures_util::StreamExt;
    let (host, host_chat_id) = hosted_elsewhere(chat)?.ok_or_else(|| ApiError::missing("file"))?;
    let host_file_id = file.host_file_id.ok_or_else(|| ApiError::missing("file"))?;
    let rest = match preview {
        Some(_) => format!("/{host_file_id}/preview"),
        None => format!("/{host_file_id}"),
    };
    let mut ask = reqwest::header::HeaderMap::new();
    for name in [header::RANGE, header::IF_RANGE, header::IF_NONE_MATCH] {
        if let Some(value) = request_headers.get(&name) {
            ask.insert(name, value.clone());
        }
    }
    let response = state
        .federation
        .fetch(&host, &file_path(host_chat_id, &rest, actor, None), ask)
        .await
        .map_err(|e| e.to_api())?;
    let status = response.status();
    let headers = peer_file_headers(file, preview, status, response.headers())?;
    let limit = u64::try_from(file.size).unwrap_or(0);
    let mut sent = 0u64;
    let bytes = response.bytes_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        sent += chunk.len() as u64;
        if sent > limit {
            return Err(std::io::Error::other(
                "the host sent more bytes than the file has",
            ));
        }
        Ok(chunk)
    });
    Ok((status, headers, axum::body::Body::from_stream(bytes)).into_response())
}

/// The headers of a file streamed from its host: the host's length, range and
/// entity tag; this server's own type, disposition and protections.
fn peer_file_headers(
    file: &crate::storage::FileRow,
    preview: Option<&str>,
    status: StatusCode,
    from_host: &reqwest::header::HeaderMap,
) -> Result<axum::http::HeaderMap, ApiError> {
    use axum::http::{HeaderValue, header};
    let mut headers = axum::http::HeaderMap::new();
    for name in [
        header::CONTENT_LENGTH,
        header::CONTENT_RANGE,
        header::ETAG,
        header::ACCEPT_RANGES,
    ] {
        if let Some(value) = from_host.get(&name) {
            headers.insert(name, value.clone());
        }
    }
    let media_type = match preview {
        Some(image_type) => HeaderValue::from_str(image_type).map_err(ApiError::internal)?,
        None => HeaderValue::from_str(&file.media_type)
            .ok()
            .and_then(|declared| crate::files::headers::media_type(Some(&declared)).ok())
            .and_then(|checked| HeaderValue::from_str(&checked).ok())
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    };
    if status != StatusCode::NOT_MODIFIED {
        headers.insert(header::CONTENT_TYPE, media_type);
    }
    let disposition = if preview.is_some() {
        "inline"
    } else {
        "attachment"
    };
    headers.insert(
        header::CONTENT_DISPOSITION,
        crate::files::headers::content_disposition(disposition, &file.name),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(headers)
}

/// Writes a refusal of a verified peer's request to the audit log (capped, as
/// for refused signatures).
pub(crate) async fn audit_refusal(state: &Context, origin: &ServerName, error: &ApiError) {
    let actor = crate::audit::Actor {
        id: None,
        login: Some(origin.to_string()),
        address: None,
    };
    let detail = error.message.chars().take(500).collect::<String>();
    audit_capped(&state.audit, origin.as_str(), error.code, &actor, &detail).await;
}

/// Refuses a peer's request made for someone who is not one of its users.
pub fn own_user(origin: &ServerName, actor: &CausewayId) -> Result<(), ApiError> {
    if &actor.server != origin {
        return Err(ApiError::forbidden(format!(
            "{origin} may act only for its own users."
        )));
    }
    Ok(())
}

/// Refuses, and audits, a peer's request made for someone who is not one of
/// its users.
pub async fn peer_user(
    state: &Context,
    origin: &ServerName,
    actor: &CausewayId,
) -> Result<(), ApiError> {
    let checked = own_user(origin, actor);
    if let Err(error) = &checked {
        audit_refusal(state, origin, error).await;
    }
    checked
}

/// Chat `id`, if it is hosted here (not a copy).
pub async fn hosted_here(state: &Context, id: i64) -> Result<Option<ChatRow>, ApiError> {
    Ok(state
        .store
        .chat(id)
        .await?
        .filter(|chat| chat.host.is_none()))
}

pub use crate::chat::direct_host;

/// Looks `id` up on its server (signed), remembering their name; a clear 422
/// when they do not exist there. With `asker`, a user of this server about to
/// chat with them, their server answers as it answers that person (who may
/// not be allowed to reach `id`).
pub async fn remote_user(
    state: &Context,
    id: &CausewayId,
    asker: Option<&CausewayId>,
) -> Result<RemoteUser, ApiError> {
    let mut path = format!("{PREFIX}/users/{}", id.login);
    if let Some(asker) = asker.filter(|a| a.server == state.config.server_name) {
        let query = serde_urlencoded::to_string([("as", asker.to_string())]).unwrap_or_default();
        path = format!("{path}?{query}");
    }
    let found: Result<RemoteUser, _> = state
        .federation
        .call(&id.server, Method::GET, &path, None::<&()>)
        .await;
    let user = match found {
        Ok(user) if &user.profile.causeway_id == id => user,
        Ok(_) => {
            return Err(ApiError::internal(format!(
                "{} answered for someone else when asked about {id}",
                id.server
            )));
        }
        Err(super::PeerError::Refused { status: 404, .. }) => {
            return Err(ApiError::invalid_input(format!(
                "There is no active user {id} on {}.",
                id.server
            )));
        }
        Err(error) => return Err(error.to_api()),
    };
    remember(state, id, &user.display_name, Some(&user)).await?;
    Ok(user)
}

pub async fn remember(
    state: &Context,
    id: &CausewayId,
    display_name: &str,
    user: Option<&RemoteUser>,
) -> Result<(), ApiError> {
    let known = state.store.remote_profile(&id.to_string()).await?;
    let fields = match (user, known) {
        (Some(user), _) => {
            serde_json::to_string(&user.profile.fields).map_err(ApiError::internal)?
        }
        // Nothing new: no write (a chat's every update names its members).
        (None, Some(known)) if known.display_name == display_name => return Ok(()),
        (None, Some(known)) => known.fields,
        (None, None) => "{}".to_owned(),
    };
    state
        .store
        .put_remote_profile(&RemoteProfileRow {
            causeway_id: id.to_string(),
            display_name: display_name.chars().take(200).collect(),
            fields,
            fetched_at: now_millis(),
        })
        .await?;
    Ok(())
}

/// The host and the chat's id there, for a copy of a chat hosted elsewhere.
pub fn hosted_elsewhere(chat: &ChatRow) -> Result<Option<(ServerName, i64)>, ApiError> {
    match (&chat.host, chat.host_chat_id) {
        (Some(host), Some(id)) => Ok(Some((
            ServerName::parse(host).map_err(ApiError::internal)?,
            id,
        ))),
        _ => Ok(None),
    }
}

/// Asks the host to do `action` in its chat for `actor`, a user of this server.
pub async fn forward(
    state: &Context,
    chat: &ChatRow,
    actor: &CausewayId,
    action: Action,
) -> Result<ActionDone, ApiError> {
    let (host, host_chat_id) =
        hosted_elsewhere(chat)?.ok_or_else(|| ApiError::internal("forward of a local chat"))?;
    let attestations =
        super::trust::note_forwarded(state, &host, host_chat_id, actor, &action).await?;
    let request = ActionRequest {
        actor: actor.clone(),
        action,
        attestations,
    };
    let mut done: ActionDone = state
        .federation
        .call(
            &host,
            Method::POST,
            &format!("{PREFIX}/chats/{host_chat_id}/actions"),
            Some(&request),
        )
        .await
        .map_err(|e| e.to_api())?;
    if let Some(message) = &mut done.message {
        message.chat_id = chat.id;
        // The file as this server knows it (uploaded from here), else none
        // until the message arrives through the outbox.
        message.file = local_file(state, chat.id, message.file.as_ref()).await?;
    }
    Ok(done)
}

/// The direct chat of `me` with `with`, hosted by `with`'s server: asked of it
/// and copied here.
pub async fn open_direct(
    state: &Context,
    me: &CausewayId,
    with: &CausewayId,
) -> Result<ChatRow, ApiError> {
    super::trust::note_direct(state, &with.server, me, with).await?;
    let update: ChatUpdate = state
        .federation
        .call(
            &with.server,
            Method::POST,
            &format!("{PREFIX}/direct"),
            Some(&OpenDirect {
                actor: me.clone(),
                with: with.clone(),
            }),
        )
        .await
        .map_err(|e| e.to_api())?;
    Ok(apply(state, &with.server, update).await?.chat)
}

/// Chat `chat`, hosted here, as member servers are told it: its members
/// (`rows`, with the presence of this server's users) and `events`.
pub(crate) async fn chat_update(
    state: &Context,
    chat: &ChatRow,
    rows: Vec<ChatMemberRow>,
    events: Vec<ChatEvent>,
    last_seq: i64,
) -> Result<ChatUpdate, ApiError> {
    let own = &state.config.server_name;
    let name_of = chat::member_names(&state.store, chat.id, own.as_str()).await?;
    let mut members = Vec::with_capacity(rows.len());
    for row in rows {
        let id: CausewayId = row.member.parse().map_err(ApiError::internal)?;
        // This server's people as Display Fields let them out; others as
        // their own server told.
        let display_name = if &id.server == own {
            super::name_for_peer(state, id.login.as_str(), &name_of(&id))
        } else {
            name_of(&id)
        };
        members.push(super::protocol::MemberState {
            display_name,
            online: &id.server == own && state.hub.is_online(&row.member),
            causeway_id: id,
            role: app::types::ChatRole::parse(&row.role)
                .ok_or_else(|| ApiError::internal("stored chat role"))?,
            joined_seq: row.joined_seq,
            read_seq: row.read_seq,
        });
    }
    let attestations = super::trust::attestations_for(state, chat.id, &events).await?;
    Ok(ChatUpdate {
        attestations,
        chat_id: chat.id,
        kind: ChatKind::parse(&chat.kind).ok_or_else(|| ApiError::internal("stored chat kind"))?,
        title: chat.title.clone(),
        created_by: chat.created_by.parse().map_err(ApiError::internal)?,
        created_at: chat.created_at,
        members,
        events,
        last_seq,
    })
}

fn replica_of(own: &ServerName, host: &ServerName, update: &ChatUpdate) -> ReplicaChat {
    let members: Vec<(String, String, i64, i64)> = update
        .members
        .iter()
        .map(|m| {
            (
                m.causeway_id.to_string(),
                m.role.as_str().to_owned(),
                m.joined_seq,
                m.read_seq,
            )
        })
        .collect();
    let direct_key = match (update.kind, update.members.as_slice()) {
        (ChatKind::Direct, [a, b]) => Some(direct_key(
            &a.causeway_id.to_string(),
            &b.causeway_id.to_string(),
        )),
        _ => None,
    };
    ReplicaChat {
        host: host.to_string(),
        host_chat_id: update.chat_id,
        kind: update.kind.as_str().to_owned(),
        title: update.title.clone(),
        direct_key,
        created_by: update.created_by.to_string(),
        created_at: update.created_at,
        members,
        own_server: own.to_string(),
        events: update.events.iter().map(replica_event).collect(),
    }
}

fn replica_event(event: &ChatEvent) -> ReplicaEvent {
    ReplicaEvent {
        seq: event.seq,
        kind: event.kind.clone(),
        actor: event.actor.to_string(),
        at: event.at,
        subject: event.subject.as_ref().map(ToString::to_string),
        detail: event.role.map(|r| r.as_str().to_owned()),
        message: event.message.as_ref().map(|m| ReplicaMessage {
            seq: m.seq,
            sender: m.sender.to_string(),
            client_id: m.client_id.clone(),
            body: m.body.clone(),
            reply_to: m.reply_to,
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted_at: m.deleted_at,
            file: m.file.as_ref().map(|f| ReplicaFile {
                host_file_id: f.id,
                sha256: f.sha256.clone(),
                name: f.name.clone(),
                size: f.size,
                media_type: f.media_type.clone(),
                uploaded_by: f.uploaded_by.to_string(),
                created_at: f.created_at,
            }),
        }),
    }
}

/// Is this update from `host` acceptable? Bounded, made by one of the host's
/// people, and a direct chat has two members, one of them the host's.
fn check_update(host: &ServerName, update: &ChatUpdate) -> Result<(), ApiError> {
    if &update.created_by.server != host {
        return Err(ApiError::invalid_input(format!(
            "A chat hosted by {host} is made by one of its users."
        )));
    }
    // Two people, one of the host's; or fewer, once one has left (an account
    // deleted): the trust checks decide whether that copy may exist.
    let direct_ok = update.kind != ChatKind::Direct
        || match update.members.as_slice() {
            [a, b] => {
                a.causeway_id != b.causeway_id
                    && (&a.causeway_id.server == host || &b.causeway_id.server == host)
            }
            [_] | [] => true,
            _ => false,
        };
    if !direct_ok {
        return Err(ApiError::invalid_input(
            "A direct chat has two members, one of them on its host.",
        ));
    }
    if update.title.chars().count() > 128 || update.members.len() > 1000 {
        return Err(ApiError::invalid_input(
            "A chat has a title of at most 128 characters and at most 1000 members.",
        ));
    }
    let ordered = update.events.windows(2).all(|w| w[0].seq < w[1].seq);
    if !ordered {
        return Err(ApiError::invalid_input("Events must be in order."));
    }
    // What a host sends is held to what this server's own people may write.
    crate::validate::name_text("A chat's title", &update.title)?;
    for member in &update.members {
        crate::validate::name_text("A member's name", &member.display_name)?;
    }
    for message in update.events.iter().filter_map(|e| e.message.as_ref()) {
        crate::validate::message_text(&message.body)?;
        if let Some(file) = &message.file
            && crate::files::headers::file_name(&file.name).as_deref() != Ok(file.name.as_str())
        {
            return Err(ApiError::invalid_input(format!(
                "A file name must be as this server would store it: {:?} is not.",
                file.name
            )));
        }
    }
    Ok(())
}

/// Applies an update from `host` to the copy here and pushes what is new to
/// this server's members (and to those just removed).
pub async fn apply(
    state: &Context,
    host: &ServerName,
    update: ChatUpdate,
) -> Result<Applied, ApiError> {
    check_update(host, &update)?;
    super::trust::check_update(state, host, &update).await?;
    for member in &update.members {
        if &member.causeway_id.server == host {
            remember(state, &member.causeway_id, &member.display_name, None).await?;
        }
    }
    let applied = state
        .store
        .apply_replica(&replica_of(&state.config.server_name, host, &update))
        .await
        .map_err(|error| match error {
            StorageError::Conflict(_) => {
                ApiError::invalid_input("A direct chat of these two people exists here already.")
            }
            other => other.into(),
        })?;
    let own = &state.config.server_name;
    let local_now: Vec<String> = update
        .members
        .iter()
        .filter(|m| &m.causeway_id.server == own)
        .map(|m| m.causeway_id.to_string())
        .collect();
    let removed: Vec<&String> = applied
        .members_before
        .iter()
        .filter(|m| !local_now.contains(m))
        .collect();
    let location = ChatLocation::Copy {
        host: host.clone(),
        host_chat_id: update.chat_id,
    };
    // Presence of the host's people, as the host saw it.
    for member in update
        .members
        .iter()
        .filter(|m| &m.causeway_id.server == host)
    {
        let id = member.causeway_id.to_string();
        if state.federation.is_remote_online(&id) != member.online {
            state
                .federation
                .note_presence(&member.causeway_id, member.online);
            state.events.publish(Event::Presence {
                member: member.causeway_id.clone(),
                online: member.online,
                to: local_now.clone(),
            });
        }
    }
    // A new copy: tell the host who of this server's people in it are online.
    if applied.members_before.is_empty() {
        for member in &local_now {
            if state.hub.is_online(member)
                && let Ok(id) = member.parse::<CausewayId>()
            {
                let item = Ephemeral::Presence {
                    member: id,
                    online: true,
                };
                send_ephemeral(state, vec![host.clone()], item);
            }
        }
    }
    let by_seq: HashMap<i64, &ChatEvent> = update.events.iter().map(|e| (e.seq, e)).collect();
    for seq in &applied.new_events {
        if let Some(event) = by_seq.get(seq) {
            let mut event = (*event).clone();
            if let Some(message) = &mut event.message {
                message.chat_id = applied.chat.id;
                message.file = local_file(state, applied.chat.id, message.file.as_ref()).await?;
            }
            let to = local_now
                .iter()
                .chain(removed.iter().copied())
                .cloned()
                .collect();
            state.events.publish(Event::Chat {
                chat_id: applied.chat.id,
                location: location.clone(),
                event: Box::new(event),
                to,
            });
        }
    }
    if applied.new_events.is_empty() {
        // Read positions may have moved: tell the members here. Those of this
        // server's people are never taken from a host.
        for member in update
            .members
            .iter()
            .filter(|m| &m.causeway_id.server != own)
        {
            state.events.publish(Event::Read {
                chat_id: applied.chat.id,
                location: location.clone(),
                member: member.causeway_id.clone(),
                seq: member.read_seq,
                to: local_now.clone(),
            });
        }
    }
    Ok(applied)
}

/// A host's file (as the host describes it) as members here see it, with this
/// server's id: `None` when this server does not know it (yet).
async fn local_file(
    state: &Context,
    chat_id: i64,
    hosted: Option<&app::types::FileInfo>,
) -> Result<Option<app::types::FileInfo>, ApiError> {
    let Some(hosted) = hosted else {
        return Ok(None);
    };
    state
        .store
        .file_by_host_id(chat_id, hosted.id)
        .await?
        .map(|row| chat::file_info(&row))
        .transpose()
        .map_err(ApiError::from)
}

/// Sends `item` to each of `servers`, best effort (typing and presence are
/// worth nothing late).
pub fn send_ephemeral(state: &Context, servers: Vec<ServerName>, item: Ephemeral) {
    for server in servers {
        let state = state.clone();
        let batch = EphemeralBatch {
            items: vec![item.clone()],
        };
        tokio::spawn(async move {
            let sent: Result<Vec<u8>, _> = state
                .federation
                .send(
                    &server,
                    Method::POST,
                    &format!("{PREFIX}/ephemeral"),
                    serde_json::to_vec(&batch).expect("serialises"),
                )
                .await;
            if let Err(error) = sent {
                tracing::debug!(%server, %error, "typing or presence not delivered");
            }
        });
    }
}

/// Writes a refusal (`federation.refused`) to the audit log, within the cap
/// for its reason.
pub async fn audit_capped(
    audit: &crate::audit::Audit,
    origin: &str,
    code: app::types::ErrorCode,
    actor: &crate::audit::Actor,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(media_type: &str, name: &str) -> crate::storage::FileRow {
        crate::storage::FileRow {
            id: 1,
            chat_id: 1,
            sha256: "00".repeat(32),
            name: name.to_owned(),
            size: 10,
            media_type: media_type.to_owned(),
            uploaded_by: "moore@guest".to_owned(),
            created_at: 0,
            message_seq: Some(2),
            host_file_id: Some(9),
        }
    }

    #[test]
    fn a_host_s_file_headers_are_never_passed_on() {
        let mut evil = reqwest::header::HeaderMap::new();
        evil.insert("content-type", "text/html".parse().unwrap());
        evil.insert("content-disposition", "inline".parse().unwrap());
        evil.insert("set-cookie", "causeway_session=x".parse().unwrap());
        evil.insert("content-length", "10".parse().unwrap());
        let got = peer_file_headers(&file("image/svg+xml", "a.svg"), None, StatusCode::OK, &evil)
            .unwrap();
        assert_eq!(got["content-type"], "image/svg+xml");
        assert!(
            got["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        assert_eq!(got["x-content-type-options"], "nosniff");
        assert_eq!(
            got["content-security-policy"],
            "sandbox; default-src 'none'"
        );
        assert_eq!(got["content-length"], "10");
        assert!(got.get("set-cookie").is_none());
        // A preview is only ever the allowed image type this server decided on.
        let got = peer_file_headers(
            &file("image/png", "a.png"),
            Some("image/png"),
            StatusCode::OK,
            &evil,
        )
        .unwrap();
        assert_eq!(got["content-type"], "image/png");
        assert!(
            got["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("inline")
        );
        // A type that is no media type at all becomes a neutral one.
        let got = peer_file_headers(&file("<script>", "a"), None, StatusCode::OK, &evil).unwrap();
        assert_eq!(got["content-type"], "application/octet-stream");
    }
}

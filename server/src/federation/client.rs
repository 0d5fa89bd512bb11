//! What this server asks of other servers for its own users: looking people
//! up, opening direct chats hosted elsewhere, forwarding what they do in
//! copies to the host, passing files to and from hosts, and typing and
//! presence.
//!
//! A chat is hosted by the server it was created on; a direct chat between
//! users of two servers is hosted by the one whose name sorts first, so both
//! sides agree on one chat per pair without asking. Each other server with
//! members in a chat keeps a copy that the host's outbox keeps up to date; its
//! users read from the copy and their changes are forwarded to the host, which
//! checks them again (with the rights of Federated Users) and numbers and
//! stores them before they come back through the outbox.

use app::types::{CausewayId, ServerName};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;

use super::Context;
use super::copies::{apply, local_file};
use super::protocol::{
    Action, ActionDone, ActionRequest, ChatUpdate, Ephemeral, EphemeralBatch, OpenDirect, PREFIX,
    RemoteUser,
};
use crate::error::ApiError;
use crate::storage::{ChatRow, RemoteProfileRow};
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
        message.chat_id = chat.id.0;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(media_type: &str, name: &str) -> crate::storage::FileRow {
        crate::storage::FileRow {
            id: 1,
            chat_id: crate::chat::ChatId(1),
            sha256: "00".repeat(32),
            name: name.to_owned(),
            size: 10,
            media_type: media_type.to_owned(),
            uploaded_by: "moore@guest".to_owned(),
            created_at: 0,
            message_seq: Some(crate::chat::Seq(2)),
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

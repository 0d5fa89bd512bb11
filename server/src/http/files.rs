//! `/api/v1/chats/{id}/files…`: files sent in chats. A file is uploaded into a
//! chat first (streamed to the blob store, never whole in memory), then sent with
//! a message that names it (`SendMessage.file`). Membership is always required;
//! *Send files to chats* gates uploads and *Download files in chats* downloads.

use std::time::Duration;

use app::types::{ApiErrorBody, CausewayId, ErrorCode, FileInfo, Right};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::files::headers::{self, ByteRange};
use crate::files::{PutError, Upload};

use axum::Extension;

use crate::chat::{Actor, ChatId, file_info};
use crate::error::{ApiError, Json, Path, Query};
use crate::federation::{client, inbound};
use crate::http::chats::actor;
use crate::http::extract::AuthUser;
use crate::http::peers::{Peer, SignedBody};
use crate::http::state::AppState;
use crate::storage::{FileRow, NewFile};
use crate::time::now_millis;

/// An upload that sends nothing for this long is ended.
const UPLOAD_IDLE: Duration = Duration::from_secs(60);
/// A stored file as clients see it.
pub fn info(row: &FileRow) -> Result<FileInfo, ApiError> {
    Ok(file_info(row)?)
}

/// "12.5 MiB", for messages.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let shown = format!("{value:.1}");
    format!("{} {}", shown.trim_end_matches(".0"), UNITS[unit])
}

fn too_large(message: String) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        message,
    )
}

fn unsupported(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::UnsupportedMediaType,
        message,
    )
}

/// The announced body length: required, so that the size limit is checked
/// before a byte is read.
fn content_length(headers: &HeaderMap) -> Result<u64, ApiError> {
    let Some(value) = headers.get(header::CONTENT_LENGTH) else {
        return Err(ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            ErrorCode::LengthRequired,
            "Send the file with a Content-Length header (its size in bytes).",
        ));
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ApiError::bad_request("Content-Length is not a number of bytes."))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, 1 to 255 characters; path separators and control
    /// characters become `_`.
    name: Option<String>,
}

/// `POST /api/v1/chats/{id}/files?name=` — a member with *Send files to chats*.
/// The body is the file itself, with `Content-Length` (411 without) and its media
/// type as `Content-Type`. Refused before the body is read when it is larger than
/// the panel's limit (413) or its extension is not accepted (415); a body longer
/// than announced is cut off with 413 and nothing is kept. 201 with the file,
/// which a message then names in `file`.
#[utoipa::path(post, path = "/api/v1/chats/{id}/files", params(("id" = i64, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes; Content-Type is its media type"),
    responses((status = 201, body = FileInfo), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "files",
    extensions(("x-causeway-access" = json!("member:send_files"))))]
pub async fn upload(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ChatId>,
    Query(query): Query<UploadQuery>,
    request_headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let actor = actor(&state, &user);
    let me = actor.id().to_string();
    let (chat, _) = state.chats.member(id, &actor).await?;
    if !state.chats.may(&actor, Right::SendFiles).await? {
        return Err(state.chats.may_not_send(&actor).into());
    }
    let upload = receive(&state, query.name.as_deref(), &request_headers, body).await?;
    let host_file_id = if chat.host.is_some() {
        // A chat hosted elsewhere: the host decides and keeps the file; this
        // server remembers it under its own id.
        let hosted = client::upload_file(&state.peers(), &chat, actor.id(), &upload).await?;
        Some(hosted.id)
    } else {
        None
    };
    let row = upload.record(&state, id, &me, host_file_id).await?;
    let location = format!("/api/v1/chats/{id}/files/{}", row.id);
    let mut response = (StatusCode::CREATED, Json(info(&row)?)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

impl Upload {
    /// Records the upload as a file of chat `chat_id` sent by `uploaded_by`.
    async fn record(
        &self,
        state: &AppState,
        chat_id: ChatId,
        uploaded_by: &str,
        host_file_id: Option<i64>,
    ) -> Result<FileRow, ApiError> {
        Ok(state
            .store
            .insert_file(&NewFile {
                chat_id,
                sha256: &self.blob.sha256,
                name: &self.name,
                size: i64::try_from(self.blob.size).map_err(ApiError::internal)?,
                media_type: &self.media_type,
                uploaded_by,
                at: now_millis(),
                host_file_id,
            })
            .await?)
    }
}

/// Checks an upload's name, type and announced size against this server's
/// file settings (before reading a byte), then streams it into the blob store.
async fn receive(
    state: &AppState,
    name: Option<&str>,
    request_headers: &HeaderMap,
    body: Body,
) -> Result<Upload, ApiError> {
    let name = headers::file_name(name.unwrap_or("")).map_err(ApiError::invalid_input)?;
    let settings = state.settings.files();
    if let Some(why) = settings.refusal(&name) {
        return Err(unsupported(why));
    }
    let media_type = headers::media_type(request_headers.get(header::CONTENT_TYPE))
        .map_err(ApiError::invalid_input)?;
    let announced = content_length(request_headers)?;
    let max = u64::try_from(settings.max_file_bytes).unwrap_or(0);
    if announced > max {
        return Err(too_large(format!(
            "A file may be at most {}; this one is {}.",
            human(max),
            human(announced)
        )));
    }
    let blob = state
        .blobs
        .put(body.into_data_stream(), announced, UPLOAD_IDLE)
        .await
        .map_err(|error| match error {
            PutError::TooLarge { limit } => too_large(format!(
                "The upload sent more than the {limit} bytes its Content-Length announced."
            )),
            PutError::Body(cause) => {
                ApiError::bad_request(format!("The upload was cut short ({cause})."))
            }
            PutError::Stalled(idle) => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::Timeout,
                format!(
                    "The upload stopped: nothing arrived for {} seconds.",
                    idle.as_secs()
                ),
            ),
            PutError::Io(cause) => ApiError::internal(format!("storing an upload: {cause}")),
        })?;
    if blob.size != announced {
        return Err(ApiError::bad_request(format!(
            "The upload ended after {} of the {announced} bytes announced.",
            blob.size
        )));
    }
    Ok(Upload {
        blob,
        name,
        media_type,
    })
}

/// The user of the requesting server a peer acts for (`?as=`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerFileQuery {
    #[serde(rename = "as")]
    actor: CausewayId,
    #[serde(default)]
    name: Option<String>,
}

/// `POST /_causeway/v1/chats/{id}/files?name=&as=` — a peer, for one of its
/// users who is a member of this chat, when Federated Users may send files. The
/// body is streamed and must hash to what the peer signed.
pub async fn peer_upload(
    State(state): State<AppState>,
    Extension(Peer(origin)): Extension<Peer>,
    Extension(SignedBody(signed)): Extension<SignedBody>,
    Path(id): Path<ChatId>,
    Query(query): Query<PeerFileQuery>,
    request_headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let actor = peer_actor(&state, &origin, query.actor).await?;
    let me = actor.id().to_string();
    state.chats.member(id, &actor).await?;
    if !state.chats.may(&actor, Right::SendFiles).await? {
        return Err(state.chats.may_not_send(&actor).into());
    }
    let upload = receive(&state, query.name.as_deref(), &request_headers, body).await?;
    if upload.blob.sha256 != signed {
        return Err(ApiError::bad_request(
            "The file's bytes do not match the SHA-256 that was signed.",
        ));
    }
    let row = upload.record(&state, id, &me, None).await?;
    Ok((StatusCode::CREATED, Json(info(&row)?)).into_response())
}

/// A file `actor` may download, as an attachment or (with `preview`) as an
/// inline image: from the blob store, or for a copy of a chat hosted elsewhere
/// streamed from its host.
async fn serve(
    state: &AppState,
    actor: &Actor,
    chat_id: ChatId,
    file_id: i64,
    preview: bool,
    request_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (chat, file) = state.chats.downloadable(actor, chat_id, file_id).await?;
    if file.host_file_id.is_some() {
        let image_type = if preview {
            Some(previewable(&file)?)
        } else {
            None
        };
        return client::download_file(
            &state.peers(),
            &chat,
            actor.id(),
            &file,
            image_type.as_deref(),
            request_headers,
        )
        .await;
    }
    if preview {
        preview_of(state, &file, request_headers).await
    } else {
        respond(state, &file, request_headers, "attachment").await
    }
}

/// `GET /api/v1/chats/{id}/files/{file_id}` — a member with *Download files in
/// chats*. The file as an attachment, with `Range` support (one range; several
/// get the whole file), `ETag` (its SHA-256) and `If-None-Match`.
#[utoipa::path(get, path = "/api/v1/chats/{id}/files/{file_id}", params(("id" = i64, Path), ("file_id" = i64, Path)),
    responses(
        (status = 200, description = "The whole file", content_type = "application/octet-stream"),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = "4XX", description = "Refused: the body names the reason (`error.code`); 416 for a range outside the file", body = ApiErrorBody)),
    tag = "files",
    extensions(("x-causeway-access" = json!("member:download_files"))))]
pub async fn download(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, file_id)): Path<(ChatId, i64)>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = actor(&state, &user);
    serve(&state, &actor, id, file_id, false, &request_headers).await
}

/// `GET /api/v1/chats/{id}/files/{file_id}/preview` — a member with *Download
/// files in chats*. A PNG, JPEG, GIF or WebP image shown inline (never SVG), when
/// its content matches its type; 415 for other files.
#[utoipa::path(get, path = "/api/v1/chats/{id}/files/{file_id}/preview", params(("id" = i64, Path), ("file_id" = i64, Path)),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 206, description = "The range asked for", content_type = "image/*"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = "4XX", description = "Refused: the body names the reason (`error.code`); 415 when the file is no previewable image", body = ApiErrorBody)),
    tag = "files",
    extensions(("x-causeway-access" = json!("member:download_files"))))]
pub async fn preview(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, file_id)): Path<(ChatId, i64)>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = actor(&state, &user);
    serve(&state, &actor, id, file_id, true, &request_headers).await
}

/// The type of a file that may be previewed: PNG, JPEG, GIF or WebP, never SVG.
fn previewable(file: &FileRow) -> Result<String, ApiError> {
    let essence = app::types::files::essence(&file.media_type);
    if !FileInfo::PREVIEW_TYPES.contains(&essence.as_str()) {
        return Err(unsupported(format!(
            "There is no preview of {essence} files (only PNG, JPEG, GIF and WebP images); download the file instead."
        )));
    }
    Ok(essence)
}

/// A file as an inline preview, if it is an image of a previewable type whose
/// content matches.
async fn preview_of(
    state: &AppState,
    file: &FileRow,
    request_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let essence = previewable(file)?;
    let first = state
        .blobs
        .first_bytes(&file.sha256, 12)
        .await
        .map_err(|e| ApiError::internal(format!("blob of file {}: {e}", file.id)))?;
    if !headers::looks_like(&essence, &first) {
        return Err(unsupported(format!(
            "This file is not the {essence} image its type says; download it instead."
        )));
    }
    respond(state, file, request_headers, "inline").await
}

/// `GET /_causeway/v1/chats/{id}/files/{file_id}?as=` — a peer, for one of its
/// users who may see the file here, when Federated Users may download files.
pub async fn peer_download(
    State(state): State<AppState>,
    Extension(Peer(origin)): Extension<Peer>,
    Path((id, file_id)): Path<(ChatId, i64)>,
    Query(query): Query<PeerFileQuery>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = peer_actor(&state, &origin, query.actor).await?;
    serve(&state, &actor, id, file_id, false, &request_headers).await
}

/// `GET /_causeway/v1/chats/{id}/files/{file_id}/preview?as=` — as
/// [`peer_download`], inline, for previewable images only.
pub async fn peer_preview(
    State(state): State<AppState>,
    Extension(Peer(origin)): Extension<Peer>,
    Path((id, file_id)): Path<(ChatId, i64)>,
    Query(query): Query<PeerFileQuery>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = peer_actor(&state, &origin, query.actor).await?;
    serve(&state, &actor, id, file_id, true, &request_headers).await
}

/// `actor`, for whom `origin` asks, as the chat core knows them: one of the
/// origin's own users (anyone else is refused, and the refusal audited).
async fn peer_actor(
    state: &AppState,
    origin: &app::types::ServerName,
    actor: CausewayId,
) -> Result<Actor, ApiError> {
    inbound::peer_user(&state.peers(), origin, &actor).await?;
    Ok(Actor::Remote(actor))
}

/// Does `If-None-Match` name this entity tag (or `*`)?
fn none_match(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// The file's bytes (all, or the range asked for) with the headers every file
/// response carries: its type, `nosniff`, a sandboxing CSP, the disposition with
/// a safe name, `ETag`, `Accept-Ranges` and `Cache-Control: private`.
async fn respond(
    state: &AppState,
    file: &FileRow,
    request: &HeaderMap,
    disposition: &str,
) -> Result<Response, ApiError> {
    let size = u64::try_from(file.size).map_err(ApiError::internal)?;
    let etag = format!("\"{}\"", file.sha256);
    let mut response_headers = HeaderMap::new();
    let mut set = |name, value: HeaderValue| {
        response_headers.insert(name, value);
    };
    set(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&file.media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    set(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Should a browser render the file anyway, it runs nothing and loads nothing.
    set(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    set(
        header::CONTENT_DISPOSITION,
        headers::content_disposition(disposition, &file.name),
    );
    set(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(ApiError::internal)?,
    );
    set(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    set(header::CACHE_CONTROL, HeaderValue::from_static("private"));

    if none_match(request, &etag) {
        response_headers.remove(header::CONTENT_TYPE);
        return Ok((StatusCode::NOT_MODIFIED, response_headers).into_response());
    }
    // `If-Range` with another tag (or a date, which we do not keep): the whole file.
    let range_applies = request
        .get(header::IF_RANGE)
        .is_none_or(|tag| tag.as_bytes() == etag.as_bytes());
    let range = if range_applies {
        headers::byte_range(request.get(header::RANGE), size)
    } else {
        ByteRange::Full
    };
    let (status, start, len) = match range {
        ByteRange::Full => (StatusCode::OK, 0, size),
        ByteRange::Part { start, end } => {
            response_headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{end}/{size}"))
                    .map_err(ApiError::internal)?,
            );
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        ByteRange::Unsatisfiable => {
            let mut refused = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                ErrorCode::RangeNotSatisfiable,
                format!("The range asked for is outside the file ({size} bytes)."),
            )
            .into_response();
            refused.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).map_err(ApiError::internal)?,
            );
            return Ok(refused);
        }
    };
    response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = state
        .blobs
        .read(&file.sha256, start, len)
        .await
        .map_err(|e| ApiError::internal(format!("blob of file {}: {e}", file.id)))?;
    Ok((status, response_headers, body).into_response())
}

//! Users' photos. A photo is a PNG, JPEG or WebP of at most 512 KiB, recognised by
//! its first bytes (never by what the client claims), stored once under
//! `{files}/avatars/<sha256>.<ext>` and served with its own media type, `nosniff`
//! and a long cache lifetime (the name changes when the content does).

use app::types::ApiErrorBody;
use std::path::{Path as FsPath, PathBuf};

use app::types::{ErrorCode, MyAccount};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Json, Path};
use crate::http::account;
use crate::http::extract::AuthUser;
use crate::http::state::AppState;

/// Largest photo accepted.
pub const MAX_AVATAR_BYTES: usize = 512 * 1024;

/// The image formats accepted, by their signature.
fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("png", "image/png"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("jpg", "image/jpeg"))
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(("webp", "image/webp"))
    } else {
        None
    }
}

/// The media type of a stored photo's name, or `None` for any other name
/// (which keeps paths like `../x` out).
fn media_type(name: &str) -> Option<&'static str> {
    let (hash, ext) = name.split_once('.')?;
    if hash.len() != 64 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    match ext {
        "png" => Some("image/png"),
        "jpg" => Some("image/jpeg"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

/// The URL the UI shows a stored photo at.
pub fn url(name: &str) -> String {
    format!("/api/v1/avatars/{name}")
}

fn folder(state: &AppState) -> PathBuf {
    state.config.files_dir().join("avatars")
}

/// Writes `bytes` as `name` unless it is there already: to a temporary file first,
/// then renamed, so a reader never sees half a photo.
async fn store(dir: &FsPath, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let target = dir.join(name);
    if tokio::fs::try_exists(&target).await? {
        return Ok(());
    }
    tokio::fs::create_dir_all(dir).await?;
    let temporary = dir.join(format!(".{name}.{}", rand::random::<u64>()));
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, &target).await
}

/// `PUT /api/v1/me/avatar` — a signed-in user. The body is the image itself.
#[utoipa::path(
    put,
    path = "/api/v1/me/avatar",
    request_body(content = Vec<u8>, content_type = "image/png", description = "The image: PNG, JPEG or WebP, at most 512 KiB"),
    responses((status = 200, body = MyAccount), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "account",
    extensions(("x-causeway-access" = json!("user"))),
)]
pub async fn upload(
    State(state): State<AppState>,
    user: AuthUser,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<MyAccount>, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("A photo may be at most {} KiB.", MAX_AVATAR_BYTES / 1024),
            )
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    if body.is_empty() {
        return Err(ApiError::invalid_input("The photo is empty."));
    }
    let Some((ext, _)) = sniff(&body) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "A photo must be a PNG, JPEG or WebP image.",
        ));
    };
    let name = format!("{:x}.{ext}", Sha256::digest(&body));
    store(&folder(&state), &name, &body)
        .await
        .map_err(ApiError::internal)?;
    state.store.set_avatar(user.user.id, Some(&name)).await?;
    state
        .audit
        .record(
            &user.actor(),
            "account.avatar",
            Some(&user.user.login),
            Some("photo set"),
        )
        .await;
    Ok(Json(account::my_account(&state, &user).await?))
}

/// `DELETE /api/v1/me/avatar` — a signed-in user. Removes their photo.
#[utoipa::path(
    delete,
    path = "/api/v1/me/avatar",
    responses((status = 200, body = MyAccount), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "account",
    extensions(("x-causeway-access" = json!("user"))),
)]
pub async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<MyAccount>, ApiError> {
    state.store.set_avatar(user.user.id, None).await?;
    state
        .audit
        .record(
            &user.actor(),
            "account.avatar",
            Some(&user.user.login),
            Some("photo removed"),
        )
        .await;
    Ok(Json(account::my_account(&state, &user).await?))
}

/// `GET /api/v1/avatars/{name}` — a signed-in user. A stored photo.
#[utoipa::path(
    get,
    path = "/api/v1/avatars/{name}",
    params(("name" = String, Path, description = "The photo's stored name")),
    responses((status = 200, description = "The image", content_type = "image/*"), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "account",
    extensions(("x-causeway-access" = json!("user"))),
)]
pub async fn serve(
    State(state): State<AppState>,
    _user: AuthUser,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let media_type = media_type(&name).ok_or_else(|| ApiError::missing("photo"))?;
    let bytes = match tokio::fs::read(folder(&state).join(&name)).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::missing("photo"));
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").map(|t| t.0), Some("png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).map(|t| t.0), Some("jpg"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").map(|t| t.0), Some("webp"));
        assert_eq!(sniff(b"<svg xmlns=...>"), None);
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn only_stored_names_are_served() {
        let hash = "a".repeat(64);
        assert_eq!(media_type(&format!("{hash}.png")), Some("image/png"));
        assert_eq!(media_type(&format!("{hash}.svg")), None);
        assert_eq!(media_type("../../etc/passwd"), None);
        assert_eq!(media_type(&format!("{}.png", "A".repeat(64))), None);
        assert_eq!(media_type(&format!("{}.png", "a".repeat(63))), None);
    }
}

//! [`ApiError`]: the one error type handlers return. It renders as
//! `{"error": {"code", "message"}}` with the matching status; the cause of a 5xx
//! is logged and never sent to the client.

use app::types::ErrorCode;
use app::types::error::{ApiErrorBody, ApiErrorDetail};
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::storage::StorageError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// Seconds, sent as `Retry-After` (with 429).
    pub retry_after: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidInput,
            message,
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "Sign in to continue.",
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "There is nothing at this address.",
        )
    }

    /// A server-side failure: the cause goes to the log, the client gets a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "Something went wrong on the server. Try again; if it keeps happening, tell your administrator.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ApiErrorBody {
            error: ApiErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.max(1).to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}

impl ApiError {
    /// Is this a refusal of what was asked (it will never succeed as it is),
    /// rather than a failure here or of a dependency that a retry may cure?
    /// Told by the error's code.
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self.code,
            ErrorCode::Internal | ErrorCode::Unavailable | ErrorCode::PeerUnavailable
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    /// 404 naming what was not found ("No such user.").
    pub fn missing(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("No such {what}."),
        )
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Conflict(constraint) => Self::conflict(match constraint {
                "users_login_key" => "That login is taken.".to_owned(),
                "groups_name_key" => "A group with that name exists already.".to_owned(),
                "address_book_group_entry_key" | "address_book_personal_entry_key" => {
                    "That address book lists someone twice.".to_owned()
                }
                other => format!("That already exists ({other})."),
            }),
            StorageError::Missing(what) => Self::invalid_input(format!("No such {what}.")),
            StorageError::LastAdministrator => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::LastAdministrator,
                "This would leave the server without an active administrator. Make someone else an administrator first.",
            ),
            other => Self::internal(other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "Send the body as JSON with Content-Type: application/json.",
            ),
            JsonRejection::BytesRejection(_)
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Self::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::PayloadTooLarge,
                    "The request body is too large.",
                )
            }
            JsonRejection::JsonDataError(e) => Self::bad_request(format!(
                "The JSON does not fit this request: {}",
                e.body_text()
            )),
            JsonRejection::JsonSyntaxError(e) => {
                Self::bad_request(format!("The body is not valid JSON: {}", e.body_text()))
            }
            other => Self::bad_request(other.body_text()),
        }
    }
}

/// A JSON request body whose rejections are [`ApiError`]s, so a malformed body
/// gets the same JSON error shape as everything else. Two things are refused
/// before the body is read into `T`, the same for every endpoint and backend:
/// - anything but an object: every body of this API is one, and serde would
///   otherwise fill a struct from an array, field by field in order;
/// - a NUL character anywhere (`\u0000`): PostgreSQL cannot store it in `text`
///   and SQLite would, so it is a 422 before any database sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::from(JsonRejection::from(e)))?;
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b != b'{') {
            return Err(ApiError::bad_request(
                "The body must be a JSON object ({\"field\": …}), not an array or a single value.",
            ));
        }
        if has_nul(&bytes) {
            return Err(nul_refused());
        }
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(Self(value))
    }
}

/// `application/json`, or any `application/…+json`, as `axum::Json` accepts.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let subtype = subtype.to_ascii_lowercase();
    kind.eq_ignore_ascii_case("application") && (subtype == "json" || subtype.ends_with("+json"))
}

/// Does this JSON text hold a NUL: a raw zero byte, or the escape `\u0000`
/// (a `\\u0000` is a backslash and text, not a NUL)?
fn has_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            0 => return true,
            b'\\' => {
                if json.get(i + 1..i + 6) == Some(b"u0000") {
                    return true;
                }
                // Skip the escaped character, so `\\` never starts an escape.
                i += 2;
            }
            _ => i += 1,
        }
    }
    false
}

fn nul_refused() -> ApiError {
    ApiError::invalid_input(
        "The request contains a NUL character (U+0000), which no text on this server may hold.",
    )
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(format!(
            "The query string does not fit this request: {}",
            rejection.body_text()
        ))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!(
                "There is nothing at this address ({}).",
                rejection.body_text()
            ),
        )
    }
}

/// `axum::extract::Query` with [`ApiError`] rejections; a NUL (`%00`) anywhere
/// in the query string is refused (422), as in [`Json`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(nul_refused());
        }
        let axum::extract::Query(value) = axum::extract::Query::<T>::try_from_uri(&parts.uri)?;
        Ok(Self(value))
    }
}

impl From<WebSocketUpgradeRejection> for ApiError {
    fn from(rejection: WebSocketUpgradeRejection) -> Self {
        let status = rejection.status();
        if status == StatusCode::METHOD_NOT_ALLOWED {
            return Self::new(
                status,
                ErrorCode::MethodNotAllowed,
                "This endpoint does not accept that method.",
            );
        }
        Self::new(
            status,
            ErrorCode::BadRequest,
            format!(
                "This endpoint is a WebSocket: open it with a WebSocket handshake ({}).",
                rejection.body_text()
            ),
        )
    }
}

/// `axum`'s `WebSocketUpgrade` with [`ApiError`] rejections: a plain GET of a
/// WebSocket endpoint gets the JSON error body too.
pub struct WebSocketUpgrade(pub axum::extract::ws::WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let upgrade = axum::extract::ws::WebSocketUpgrade::from_request_parts(parts, state).await?;
        Ok(Self(upgrade))
    }
}

/// `axum::extract::Path` with [`ApiError`] rejections (a malformed id is a 404).
#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

#[cfg(test)]
mod tests {
    use super::has_nul;

    #[test]
    fn nul_characters_are_found_in_json() {
        assert!(has_nul(br#"{"a":"x\u0000y"}"#));
        assert!(has_nul(b"{\"a\":\"x\0\"}"));
        assert!(!has_nul(br#"{"a":"x\\u0000y"}"#));
        assert!(has_nul(br#"{"a":"x\\\u0000y"}"#));
        assert!(!has_nul(br#"{"a":"\u0001 \n"}"#));
        assert!(!has_nul(br#"{"a":"\"}"#));
    }
}

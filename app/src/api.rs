//! The typed API client the UI uses. In the browser it calls `/api/v1` with
//! `fetch` (gloo-net); in the server build the calls are never made (data loads
//! after hydration), so they answer with an error instead of pulling an HTTP
//! client into the server.

use serde::Serialize;
use serde::de::DeserializeOwned;

#[cfg(feature = "hydrate")]
use crate::types::ApiErrorBody;
use crate::types::{CurrentUser, ErrorCode, LoginRequest};

/// Why an API call failed, ready to show to the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub status: u16,
    pub code: ErrorCode,
    pub message: String,
}

impl ApiFailure {
    fn network(detail: impl std::fmt::Display) -> Self {
        Self {
            status: 0,
            code: ErrorCode::Unavailable,
            message: format!(
                "The server could not be reached ({detail}). Check your connection and try again."
            ),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiFailure>;

/// `POST /api/v1/auth/login`
pub async fn login(request: &LoginRequest) -> ApiResult<CurrentUser> {
    send(Method::Post, "/api/v1/auth/login", Some(request)).await
}

/// `POST /api/v1/auth/logout`
pub async fn logout() -> ApiResult<()> {
    send::<(), serde_json::Value>(Method::Post, "/api/v1/auth/logout", None)
        .await
        .map(|_| ())
}

/// `GET /api/v1/me`
pub async fn me() -> ApiResult<CurrentUser> {
    send::<(), _>(Method::Get, "/api/v1/me", None).await
}

#[derive(Debug, Clone, Copy)]
enum Method {
    Get,
    Post,
}

#[cfg(feature = "hydrate")]
async fn send<B: Serialize, T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&B>,
) -> ApiResult<T> {
    use gloo_net::http::Request;

    let builder = match method {
        Method::Get => Request::get(path),
        Method::Post => Request::post(path),
    }
    .header("Accept", "application/json");
    let request = match body {
        Some(body) => builder.json(body),
        None => builder.build(),
    }
    .map_err(ApiFailure::network)?;
    let response = request.send().await.map_err(ApiFailure::network)?;
    let status = response.status();
    let text = response.text().await.map_err(ApiFailure::network)?;
    if response.ok() {
        // An empty success body (204) reads as JSON `null`.
        let text = if text.is_empty() { "null" } else { &text };
        return serde_json::from_str(text).map_err(|e| ApiFailure {
            status,
            code: ErrorCode::Internal,
            message: format!("The server sent an answer this page does not understand: {e}"),
        });
    }
    Err(match serde_json::from_str::<ApiErrorBody>(&text) {
        Ok(body) => ApiFailure {
            status,
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ApiFailure {
            status,
            code: ErrorCode::Internal,
            message: format!("The server answered with status {status}."),
        },
    })
}

#[cfg(not(feature = "hydrate"))]
async fn send<B: Serialize, T: DeserializeOwned>(
    _method: Method,
    path: &str,
    _body: Option<&B>,
) -> ApiResult<T> {
    Err(ApiFailure::network(format!(
        "{path} is called from the browser only"
    )))
}

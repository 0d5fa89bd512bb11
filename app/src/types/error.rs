//! The JSON shape of every API error: a stable machine-readable code and a
//! message for people. `{"error": {"code": "invalid_credentials", "message": "…"}}`

use serde::{Deserialize, Serialize};

/// Stable error codes. Clients branch on these, never on messages; a code, once
/// published, keeps its meaning.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request body or query is malformed (bad JSON, unknown field, wrong type).
    BadRequest,
    /// A field is well-formed JSON but its value is not acceptable.
    InvalidInput,
    /// The body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// The request needs a signed-in session.
    Unauthenticated,
    /// The login/password pair was refused (unknown user and wrong password alike).
    InvalidCredentials,
    /// The account exists but is deactivated.
    AccountDisabled,
    /// Signed in, but without the right to do this.
    Forbidden,
    /// A state-changing request came from another site.
    CrossOrigin,
    NotFound,
    /// The thing to create exists already (e.g. a login that is taken).
    Conflict,
    MethodNotAllowed,
    /// The body's format is refused: not JSON, not an accepted image, or a file
    /// type (extension) the server does not take.
    UnsupportedMediaType,
    /// An upload without `Content-Length`.
    LengthRequired,
    /// A `Range` outside the file.
    RangeNotSatisfiable,
    /// The client stopped sending in the middle of a request body.
    Timeout,
    /// Too many attempts; wait and retry.
    TooManyRequests,
    /// The change would leave the server without an active administrator.
    LastAdministrator,
    /// Built-in groups cannot be deleted or renamed.
    BuiltinGroup,
    /// Something failed on the server; details are in the server's log only.
    Internal,
    /// A dependency (the database) is not available.
    Unavailable,
    /// Federation: this server does not exchange traffic with the other one
    /// (federation disabled, or not on the white list).
    ServerNotAllowed,
    /// Federation: a request's signature is missing, malformed or wrong.
    BadSignature,
    /// Federation: a signed request meant for another server.
    WrongDestination,
    /// Federation: a signed request whose timestamp is too far from now.
    StaleRequest,
    /// Federation: a transaction id received before.
    ReplayedTransaction,
    /// Federation: the other server's key is not the one its fingerprint pins.
    KeyMismatch,
    /// Federation: the other server could not be reached or failed.
    PeerUnavailable,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub error: ApiErrorDetail,
}

//! DTOs of sign-in, sign-out and the current user.

use serde::{Deserialize, Serialize};

use super::{CausewayId, Right};

/// `POST /api/v1/auth/login`. `login` is a bare login or a full Causeway ID.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
    #[serde(default)]
    pub remember_me: bool,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("login", &self.login)
            .field("password", &"<redacted>")
            .field("remember_me", &self.remember_me)
            .finish()
    }
}

/// The signed-in user, as `GET /api/v1/me` and a successful sign-in return it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub causeway_id: CausewayId,
    pub display_name: String,
    pub is_admin: bool,
    /// Where the user's photo is, if they set one.
    pub avatar_url: Option<String>,
    /// The user's effective rights (from all their groups). The UI hides what is
    /// not allowed; the server checks every request anyway.
    #[serde(default)]
    pub rights: Vec<Right>,
}

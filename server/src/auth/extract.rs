//! Who is asking: the session's sign-in record and the [`AuthUser`] extractor.

use app::types::{CausewayId, CurrentUser, Login};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use app::types::SecuritySettings;

use crate::audit::{Actor, client_address};
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::UserRecord;
use crate::time::now_millis;

/// What a signed-in session holds, under [`SessionAuth::KEY`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: i64,
    /// Unix ms of the sign-in, for the absolute timeout.
    pub signed_in_at: i64,
    /// Unix ms of the last request, for the idle timeout (kept to the minute).
    pub last_seen_at: i64,
    /// "Remember me" was ticked: a long-lived session with no idle timeout.
    pub remember: bool,
}

impl SessionAuth {
    pub const KEY: &'static str = "auth";

    /// Past the absolute timeout (from sign-in), or for a browser session past the
    /// idle timeout (from the last request)?
    pub fn is_expired(&self, now: i64, limits: &SecuritySettings) -> bool {
        let absolute_ms = if self.remember {
            i64::from(limits.remember_me_days) * 86_400_000
        } else {
            i64::from(limits.absolute_timeout_hours) * 3_600_000
        };
        let idle_ms = i64::from(limits.idle_timeout_minutes) * 60_000;
        now - self.signed_in_at > absolute_ms
            || (!self.remember && now - self.last_seen_at > idle_ms)
    }
}

/// `last_seen_at` is written back at most this often, so that not every request
/// rewrites the session row.
const LAST_SEEN_GRANULARITY_MS: i64 = 60_000;

/// The signed-in user of this request, checked against the session's timeouts and
/// the account's current state. Handlers that take an `AuthUser` answer 401 to
/// anyone else.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: UserRecord,
    /// The client's address, for the audit log.
    pub address: Option<String>,
    /// The id of the session the request came with (the `causeway_session`
    /// cookie's value), so what it opens can be ended with it. `None` only
    /// right after sign-in, before the new session is stored.
    pub session_id: Option<String>,
}

impl AuthUser {
    /// This user as the audit log names them.
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.user.id),
            login: Some(self.user.login.clone()),
            address: self.address.clone(),
        }
    }

    pub fn causeway_id(&self, state: &AppState) -> CausewayId {
        // Stored logins were validated when the account was created.
        let login = Login::parse(&self.user.login).expect("stored logins are valid");
        CausewayId::new(login, state.config.server_name.clone())
    }

    /// This user as `GET /api/v1/me` shows them, with their effective rights.
    pub async fn to_current_user(&self, state: &AppState) -> Result<CurrentUser, ApiError> {
        let (_, grants) = crate::rights::effective(&state.store, self.user.id).await?;
        Ok(CurrentUser {
            id: self.user.id,
            causeway_id: self.causeway_id(state),
            display_name: self.user.display_name.clone(),
            is_admin: self.user.is_admin,
            avatar_url: self.user.avatar.as_deref().map(crate::avatars::url),
            rights: grants.into_iter().map(|g| g.right).collect(),
        })
    }
}

/// A failure of the session layer, as a 500 whose cause is logged.
pub(super) fn session_error(error: tower_sessions::session::Error) -> ApiError {
    ApiError::internal(format!("session: {error}"))
}

/// The active user signed in on this session, if any. A session past its idle or
/// absolute timeout, or whose account is gone or deactivated, is ended here.
pub async fn authenticate(
    session: &Session,
    state: &AppState,
) -> Result<Option<AuthUser>, ApiError> {
    // The common case in one query: a live session whose user is active and
    // that needs no change. Everything else (no session, one to end, a
    // `last_seen_at` to rewrite) goes the general way below, through
    // tower-sessions, which reads the session and then the user.
    let now = now_millis();
    if let Some(id) = session.id()
        && let Some((row, user)) = state.store.session_with_user(&id.to_string(), now).await?
        && let Some(auth) = crate::auth::session_store::signed_in(&row.data)
        && auth.user_id == user.id
        && user.is_active
        && !auth.is_expired(now, &state.settings.security())
        && now - auth.last_seen_at < LAST_SEEN_GRANULARITY_MS
    {
        return Ok(Some(AuthUser {
            user,
            address: None,
            session_id: Some(id.to_string()),
        }));
    }
    let Some(mut auth) = session
        .get::<SessionAuth>(SessionAuth::KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let user = if auth.is_expired(now, &state.settings.security()) {
        None
    } else {
        state.store.user_by_id(auth.user_id).await?
    };
    let Some(user) = user.filter(|u| u.is_active) else {
        session.flush().await.map_err(session_error)?;
        return Ok(None);
    };
    if now - auth.last_seen_at >= LAST_SEEN_GRANULARITY_MS {
        auth.last_seen_at = now;
        session
            .insert(SessionAuth::KEY, auth)
            .await
            .map_err(session_error)?;
    }
    Ok(Some(AuthUser {
        user,
        address: None,
        session_id: session.id().map(|id| id.to_string()),
    }))
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, message)| ApiError::internal(message))?;
        let mut user = authenticate(&session, state)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        user.address = client_address(parts);
        Ok(user)
    }
}

/// A signed-in administrator. Every `/api/v1/admin` handler takes one, so none
/// can forget the check; anyone else gets 401 or 403.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if !user.user.is_admin {
            return Err(ApiError::forbidden("Only administrators may do this."));
        }
        Ok(Self(user))
    }
}

/// The client's IP address (from the connection), when known.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_address(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn limits() -> SecuritySettings {
        SecuritySettings {
            password_min_length: 10,
            lockout_threshold: 5,
            lockout_minutes: 15,
            address_threshold: 50,
            idle_timeout_minutes: 30,
            absolute_timeout_hours: 12,
            remember_me_days: 30,
        }
    }

    fn auth(remember: bool, signed_in_at: i64, last_seen_at: i64) -> SessionAuth {
        SessionAuth {
            user_id: 1,
            signed_in_at,
            last_seen_at,
            remember,
        }
    }

    #[test]
    fn browser_sessions_end_when_idle_or_old() {
        let limits = limits();
        assert!(!auth(false, 0, 0).is_expired(30 * MINUTE, &limits));
        assert!(auth(false, 0, 0).is_expired(30 * MINUTE + 1, &limits));
        // Active all along, but past the absolute limit.
        let t = 12 * 60 * MINUTE;
        assert!(!auth(false, 0, t - MINUTE).is_expired(t, &limits));
        assert!(auth(false, 0, t).is_expired(t + 1, &limits));
    }

    #[test]
    fn remembered_sessions_ignore_idleness_until_their_days_run_out() {
        let limits = limits();
        let day = 24 * 60 * MINUTE;
        assert!(!auth(true, 0, 0).is_expired(29 * day, &limits));
        assert!(auth(true, 0, 29 * day).is_expired(30 * day + 1, &limits));
    }
}

//! Who is asking: the session's sign-in record and the [`AuthUser`] extractor.

use app::types::{CausewayId, CurrentUser, Login};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tower_sessions::Session;

use crate::audit::{Actor, client_address};
use crate::auth::session_store::SessionAuth;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::storage::UserRecord;
use crate::time::now_millis;

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
            id: Some(self.user.id.0),
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
            id: self.user.id.0,
            causeway_id: self.causeway_id(state),
            display_name: self.user.display_name.clone(),
            is_admin: self.user.is_admin,
            avatar_url: self.user.avatar.as_deref().map(crate::http::avatars::url),
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

//! `/api/v1/auth/*` and `/api/v1/me`.

use app::types::{CurrentUser, ErrorCode, LoginOrId, LoginRequest};
use axum::extract::State;
use axum::http::StatusCode;
use tower_sessions::Expiry;
use tower_sessions::Session;
use tower_sessions::cookie::time::Duration;

use super::{AuthUser, SessionAuth, password};
use crate::error::{ApiError, Json};
use crate::metrics::SignInOutcome;
use crate::state::AppState;
use crate::time::now_millis;

/// Longest text accepted in the login field: a 64-character login, `@`, and a
/// server name of at most 259 characters.
const MAX_LOGIN_INPUT: usize = 64 + 1 + 259;

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidCredentials,
        "The login or password is incorrect.",
    )
}

fn session_error(error: tower_sessions::session::Error) -> ApiError {
    ApiError::internal(format!("session: {error}"))
}

/// `POST /api/v1/auth/login` — anyone. Signs in with a login (or this server's
/// Causeway ID) and password; answers the same for an unknown user and a wrong
/// password. The session id is cycled, so an id planted before sign-in is useless.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    Json(request): Json<LoginRequest>,
) -> Result<Json<CurrentUser>, ApiError> {
    if request.login.len() > MAX_LOGIN_INPUT {
        return Err(ApiError::invalid_input("The login is too long."));
    }
    if request.password.len() > password::MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid_input(format!(
            "The password is longer than {} bytes.",
            password::MAX_PASSWORD_BYTES
        )));
    }
    let login = match LoginOrId::parse(&request.login) {
        Ok(LoginOrId::Login(login)) => Some(login),
        Ok(LoginOrId::Id(id)) if id.server == state.config.server_name => Some(id.login),
        Ok(LoginOrId::Id(id)) => {
            state.metrics.sign_in(SignInOutcome::Failure);
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidCredentials,
                format!(
                    "{id} is an account of the server {}; this server is {}. Sign in on your own server.",
                    id.server, state.config.server_name
                ),
            ));
        }
        // A malformed login cannot be an account: answer as for an unknown one.
        Err(_) => None,
    };
    let user = match &login {
        Some(login) => state.store.user_by_login(login.as_str()).await?,
        None => None,
    };
    let verified = password::verify(
        request.password,
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    let user = match user {
        Some(user) if verified => user,
        _ => {
            state.metrics.sign_in(SignInOutcome::Failure);
            return Err(invalid_credentials());
        }
    };
    if !user.is_active {
        state.metrics.sign_in(SignInOutcome::Failure);
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::AccountDisabled,
            "This account is deactivated. Contact your administrator.",
        ));
    }

    let now = now_millis();
    session.cycle_id().await.map_err(session_error)?;
    session.set_expiry(Some(if request.remember_me {
        Expiry::OnInactivity(Duration::days(i64::from(
            state.config.sessions.remember_me_days,
        )))
    } else {
        Expiry::OnSessionEnd
    }));
    session
        .insert(
            SessionAuth::KEY,
            SessionAuth {
                user_id: user.id,
                signed_in_at: now,
                last_seen_at: now,
                remember: request.remember_me,
            },
        )
        .await
        .map_err(session_error)?;
    state.store.record_login(user.id, now).await?;
    state.metrics.sign_in(SignInOutcome::Success);
    tracing::info!(user = %user.login, remember_me = request.remember_me, "signed in");
    Ok(Json(AuthUser { user }.to_current_user(&state)))
}

/// `POST /api/v1/auth/logout` — anyone. Ends this session (a no-op without one).
pub async fn logout(session: Session) -> Result<StatusCode, ApiError> {
    session.flush().await.map_err(session_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me` — a signed-in user. Who the session belongs to.
pub async fn me(State(state): State<AppState>, user: AuthUser) -> Json<CurrentUser> {
    Json(user.to_current_user(&state))
}

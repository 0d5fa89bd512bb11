//! `/api/v1/me/*`: what every signed-in user may do to their own account.

use app::types::ApiErrorBody;
use app::types::{ChangePassword, ErrorCode, MyAccount, Profile, SocketEnd, UpdateOwnProfile};
use axum::extract::State;
use axum::http::StatusCode;
use tower_sessions::Session;

use crate::auth::{password, throttle};
use crate::error::{ApiError, Json};
use crate::http::auth::too_many_attempts;
use crate::http::avatars;
use crate::http::extract::AuthUser;
use crate::http::state::AppState;
use crate::rights;
use crate::time::now_millis;
use crate::validate;

pub(crate) async fn my_account(state: &AppState, user: &AuthUser) -> Result<MyAccount, ApiError> {
    let fresh = state
        .store
        .user_by_id(user.user.id)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let (groups, rights) = rights::effective(&state.store, fresh.id).await?;
    Ok(MyAccount {
        avatar_url: fresh.avatar.as_deref().map(avatars::url),
        causeway_id: user.causeway_id(state),
        profile: fresh.profile(),
        is_admin: fresh.is_admin,
        groups,
        rights,
    })
}

/// `GET /api/v1/me/account` — a signed-in user. Their profile, groups and rights.
#[utoipa::path(
    get,
    path = "/api/v1/me/account",
    responses((status = 200, body = MyAccount), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "account",
    extensions(("x-causeway-access" = json!("user"))),
)]
pub async fn show(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<MyAccount>, ApiError> {
    Ok(Json(my_account(&state, &user).await?))
}

/// `PATCH /api/v1/me/profile` — a signed-in user. Changes their own display name
/// and phone; everything else is the administrator's.
#[utoipa::path(
    patch,
    path = "/api/v1/me/profile",
    request_body = UpdateOwnProfile,
    responses((status = 200, body = MyAccount), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "account",
    extensions(("x-causeway-access" = json!("user"))),
)]
pub async fn update_profile(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<UpdateOwnProfile>,
) -> Result<Json<MyAccount>, ApiError> {
    let current = user.user.profile();
    let wanted = validate::profile(Profile {
        display_name: request
            .display_name
            .unwrap_or_else(|| current.display_name.clone()),
        phone: request.phone.unwrap_or_else(|| current.phone.clone()),
        ..current.clone()
    })?;
    if wanted != current {
        state.store.update_profile(user.user.id, &wanted).await?;
        state
            .audit
            .record(
                &user.actor(),
                "account.profile",
                Some(&user.user.login),
                None,
            )
            .await;
    }
    Ok(Json(my_account(&state, &user).await?))
}

/// `PUT /api/v1/me/password` — a signed-in user. Needs the current password; ends
/// all their other sessions and closes those sessions' WebSockets. Wrong guesses count towards the account's lock.
#[utoipa::path(
    put,
    path = "/api/v1/me/password",
    request_body = ChangePassword,
    responses((status = 204, description = "Done"), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "account",
    extensions(("x-causeway-access" = json!("user"))),
)]
pub async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    session: Session,
    Json(request): Json<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    if request.current_password.len() > password::MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid_input("The current password is too long."));
    }
    let login = user.user.login.clone();
    let now = now_millis();
    let security = state.settings.security();
    let reserved = throttle::reserve(&state.store, &security, Some(&login), None, now).await?;
    match reserved {
        crate::storage::Reservation::Locked(until) => return Err(too_many_attempts(until, now)),
        crate::storage::Reservation::Busy => return Err(crate::http::auth::busy()),
        crate::storage::Reservation::Reserved => {}
    }
    if !password::verify(
        request.current_password,
        Some(user.user.password_hash.clone()),
    )
    .await
    {
        throttle::failed(&state.store, &security, Some(&login), None, now).await?;
        state
            .audit
            .record(
                &user.actor(),
                "account.password_failure",
                Some(&login),
                None,
            )
            .await;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::InvalidCredentials,
            "The current password is incorrect.",
        ));
    }
    // Knowing the password, like a sign-in, clears the count of wrong guesses.
    throttle::succeeded(&state.store, &security, &login, None, now).await?;
    validate::new_password(
        state.settings.security().password_min_length as usize,
        &request.new_password,
    )?;
    let hash = password::hash(request.new_password)
        .await
        .map_err(ApiError::internal)?;
    let keep = session.id().map(|id| id.to_string()).unwrap_or_default();
    // The new password and the end of the other sessions, together.
    let ended = state
        .store
        .transaction(async |tx| {
            tx.set_password_hash(user.user.id, &hash).await?;
            tx.end_sessions(user.user.id, Some(&keep)).await
        })
        .await?;
    // Their sockets go with them; this one's stay open.
    state.hub.disconnect_user(
        &user.causeway_id(&state).to_string(),
        Some(&keep),
        SocketEnd::SessionEnded,
    );
    let detail_text = format!("{ended} other session(s) ended");
    state
        .audit
        .record(
            &user.actor(),
            "account.password",
            Some(&login),
            Some(&detail_text),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

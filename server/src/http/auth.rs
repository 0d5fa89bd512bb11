//! `/api/v1/auth/*` and `/api/v1/me`.

use app::pages::login::safe_next;
use app::types::ApiErrorBody;
use app::types::{CurrentUser, ErrorCode, LoginOrId, LoginRequest, SocketEnd};
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Expiry;
use tower_sessions::Session;
use tower_sessions::cookie::time::Duration;

use super::extract::session_error;
use super::extract::{AuthUser, ClientAddress};
use crate::audit::Actor;
use crate::auth::session_store::SessionAuth;
use crate::auth::{password, throttle};
use crate::error::{ApiError, Json};
use crate::http::state::AppState;
use crate::metrics::SignInOutcome;
use crate::storage::Reservation;
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

/// `POST /api/v1/auth/login` — anyone. Signs in with a login (or this server's
/// Causeway ID) and password; answers the same for an unknown user and a wrong
/// password. The session id is cycled, so an id planted before sign-in is useless.
/// Throttled per account and per client address (`auth::throttle`); every attempt
/// is in the audit log.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    request_body = LoginRequest,
    responses((status = 200, body = CurrentUser), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "auth",
    extensions(("x-causeway-access" = json!("anyone"))),
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Json(request): Json<LoginRequest>,
) -> Result<Json<CurrentUser>, ApiError> {
    let user = sign_in(&state, address, &session, request).await?;
    Ok(Json(user.to_current_user(&state).await?))
}

/// Signs in with `request` on `session`, for the JSON API and the sign-in
/// page's form alike: the checks, the throttle, the audit log and the metrics
/// are the same whichever way the attempt came.
async fn sign_in(
    state: &AppState,
    address: Option<String>,
    session: &Session,
    request: LoginRequest,
) -> Result<AuthUser, ApiError> {
    if request.login.len() > MAX_LOGIN_INPUT {
        return Err(ApiError::invalid_input("The login is too long."));
    }
    if request.password.len() > password::MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid_input(format!(
            "The password is longer than {} bytes.",
            password::MAX_PASSWORD_BYTES
        )));
    }
    let attempt = Actor {
        id: None,
        login: None,
        address: address.clone(),
    };
    let login = match LoginOrId::parse(&request.login) {
        Ok(LoginOrId::Login(login)) => Some(login),
        Ok(LoginOrId::Id(id)) if id.server == state.config.server_name => Some(id.login),
        Ok(LoginOrId::Id(id)) => {
            state.metrics.sign_in(SignInOutcome::Failure);
            state
                .audit
                .refusal(
                    "sign_in.failure",
                    ErrorCode::InvalidCredentials,
                    address.as_deref().unwrap_or_default(),
                    &attempt,
                    Some(&id.to_string()),
                    Some("account of another server"),
                )
                .await;
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
    let login = login.as_ref().map(|l| l.as_str());
    let target = login.unwrap_or("(malformed login)");
    let now = now_millis();

    let security = state.settings.security();
    let reserved =
        throttle::reserve(&state.store, &security, login, address.as_deref(), now).await?;
    if reserved == Reservation::Busy {
        state.metrics.sign_in(SignInOutcome::Failure);
        state
            .audit
            .refusal(
                "sign_in.blocked",
                ErrorCode::TooManyRequests,
                address.as_deref().unwrap_or_default(),
                &attempt,
                Some(target),
                Some("too many sign-ins at once"),
            )
            .await;
        return Err(busy());
    }
    if let Reservation::Locked(until) = reserved {
        state.metrics.sign_in(SignInOutcome::Failure);
        state
            .audit
            .refusal(
                "sign_in.blocked",
                ErrorCode::TooManyRequests,
                address.as_deref().unwrap_or_default(),
                &attempt,
                Some(target),
                Some("too many failed sign-ins"),
            )
            .await;
        return Err(too_many_attempts(until, now));
    }

    let user = match login {
        Some(login) => state.store.user_by_login(login).await?,
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
            let locked =
                throttle::failed(&state.store, &security, login, address.as_deref(), now).await?;
            let detail = if locked.is_some() {
                "wrong login or password; now locked"
            } else {
                "wrong login or password"
            };
            state
                .audit
                .refusal(
                    "sign_in.failure",
                    ErrorCode::InvalidCredentials,
                    address.as_deref().unwrap_or_default(),
                    &attempt,
                    Some(target),
                    Some(detail),
                )
                .await;
            return Err(invalid_credentials());
        }
    };
    // The right password ends the attempt as a success, whatever follows.
    let from = address.as_deref();
    throttle::succeeded(&state.store, &security, &user.login, from, now).await?;
    let actor = Actor {
        id: Some(user.id.0),
        login: Some(user.login.clone()),
        address: address.clone(),
    };
    if !user.is_active {
        state.metrics.sign_in(SignInOutcome::Failure);
        state
            .audit
            .record(
                &actor,
                "sign_in.failure",
                Some(&user.login),
                Some("account deactivated"),
            )
            .await;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::AccountDisabled,
            "This account is deactivated. Contact your administrator.",
        ));
    }

    session.cycle_id().await.map_err(session_error)?;
    session.set_expiry(Some(if request.remember_me {
        let days = state.settings.security().remember_me_days;
        Expiry::OnInactivity(Duration::days(i64::from(days)))
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
    let detail = if request.remember_me {
        "remember me"
    } else {
        "browser session"
    };
    state
        .audit
        .record(&actor, "sign_in.success", Some(&user.login), Some(detail))
        .await;
    Ok(AuthUser {
        user,
        address,
        session_id: None,
    })
}

/// Largest body `POST /login` reads. A login and a password at their limits
/// take at most about 4 KiB URL-encoded (each byte at worst `%XX`), which
/// leaves room for `next`; a larger body is refused as `payload_too_large`.
pub const MAX_SIGN_IN_FORM: usize = 8 * 1024;

/// Longest `next` the sign-in form takes (a path of this site, with its query).
const MAX_NEXT: usize = 2048;

/// The sign-in page's form as a browser posts it
/// (`application/x-www-form-urlencoded`) before the page's script has loaded.
#[derive(Deserialize)]
pub struct SignInForm {
    login: String,
    password: String,
    /// Sent, as `on`, only when Remember me is checked.
    #[serde(default)]
    remember_me: Option<String>,
    /// Where to go once signed in (`/login?next=`, carried by a hidden field).
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login` — anyone. The sign-in page's own form, for a browser that
/// has not loaded the page's script (a slow link): signs in exactly as
/// `POST /api/v1/auth/login` does, then answers `303 See Other` — to `next` (a
/// path of this site, else `/`) when signed in, else back to
/// `/login?error=<code>&login=<what was typed>&next=<next>`, where the page
/// shows a fixed message for the code. Refused input goes back to the form the
/// same way, with the code the API would give it: `invalid_input` for a field
/// too long (login, password, or a `next` over 2 KiB) or holding a NUL,
/// `payload_too_large` for a body over [`MAX_SIGN_IN_FORM`], `bad_request` for
/// a body that is not this form (a field missing, Remember me other than `on`).
/// Only a request from another site is refused outright (403, by
/// `same_origin_writes`). The refusals before the password check (input) are,
/// as on the API, neither counted nor audited.
pub async fn sign_in_form(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            let code = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ErrorCode::PayloadTooLarge
            } else {
                ErrorCode::BadRequest
            };
            return back_to_form(code, None, None);
        }
    };
    // What was typed goes back into the field, within the field's own limit.
    let typed = truncate(&form.login, MAX_LOGIN_INPUT).to_owned();
    let next = form.next.as_deref().filter(|next| next.len() <= MAX_NEXT);
    // Only a path of this site is passed on to the form.
    let kept_next = next.filter(|n| safe_next(Some(n)) == *n);
    let fields = [
        Some(&form.login),
        Some(&form.password),
        form.next.as_ref(),
        form.remember_me.as_ref(),
    ];
    // As the JSON API refuses a NUL (no database column could hold it).
    if fields
        .into_iter()
        .flatten()
        .any(|field| field.contains('\0'))
    {
        return back_to_form(ErrorCode::InvalidInput, None, kept_next);
    }
    if form.next.is_some() && next.is_none() {
        return back_to_form(ErrorCode::InvalidInput, Some(&typed), None);
    }
    let remember_me = match form.remember_me.as_deref() {
        None => false,
        Some("on") => true,
        Some(_) => return back_to_form(ErrorCode::BadRequest, Some(&typed), kept_next),
    };
    let request = LoginRequest {
        login: form.login,
        password: form.password,
        remember_me,
    };
    match sign_in(&state, address, &session, request).await {
        Ok(_) => see_other(&safe_next(next)),
        Err(error) => back_to_form(error.code, Some(&typed), kept_next),
    }
}

/// The longest start of `text` of at most `max` bytes that ends on a character.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// 303 back to the sign-in form, naming the error by its code only: the
/// page has a fixed message for it, and no text of the server's ends up in the
/// address bar or the history.
fn back_to_form(code: ErrorCode, login: Option<&str>, next: Option<&str>) -> Response {
    #[derive(Serialize)]
    struct Query<'a> {
        error: ErrorCode,
        #[serde(skip_serializing_if = "Option::is_none")]
        login: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next: Option<&'a str>,
    }
    let query = serde_urlencoded::to_string(Query {
        error: code,
        login,
        next,
    })
    .unwrap_or_default();
    see_other(&format!("/login?{query}"))
}

/// `303 See Other` to `location`, a path of this site; `/` should it not fit
/// in a header (it always does: [`safe_next`] keeps printable ASCII only and
/// a query is URL-encoded).
fn see_other(location: &str) -> Response {
    let location =
        HeaderValue::from_str(location).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// 429 with `Retry-After: 1`, when failures and attempts in flight reach a
/// threshold: nothing is locked, the caller tries again in a moment.
pub(crate) fn busy() -> ApiError {
    let mut error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyRequests,
        "Too many sign-ins at once. Try again in a moment.",
    );
    error.retry_after = Some(1);
    error
}

/// 429 with `Retry-After`, for a locked account or address.
pub(crate) fn too_many_attempts(until: i64, now: i64) -> ApiError {
    let minutes = ((until - now) + 59_999) / 60_000;
    let mut error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyRequests,
        format!(
            "Too many failed sign-ins. Try again in {minutes} minute{}, or ask your administrator to unlock the account.",
            if minutes == 1 { "" } else { "s" }
        ),
    );
    error.retry_after = Some(((until - now) + 999) / 1000);
    error
}

/// `POST /api/v1/auth/logout` — anyone. Ends this session (a no-op without one)
/// and closes the WebSockets opened with it.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    responses((status = 204, description = "Done"), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "auth",
    extensions(("x-causeway-access" = json!("anyone"))),
)]
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
) -> Result<StatusCode, ApiError> {
    let id = session.id();
    session.flush().await.map_err(session_error)?;
    if let Some(id) = id {
        state
            .hub
            .disconnect_session(&id.to_string(), SocketEnd::SessionEnded);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me` — a signed-in user. Who the session belongs to.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    responses((status = 200, body = CurrentUser), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "account",
    extensions(("x-causeway-access" = json!("user"))),
)]
pub async fn me(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<CurrentUser>, ApiError> {
    Ok(Json(user.to_current_user(&state).await?))
}

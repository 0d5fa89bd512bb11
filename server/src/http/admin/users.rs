//! Users: list, create, show, edit, password, groups, unlock, delete.

use app::types::ApiErrorBody;
use app::types::{
    CausewayId, CreateUser, IdList, Login, SetPassword, SocketEnd, UpdateUser, UserDetail,
    UserPage, UserSummary,
};
use axum::extract::State;
use axum::http::StatusCode;

use crate::auth::password;
use crate::auth::throttle::{self, account_key};
use crate::chat::{Actor, UserId};
use crate::error::{ApiError, Json, Path, Query};
use crate::http::extract::AdminUser;
use crate::http::paging::PageQuery;
use crate::http::state::AppState;
use crate::rights;
use crate::storage::{NewUser, StorageError, UserChange, UserRecord};
use crate::time::now_millis;
use crate::validate;

/// `GET /api/v1/admin/users?search=&page=&per_page=` — administrators. Users whose
/// login, names or email contain `search`, by login, `per_page` (1–100, default
/// 25) at a time.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    params(PageQuery),
    responses((status = 200, body = UserPage), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<PageQuery>,
) -> Result<Json<UserPage>, ApiError> {
    let asked = query.checked(25)?;
    let (users, total) = state
        .store
        .list_users(
            asked.search,
            i64::from(asked.per_page),
            i64::try_from(asked.offset()).unwrap_or(i64::MAX),
        )
        .await?;
    let locks = state.store.account_locks(now_millis()).await?;
    let items = users
        .into_iter()
        .map(|u| UserSummary {
            locked_until: locks
                .iter()
                .find(|(login, _)| *login == u.login)
                .map(|(_, t)| *t),
            id: u.id.0,
            login: u.login,
            display_name: u.display_name,
            email: u.email,
            is_active: u.is_active,
            is_admin: u.is_admin,
            last_login_at: u.last_login_at,
        })
        .collect();
    Ok(Json(UserPage {
        items,
        total,
        page: asked.page,
        per_page: asked.per_page,
    }))
}

/// A user of this server's Causeway ID, as chats and the hub know them.
fn local_id(state: &AppState, user: &UserRecord) -> String {
    format!("{}@{}", user.login, state.config.server_name)
}

async fn user_or_404(state: &AppState, id: UserId) -> Result<UserRecord, ApiError> {
    state
        .store
        .user_by_id(id)
        .await?
        .ok_or_else(|| ApiError::missing("user"))
}

async fn detail(state: &AppState, user: UserRecord) -> Result<UserDetail, ApiError> {
    let (groups, effective_rights) = rights::effective(&state.store, user.id).await?;
    let locked_until = state
        .store
        .throttle(&account_key(&user.login))
        .await?
        .and_then(|r| r.locked_until)
        .filter(|t| *t > now_millis());
    let login = Login::parse(&user.login).map_err(ApiError::internal)?;
    Ok(UserDetail {
        id: user.id.0,
        causeway_id: CausewayId::new(login, state.config.server_name.clone()),
        profile: user.profile(),
        login: user.login,
        is_active: user.is_active,
        is_admin: user.is_admin,
        locked_until,
        avatar_url: user.avatar.as_deref().map(crate::http::avatars::url),
        created_at: user.created_at,
        last_login_at: user.last_login_at,
        groups,
        effective_rights,
    })
}

/// Refuses ids that are not ordinary groups (built-ins have implicit members).
async fn check_group_ids(state: &AppState, ids: &[i64]) -> Result<(), ApiError> {
    let groups = state.store.list_groups().await?;
    for id in ids {
        match groups.iter().find(|g| g.id == *id) {
            None => return Err(ApiError::invalid_input(format!("There is no group {id}."))),
            Some(g) if g.builtin.is_some() => {
                return Err(ApiError::invalid_input(format!(
                    "Nobody is added to \"{}\": its members are implicit.",
                    g.name
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// `POST /api/v1/admin/users` — administrators. Creates an active account.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    request_body = CreateUser,
    responses((status = 201, body = UserDetail), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(request): Json<CreateUser>,
) -> Result<(StatusCode, Json<UserDetail>), ApiError> {
    let login = Login::parse(request.login.trim())
        .map_err(|e| ApiError::invalid_input(format!("Invalid login: {e}.")))?;
    let profile = validate::profile(request.profile)?;
    validate::new_password(
        state.settings.security().password_min_length as usize,
        &request.password,
    )?;
    let group_ids = validate::ids(request.group_ids)?;
    check_group_ids(&state, &group_ids).await?;
    let hash = password::hash(request.password)
        .await
        .map_err(ApiError::internal)?;
    let new = NewUser {
        login: login.as_str(),
        profile: &profile,
        password_hash: &hash,
        is_admin: request.is_admin,
        created_at: now_millis(),
    };
    // The account and its groups, or neither.
    let user = state
        .store
        .transaction(async |tx| {
            let user = tx.insert_user(&new).await?;
            tx.set_user_groups(user.id, &group_ids).await?;
            Ok(user)
        })
        .await?;
    let detail_text = format!(
        "display name \"{}\"{}",
        profile.display_name,
        if request.is_admin {
            ", administrator"
        } else {
            ""
        }
    );
    state
        .audit
        .record(
            &admin.actor(),
            "user.create",
            Some(&user.login),
            Some(&detail_text),
        )
        .await;
    Ok((StatusCode::CREATED, Json(detail(&state, user).await?)))
}

/// `GET /api/v1/admin/users/{id}` — administrators. The user page: profile,
/// flags, groups and effective rights with the groups they come from.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users/{id}",
    params(("id" = i64, Path, description = "The id")),
    responses((status = 200, body = UserDetail), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn show(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<UserId>,
) -> Result<Json<UserDetail>, ApiError> {
    let user = user_or_404(&state, id).await?;
    Ok(Json(detail(&state, user).await?))
}

/// `PATCH /api/v1/admin/users/{id}` — administrators. Changes what is given: the
/// profile (a whole profile: fields left out become empty) and the
/// active/administrator flags. Deactivation ends the user's sessions and closes
/// their WebSockets at once.
/// Nothing may leave the server without an active administrator.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/users/{id}",
    params(("id" = i64, Path, description = "The id")),
    request_body = UpdateUser,
    responses((status = 200, body = UserDetail), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn update(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<UserId>,
    Json(request): Json<UpdateUser>,
) -> Result<Json<UserDetail>, ApiError> {
    let user = user_or_404(&state, id).await?;
    let profile = request.profile.map(validate::profile).transpose()?;
    let actor = admin.actor();
    if let Some(active) = request.is_active
        && active != user.is_active
    {
        state
            .store
            .change_user(id, UserChange::Active(active))
            .await?;
        if !active {
            state.store.delete_user_sessions(id).await?;
            state
                .hub
                .disconnect_user(&local_id(&state, &user), None, SocketEnd::AccountDisabled);
        }
        let action = if active {
            "user.activate"
        } else {
            "user.deactivate"
        };
        state
            .audit
            .record(&actor, action, Some(&user.login), None)
            .await;
    }
    if let Some(is_admin) = request.is_admin
        && is_admin != user.is_admin
    {
        state
            .store
            .change_user(id, UserChange::Admin(is_admin))
            .await?;
        let action = if is_admin {
            "user.grant_admin"
        } else {
            "user.revoke_admin"
        };
        state
            .audit
            .record(&actor, action, Some(&user.login), None)
            .await;
    }
    if let Some(profile) = profile
        && profile != user.profile()
    {
        state.store.update_profile(id, &profile).await?;
        let changed: Vec<&str> = app::types::ProfileField::ALL
            .into_iter()
            .filter(|f| profile.get(*f) != user.profile().get(*f))
            .map(|f| f.label())
            .collect();
        let detail_text = format!("changed: {}", changed.join(", "));
        state
            .audit
            .record(
                &actor,
                "user.profile",
                Some(&user.login),
                Some(&detail_text),
            )
            .await;
    }
    let user = user_or_404(&state, id).await?;
    Ok(Json(detail(&state, user).await?))
}

/// `PUT /api/v1/admin/users/{id}/password` — administrators. Sets a new password
/// and ends all of the user's sessions, closing their WebSockets.
#[utoipa::path(
    put,
    path = "/api/v1/admin/users/{id}/password",
    params(("id" = i64, Path, description = "The id")),
    request_body = SetPassword,
    responses((status = 204, description = "Done"), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn set_password(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<UserId>,
    Json(request): Json<SetPassword>,
) -> Result<StatusCode, ApiError> {
    let user = user_or_404(&state, id).await?;
    validate::new_password(
        state.settings.security().password_min_length as usize,
        &request.password,
    )?;
    let hash = password::hash(request.password)
        .await
        .map_err(ApiError::internal)?;
    // The new password and the end of every session, together.
    state
        .store
        .transaction(async |tx| {
            tx.set_password_hash(id, &hash).await?;
            tx.end_sessions(id, None).await
        })
        .await?;
    state
        .hub
        .disconnect_user(&local_id(&state, &user), None, SocketEnd::SessionEnded);
    state
        .audit
        .record(
            &admin.actor(),
            "user.password",
            Some(&user.login),
            Some("set by an administrator; sessions ended"),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/admin/users/{id}/groups` — administrators. Replaces the user's
/// groups (ordinary groups only; no group means "Users without a group").
#[utoipa::path(
    put,
    path = "/api/v1/admin/users/{id}/groups",
    params(("id" = i64, Path, description = "The id")),
    request_body = IdList,
    responses((status = 200, body = UserDetail), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn set_groups(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<UserId>,
    Json(request): Json<IdList>,
) -> Result<Json<UserDetail>, ApiError> {
    let user = user_or_404(&state, id).await?;
    let ids = validate::ids(request.ids)?;
    check_group_ids(&state, &ids).await?;
    state.store.set_user_groups(id, &ids).await?;
    let (groups, _) = rights::effective(&state.store, id).await?;
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    let detail_text = format!("groups: {}", names.join(", "));
    state
        .audit
        .record(
            &admin.actor(),
            "user.groups",
            Some(&user.login),
            Some(&detail_text),
        )
        .await;
    Ok(Json(detail(&state, user).await?))
}

/// `POST /api/v1/admin/users/{id}/unlock` — administrators. Lifts a lock set by
/// failed sign-ins.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/unlock",
    params(("id" = i64, Path, description = "The id")),
    responses((status = 200, body = UserDetail), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn unlock(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<UserId>,
) -> Result<Json<UserDetail>, ApiError> {
    let user = user_or_404(&state, id).await?;
    throttle::unlock(&state.store, &user.login).await?;
    state
        .audit
        .record(&admin.actor(), "user.unlock", Some(&user.login), None)
        .await;
    Ok(Json(detail(&state, user).await?))
}

/// `DELETE /api/v1/admin/users/{id}` — administrators. Deletes the account and
/// everything kept for it, so a later account with the same login starts empty:
/// it leaves every chat (an owned group passes on, the others see them go), its
/// sessions end and their WebSockets close, and its memberships, personal
/// address book, entries in other books, unsent uploads and sign-in throttle
/// go. Its messages stay, under the Causeway ID it sent them with. Never the
/// last administrator.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/users/{id}",
    params(("id" = i64, Path, description = "The id")),
    responses((status = 204, description = "Done"), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn delete(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    let user = user_or_404(&state, id).await?;
    // Checked again in the deleting transaction; asked first so that the last
    // administrator does not leave their chats before being refused.
    if user.is_admin && user.is_active && state.store.count_active_admins().await? <= 1 {
        return Err(StorageError::LastAdministrator.into());
    }
    let causeway_id = local_id(&state, &user);
    // Signed out first, so they cannot act while they leave their chats.
    state.store.delete_user_sessions(id).await?;
    state
        .hub
        .disconnect_user(&causeway_id, None, SocketEnd::AccountDeleted);
    let member = CausewayId::parse(&causeway_id).map_err(ApiError::internal)?;
    let actor = Actor::Local(id, member.clone());
    state
        .chats
        .remove_everywhere(&actor, &user.display_name)
        .await?;
    if !state
        .store
        .delete_user(id, &causeway_id, &account_key(&user.login))
        .await?
    {
        return Err(ApiError::missing("user"));
    }
    state
        .audit
        .record(&admin.actor(), "user.delete", Some(&user.login), None)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

//! Groups: list, create, show, rename and rights, members, address book, delete.

use app::types::ApiErrorBody;
use app::types::{
    AddressBook, AddressBookEntry, BuiltinGroup, CausewayId, CreateGroup, ErrorCode, GroupDetail,
    GroupSummary, IdList, MemberRef, Right, UpdateGroup,
};
use axum::extract::State;
use axum::http::StatusCode;

use crate::error::{ApiError, Json, Path};
use crate::http::extract::AdminUser;
use crate::http::state::AppState;
use crate::rights::parse_rights;
use crate::storage::{EntryRow, GroupRow, MemberRow, UserId};
use crate::time::now_millis;
use crate::validate;

fn builtin_refusal(message: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, ErrorCode::BuiltinGroup, message)
}

fn rights_text(rights: &[Right]) -> String {
    if rights.is_empty() {
        "no rights".to_owned()
    } else {
        rights
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn seeing_text(on: bool) -> &'static str {
    if on {
        "members see each other"
    } else {
        "members see only the address book"
    }
}

fn sorted_rights(mut rights: Vec<Right>) -> Vec<Right> {
    rights.sort();
    rights.dedup();
    rights
}

fn member_ref(row: MemberRow) -> MemberRef {
    MemberRef {
        id: row.id.0,
        login: row.login,
        display_name: row.display_name,
    }
}

/// Stored entries back to DTOs; a row that no longer parses is skipped and logged.
pub(crate) fn entries(rows: Vec<EntryRow>) -> Vec<AddressBookEntry> {
    rows.into_iter()
        .filter_map(|row| match CausewayId::parse(&row.causeway_id) {
            Ok(causeway_id) => Some(AddressBookEntry {
                causeway_id,
                display_name: row.display_name,
                person_name: String::new(),
            }),
            Err(error) => {
                tracing::warn!(id = row.causeway_id, %error, "unparsable address-book entry skipped");
                None
            }
        })
        .collect()
}

/// Stored entries with each person's own name filled in (`person_name`): a
/// local user's display name, or the name another server last told us.
pub(crate) async fn named_entries(
    state: &AppState,
    rows: Vec<EntryRow>,
) -> Result<Vec<AddressBookEntry>, ApiError> {
    let mut list = entries(rows);
    for entry in &mut list {
        let id = &entry.causeway_id;
        entry.person_name = if id.server == state.config.server_name {
            state
                .store
                .user_by_login(id.login.as_str())
                .await?
                .map(|u| u.display_name)
                .unwrap_or_default()
        } else {
            state
                .store
                .remote_profile(&id.to_string())
                .await?
                .map(|p| p.display_name)
                .unwrap_or_default()
        };
    }
    Ok(list)
}

async fn group_or_404(state: &AppState, id: i64) -> Result<GroupRow, ApiError> {
    state
        .store
        .group_by_id(id)
        .await?
        .ok_or_else(|| ApiError::missing("group"))
}

async fn detail(state: &AppState, group: GroupRow) -> Result<GroupDetail, ApiError> {
    let rights = parse_rights(
        state
            .store
            .group_rights(group.id)
            .await?
            .iter()
            .map(String::as_str),
    );
    let members = match group.builtin() {
        Some(BuiltinGroup::NoGroup) => state.store.users_without_group().await?,
        Some(BuiltinGroup::Federated) => Vec::new(),
        None => state.store.group_members(group.id).await?,
    };
    let address_book =
        named_entries(state, state.store.group_address_book(group.id).await?).await?;
    Ok(GroupDetail {
        members_see_each_other: group.members_see_each_other,
        builtin: group.builtin(),
        id: group.id,
        name: group.name,
        rights,
        members: members.into_iter().map(member_ref).collect(),
        address_book,
    })
}

/// `GET /api/v1/admin/groups` — administrators. All groups, built-ins first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/groups",
    responses((status = 200, body = Vec<GroupSummary>), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<Vec<GroupSummary>>, ApiError> {
    let groups = state.store.list_groups().await?;
    let rights = state.store.all_group_rights().await?;
    let counts = state.store.group_member_counts().await?;
    let summaries = groups
        .into_iter()
        .map(|g| GroupSummary {
            rights: parse_rights(
                rights
                    .iter()
                    .filter(|r| r.group_id == g.id)
                    .map(|r| r.right_name.as_str()),
            ),
            member_count: if g.builtin.is_some() {
                None
            } else {
                Some(
                    counts
                        .iter()
                        .find(|(id, _)| *id == g.id)
                        .map_or(0, |(_, n)| *n),
                )
            },
            members_see_each_other: g.members_see_each_other,
            builtin: g.builtin(),
            id: g.id,
            name: g.name,
        })
        .collect();
    Ok(Json(summaries))
}

/// `POST /api/v1/admin/groups` — administrators. Creates a group with its rights.
#[utoipa::path(
    post,
    path = "/api/v1/admin/groups",
    request_body = CreateGroup,
    responses((status = 201, body = GroupDetail), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(request): Json<CreateGroup>,
) -> Result<(StatusCode, Json<GroupDetail>), ApiError> {
    let name = validate::group_name(&request.name)?;
    let rights = sorted_rights(request.rights);
    let names: Vec<&str> = rights.iter().map(|r| r.as_str()).collect();
    let group = state
        .store
        .create_group(&name, &names, request.members_see_each_other, now_millis())
        .await?;
    let detail_text = format!(
        "{}; {}",
        rights_text(&rights),
        seeing_text(request.members_see_each_other)
    );
    state
        .audit
        .record(
            &admin.actor(),
            "group.create",
            Some(&name),
            Some(&detail_text),
        )
        .await;
    Ok((StatusCode::CREATED, Json(detail(&state, group).await?)))
}

/// `GET /api/v1/admin/groups/{id}` — administrators. Rights, members (computed
/// for "Users without a group") and the group address book.
#[utoipa::path(
    get,
    path = "/api/v1/admin/groups/{id}",
    params(("id" = i64, Path, description = "The id")),
    responses((status = 200, body = GroupDetail), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn show(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<GroupDetail>, ApiError> {
    let group = group_or_404(&state, id).await?;
    Ok(Json(detail(&state, group).await?))
}

/// `PATCH /api/v1/admin/groups/{id}` — administrators. Renames (not the built-ins)
/// and/or replaces the rights (of any group, built-ins included).
#[utoipa::path(
    patch,
    path = "/api/v1/admin/groups/{id}",
    params(("id" = i64, Path, description = "The id")),
    request_body = UpdateGroup,
    responses((status = 200, body = GroupDetail), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn update(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Json(request): Json<UpdateGroup>,
) -> Result<Json<GroupDetail>, ApiError> {
    let group = group_or_404(&state, id).await?;
    let name = request
        .name
        .as_deref()
        .map(validate::group_name)
        .transpose()?;
    let name = name.filter(|n| *n != group.name);
    if name.is_some() && group.builtin.is_some() {
        return Err(builtin_refusal("Built-in groups cannot be renamed."));
    }
    let seeing = request
        .members_see_each_other
        .filter(|on| *on != group.members_see_each_other);
    if seeing == Some(true) && group.builtin() == Some(BuiltinGroup::Federated) {
        return Err(builtin_refusal(
            "Federated Users are people of other servers, not members here: they cannot be made to see each other.",
        ));
    }
    let rights = request.rights.map(sorted_rights);
    let names: Option<Vec<&str>> = rights
        .as_ref()
        .map(|r| r.iter().map(|r| r.as_str()).collect());
    state
        .store
        .update_group(id, name.as_deref(), names.as_deref(), seeing)
        .await?;
    let actor = admin.actor();
    if let Some(name) = &name {
        let detail_text = format!("renamed from \"{}\"", group.name);
        state
            .audit
            .record(&actor, "group.rename", Some(name), Some(&detail_text))
            .await;
    }
    let target = name.as_deref().unwrap_or(&group.name);
    if let Some(on) = seeing {
        state
            .audit
            .record(
                &actor,
                "group.visibility",
                Some(target),
                Some(seeing_text(on)),
            )
            .await;
    }
    if let Some(rights) = &rights {
        state
            .audit
            .record(
                &actor,
                "group.rights",
                Some(target),
                Some(&rights_text(rights)),
            )
            .await;
    }
    let group = group_or_404(&state, id).await?;
    Ok(Json(detail(&state, group).await?))
}

/// `DELETE /api/v1/admin/groups/{id}` — administrators. Built-ins cannot be deleted;
/// members of a deleted group who are in no other group fall back to "Users
/// without a group".
#[utoipa::path(
    delete,
    path = "/api/v1/admin/groups/{id}",
    params(("id" = i64, Path, description = "The id")),
    responses((status = 204, description = "Done"), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn delete(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let group = group_or_404(&state, id).await?;
    if group.builtin.is_some() {
        return Err(builtin_refusal("Built-in groups cannot be deleted."));
    }
    if !state.store.delete_group(id).await? {
        return Err(ApiError::missing("group"));
    }
    state
        .audit
        .record(&admin.actor(), "group.delete", Some(&group.name), None)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/admin/groups/{id}/members` — administrators. Replaces the members
/// of an ordinary group.
#[utoipa::path(
    put,
    path = "/api/v1/admin/groups/{id}/members",
    params(("id" = i64, Path, description = "The id")),
    request_body = IdList,
    responses((status = 200, body = GroupDetail), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn set_members(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Json(request): Json<IdList>,
) -> Result<Json<GroupDetail>, ApiError> {
    let group = group_or_404(&state, id).await?;
    if group.builtin.is_some() {
        return Err(builtin_refusal(
            "The members of a built-in group are implicit and cannot be edited.",
        ));
    }
    let ids: Vec<UserId> = validate::ids(request.ids)?
        .into_iter()
        .map(UserId)
        .collect();
    state.store.set_group_members(id, &ids).await?;
    let detail_text = format!("{} member(s)", ids.len());
    state
        .audit
        .record(
            &admin.actor(),
            "group.members",
            Some(&group.name),
            Some(&detail_text),
        )
        .await;
    Ok(Json(detail(&state, group).await?))
}

/// `PUT /api/v1/admin/groups/{id}/address-book` — administrators. Replaces the
/// group address book (Customize): entries in order, local or of other servers.
#[utoipa::path(
    put,
    path = "/api/v1/admin/groups/{id}/address-book",
    params(("id" = i64, Path, description = "The id")),
    request_body = AddressBook,
    responses((status = 200, body = GroupDetail), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn set_address_book(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Json(request): Json<AddressBook>,
) -> Result<Json<GroupDetail>, ApiError> {
    let group = group_or_404(&state, id).await?;
    let entries = crate::http::contacts::checked_address_book(&state, request.entries).await?;
    state.store.set_group_address_book(id, &entries).await?;
    let listed: Vec<String> = entries.iter().map(|e| e.causeway_id.to_string()).collect();
    let detail_text = format!("entries: {}", listed.join(", "));
    state
        .audit
        .record(
            &admin.actor(),
            "group.address_book",
            Some(&group.name),
            Some(&detail_text),
        )
        .await;
    Ok(Json(detail(&state, group).await?))
}

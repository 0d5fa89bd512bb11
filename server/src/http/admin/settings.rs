//! Users → Settings (security, chats, files, Display Fields) and the Federation page.

use app::types::ApiErrorBody;
use app::types::{
    ChatSettings, DisplayFields, FederationSettings, FederationStatus, FileSettings, PeerStatus,
    SecuritySettings, ServerName,
};
use axum::extract::State;

use crate::error::{ApiError, Json};
use crate::http::extract::AdminUser;
use crate::http::state::AppState;

fn refuse(problems: Vec<String>) -> Result<(), ApiError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_input(problems.join(" ")))
    }
}

/// `GET /api/v1/admin/settings/security` — administrators.
#[utoipa::path(
    get,
    path = "/api/v1/admin/settings/security",
    responses((status = 200, body = SecuritySettings), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn security(State(state): State<AppState>, _admin: AdminUser) -> Json<SecuritySettings> {
    Json(state.settings.security())
}

/// `PUT /api/v1/admin/settings/security` — administrators. Password minimum,
/// sign-in lock-out, session lifetimes; in force from the next request.
#[utoipa::path(
    put,
    path = "/api/v1/admin/settings/security",
    request_body = SecuritySettings,
    responses((status = 200, body = SecuritySettings), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn set_security(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(request): Json<SecuritySettings>,
) -> Result<Json<SecuritySettings>, ApiError> {
    refuse(request.problems())?;
    state.settings.set_security(request.clone()).await?;
    let detail_text = serde_json::to_string(&request).map_err(ApiError::internal)?;
    state
        .audit
        .record(
            &admin.actor(),
            "settings.security",
            None,
            Some(&detail_text),
        )
        .await;
    Ok(Json(request))
}

/// `GET /api/v1/admin/settings/display-fields` — administrators.
#[utoipa::path(
    get,
    path = "/api/v1/admin/settings/display-fields",
    responses((status = 200, body = DisplayFields), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn display_fields(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Json<DisplayFields> {
    Json(state.settings.display_fields())
}

/// `PUT /api/v1/admin/settings/display-fields` — administrators. Which profile
/// fields of this server's users federated servers may see.
#[utoipa::path(
    put,
    path = "/api/v1/admin/settings/display-fields",
    request_body = DisplayFields,
    responses((status = 200, body = DisplayFields), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn set_display_fields(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(mut request): Json<DisplayFields>,
) -> Result<Json<DisplayFields>, ApiError> {
    request.fields.sort();
    request.fields.dedup();
    state.settings.set_display_fields(request.clone()).await?;
    let labels: Vec<&str> = request.fields.iter().map(|f| f.label()).collect();
    let detail_text = if labels.is_empty() {
        "none".to_owned()
    } else {
        labels.join(", ")
    };
    state
        .audit
        .record(
            &admin.actor(),
            "settings.display_fields",
            None,
            Some(&detail_text),
        )
        .await;
    Ok(Json(request))
}

/// `GET /api/v1/admin/federation` — administrators.
#[utoipa::path(
    get,
    path = "/api/v1/admin/federation",
    responses((status = 200, body = FederationSettings), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn federation(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Json<FederationSettings> {
    Json(state.settings.federation())
}

/// `PUT /api/v1/admin/federation` — administrators. The mode and the white list
/// (Apply); in force from the next request, no restart.
#[utoipa::path(
    put,
    path = "/api/v1/admin/federation",
    request_body = FederationSettings,
    responses((status = 200, body = FederationSettings), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn set_federation(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(request): Json<FederationSettings>,
) -> Result<Json<FederationSettings>, ApiError> {
    refuse(request.problems())?;
    state.settings.set_federation(request.clone()).await?;
    state.federation.outbox.wake_all();
    let servers: Vec<String> = request
        .whitelist
        .iter()
        .map(|e| e.server_name.to_string())
        .collect();
    let detail_text = format!(
        "{}; white list: {}",
        request.mode.label(),
        if servers.is_empty() {
            "empty".to_owned()
        } else {
            servers.join(", ")
        }
    );
    state
        .audit
        .record(
            &admin.actor(),
            "settings.federation",
            None,
            Some(&detail_text),
        )
        .await;
    Ok(Json(request))
}

/// `GET /api/v1/admin/federation/status` — administrators. This server's key
/// and, for each other server it knows of, whether delivery works and how much
/// waits.
#[utoipa::path(
    get,
    path = "/api/v1/admin/federation/status",
    responses((status = 200, body = FederationStatus), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn federation_status(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<FederationStatus>, ApiError> {
    let settings = state.settings.federation();
    let queues = state.store.queue_lengths().await?;
    let rows = state.store.peers().await?;
    let mut names: Vec<String> = settings
        .whitelist
        .iter()
        .map(|e| e.server_name.to_string())
        .chain(rows.iter().map(|r| r.server_name.clone()))
        .chain(queues.iter().map(|(d, _)| d.clone()))
        .chain(state.federation.traffic.servers())
        .collect();
    names.sort();
    names.dedup();
    let own = &state.config.server_name;
    let mut peers = Vec::with_capacity(names.len());
    for name in names {
        let Ok(server_name) = ServerName::parse(&name) else {
            continue;
        };
        let row = rows.iter().find(|r| r.server_name == name);
        let seen = state.federation.traffic.seen(&name);
        // The newest of what the outbox noted (kept in the database) and what
        // this process saw of every other request.
        let last_success_at = row.and_then(|r| r.last_success_at).max(seen.answered_at);
        let stored_error = row.and_then(|r| Some((r.last_error_at?, r.last_error.clone()?)));
        let (last_error_at, last_error) = match (stored_error, seen.failed) {
            (Some(stored), Some(live)) => Some(if live.0 >= stored.0 { live } else { stored }),
            (one, other) => one.or(other),
        }
        .unzip();
        let reachable = match (last_success_at, last_error_at) {
            (None, None) => None,
            (success, error) => Some(success > error),
        };
        peers.push(PeerStatus {
            allowed: crate::federation::allowed(&settings, own, &server_name).is_ok(),
            reachable,
            queue: queues
                .iter()
                .find(|(d, _)| *d == name)
                .map_or(0, |(_, n)| *n),
            failures: row.map_or(0, |r| r.failures),
            last_error,
            last_error_at,
            last_success_at,
            last_heard_at: seen.heard_at,
            server_name,
        });
    }
    let keys = state.federation.keys();
    Ok(Json(FederationStatus {
        server_name: own.clone(),
        key_id: keys.key_id(),
        key_fingerprint: keys.fingerprint(),
        peers,
    }))
}

/// `GET /api/v1/admin/settings/chats` — administrators.
#[utoipa::path(
    get,
    path = "/api/v1/admin/settings/chats",
    responses((status = 200, body = ChatSettings), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn chats(State(state): State<AppState>, _admin: AdminUser) -> Json<ChatSettings> {
    Json(state.settings.chats())
}

/// `PUT /api/v1/admin/settings/chats` — administrators. The longest message and
/// how long people may edit or delete their own messages; in force at once.
#[utoipa::path(
    put,
    path = "/api/v1/admin/settings/chats",
    request_body = ChatSettings,
    responses((status = 200, body = ChatSettings), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn set_chats(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(request): Json<ChatSettings>,
) -> Result<Json<ChatSettings>, ApiError> {
    refuse(request.problems())?;
    state.settings.set_chats(request.clone()).await?;
    let detail_text = format!(
        "messages up to {} characters; edits and deletions for {} hours",
        request.max_message_chars, request.edit_window_hours
    );
    state
        .audit
        .record(&admin.actor(), "settings.chats", None, Some(&detail_text))
        .await;
    Ok(Json(request))
}

/// `GET /api/v1/admin/settings/files` — administrators.
#[utoipa::path(
    get,
    path = "/api/v1/admin/settings/files",
    responses((status = 200, body = FileSettings), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn files(State(state): State<AppState>, _admin: AdminUser) -> Json<FileSettings> {
    Json(state.settings.files())
}

/// `PUT /api/v1/admin/settings/files` — administrators. The largest file and the
/// blocked and allowed extensions; in force for the next upload.
#[utoipa::path(
    put,
    path = "/api/v1/admin/settings/files",
    request_body = FileSettings,
    responses((status = 200, body = FileSettings), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn set_files(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(mut request): Json<FileSettings>,
) -> Result<Json<FileSettings>, ApiError> {
    refuse(request.problems())?;
    request.normalize();
    state.settings.set_files(request.clone()).await?;
    let list = |extensions: &[String], empty: &str| {
        if extensions.is_empty() {
            empty.to_owned()
        } else {
            extensions.join(", ")
        }
    };
    let detail_text = format!(
        "files up to {} bytes; blocked: {}; allowed: {}",
        request.max_file_bytes,
        list(&request.blocked_extensions, "none"),
        list(&request.allowed_extensions, "any not blocked"),
    );
    state
        .audit
        .record(&admin.actor(), "settings.files", None, Some(&detail_text))
        .await;
    Ok(Json(request))
}

//! Browsing the audit log.

use app::types::ApiErrorBody;
use app::types::AuditPage;
use axum::extract::State;
use serde::Deserialize;

use crate::error::{ApiError, Json, Query};
use crate::http::extract::AdminUser;
use crate::http::state::AppState;
use crate::storage::AuditFilter;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    before: Option<i64>,
    action: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/admin/audit?action=&q=&before=&limit=` — administrators. Newest
/// first; `action` matches a prefix (`sign_in.`, `user.create`), `q` searches
/// actor, target, detail and address; `before` pages back.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid_input("limit is from 1 to 200."));
    }
    let too_long = |s: &Option<String>| s.as_ref().is_some_and(|s| s.chars().count() > 100);
    if too_long(&query.action) || too_long(&query.q) {
        return Err(ApiError::invalid_input(
            "Filters are at most 100 characters.",
        ));
    }
    for text in [&query.action, &query.q].into_iter().flatten() {
        crate::validate::line_text("A filter", text)?;
    }
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let items = state
        .store
        .list_audit(&AuditFilter {
            before: query.before,
            action: nonempty(query.action),
            text: nonempty(query.q),
            limit,
        })
        .await?;
    let next_before = if items.len() as i64 == limit {
        items.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Json(AuditPage { items, next_before }))
}

//! `GET /api/v1/admin/setup`: how far a new server's set-up has come, for the
//! checklist an administrator sees instead of an empty chat list.

use app::types::{ApiErrorBody, FederationMode, SetupStatus};
use axum::extract::State;

use crate::error::{ApiError, Json};
use crate::http::extract::AdminUser;
use crate::http::state::AppState;

/// `GET /api/v1/admin/setup` — administrators. People besides the
/// administrators, groups of this server's own, and whether federation is on.
#[utoipa::path(
    get,
    path = "/api/v1/admin/setup",
    responses((status = 200, body = SetupStatus), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn status(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<SetupStatus>, ApiError> {
    let (people, groups) = state.store.setup_counts().await?;
    Ok(Json(SetupStatus {
        people,
        groups,
        federation: state.settings.federation().mode != FederationMode::Disabled,
    }))
}

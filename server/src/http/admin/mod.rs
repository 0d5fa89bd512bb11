//! `/api/v1/admin/*`: the control panel's API. Every handler takes an
//! [`AdminUser`](crate::http::extract::AdminUser), so only administrators get through, and
//! every change is written to the audit log.

use axum::Router;
use axum::routing::{get, post, put};

use crate::http::state::AppState;

pub(crate) mod audit_log;
pub(crate) mod groups;
pub(crate) mod settings;
pub(crate) mod setup;
pub(crate) mod users;

pub(crate) use groups::{entries, named_entries};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::show).patch(users::update).delete(users::delete),
        )
        .route("/users/{id}/password", put(users::set_password))
        .route("/users/{id}/groups", put(users::set_groups))
        .route("/users/{id}/unlock", post(users::unlock))
        .route("/groups", get(groups::list).post(groups::create))
        .route(
            "/groups/{id}",
            get(groups::show)
                .patch(groups::update)
                .delete(groups::delete),
        )
        .route("/groups/{id}/members", put(groups::set_members))
        .route("/groups/{id}/address-book", put(groups::set_address_book))
        .route(
            "/settings/security",
            get(settings::security).put(settings::set_security),
        )
        .route(
            "/settings/display-fields",
            get(settings::display_fields).put(settings::set_display_fields),
        )
        .route(
            "/settings/chats",
            get(settings::chats).put(settings::set_chats),
        )
        .route(
            "/settings/files",
            get(settings::files).put(settings::set_files),
        )
        .route(
            "/federation",
            get(settings::federation).put(settings::set_federation),
        )
        .route("/federation/status", get(settings::federation_status))
        .route("/audit", get(audit_log::list))
        .route("/audit.csv", get(audit_log::export))
        .route("/setup", get(setup::status))
}

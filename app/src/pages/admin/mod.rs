//! The control panel's pages, `/admin/*`.

mod audit;
mod federation;
mod group;
mod groups;
mod settings;
mod user;
mod users;

pub use audit::AuditPage;
pub use federation::FederationPage;
pub use group::GroupPage;
pub use groups::GroupsPage;
pub use settings::SettingsPage;
pub use user::UserPage;
pub use users::UsersPage;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The numeric `:id` of the current route, if it is one.
pub(crate) fn route_id() -> Memo<Option<i64>> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())))
}

//! What this server tells other servers. For now: a user's profile filtered by
//! the Display Fields setting. The signed server-to-server route that serves it
//! comes with the federation issue; it must call [`profile_for_peer`] so that no
//! field the administrator did not choose ever leaves the server.

use app::types::{CausewayId, FederatedProfile, Login};

use super::Context;
use crate::storage::StorageError;

/// The profile of an active local user as federated servers may see it, or `None`
/// for a malformed login, an unknown user or a deactivated one.
pub async fn profile_for_peer(
    state: &Context,
    login: &str,
) -> Result<Option<FederatedProfile>, StorageError> {
    let Ok(login) = Login::parse(login) else {
        return Ok(None);
    };
    let Some(user) = state.store.user_by_login(login.as_str()).await? else {
        return Ok(None);
    };
    if !user.is_active {
        return Ok(None);
    }
    let profile = user.profile();
    let fields = state
        .settings
        .display_fields()
        .fields
        .into_iter()
        .map(|field| (field, profile.get(field).to_owned()))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    Ok(Some(FederatedProfile {
        causeway_id: CausewayId::new(login, state.config.server_name.clone()),
        fields,
    }))
}

/// The name other servers see for a user of this server: their display name
/// when Display Fields lets it out, else their login.
pub fn name_for_peer(state: &Context, login: &str, display_name: &str) -> String {
    let shown = state
        .settings
        .display_fields()
        .fields
        .contains(&app::types::ProfileField::DisplayName);
    if shown && !display_name.is_empty() {
        display_name.to_owned()
    } else {
        login.to_owned()
    }
}

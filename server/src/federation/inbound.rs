//! What every request of a peer passes before the chat core sees it: the
//! peer speaks only for its own users, acts only in chats hosted here, and
//! each refusal is audited within the cap for its reason.

use app::types::{CausewayId, ServerName};

use super::Context;
use crate::chat::ChatId;
use crate::error::ApiError;
use crate::storage::ChatRow;

/// Writes a refusal of a verified peer's request to the audit log (capped, as
/// for refused signatures).
pub(crate) async fn audit_refusal(state: &Context, origin: &ServerName, error: &ApiError) {
    let actor = crate::audit::Actor {
        id: None,
        login: Some(origin.to_string()),
        address: None,
    };
    let detail = error.message.chars().take(500).collect::<String>();
    audit_capped(&state.audit, origin.as_str(), error.code, &actor, &detail).await;
}

/// Refuses a peer's request made for someone who is not one of its users.
pub fn own_user(origin: &ServerName, actor: &CausewayId) -> Result<(), ApiError> {
    if &actor.server != origin {
        return Err(ApiError::forbidden(format!(
            "{origin} may act only for its own users."
        )));
    }
    Ok(())
}

/// Refuses, and audits, a peer's request made for someone who is not one of
/// its users.
pub async fn peer_user(
    state: &Context,
    origin: &ServerName,
    actor: &CausewayId,
) -> Result<(), ApiError> {
    let checked = own_user(origin, actor);
    if let Err(error) = &checked {
        audit_refusal(state, origin, error).await;
    }
    checked
}

/// Chat `id`, if it is hosted here (not a copy).
pub async fn hosted_here(state: &Context, id: ChatId) -> Result<Option<ChatRow>, ApiError> {
    Ok(state
        .store
        .chat(id)
        .await?
        .filter(|chat| chat.host.is_none()))
}

/// Writes a refusal (`federation.refused`) to the audit log, within the cap
/// for its reason.
pub async fn audit_capped(
    audit: &crate::audit::Audit,
    origin: &str,
    code: app::types::ErrorCode,
    actor: &crate::audit::Actor,
    detail: &str,
) {
    let target = (!origin.is_empty()).then_some(origin);
    audit
        .refusal(
            "federation.refused",
            code,
            origin,
            actor,
            target,
            Some(detail),
        )
        .await;
}

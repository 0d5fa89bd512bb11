//! The audit log: who did what, when, from which address. Sign-ins (success and
//! failure) and every administrative change are recorded.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

use crate::state::AppState;
use crate::storage::NewAuditEntry;
use crate::time::now_millis;

/// Who is acting, as the audit log records it.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub id: Option<i64>,
    pub login: Option<String>,
    pub address: Option<String>,
}

/// The client's address, from the connection.
pub fn client_address(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// Appends to the audit log. A failure to write is logged, not returned: the
/// change it describes has already been made.
pub async fn record(
    state: &AppState,
    actor: &Actor,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) {
    let entry = NewAuditEntry {
        at: now_millis(),
        actor_id: actor.id,
        actor: actor.login.as_deref(),
        address: actor.address.as_deref(),
        action,
        target,
        detail,
    };
    if let Err(error) = state.store.append_audit(&entry).await {
        tracing::error!(%error, action, "writing the audit log failed");
    }
}

//! The chat core's way to other servers ([`HostLink`]), over signed
//! federation requests.

use app::types::{CausewayId, ErrorCode};

use super::{Context, client};
use crate::chat::{Action, ActionDone, ChatError, HostLink};
use crate::error::ApiError;
use crate::storage::ChatRow;

/// Federation's errors as the chat core knows them, told apart by their code.
fn chat_error(error: ApiError) -> ChatError {
    match error.code {
        ErrorCode::ServerNotAllowed => ChatError::NotAllowed(error.message),
        ErrorCode::PeerUnavailable => ChatError::Unavailable(error.message),
        // The cause is in the log already; the message is the generic one.
        ErrorCode::Internal | ErrorCode::Unavailable => ChatError::Internal(error.message),
        code => ChatError::Refused {
            code,
            message: error.message,
        },
    }
}

#[async_trait::async_trait]
impl HostLink for Context {
    async fn forward(
        &self,
        chat: &ChatRow,
        actor: &CausewayId,
        action: Action,
    ) -> Result<ActionDone, ChatError> {
        client::forward(self, chat, actor, action)
            .await
            .map_err(chat_error)
    }

    async fn reachable(&self, id: &CausewayId, asker: &CausewayId) -> Result<(), ChatError> {
        client::remote_user(self, id, Some(asker))
            .await
            .map(drop)
            .map_err(chat_error)
    }

    async fn open_direct(&self, me: &CausewayId, with: &CausewayId) -> Result<ChatRow, ChatError> {
        client::open_direct(self, me, with)
            .await
            .map_err(chat_error)
    }
}

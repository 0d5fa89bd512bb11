//! Who may be in a chat's call. The media is `media`'s, which the chat core
//! does not know; the socket asks here before it lets a tab in.

use super::*;

impl ChatService {
    /// May `actor` be in the call of chat `id`, `running` when someone is in it
    /// already? Members of a direct chat may call each other; in a group chat,
    /// starting a conference needs *Create group conferences*, and any member
    /// may join one that runs. A call of a chat hosted on another server goes
    /// through that server (the cascade, not built yet): refused for now.
    pub async fn may_call(
        &self,
        actor: &Actor,
        id: ChatId,
        running: bool,
    ) -> Result<ChatKind, ChatError> {
        let m = self.membership(id, actor).await?;
        if m.location != ChatLocation::Hosted {
            return Err(invalid(
                "Calls in chats hosted on another server are not available yet.",
            ));
        }
        if m.chat.kind == ChatKind::Group
            && !running
            && !self.may(actor, Right::CreateGroupConferences).await?
        {
            return Err(forbidden(
                "You may not start a group conference: that needs the right \"Create group conferences\". Anyone in the chat may join one that runs.",
            ));
        }
        Ok(m.chat.kind)
    }
}

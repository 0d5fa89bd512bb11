//! Who may be in a chat's call. The media is `media`'s, which the chat core
//! does not know; the socket asks here before it lets a tab in.

use app::types::CallState;

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

    /// Tells the members of chat `id` how its call stands now: running with
    /// these people, or ended (`None`). Members only: someone removed from the
    /// chat stops hearing of its calls.
    pub async fn call_changed(&self, id: ChatId, call: Option<CallState>) -> Result<(), ChatError> {
        let Some(chat) = self.store().chat(id).await? else {
            return Ok(());
        };
        let members = self.store().chat_members(chat.id).await?;
        self.inner.events.publish(Event::Call {
            chat_id: id,
            call,
            to: members.into_iter().map(|m| m.member).collect(),
        });
        Ok(())
    }

    /// `actor` declines the call ringing in direct chat `id` (`running`: a
    /// call runs there; `in_it`: the actor is in it from another tab). The
    /// chat's members are told, so the caller's tab can stop waiting and the
    /// actor's other tabs stop ringing.
    pub async fn decline_call(
        &self,
        actor: &Actor,
        id: ChatId,
        running: bool,
        in_it: bool,
    ) -> Result<(), ChatError> {
        let m = self.membership(id, actor).await?;
        if m.chat.kind != ChatKind::Direct {
            return Err(invalid(
                "Only a direct chat's call rings: a conference is joined or not.",
            ));
        }
        if !running || in_it {
            return Err(invalid("No call is ringing for you in this chat."));
        }
        let members = self.store().chat_members(m.chat.id).await?;
        self.inner.events.publish(Event::CallDeclined {
            chat_id: id,
            member: actor.id().clone(),
            to: members.into_iter().map(|m| m.member).collect(),
        });
        Ok(())
    }

    /// `actor` hung up the call of chat `id` (their tab left it on purpose):
    /// the chat's members are told, so the other side of a direct call ends
    /// it rather than waiting for them to come back.
    pub async fn left_call(&self, actor: &Actor, id: ChatId) -> Result<(), ChatError> {
        let m = self.membership(id, actor).await?;
        let members = self.store().chat_members(m.chat.id).await?;
        self.inner.events.publish(Event::CallLeft {
            chat_id: id,
            member: actor.id().clone(),
            to: members.into_iter().map(|m| m.member).collect(),
        });
        Ok(())
    }
}

//! Members of group chats: adding, removing, leaving, roles, and a deleted user's departure from every chat.

use super::*;

impl ChatService {
    /// The role of `actor` in `m`'s group chat.
    fn group_role(m: &Membership) -> Result<ChatRole, ChatError> {
        group_kind(&m.chat)?;
        Ok(m.member.role)
    }

    /// Checks that a member of a group chat with `my_role` may add `members`:
    /// an owner or admin, within the size limit, adding people there are to
    /// chat with.
    async fn may_add(
        &self,
        me: &CausewayId,
        my_role: ChatRole,
        members: &[CausewayId],
    ) -> Result<(), ChatError> {
        if my_role < ChatRole::Admin {
            return Err(forbidden(
                "Only the chat's owner and admins may add members.",
            ));
        }
        if members.len() > MAX_MEMBERS {
            return Err(invalid(format!(
                "A chat has at most {MAX_MEMBERS} members."
            )));
        }
        for id_to_add in members {
            self.partner(id_to_add, me).await?;
        }
        Ok(())
    }

    /// Adds `members` to group chat `id`, if `actor` may (owners and admins);
    /// people already in it are left as they are.
    pub async fn add_members(
        &self,
        actor: &Actor,
        id: ChatId,
        members: Vec<CausewayId>,
    ) -> Result<ChatDetail, ChatError> {
        let m = self.membership(id, actor).await?;
        let my_role = Self::group_role(&m)?;
        // Checked here first (the people must be ones this server lets its
        // users chat with), then by the host of a copy.
        self.may_add(actor.id(), my_role, &members).await?;
        if m.location != ChatLocation::Hosted {
            self.inner
                .host
                .forward(&m.chat, actor.id(), Action::AddMembers { members })
                .await?;
            // The new members arrive with the host's update, and are published then.
            return self.detail(m.chat, actor.id()).await;
        }
        let mine = actor.id().to_string();
        let names: Vec<String> = members.iter().map(ToString::to_string).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        // Their servers get the chat's events from the first one on.
        let servers = other_servers(&self.inner.own, names.iter().copied());
        let servers: Vec<&str> = servers.iter().map(ServerName::as_str).collect();
        let seqs = self
            .store()
            .add_chat_members(id, &names, &servers, &mine, now_millis())
            .await?;
        for seq in seqs {
            self.announce(id, Some(seq), None).await;
        }
        self.detail_of(id, actor.id()).await
    }

    /// Removes `target` from group chat `id`: a member removing themselves
    /// (leaving; an owner who leaves hands the chat to an admin, else to a
    /// member), the owner removing anyone, an admin removing members, or a
    /// user with Operator rights removing anyone but the owner.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        id: ChatId,
        target: &CausewayId,
    ) -> Result<(), ChatError> {
        let m = self.membership(id, actor).await?;
        let my_role = Self::group_role(&m)?;
        let target_name = target.to_string();
        let their_role = match self.store().chat_member(id, &target_name).await? {
            Some(row) => row.role,
            None => return Err(ChatError::Missing("member")),
        };
        if m.location != ChatLocation::Hosted {
            let action = if target == actor.id() {
                Action::Leave
            } else {
                Action::Remove {
                    member: target.clone(),
                }
            };
            self.inner.host.forward(&m.chat, actor.id(), action).await?;
            return Ok(());
        }
        let mine = actor.id().to_string();
        let now = now_millis();
        if target == actor.id() {
            // An owner's hand-over and the departure are one transaction.
            let mut events = self
                .store()
                .leave_chat(id, &mine, now)
                .await?
                .ok_or(ChatError::Missing("member"))?;
            // The departure, last, is pushed to the leaver too.
            let left = events.pop();
            for handed in events {
                self.announce(id, Some(handed), None).await;
            }
            self.announce(id, left, Some(&mine)).await;
            return Ok(());
        }
        let may = my_role > their_role
            || (their_role != ChatRole::Owner && self.may(actor, Right::Operator).await?);
        if !may {
            return Err(forbidden(
                "The owner may remove anyone, admins may remove members, operators anyone but the owner.",
            ));
        }
        let seq = self
            .store()
            .remove_chat_member(id, &target_name, &mine, now)
            .await?
            .ok_or(ChatError::Missing("member"))?;
        self.announce(id, Some(seq), Some(&target_name)).await;
        Ok(())
    }

    /// Gives `target` role `new_role` in group chat `id`, if `actor` may (the
    /// owner); making someone owner hands the chat over (the owner becomes an
    /// admin).
    pub async fn set_role(
        &self,
        actor: &Actor,
        id: ChatId,
        target: &CausewayId,
        new_role: ChatRole,
    ) -> Result<ChatDetail, ChatError> {
        let m = self.membership(id, actor).await?;
        let my_role = Self::group_role(&m)?;
        may_set_role(my_role, actor.id(), target)?;
        if m.location != ChatLocation::Hosted {
            let action = Action::SetRole {
                member: target.clone(),
                role: new_role,
            };
            self.inner.host.forward(&m.chat, actor.id(), action).await?;
            // The new roles arrive with the host's update, and are published then.
            return self.detail(m.chat, actor.id()).await;
        }
        let mine = actor.id().to_string();
        let now = now_millis();
        let target_name = target.to_string();
        let seqs = if new_role == ChatRole::Owner {
            // The new owner and the old one becoming an admin: one transaction,
            // so a chat never has two owners, or none.
            self.store()
                .hand_chat_over(id, &mine, &target_name, now)
                .await?
        } else {
            let seq = self
                .store()
                .set_chat_role(id, &target_name, new_role, &mine, now);
            seq.await?.map(|seq| vec![seq])
        };
        for seq in seqs.ok_or(ChatError::Missing("member"))? {
            self.announce(id, Some(seq), None).await;
        }
        self.detail_of(id, actor.id()).await
    }

    /// `actor` leaves direct chat `chat_id`, hosted here (their account is
    /// being deleted): the pair's key is freed and the chat stays with the
    /// other person under the leaver's name.
    pub(super) async fn leave_direct(
        &self,
        actor: &Actor,
        chat_id: ChatId,
    ) -> Result<(), ChatError> {
        let me = actor.id().to_string();
        let name = member_names(self.store(), chat_id, self.inner.own.as_str()).await?(actor.id());
        let seq = self
            .store()
            .leave_direct_chat(chat_id, &me, &name, now_millis())
            .await?
            .ok_or(ChatError::Missing("chat"))?;
        self.announce(chat_id, Some(seq), Some(&me)).await;
        Ok(())
    }

    /// Takes a user being deleted (`actor`, named `name`) out of every chat
    /// they are in, as if they left each one, so that a later account with the
    /// same login inherits nothing: a group they own passes on as when an
    /// owner leaves; a direct chat stays with the other person, under `name`,
    /// and the pair's key is freed. In a copy of a chat hosted elsewhere the
    /// host is asked to let them leave, best effort (it may be unreachable);
    /// the copy's rows here go with the account.
    pub async fn remove_everywhere(&self, actor: &Actor, name: &str) -> Result<(), ChatError> {
        let who = actor.id();
        let mine = who.to_string();
        for listed in self.store().chats_of(&mine).await? {
            let Some(chat) = self.store().chat(listed.id).await? else {
                continue;
            };
            let group = chat.kind == ChatKind::Group;
            let hosted = ChatLocation::of(&chat)? == ChatLocation::Hosted;
            if !hosted {
                // The host frees a direct chat's pair too, so that a new
                // account with the same login starts a new chat there as well.
                if let Err(error) = self.inner.host.forward(&chat, who, Action::Leave).await {
                    tracing::warn!(
                        chat_id = %chat.id,
                        ?error,
                        "a deleted user's leaving was not forwarded"
                    );
                }
            }
            if group && hosted {
                self.remove_member(actor, chat.id, who).await?;
            } else if !group {
                // The copy's pair is freed here as well: the new account's
                // direct chat is asked of the host afresh.
                let seq = self
                    .store()
                    .leave_direct_chat(chat.id, &mine, name, now_millis())
                    .await?;
                self.announce_at(ChatLocation::of(&chat)?, chat.id, seq, None)
                    .await;
            }
        }
        Ok(())
    }
}

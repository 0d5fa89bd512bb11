//! Opening chats: direct chats (hosted where the naming rule says) and group chats.

use super::*;

impl ChatService {
    /// The direct chat of `actor` with `with`: the existing one, or a new one
    /// (`true`). It lives where [`direct_host`] says.
    pub async fn open_direct(
        &self,
        actor: &Actor,
        with: &CausewayId,
    ) -> Result<(ChatDetail, bool), ChatError> {
        let me = actor.id();
        if with == me {
            return Err(invalid("A direct chat needs another person."));
        }
        let (chat, created) = if with.server == me.server {
            self.partner(with, me).await?;
            self.create_direct(me, with).await?
        } else {
            self.inner.host.reachable(with, me).await?;
            if direct_host(&me.server, &with.server) == &me.server {
                self.create_direct(me, with).await?
            } else if let Some(chat) = self
                .store()
                .direct_chat(&direct_key(&me.to_string(), &with.to_string()))
                .await?
            {
                // A copy made before.
                (chat, false)
            } else {
                (self.inner.host.open_direct(me, with).await?, true)
            }
        };
        Ok((self.detail(chat, me).await?, created))
    }

    /// For `theirs`, a user of another server whose server asks: the direct
    /// chat with `ours`, a user of this server, hosted here.
    pub async fn direct_for_peer(
        &self,
        ours: &CausewayId,
        theirs: &CausewayId,
    ) -> Result<ChatRow, ChatError> {
        self.local_partner(ours, theirs).await?;
        Ok(self.create_direct(ours, theirs).await?.0)
    }

    /// The direct chat of `a` and `b`, hosted here: the existing one, or a new
    /// one (`true`).
    async fn create_direct(
        &self,
        a: &CausewayId,
        b: &CausewayId,
    ) -> Result<(ChatRow, bool), ChatError> {
        let (mine, theirs) = (a.to_string(), b.to_string());
        let key = direct_key(&mine, &theirs);
        if let Some(chat) = self.store().direct_chat(&key).await? {
            return Ok((chat, false));
        }
        let created = self
            .create_chat(&NewChat {
                kind: ChatKind::Direct,
                title: "",
                direct_key: Some(&key),
                created_by: &mine,
                members: &[(&mine, ChatRole::Member), (&theirs, ChatRole::Member)],
                at: now_millis(),
            })
            .await;
        match created {
            Ok(chat) => Ok((chat, true)),
            // The other person opened it at the same moment: use theirs.
            Err(StorageError::Conflict(_)) => {
                let chat = self
                    .store()
                    .direct_chat(&key)
                    .await?
                    .ok_or(ChatError::Missing("chat"))?;
                Ok((chat, false))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// A group chat titled `title`, hosted here: `actor` owns it and the people
    /// named are members.
    pub async fn create_group(
        &self,
        actor: &Actor,
        title: &str,
        members: Vec<CausewayId>,
    ) -> Result<ChatDetail, ChatError> {
        let me = actor.id();
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 128 {
            return Err(invalid(
                "A group chat needs a title of 1 to 128 characters.",
            ));
        }
        crate::validate::name_text("The chat title", title)
            .map_err(|e| ChatError::Invalid(e.message))?;
        if members.len() > MAX_MEMBERS {
            return Err(invalid(format!(
                "A chat has at most {MAX_MEMBERS} members."
            )));
        }
        let mut others: Vec<CausewayId> = Vec::new();
        for id in members {
            if &id != me && !others.contains(&id) {
                self.partner(&id, me).await?;
                others.push(id);
            }
        }
        let mine = me.to_string();
        let names: Vec<String> = others.iter().map(ToString::to_string).collect();
        let mut members: Vec<(&str, ChatRole)> = vec![(&mine, ChatRole::Owner)];
        members.extend(names.iter().map(|n| (n.as_str(), ChatRole::Member)));
        let chat = self
            .create_chat(&NewChat {
                kind: ChatKind::Group,
                title,
                direct_key: None,
                created_by: &mine,
                members: &members,
                at: now_millis(),
            })
            .await?;
        self.detail(chat, me).await
    }
}

//! Reading: what a member sees of a chat, and the chat list.

use super::*;

impl ChatService {
    /// Chat `chat` as `me`, a member, sees it.
    pub(super) async fn detail(
        &self,
        chat: ChatRow,
        me: &CausewayId,
    ) -> Result<ChatDetail, ChatError> {
        let rows = self.store().chat_members(chat.id).await?;
        let name_of = member_names(self.store(), chat.id, self.inner.own.as_str()).await?;
        let mut members = Vec::with_capacity(rows.len());
        let mut mine = None;
        for row in &rows {
            let id = parse_id(&row.member)?;
            if &id == me {
                mine = Some(row.clone());
            }
            members.push(ChatMember {
                display_name: name_of(&id),
                role: row.role,
                read_seq: row.read_seq.0,
                online: self.inner.presence.is_online(&row.member),
                causeway_id: id,
            });
        }
        let mine = mine.ok_or(ChatError::Missing("chat"))?;
        Ok(ChatDetail {
            title: title(&chat, &members, me),
            id: chat.id.0,
            kind: chat.kind,
            my_role: mine.role,
            last_seq: chat.last_seq.0,
            read_seq: mine.read_seq.0,
            members,
        })
    }

    /// [`Self::detail`] of chat `id`, read afresh (after a change).
    pub(super) async fn detail_of(
        &self,
        id: ChatId,
        me: &CausewayId,
    ) -> Result<ChatDetail, ChatError> {
        let chat = self
            .store()
            .chat(id)
            .await?
            .ok_or(ChatError::Missing("chat"))?;
        self.detail(chat, me).await
    }

    /// `me`'s chats, latest activity first.
    pub async fn list(&self, me: &CausewayId) -> Result<Vec<ChatSummary>, ChatError> {
        let rows = self.store().chats_of(&me.to_string()).await?;
        let mut chats = Vec::with_capacity(rows.len());
        for row in rows {
            // A chat left (or deleted) since the list was read is not listed.
            let Some(chat) = self.store().chat(row.id).await? else {
                continue;
            };
            let detail = match self.detail(chat, me).await {
                Ok(detail) => detail,
                Err(ChatError::Missing(_)) => continue,
                Err(error) => return Err(error),
            };
            let newest = self.store().messages(row.id, row.joined_seq, None, None, 1);
            let last_message = match newest.await?.pop() {
                Some(m) => Some(message_out(self.store(), row.id, m).await?),
                None => None,
            };
            let mentions = if row.unread == 0 {
                0
            } else {
                let candidates = self
                    .store()
                    .unread_mention_candidates(
                        row.id,
                        &me.to_string(),
                        row.read_seq,
                        row.joined_seq,
                    )
                    .await?;
                candidates
                    .iter()
                    .filter(|body| app::types::mentions_of(body, me))
                    .count() as i64
            };
            chats.push(ChatSummary {
                mentions,
                muted: row.muted,
                id: row.id.0,
                kind: detail.kind,
                title: detail.title,
                last_seq: row.last_seq.0,
                last_at: row.last_at,
                read_seq: row.read_seq.0,
                unread: row.unread,
                last_message,
                // The chat core does not know calls: the API adds them.
                call: None,
            });
        }
        Ok(chats)
    }

    /// Messages of every chat `me` is in whose text or file name contains
    /// `text`, newest first, each with its chat and sender's name; `before` is
    /// the `next` of the page before.
    pub async fn search_everywhere(
        &self,
        me: &CausewayId,
        text: &str,
        before: Option<&str>,
        limit: Option<i64>,
    ) -> Result<SearchResults, ChatError> {
        let limit = self::limit(limit)?;
        let text = search_text(text)?;
        let before = before.map(parse_cursor).transpose()?;
        let rows = self
            .store()
            .search_everywhere(&me.to_string(), text, before, limit)
            .await?;
        let next = (rows.len() as i64 == limit)
            .then(|| rows.last())
            .flatten()
            .map(|(chat, m)| format!("{}.{}.{}", m.created_at, chat.0, m.seq.0));
        let mut chats: HashMap<ChatId, ChatDetail> = HashMap::new();
        let mut hits = Vec::with_capacity(rows.len());
        for (chat_id, row) in rows {
            if let std::collections::hash_map::Entry::Vacant(slot) = chats.entry(chat_id) {
                // A chat left (or deleted) since the search ran is not shown.
                let Some(chat) = self.store().chat(chat_id).await? else {
                    continue;
                };
                match self.detail(chat, me).await {
                    Ok(detail) => slot.insert(detail),
                    Err(ChatError::Missing(_)) => continue,
                    Err(error) => return Err(error),
                };
            }
            let detail = &chats[&chat_id];
            let message = message_out(self.store(), chat_id, row).await?;
            let sender_name = detail
                .members
                .iter()
                .find(|m| m.causeway_id == message.sender)
                .map_or_else(
                    || message.sender.login.to_string(),
                    |m| m.display_name.clone(),
                );
            hits.push(SearchHit {
                chat_id: chat_id.0,
                chat_kind: detail.kind,
                chat_title: detail.title.clone(),
                sender_name,
                message,
            });
        }
        Ok(SearchResults { hits, next })
    }

    /// Mutes or unmutes chat `id` for a member, for them alone.
    pub async fn mute(&self, actor: &Actor, id: ChatId, muted: bool) -> Result<(), ChatError> {
        self.membership(id, actor).await?;
        if !self
            .store()
            .set_muted(id, &actor.id().to_string(), muted)
            .await?
        {
            return Err(ChatError::Missing("chat"));
        }
        Ok(())
    }

    /// Chat `id`, its members and roles, for a member.
    pub async fn show(&self, actor: &Actor, id: ChatId) -> Result<ChatDetail, ChatError> {
        let m = self.membership(id, actor).await?;
        self.detail(m.chat, actor.id()).await
    }

    /// The messages a member may see (those since they joined), as clients get them.
    async fn visible(
        &self,
        chat_id: ChatId,
        member: &ChatMemberRow,
        mut rows: Vec<MessageRow>,
    ) -> Result<Vec<Message>, ChatError> {
        rows.retain(|m| m.seq >= member.joined_seq);
        messages_out(self.store(), chat_id, rows).await
    }

    /// A page of messages in order: the latest, or those before or after a number.
    pub async fn history(
        &self,
        actor: &Actor,
        id: ChatId,
        before: Option<Seq>,
        after: Option<Seq>,
        limit: Option<i64>,
    ) -> Result<Vec<Message>, ChatError> {
        let limit = self::limit(limit)?;
        let m = self.membership(id, actor).await?;
        let rows = self
            .store()
            .messages(id, m.member.joined_seq, before, after, limit)
            .await?;
        self.visible(id, &m.member, rows).await
    }

    /// What happened since `after`, in order, with each message as it stands
    /// now: the catch-up after a reconnect.
    pub async fn events_after(
        &self,
        actor: &Actor,
        id: ChatId,
        after: Seq,
        limit: Option<i64>,
    ) -> Result<Vec<ChatEvent>, ChatError> {
        let limit = self::limit(limit)?;
        let m = self.membership(id, actor).await?;
        let after = after.max(m.member.joined_seq.before());
        events_out(self.store(), id, after, limit).await
    }

    /// Messages containing `text`, newest first.
    pub async fn search(
        &self,
        actor: &Actor,
        id: ChatId,
        text: &str,
        limit: Option<i64>,
    ) -> Result<Vec<Message>, ChatError> {
        let limit = self::limit(limit)?;
        let text = search_text(text)?;
        let m = self.membership(id, actor).await?;
        let rows = self
            .store()
            .search_messages(id, m.member.joined_seq, text, limit)
            .await?;
        self.visible(id, &m.member, rows).await
    }
}

/// A search cursor, `created_at.chat.seq` as [`ChatService::search_everywhere`]
/// hands it out.
fn parse_cursor(text: &str) -> Result<(i64, ChatId, Seq), ChatError> {
    let bad = || invalid("before is the `next` of a page of search results.");
    let mut parts = text.splitn(3, '.').map(str::parse::<i64>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(at)), Some(Ok(chat)), Some(Ok(seq))) => Ok((at, ChatId(chat), Seq(seq))),
        _ => Err(bad()),
    }
}

/// What a search looks for: 1 to 100 characters on one line, trimmed.
fn search_text(text: &str) -> Result<&str, ChatError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 100 {
        return Err(invalid("Search for 1 to 100 characters."));
    }
    crate::validate::line_text("The search text", text)
        .map_err(|e| ChatError::Invalid(e.message))?;
    Ok(text)
}

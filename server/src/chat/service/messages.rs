//! Messages: sending (here or through the host), edits, deletions, read positions, typing, presence, and who may download a chat's file.

use super::*;

impl ChatService {
    /// Checks that a message may carry file `file_id`: the sender uploaded it
    /// to this chat and no other message carries it (a retry of the send that
    /// does is fine: it gets that message back). The file, when it may.
    pub async fn attachable(
        &self,
        chat_id: ChatId,
        sender: &str,
        file_id: i64,
        client_id: &str,
    ) -> Result<FileRow, ChatError> {
        let file = self.store().file(chat_id, file_id).await?.ok_or_else(|| {
            invalid(format!(
                "There is no file {file_id} in this chat; upload it to this chat first."
            ))
        })?;
        if file.uploaded_by != sender {
            return Err(invalid(
                "A message can only carry a file its sender uploaded.",
            ));
        }
        if expired_unsent(&file, now_millis()) {
            return Err(invalid(
                "That upload has expired: a file not sent within a day is removed. Upload it again.",
            ));
        }
        if let Some(seq) = file.message_seq {
            let carrier = self.store().message(chat_id, seq).await?;
            let same_send = carrier.is_some_and(|m| m.sender == sender && m.client_id == client_id);
            if !same_send {
                return Err(attached_elsewhere());
            }
        }
        Ok(file)
    }

    /// Sends a message; stored (here or by the host) before this returns. The
    /// message, and whether it is new (`false` for a retry with the same
    /// `client_id`). With `file` (a file the sender uploaded to this chat and
    /// has not sent yet; they need *Send files to chats*) the text may be empty.
    pub async fn send(
        &self,
        actor: &Actor,
        id: ChatId,
        request: SendMessage,
    ) -> Result<(Message, bool), ChatError> {
        check_client_id(&request.client_id)?;
        self.check_body(&request.body, request.file.is_some())?;
        let (chat, location) = self.locate(id, actor).await?;
        if location == ChatLocation::Hosted {
            return self.send_hosted(actor, chat, request).await;
        }
        let m = self.member_of(chat, location, actor).await?;
        // A file uploaded here went on to the host, which knows it by its own id.
        let file = match request.file {
            Some(file_id) => {
                if !self.may(actor, Right::SendFiles).await? {
                    return Err(self.may_not_send(actor));
                }
                let me = actor.id().to_string();
                let row = self
                    .attachable(id, &me, file_id, &request.client_id)
                    .await?;
                Some(row.host_file_id.ok_or(ChatError::Missing("file"))?)
            }
            None => None,
        };
        let action = Action::Send {
            client_id: request.client_id,
            body: request.body,
            reply_to: request.reply_to,
            file,
        };
        let done = self.inner.host.forward(&m.chat, actor.id(), action).await?;
        let message = done.message.ok_or_else(|| {
            ChatError::Internal("the host answered a send without its message".to_owned())
        })?;
        Ok((message, !done.repeated))
    }

    async fn send_hosted(
        &self,
        actor: &Actor,
        chat: ChatRow,
        request: SendMessage,
    ) -> Result<(Message, bool), ChatError> {
        let id = chat.id;
        let me = actor.id().to_string();
        if request.reply_to.is_some() || request.file.is_some() {
            // Membership first, so that someone outside the chat learns nothing
            // about its messages or files. Without either the store checks it,
            // inside the transaction that stores the message.
            let m = self.member_of(chat, ChatLocation::Hosted, actor).await?;
            // A message from before one joined is not there to reply to.
            if let Some(reply_to) = request.reply_to
                && Seq(reply_to) < m.member.joined_seq
            {
                return Err(invalid("The message replied to is not in this chat."));
            }
        }
        if let Some(file_id) = request.file {
            if !self.may(actor, Right::SendFiles).await? {
                return Err(forbidden("You may not send files to chats."));
            }
            self.attachable(id, &me, file_id, &request.client_id)
                .await?;
        }
        if let Some(reply_to) = request.reply_to
            && self.store().message(id, Seq(reply_to)).await?.is_none()
        {
            return Err(invalid("The message replied to is not in this chat."));
        }
        // Storing and publishing run as a task of their own: a caller that
        // goes away while the send waits for the commit does not cancel it,
        // and a message that is stored is always published.
        let service = self.clone();
        let stored = tokio::spawn(async move {
            let store = service.store();
            let sent = store
                .send_message(&NewMessage {
                    chat_id: id,
                    sender: &me,
                    client_id: &request.client_id,
                    body: &request.body,
                    reply_to: request.reply_to.map(Seq),
                    file_id: request.file,
                    at: now_millis(),
                })
                .await
                .map_err(|error| match error {
                    // No such chat, or not a member (any more).
                    StorageError::Missing("chat") => ChatError::Missing("chat"),
                    // Another send took the file in the meantime.
                    StorageError::Missing("file") => attached_elsewhere(),
                    other => other.into(),
                })?;
            let out = message_out(store, id, sent.message).await;
            if sent.created {
                match &out {
                    Ok(message) => service.publish_message(id, message, &sent.members),
                    // As in `announce`: the message is committed whatever happens here.
                    Err(error) => {
                        tracing::warn!(chat_id = %id, ?error, "a message was not published")
                    }
                }
            }
            Ok::<_, ChatError>((out?, sent.created))
        });
        stored
            .await
            .map_err(|e| ChatError::Internal(format!("the send task failed: {e}")))?
    }

    /// The message to edit or delete, if the actor may: their own within the
    /// edit window; for deletion also chat admins and owners, and users with
    /// Operator rights.
    async fn changeable(
        &self,
        actor: &Actor,
        m: &Membership,
        seq: Seq,
        deleting: bool,
    ) -> Result<MessageRow, ChatError> {
        let me = actor.id().to_string();
        let found = self
            .store()
            .message(m.chat.id, seq)
            .await?
            .filter(|found| found.deleted_at.is_none() && found.seq >= m.member.joined_seq)
            .ok_or(ChatError::Missing("message"))?;
        let own = found.sender == me;
        let window_hours = self.inner.settings.chats().edit_window_hours;
        if own && now_millis() - found.created_at <= i64::from(window_hours) * 3_600_000 {
            return Ok(found);
        }
        if deleting
            && (m.member.role >= ChatRole::Admin || self.may(actor, Right::Operator).await?)
        {
            return Ok(found);
        }
        Err(if own {
            forbidden(format!(
                "Messages can be changed for {window_hours} hours after they are sent."
            ))
        } else {
            forbidden(if deleting {
                "Only the sender, the chat's admins and operators may delete this message."
            } else {
                "Only the sender may edit a message."
            })
        })
    }

    /// Edits message `seq` of chat `id`: the sender, within the edit window.
    /// The text may be empty only for a message with a file.
    pub async fn edit(
        &self,
        actor: &Actor,
        id: ChatId,
        seq: Seq,
        body: &str,
    ) -> Result<Message, ChatError> {
        // Whether it may be empty (a file's message) is decided where it is hosted.
        self.check_body(body, true)?;
        let m = self.membership(id, actor).await?;
        if m.location != ChatLocation::Hosted {
            let action = Action::Edit {
                seq,
                body: body.to_owned(),
            };
            let done = self.inner.host.forward(&m.chat, actor.id(), action).await?;
            return done.message.ok_or_else(|| {
                ChatError::Internal("the host answered an edit without its message".to_owned())
            });
        }
        let found = self.changeable(actor, &m, seq, false).await?;
        if found.file_id.is_none() && body.trim().is_empty() {
            return Err(invalid("The message is empty; delete it instead."));
        }
        // Checked again where it is written: the sender, within the window, a member.
        let now = now_millis();
        let window_ms = i64::from(self.inner.settings.chats().edit_window_hours) * 3_600_000;
        let by = actor.id().to_string();
        let event = self
            .store()
            .edit_message(id, seq, body, &by, now, now - window_ms)
            .await?
            .ok_or(ChatError::Missing("message"))?;
        self.announce(id, Some(event), None).await;
        let row = self
            .store()
            .message(id, seq)
            .await?
            .ok_or(ChatError::Missing("message"))?;
        message_out(self.store(), id, row).await
    }

    /// Deletes message `seq` of chat `id`: the sender within the edit window,
    /// the chat's admins and owner, and users with Operator rights.
    pub async fn delete(&self, actor: &Actor, id: ChatId, seq: Seq) -> Result<(), ChatError> {
        let m = self.membership(id, actor).await?;
        if m.location != ChatLocation::Hosted {
            self.inner
                .host
                .forward(&m.chat, actor.id(), Action::Delete { seq })
                .await?;
            return Ok(());
        }
        self.changeable(actor, &m, seq, true).await?;
        let by = actor.id().to_string();
        let event = self
            .store()
            .delete_message(id, seq, &by, now_millis())
            .await?
            .ok_or(ChatError::Missing("message"))?;
        self.announce(id, Some(event), None).await;
        Ok(())
    }

    /// Moves `actor`'s read position in chat `id` forward and tells the
    /// members. In a copy the copy moves at once and the host is told (its
    /// answer comes back through its outbox).
    pub async fn read(&self, actor: &Actor, id: ChatId, seq: Seq) -> Result<Seq, ChatError> {
        let me = actor.id().to_string();
        let m = self.membership(id, actor).await?;
        let to: Vec<String> = self
            .store()
            .chat_members(id)
            .await?
            .into_iter()
            .map(|m| m.member)
            .collect();
        let hosted = m.location == ChatLocation::Hosted;
        // Member servers learn read positions with the chat's next update.
        let bump =
            hosted && !other_servers(&self.inner.own, to.iter().map(String::as_str)).is_empty();
        let seq = self
            .store()
            .transaction(async |tx| {
                let seq = tx.mark_read(id, &me, seq.max(Seq(0))).await?;
                if seq.is_some() && bump {
                    tx.bump_reads(id).await?;
                }
                Ok(seq)
            })
            .await?
            .ok_or(ChatError::Missing("chat"))?;
        self.inner.events.publish(Event::Read {
            chat_id: id,
            location: m.location,
            member: actor.id().clone(),
            seq,
            to,
        });
        if !hosted
            && let Err(error) = self
                .inner
                .host
                .forward(&m.chat, actor.id(), Action::Read { seq })
                .await
        {
            tracing::info!(
                chat_id = %id,
                ?error,
                "a read position did not reach the chat's host"
            );
        }
        Ok(seq)
    }

    /// Tells the chat's other members that `member` is typing in chat
    /// `chat_id` (this server's id for it), if they are a member. `from` is the
    /// server that passed it on, when it came from another server.
    pub async fn typing(
        &self,
        member: &CausewayId,
        chat_id: ChatId,
        from: Option<&ServerName>,
    ) -> Result<(), ChatError> {
        let Some(chat) = self.store().chat(chat_id).await? else {
            return Ok(());
        };
        let who = member.to_string();
        let members = self.store().chat_members(chat.id).await?;
        if !members.iter().any(|m| m.member == who) {
            return Ok(());
        }
        self.inner.events.publish(Event::Typing {
            chat_id,
            location: ChatLocation::of(&chat)?,
            member: member.clone(),
            to: members.into_iter().map(|m| m.member).collect(),
            from: from.cloned(),
        });
        Ok(())
    }

    /// Tells everyone who shares a chat with `member` that they came online or
    /// went offline; `false` when nobody here shares a chat with them.
    pub async fn announce_presence(
        &self,
        member: &CausewayId,
        online: bool,
    ) -> Result<bool, ChatError> {
        let partners = self.store().chat_partners(&member.to_string()).await?;
        if partners.is_empty() {
            return Ok(false);
        }
        self.inner.events.publish(Event::Presence {
            member: member.clone(),
            online,
            to: partners,
        });
        Ok(true)
    }

    /// File `file_id` of chat `chat_id`, if `actor` may download it: a member
    /// with *Download files in chats*, and the file is theirs and not sent yet
    /// (nor expired), or goes with a message they can see (sent since they
    /// joined, or by them; not deleted). Anything else is "no such file", as
    /// for a file that does not exist.
    pub async fn downloadable(
        &self,
        actor: &Actor,
        chat_id: ChatId,
        file_id: i64,
    ) -> Result<(ChatRow, FileRow), ChatError> {
        let me = actor.id().to_string();
        let m = self.membership(chat_id, actor).await?;
        if !self.may(actor, Right::DownloadFiles).await? {
            return Err(forbidden(if actor.is_remote() {
                format!(
                    "{} does not let people of other servers download files from its chats.",
                    self.inner.own
                )
            } else {
                "You may not download files in chats.".to_owned()
            }));
        }
        let missing = || ChatError::Missing("file");
        let file = self
            .store()
            .file(chat_id, file_id)
            .await?
            .ok_or_else(missing)?;
        let mine = file.uploaded_by == me;
        let seq = match file.message_seq {
            // Not sent yet: only its uploader sees it, until it expires.
            None if mine && !expired_unsent(&file, now_millis()) => return Ok((m.chat, file)),
            None => return Err(missing()),
            Some(seq) if !mine && seq < m.member.joined_seq => return Err(missing()),
            Some(seq) => seq,
        };
        // Sent: while its message is not deleted (its bytes go with it).
        match self.store().message(chat_id, seq).await? {
            Some(message) if message.deleted_at.is_none() => Ok((m.chat, file)),
            _ => Err(missing()),
        }
    }
}

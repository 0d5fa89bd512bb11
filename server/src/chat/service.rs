//! [`ChatService`]: every chat action, decided once for every caller.
//!
//! Each action resolves where the chat lives ([`ChatLocation`]) first. In a
//! chat hosted here the rules are checked and the change is stored and
//! published. In a copy, what this server can check is checked (membership,
//! roles as the copy knows them, this server's rules for whom its people
//! reach) and the action goes to the host through [`HostLink`], which checks
//! it again. A user of another server ([`Actor::Remote`]) acts only in chats
//! hosted here: their own server reaches the host directly.

use std::collections::HashMap;
use std::sync::Arc;

use app::types::{
    CausewayId, ChatDetail, ChatEvent, ChatKind, ChatMember, ChatRole, ChatSummary, EventKind,
    Message, OutsiderReach, Right, SendMessage, ServerName,
};

use super::events::{Event, EventBus};
use super::present::{chat_event, events_out, member_names, message_out, messages_out, parse_id};
use super::{
    Action, ActionDone, Actor, ChatError, ChatId, ChatLocation, HostLink, Presence, Seq,
    direct_host, other_servers,
};
use crate::files::UNSENT_LIFETIME;
use crate::rights;
use crate::settings::Settings;
use crate::storage::{
    ChatMemberRow, ChatRow, EventRow, FileRow, MessageRow, NewChat, NewMessage, StorageError,
    Store, UserRecord, direct_key,
};
use crate::time::now_millis;

/// Most members a chat may have.
pub const MAX_MEMBERS: usize = 1000;

/// The chat core. Cheap to clone.
#[derive(Clone)]
pub struct ChatService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    settings: Settings,
    own: ServerName,
    events: EventBus,
    host: Arc<dyn HostLink>,
    presence: Arc<dyn Presence>,
}

impl std::fmt::Debug for ChatService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatService")
            .field("own", &self.inner.own)
            .finish_non_exhaustive()
    }
}

/// A chat and the actor's place in it.
struct Membership {
    chat: ChatRow,
    member: ChatMemberRow,
    location: ChatLocation,
}

fn invalid(message: impl Into<String>) -> ChatError {
    ChatError::Invalid(message.into())
}

fn forbidden(message: impl Into<String>) -> ChatError {
    ChatError::Forbidden(message.into())
}

/// A page size: 1 to 200, 50 when left out.
pub fn limit(limit: Option<i64>) -> Result<i64, ChatError> {
    let limit = limit.unwrap_or(50);
    if (1..=200).contains(&limit) {
        Ok(limit)
    } else {
        Err(invalid("limit is from 1 to 200."))
    }
}

/// A direct chat is titled with the other person's name.
fn title(chat: &ChatRow, members: &[ChatMember], me: &CausewayId) -> String {
    match (chat.kind, members.iter().find(|m| &m.causeway_id != me)) {
        (ChatKind::Direct, Some(other)) => other.display_name.clone(),
        _ => chat.title.clone(),
    }
}

/// Refuses a change of members in a direct chat.
fn group_kind(chat: &ChatRow) -> Result<(), ChatError> {
    if chat.kind == ChatKind::Group {
        Ok(())
    } else {
        Err(invalid("A direct chat's members cannot change."))
    }
}

/// Checks that `me`, with `my_role` in a group chat, may change the role of
/// `target`: the owner, changing someone else's.
fn may_set_role(my_role: ChatRole, me: &CausewayId, target: &CausewayId) -> Result<(), ChatError> {
    if my_role != ChatRole::Owner {
        return Err(forbidden("Only the chat's owner may change roles."));
    }
    if target == me {
        return Err(invalid(
            "The owner hands the chat over by making someone else owner.",
        ));
    }
    Ok(())
}

fn check_client_id(client_id: &str) -> Result<(), ChatError> {
    let ok = (1..=64).contains(&client_id.len())
        && client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "client_id is 1 to 64 letters, digits, '-' or '_' (a UUID will do).",
        ))
    }
}

/// The file was sent with another message.
pub fn attached_elsewhere() -> ChatError {
    invalid("That file was sent with another message already; upload it again to send it again.")
}

/// Has `file` expired unsent at `now` (milliseconds)?
pub fn expired_unsent(file: &FileRow, now: i64) -> bool {
    let lifetime = i64::try_from(UNSENT_LIFETIME.as_millis()).unwrap_or(i64::MAX);
    file.message_seq.is_none() && now.saturating_sub(file.created_at) > lifetime
}

/// `id`, an active user of this server (`own`) whom `by` may start a chat
/// with or add to one: anyone for people of this server, and for people of
/// other servers whom the panel's rule allows. Everyone else gets the answer a
/// login that does not exist gets.
pub async fn local_partner(
    store: &Store,
    settings: &Settings,
    own: &ServerName,
    id: &CausewayId,
    by: &CausewayId,
) -> Result<UserRecord, ChatError> {
    let no_such_user = || invalid(format!("There is no active user {id} on {own}."));
    let user = store
        .user_by_login(id.login.as_str())
        .await?
        .filter(|user| user.is_active && &id.server == own)
        .ok_or_else(no_such_user)?;
    let reaches = &by.server == own
        || match settings.chats().outsiders_reach {
            OutsiderReach::Everyone => true,
            OutsiderReach::AddressBook => {
                store.address_book_lists(user.id, &by.to_string()).await?
            }
        };
    if !reaches {
        return Err(no_such_user());
    }
    Ok(user)
}

impl ChatService {
    pub fn new(
        store: Store,
        settings: Settings,
        own: ServerName,
        events: EventBus,
        host: Arc<dyn HostLink>,
        presence: Arc<dyn Presence>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                settings,
                own,
                events,
                host,
                presence,
            }),
        }
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The stream this service publishes on.
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// Does `actor` hold `right` on this server?
    pub async fn may(&self, actor: &Actor, right: Right) -> Result<bool, ChatError> {
        Ok(match actor {
            Actor::Local(user_id, _) => rights::has(self.store(), *user_id, right).await?,
            Actor::Remote(_) => {
                self.store()
                    .builtin_group_has_right("federated", right.as_str())
                    .await?
            }
        })
    }

    /// The refusal of an upload or a send of a file without *Send files to chats*.
    pub fn may_not_send(&self, actor: &Actor) -> ChatError {
        if actor.is_remote() {
            forbidden(format!(
                "{} does not let people of other servers send files to its chats.",
                self.inner.own
            ))
        } else {
            forbidden("You may not send files to chats.")
        }
    }

    /// The chat and `actor`'s membership. A chat the actor is not in is a
    /// "no such chat", the same as one that does not exist; so is a copy of a
    /// chat hosted elsewhere for a user of another server, who acts only
    /// where chats are hosted.
    async fn membership(&self, chat_id: ChatId, actor: &Actor) -> Result<Membership, ChatError> {
        let (chat, location) = self.locate(chat_id, actor).await?;
        let member = self
            .store()
            .chat_member(chat_id, &actor.id().to_string())
            .await?
            .ok_or(ChatError::Missing("chat"))?;
        Ok(Membership {
            chat,
            member,
            location,
        })
    }

    /// Chat `chat_id` and where it lives, as [`Self::membership`] without the
    /// member: for a send to a chat hosted here, whose transaction checks
    /// membership itself.
    async fn locate(
        &self,
        chat_id: ChatId,
        actor: &Actor,
    ) -> Result<(ChatRow, ChatLocation), ChatError> {
        let chat = self
            .store()
            .chat(chat_id)
            .await?
            .ok_or(ChatError::Missing("chat"))?;
        let location = ChatLocation::of(&chat)?;
        if actor.is_remote() && location != ChatLocation::Hosted {
            return Err(ChatError::Missing("chat"));
        }
        Ok((chat, location))
    }

    /// Chat `chat_id` and `actor`'s membership, for anyone who may see it:
    /// used by the file routes, which keep their own rules.
    pub async fn member(
        &self,
        chat_id: ChatId,
        actor: &Actor,
    ) -> Result<(ChatRow, ChatMemberRow), ChatError> {
        let m = self.membership(chat_id, actor).await?;
        Ok((m.chat, m.member))
    }

    /// A message text must fit the panel's limit and, unless the message
    /// carries a file, not be blank.
    pub fn check_body(&self, body: &str, may_be_empty: bool) -> Result<(), ChatError> {
        if !may_be_empty && body.trim().is_empty() {
            return Err(invalid("The message is empty."));
        }
        let max = self.inner.settings.chats().max_message_chars as usize;
        if body.chars().count() > max {
            return Err(invalid(format!("A message is at most {max} characters.")));
        }
        crate::validate::message_text(body).map_err(|e| ChatError::Invalid(e.message))
    }

    // ---- Whom one may chat with -------------------------------------------

    /// `id`, an active user of this server whom `by` may chat with (see
    /// [`local_partner`]).
    pub async fn local_partner(
        &self,
        id: &CausewayId,
        by: &CausewayId,
    ) -> Result<UserRecord, ChatError> {
        local_partner(self.store(), &self.inner.settings, &self.inner.own, id, by).await
    }

    /// An active user to chat with, or a clear refusal. A user of another
    /// server is looked up there (which also checks that both servers allow
    /// each other).
    async fn partner(&self, id: &CausewayId, by: &CausewayId) -> Result<(), ChatError> {
        if id.server != self.inner.own {
            return self.inner.host.reachable(id, by).await;
        }
        self.local_partner(id, by).await.map(drop)
    }

    // ---- Reading ------------------------------------------------------------

    /// Chat `chat` as `me`, a member, sees it.
    async fn detail(&self, chat: ChatRow, me: &CausewayId) -> Result<ChatDetail, ChatError> {
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
    async fn detail_of(&self, id: ChatId, me: &CausewayId) -> Result<ChatDetail, ChatError> {
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
            chats.push(ChatSummary {
                id: row.id.0,
                kind: detail.kind,
                title: detail.title,
                last_seq: row.last_seq.0,
                last_at: row.last_at,
                read_seq: row.read_seq.0,
                unread: row.unread,
                last_message,
            });
        }
        Ok(chats)
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
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 100 {
            return Err(invalid("Search for 1 to 100 characters."));
        }
        crate::validate::line_text("The search text", text)
            .map_err(|e| ChatError::Invalid(e.message))?;
        let m = self.membership(id, actor).await?;
        let rows = self
            .store()
            .search_messages(id, m.member.joined_seq, text, limit)
            .await?;
        self.visible(id, &m.member, rows).await
    }

    // ---- Opening chats ------------------------------------------------------

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

    // ---- Messages -----------------------------------------------------------

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
        let m = self.membership(id, actor).await?;
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
            let m = self.membership(id, actor).await?;
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

    // ---- Members ------------------------------------------------------------

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
    async fn leave_direct(&self, actor: &Actor, chat_id: ChatId) -> Result<(), ChatError> {
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

    /// Does `action` for `actor`, a user of another server, in chat `id`
    /// hosted here: the federation's inbound actions, checked as any member's
    /// action, with the rights of Federated Users.
    pub async fn act(
        &self,
        actor: &Actor,
        id: ChatId,
        action: Action,
    ) -> Result<ActionDone, ChatError> {
        Ok(match action {
            Action::Send {
                client_id,
                body,
                reply_to,
                file,
            } => {
                let request = SendMessage {
                    client_id,
                    body,
                    reply_to,
                    file,
                };
                let (message, created) = self.send(actor, id, request).await?;
                ActionDone {
                    message: Some(message),
                    repeated: !created,
                }
            }
            Action::Edit { seq, body } => ActionDone {
                message: Some(self.edit(actor, id, seq, &body).await?),
                repeated: false,
            },
            Action::Delete { seq } => {
                self.delete(actor, id, seq).await?;
                ActionDone::default()
            }
            Action::Read { seq } => {
                self.read(actor, id, seq).await?;
                ActionDone::default()
            }
            Action::Leave => {
                let m = self.membership(id, actor).await?;
                if m.chat.kind == ChatKind::Direct {
                    self.leave_direct(actor, id).await?;
                } else {
                    self.remove_member(actor, id, &actor.id().clone()).await?;
                }
                ActionDone::default()
            }
            Action::AddMembers { members } => {
                self.add_members(actor, id, members).await?;
                ActionDone::default()
            }
            Action::Remove { member } => {
                self.remove_member(actor, id, &member).await?;
                ActionDone::default()
            }
            Action::SetRole { member, role } => {
                self.set_role(actor, id, &member, role).await?;
                ActionDone::default()
            }
        })
    }

    // ---- Publishing ---------------------------------------------------------

    /// Stores a new chat hosted here and, in the same transaction, an outbox
    /// cursor for each other server among its members, so that the chat's
    /// events reach them from the first one on; then publishes its `created`
    /// event.
    async fn create_chat(&self, chat: &NewChat<'_>) -> Result<ChatRow, StorageError> {
        let members = chat.members.iter().map(|(member, _)| *member);
        let servers = other_servers(&self.inner.own, members);
        let (row, created) = self
            .store()
            .transaction(async |tx| {
                let (row, created) = tx.create_chat(chat).await?;
                for server in &servers {
                    tx.ensure_cursor(server.as_str(), row.id).await?;
                }
                Ok((row, created))
            })
            .await?;
        self.announce(row.id, Some(created), None).await;
        Ok(row)
    }

    /// Publishes event `seq` of chat `chat_id`, hosted here, to its members
    /// (and to `also`, a member who just left). Best effort: the change is
    /// committed, and whoever misses it catches up by sequence number.
    async fn announce(&self, chat_id: ChatId, event: Option<EventRow>, also: Option<&str>) {
        self.announce_at(ChatLocation::Hosted, chat_id, event, also)
            .await;
    }

    /// [`Self::announce`] for a chat wherever it lives.
    async fn announce_at(
        &self,
        location: ChatLocation,
        chat_id: ChatId,
        event: Option<EventRow>,
        also: Option<&str>,
    ) {
        let Some(event) = event else { return };
        let seq = event.seq;
        if let Err(error) = self.publish_event(location, chat_id, event, also).await {
            tracing::warn!(chat_id = %chat_id, seq = %seq, ?error, "a chat event was not published");
        }
    }

    /// Publishes `row`, as the store committed it, with its message as it
    /// stands now and the chat's members (and `also`) to tell.
    async fn publish_event(
        &self,
        location: ChatLocation,
        chat_id: ChatId,
        row: EventRow,
        also: Option<&str>,
    ) -> Result<(), ChatError> {
        let event = chat_event(self.store(), chat_id, row, &mut HashMap::new()).await?;
        let members = self.store().chat_members(chat_id).await?;
        let mut to: Vec<String> = members.into_iter().map(|m| m.member).collect();
        to.extend(also.map(str::to_owned));
        self.inner.events.publish(Event::Chat {
            chat_id,
            location,
            event: Box::new(event),
            to,
        });
        Ok(())
    }

    /// Publishes a message just stored to the chat's members as they were
    /// when it was stored. The event is the one its storing wrote, built from
    /// the stored message (with its file) rather than read back.
    fn publish_message(&self, chat_id: ChatId, message: &Message, members: &[String]) {
        let event = ChatEvent {
            seq: message.seq,
            kind: EventKind::Message,
            actor: message.sender.clone(),
            at: message.created_at,
            subject: None,
            role: None,
            message: Some(message.clone()),
        };
        self.inner.events.publish(Event::Chat {
            chat_id,
            location: ChatLocation::Hosted,
            event: Box::new(event),
            to: members.to_vec(),
        });
    }
}

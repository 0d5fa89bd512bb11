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
    Message, OutsiderReach, Right, SearchHit, SearchResults, SendMessage, ServerName,
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

mod calls;
mod members;
mod messages;
mod opening;
mod reading;

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
        self.member_of(chat, location, actor).await
    }

    /// `actor`'s membership of `chat`, located already ([`Self::locate`]).
    async fn member_of(
        &self,
        chat: ChatRow,
        location: ChatLocation,
        actor: &Actor,
    ) -> Result<Membership, ChatError> {
        let member = self
            .store()
            .chat_member(chat.id, &actor.id().to_string())
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

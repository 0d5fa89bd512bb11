//! The trust boundary with other servers. A peer is trusted for its own users
//! and nothing else:
//!
//! - people of other servers reach only the people of this server whom the
//!   panel's rule lets them reach ([`local_partner`]); to them, anyone else
//!   looks like a login that does not exist;
//! - what this server asks a host to do for its own users is noted
//!   ([`note_forwarded`]), and a host's update may attribute an event or a
//!   message to one of this server's users only when it matches such a note;
//! - a host may only host what it may: chats made by its users and keeping one
//!   of them, direct chats that the naming rule gives it, and people of this
//!   server only when they exist here and may be reached ([`check_update`]).

use std::collections::HashSet;

use app::types::{CausewayId, ChatKind, Message, OutsiderReach, ServerName};
use sha2::{Digest, Sha256};

use super::protocol::{Action, ChatUpdate};
use super::remote::direct_host;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::{Forwarded, UserRecord};
use crate::time::now_millis;

/// The one answer for a person of this server who does not exist, is
/// deactivated, or may not be reached by whoever asks.
fn no_such_user(state: &AppState, id: &CausewayId) -> ApiError {
    ApiError::invalid_input(format!(
        "There is no active user {id} on {}.",
        state.config.server_name
    ))
}

/// May `outsider`, a user of another server, reach `local`?
async fn may_reach(
    state: &AppState,
    local: &UserRecord,
    outsider: &CausewayId,
) -> Result<bool, ApiError> {
    Ok(match state.settings.chats().outsiders_reach {
        OutsiderReach::Everyone => true,
        OutsiderReach::AddressBook => {
            state
                .store
                .address_book_lists(local.id, &outsider.to_string())
                .await?
        }
    })
}

/// `id`, an active user of this server whom `by` may start a chat with or add
/// to one: anyone for people of this server, and for people of other servers
/// whom the panel's rule allows. Everyone else gets the answer a login that
/// does not exist gets.
pub async fn local_partner(
    state: &AppState,
    id: &CausewayId,
    by: &CausewayId,
) -> Result<UserRecord, ApiError> {
    let user = state
        .store
        .user_by_login(id.login.as_str())
        .await?
        .filter(|user| user.is_active && id.server == state.config.server_name)
        .ok_or_else(|| no_such_user(state, id))?;
    if by.server != state.config.server_name && !may_reach(state, &user, by).await? {
        return Err(no_such_user(state, id));
    }
    Ok(user)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Notes what is about to be forwarded to `host` for `actor`, one of this
/// server's users, in the host's chat `host_chat_id` (0: opening a direct chat).
pub async fn note_forwarded(
    state: &AppState,
    host: &ServerName,
    host_chat_id: i64,
    actor: &CausewayId,
    action: &Action,
) -> Result<(), ApiError> {
    let (host, actor) = (host.to_string(), actor.to_string());
    let note = |kind: &'static str, reference: String, body: Option<&str>| {
        let (host, actor) = (host.clone(), actor.clone());
        let body = body.map(sha256_hex).unwrap_or_default();
        async move {
            state
                .store
                .record_forwarded(&Forwarded {
                    host: &host,
                    host_chat_id,
                    actor: &actor,
                    kind,
                    reference: &reference,
                    body_sha256: &body,
                    at: now_millis(),
                })
                .await
        }
    };
    match action {
        Action::Send {
            client_id, body, ..
        } => note("send", client_id.clone(), Some(body)).await?,
        Action::Edit { seq, body } => note("edit", seq.to_string(), Some(body)).await?,
        Action::Delete { seq } => note("delete", seq.to_string(), None).await?,
        // Read positions of this server's users are never taken from a host.
        Action::Read { .. } => {}
        Action::Leave => note("leave", String::new(), None).await?,
        Action::AddMembers { members } => {
            for member in members {
                note("add", member.to_string(), None).await?;
            }
        }
        Action::Remove { member } => note("remove", member.to_string(), None).await?,
        Action::SetRole { member, .. } => note("role", member.to_string(), None).await?,
    }
    Ok(())
}

/// Notes that `actor`, of this server, asks `host` for the direct chat with `with`.
pub async fn note_direct(
    state: &AppState,
    host: &ServerName,
    actor: &CausewayId,
    with: &CausewayId,
) -> Result<(), ApiError> {
    state
        .store
        .record_forwarded(&Forwarded {
            host: host.as_str(),
            host_chat_id: 0,
            actor: &actor.to_string(),
            kind: "direct",
            reference: &with.to_string(),
            body_sha256: "",
            at: now_millis(),
        })
        .await?;
    Ok(())
}

/// A refusal of a host's update: it will never be acceptable.
fn refuse(reason: String) -> ApiError {
    ApiError::invalid_input(reason)
}

/// What a host's update is checked against.
struct Check<'a> {
    state: &'a AppState,
    host: &'a ServerName,
    own: &'a ServerName,
    update: &'a ChatUpdate,
    /// The copy here, if there is one.
    copy: Option<i64>,
    /// People of third servers the update may name as actors: its members,
    /// and those who leave or are removed in it.
    third_parties: HashSet<&'a CausewayId>,
}

impl Check<'_> {
    async fn forwarded(
        &self,
        actor: &CausewayId,
        kind: &str,
        reference: Option<&str>,
    ) -> Result<bool, ApiError> {
        Ok(self
            .state
            .store
            .was_forwarded(
                self.host.as_str(),
                self.update.chat_id,
                &actor.to_string(),
                kind,
                reference,
            )
            .await?)
    }

    /// Someone of neither this server nor the host: only a member of the chat.
    fn third_party(&self, who: &CausewayId) -> Result<(), ApiError> {
        if self.third_parties.contains(who) {
            Ok(())
        } else {
            Err(refuse(format!(
                "{} may not speak for {who}, who is not in its chat.",
                self.host
            )))
        }
    }

    /// An event attributed to `actor`.
    async fn actor(&self, event: &app::types::ChatEvent) -> Result<(), ApiError> {
        let actor = &event.actor;
        if &actor.server == self.host {
            return Ok(());
        }
        if &actor.server != self.own {
            return self.third_party(actor);
        }
        let subject = event.subject.as_ref().map(ToString::to_string);
        let message_seq = event.message.as_ref().map(|m| m.seq.to_string());
        let ok = match event.kind.as_str() {
            "message" => event.message.as_ref().is_some_and(|m| &m.sender == actor),
            "edit" => {
                message_seq.is_some()
                    && self
                        .forwarded(actor, "edit", message_seq.as_deref())
                        .await?
            }
            "delete" => {
                message_seq.is_some()
                    && self
                        .forwarded(actor, "delete", message_seq.as_deref())
                        .await?
            }
            "member_added" => {
                subject.is_some() && self.forwarded(actor, "add", subject.as_deref()).await?
            }
            "member_removed" => {
                subject.is_some() && self.forwarded(actor, "remove", subject.as_deref()).await?
            }
            "member_left" => {
                event.subject.as_ref() == Some(actor)
                    && self.forwarded(actor, "leave", None).await?
            }
            // Someone made owner (or admin) by them; or themselves made admin
            // when handing the chat over; or an heir named as they left.
            "role_changed" => {
                (subject.is_some() && self.forwarded(actor, "role", subject.as_deref()).await?)
                    || (event.subject.as_ref() == Some(actor)
                        && self.forwarded(actor, "role", None).await?)
                    || self.forwarded(actor, "leave", None).await?
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(refuse(format!(
                "{} may not speak for {actor}: {} did not forward this {}.",
                self.host, self.own, event.kind
            )))
        }
    }

    /// A message attributed to `message.sender`.
    async fn message(&self, message: &Message) -> Result<(), ApiError> {
        let sender = &message.sender;
        if &sender.server == self.host {
            return Ok(());
        }
        if &sender.server != self.own {
            return self.third_party(sender);
        }
        let stored = match self.copy {
            Some(copy) => self.state.store.message(copy, message.seq).await?,
            None => None,
        };
        let known = stored
            .as_ref()
            .is_some_and(|m| m.sender == sender.to_string() && m.client_id == message.client_id);
        let texts = self
            .state
            .store
            .forwarded_texts(
                self.host.as_str(),
                self.update.chat_id,
                &sender.to_string(),
                &message.client_id,
                message.seq,
            )
            .await?;
        let sent = texts.iter().any(|(kind, _)| kind == "send");
        if !known && !sent {
            return Err(refuse(format!(
                "{} may not speak for {sender}: {} did not forward this message.",
                self.host, self.own
            )));
        }
        let unchanged = stored.is_some_and(|m| m.body == message.body);
        if message.deleted_at.is_none() && !unchanged {
            let hash = sha256_hex(&message.body);
            if !texts.iter().any(|(_, h)| *h == hash) {
                return Err(refuse(format!(
                    "{} may not change what {sender} wrote.",
                    self.host
                )));
            }
        }
        Ok(())
    }

    /// A person of this server who is new in the chat: they exist here, and
    /// whoever added them may reach them.
    async fn newcomer(&self, id: &CausewayId) -> Result<(), ApiError> {
        let added_by = self
            .update
            .events
            .iter()
            .rev()
            .find(|e| e.kind == "member_added" && e.subject.as_ref() == Some(id))
            .map_or(&self.update.created_by, |e| &e.actor);
        if &added_by.server == self.own {
            // Forwarded from here (the event was checked): this server's own rules applied.
            let user = self.state.store.user_by_login(id.login.as_str()).await?;
            return match user {
                Some(user) if user.is_active => Ok(()),
                _ => Err(no_such_user(self.state, id)),
            };
        }
        if self.update.kind == ChatKind::Direct
            && self
                .state
                .store
                .was_forwarded(
                    self.host.as_str(),
                    0,
                    &id.to_string(),
                    "direct",
                    Some(&added_by.to_string()),
                )
                .await?
        {
            // They asked the host for this direct chat themselves.
            return local_partner(self.state, id, id).await.map(drop);
        }
        local_partner(self.state, id, added_by).await.map(drop)
    }
}

/// Checks a host's update against what this server knows before applying it:
/// a refusal (422) means it will never be acceptable.
pub async fn check_update(
    state: &AppState,
    host: &ServerName,
    update: &ChatUpdate,
) -> Result<(), ApiError> {
    let own = &state.config.server_name;
    let copy = state
        .store
        .chat_by_host(host.as_str(), update.chat_id)
        .await?;
    let before: HashSet<String> = match &copy {
        Some(copy) => state
            .store
            .chat_members(copy.id)
            .await?
            .into_iter()
            .map(|m| m.member)
            .collect(),
        None => HashSet::new(),
    };
    let of_host = update
        .members
        .iter()
        .filter(|m| &m.causeway_id.server == host)
        .count();
    if copy.is_none() && of_host == 0 {
        return Err(refuse(format!(
            "A chat hosted by {host} has one of its users as a member."
        )));
    }
    if update.kind == ChatKind::Direct {
        let ours = update
            .members
            .iter()
            .filter(|m| &m.causeway_id.server == own)
            .count();
        if update.members.len() != 2 || of_host != 1 || ours != 1 || direct_host(host, own) != host
        {
            return Err(refuse(format!(
                "{host} does not host the direct chats of its users with people of {own}."
            )));
        }
    }
    let mut third_parties: HashSet<&CausewayId> = update
        .members
        .iter()
        .map(|m| &m.causeway_id)
        .filter(|id| &id.server != own && &id.server != host)
        .collect();
    third_parties.extend(
        update
            .events
            .iter()
            .filter(|e| e.kind == "member_left" || e.kind == "member_removed")
            .filter_map(|e| e.subject.as_ref())
            .filter(|id| &id.server != own && &id.server != host),
    );
    let check = Check {
        state,
        host,
        own,
        update,
        copy: copy.as_ref().map(|c| c.id),
        third_parties,
    };
    for event in &update.events {
        check.actor(event).await?;
        if let Some(message) = &event.message {
            check.message(message).await?;
        }
    }
    for member in &update.members {
        let id = &member.causeway_id;
        if &id.server == own && !before.contains(&id.to_string()) {
            check.newcomer(id).await?;
        }
    }
    Ok(())
}

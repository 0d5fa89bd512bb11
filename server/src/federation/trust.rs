//! The trust boundary with other servers. A peer is trusted for its own users
//! and nothing else:
//!
//! - people of other servers reach only the people of this server whom the
//!   panel's rule lets them reach ([`local_partner`]); to them, anyone else
//!   looks like a login that does not exist;
//! - what this server asks a host to do for its own users is noted and signed
//!   ([`note_forwarded`]); a host's update may attribute an event or a message
//!   to one of this server's users only when it matches such a note, and to a
//!   user of a third server only with that server's signature, which the host
//!   keeps ([`accept_attestations`]) and passes on ([`attestations_for`]);
//! - a host may only host what it may: chats made by its users and keeping one
//!   of them, direct chats that the naming rule gives it, and people of this
//!   server only when they exist here and may be reached ([`check_update`]).

use std::collections::HashSet;

use app::types::{CausewayId, ChatKind, EventKind, Message, ServerName};
use sha2::{Digest, Sha256};

use super::Context;
use super::protocol::{Action, Attestation, ChatUpdate};
use crate::chat::direct_host;
use crate::chat::{ChatId, Seq};
use crate::error::ApiError;
use crate::storage::{AttestationRow, Forwarded, UserRecord};
use crate::time::now_millis;

/// `id`, an active user of this server whom `by` may start a chat with or add
/// to one (the chat core's rule, [`crate::chat::local_partner`]).
pub async fn local_partner(
    state: &Context,
    id: &CausewayId,
    by: &CausewayId,
) -> Result<UserRecord, ApiError> {
    let own = &state.config.server_name;
    Ok(crate::chat::local_partner(&state.store, &state.settings, own, id, by).await?)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What an action is noted (and signed) as: `(kind, reference, text hash)`
/// for each thing it does. Reads are never noted: read positions of a server's
/// users are never taken from a host.
fn notes(action: &Action) -> Vec<(&'static str, String, String)> {
    match action {
        Action::Send {
            client_id, body, ..
        } => vec![("send", client_id.clone(), sha256_hex(body))],
        Action::Edit { seq, body } => vec![("edit", seq.to_string(), sha256_hex(body))],
        Action::Delete { seq } => vec![("delete", seq.to_string(), String::new())],
        Action::Read { .. } => Vec::new(),
        Action::Leave => vec![("leave", String::new(), String::new())],
        Action::AddMembers { members } => members
            .iter()
            .map(|m| ("add", m.to_string(), String::new()))
            .collect(),
        Action::Remove { member } => vec![("remove", member.to_string(), String::new())],
        Action::SetRole { member, .. } => vec![("role", member.to_string(), String::new())],
    }
}

/// Notes what is about to be forwarded to `host` for `actor`, one of this
/// server's users, in the host's chat `host_chat_id`, and signs it: the
/// attestations go with the action, for the host to pass on to the chat's
/// other servers.
pub async fn note_forwarded(
    state: &Context,
    host: &ServerName,
    host_chat_id: i64,
    actor: &CausewayId,
    action: &Action,
) -> Result<Vec<Attestation>, ApiError> {
    let mut signed = Vec::new();
    for (kind, reference, body_sha256) in notes(action) {
        state
            .store
            .record_forwarded(&Forwarded {
                host: host.as_str(),
                host_chat_id,
                actor: &actor.to_string(),
                kind,
                reference: &reference,
                body_sha256: &body_sha256,
                at: now_millis(),
            })
            .await?;
        let mut attestation = Attestation {
            actor: actor.clone(),
            kind: kind.to_owned(),
            reference,
            body_sha256,
            key_id: String::new(),
            signature: String::new(),
        };
        let (key_id, signature) = state
            .federation
            .keys()
            .sign(&attestation.text(host, host_chat_id));
        attestation.key_id = key_id;
        attestation.signature = signature;
        signed.push(attestation);
    }
    Ok(signed)
}

/// On the host: the attestations a peer sent with `action` of `actor`, one of
/// its users, in chat `chat_id` hosted here — exactly one for each thing the
/// action does, each signed by the peer — kept for the outbox to pass on.
pub async fn accept_attestations(
    state: &Context,
    origin: &ServerName,
    chat_id: ChatId,
    actor: &CausewayId,
    action: &Action,
    attestations: &[Attestation],
) -> Result<(), ApiError> {
    let own = &state.config.server_name;
    for (kind, reference, body_sha256) in notes(action) {
        let found = attestations.iter().find(|a| {
            &a.actor == actor
                && a.kind == kind
                && a.reference == reference
                && a.body_sha256 == body_sha256
        });
        let valid = match found {
            Some(a) => state
                .federation
                .signed_by(origin, &a.key_id, &a.text(own, chat_id.0), &a.signature)
                .await
                .unwrap_or(false),
            None => false,
        };
        let Some(attestation) = found.filter(|_| valid) else {
            return Err(ApiError::invalid_input(format!(
                "{origin} must sign what {actor} does (a {kind} is not signed)."
            )));
        };
        state
            .store
            .record_attestation(
                chat_id,
                &AttestationRow {
                    actor: actor.to_string(),
                    kind: kind.to_owned(),
                    reference,
                    body_sha256,
                    key_id: attestation.key_id.clone(),
                    signature: attestation.signature.clone(),
                },
            )
            .await?;
    }
    Ok(())
}

/// What an event of someone of another server needs an attestation for:
/// `(kind, reference)`, the reference `None` for "any".
fn wanted(event: &app::types::ChatEvent) -> Vec<(&'static str, Option<String>)> {
    let seq = event.message.as_ref().map(|m| m.seq.to_string());
    let subject = event.subject.as_ref().map(ToString::to_string);
    match event.kind {
        EventKind::Created | EventKind::Message => Vec::new(),
        EventKind::Edit => vec![("edit", seq)],
        EventKind::Delete => vec![("delete", seq)],
        EventKind::MemberAdded => vec![("add", subject)],
        EventKind::MemberRemoved => vec![("remove", subject)],
        EventKind::MemberLeft => vec![("leave", Some(String::new()))],
        EventKind::RoleChanged => vec![("role", None), ("leave", Some(String::new()))],
    }
}

/// On the host: the attestations kept for `events` of chat `chat_id` by people
/// of other servers, to go with them to the chat's member servers.
pub async fn attestations_for(
    state: &Context,
    chat_id: ChatId,
    events: &[app::types::ChatEvent],
) -> Result<Vec<Attestation>, ApiError> {
    let own = &state.config.server_name;
    let mut found: Vec<Attestation> = Vec::new();
    let mut add = |row: AttestationRow| -> Result<(), ApiError> {
        let attestation = Attestation {
            actor: row.actor.parse().map_err(ApiError::internal)?,
            kind: row.kind,
            reference: row.reference,
            body_sha256: row.body_sha256,
            key_id: row.key_id,
            signature: row.signature,
        };
        if !found.contains(&attestation) {
            found.push(attestation);
        }
        Ok(())
    };
    for event in events {
        let mut asks: Vec<(String, &'static str, Option<String>)> = Vec::new();
        if &event.actor.server != own {
            for (kind, reference) in wanted(event) {
                asks.push((event.actor.to_string(), kind, reference));
            }
        }
        if let Some(message) = &event.message
            && &message.sender.server != own
        {
            let sender = message.sender.to_string();
            asks.push((sender.clone(), "send", Some(message.client_id.clone())));
            asks.push((sender, "edit", Some(message.seq.to_string())));
        }
        for (actor, kind, reference) in asks {
            let rows = state
                .store
                .attestations(chat_id, &actor, kind, reference.as_deref());
            for row in rows.await? {
                add(row)?;
            }
        }
    }
    Ok(found)
}

/// Notes that `actor`, of this server, asks `host` for the direct chat with `with`.
pub async fn note_direct(
    state: &Context,
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
    state: &'a Context,
    host: &'a ServerName,
    own: &'a ServerName,
    update: &'a ChatUpdate,
    /// The copy here, if there is one.
    copy: Option<ChatId>,
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

    /// Who would have vouched for `who`'s doing something, and did not.
    fn unvouched(&self, who: &CausewayId, what: &str) -> ApiError {
        let vouch = if &who.server == self.own {
            format!("{} did not forward this {what}", self.own)
        } else {
            format!("{} did not sign this {what}", who.server)
        };
        refuse(format!("{} may not speak for {who}: {vouch}.", self.host))
    }

    /// An event attributed to `actor`.
    async fn actor(&self, event: &app::types::ChatEvent) -> Result<(), ApiError> {
        let actor = &event.actor;
        if &actor.server == self.host {
            return Ok(());
        }
        let subject = event.subject.as_ref().map(ToString::to_string);
        let message_seq = event.message.as_ref().map(|m| m.seq.to_string());
        let ok = match event.kind {
            EventKind::Message => event.message.as_ref().is_some_and(|m| &m.sender == actor),
            EventKind::Edit => {
                message_seq.is_some()
                    && self
                        .forwarded(actor, "edit", message_seq.as_deref())
                        .await?
            }
            EventKind::Delete => {
                message_seq.is_some()
                    && self
                        .forwarded(actor, "delete", message_seq.as_deref())
                        .await?
            }
            EventKind::MemberAdded => {
                subject.is_some() && self.forwarded(actor, "add", subject.as_deref()).await?
            }
            EventKind::MemberRemoved => {
                subject.is_some() && self.forwarded(actor, "remove", subject.as_deref()).await?
            }
            EventKind::MemberLeft => {
                event.subject.as_ref() == Some(actor)
                    && self.forwarded(actor, "leave", None).await?
            }
            // Someone made owner (or admin) by them; or themselves made admin
            // when handing the chat over; or an heir named as they left.
            EventKind::RoleChanged => {
                (subject.is_some() && self.forwarded(actor, "role", subject.as_deref()).await?)
                    || (event.subject.as_ref() == Some(actor)
                        && self.forwarded(actor, "role", None).await?)
                    || self.forwarded(actor, "leave", None).await?
            }
            // Only a host's own people create its chats.
            EventKind::Created => false,
        };
        if ok {
            Ok(())
        } else {
            Err(self.unvouched(actor, event.kind.as_str()))
        }
    }

    /// A message attributed to `message.sender`.
    async fn message(&self, message: &Message) -> Result<(), ApiError> {
        let sender = &message.sender;
        if &sender.server == self.host {
            return Ok(());
        }
        let stored = match self.copy {
            Some(copy) => self.state.store.message(copy, Seq(message.seq)).await?,
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
                Seq(message.seq),
            )
            .await?;
        let sent = texts.iter().any(|(kind, _)| kind == "send");
        if !known && !sent {
            return Err(self.unvouched(sender, "message"));
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
            .find(|e| e.kind == EventKind::MemberAdded && e.subject.as_ref() == Some(id))
            .map_or(&self.update.created_by, |e| &e.actor);
        if &added_by.server == self.own {
            // Forwarded from here (the event was checked): this server's own rules applied.
            let user = self.state.store.user_by_login(id.login.as_str()).await?;
            return match user {
                Some(user) if user.is_active => Ok(()),
                _ => Err(ApiError::invalid_input(format!(
                    "There is no active user {id} on {}.",
                    self.own
                ))),
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
    state: &Context,
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
        // A new copy has both people; a known one may have lost one (an
        // account deleted), never gained anyone.
        let whole = update.members.len() == 2 && of_host == 1 && ours == 1;
        let shrunk = copy.is_some() && update.members.len() <= 2 && of_host <= 1 && ours <= 1;
        if !(whole || shrunk) || direct_host(host, own) != host {
            return Err(refuse(format!(
                "{host} does not host the direct chats of its users with people of {own}."
            )));
        }
    }
    if update.attestations.len() > 4 * update.events.len() + 16 {
        return Err(refuse(format!(
            "Too many attestations for {} events.",
            update.events.len()
        )));
    }
    // What third servers signed for their people counts as what they did
    // (this server's own people are checked against its own notes).
    for attestation in &update.attestations {
        let server = &attestation.actor.server;
        if server == own || server == host {
            continue;
        }
        let text = attestation.text(host, update.chat_id);
        let valid = state
            .federation
            .signed_by(server, &attestation.key_id, &text, &attestation.signature)
            .await
            .map_err(|error| match error {
                // For good: this server does not talk to that one.
                super::PeerError::NotAllowed(_) => refuse(format!(
                    "What {} did cannot be checked here: this server does not federate with {server}.",
                    attestation.actor
                )),
                // For now: the whole transaction is tried again later, so that
                // nothing is skipped. The reason stays in this server's log (it
                // may tell what answers inside this network).
                other => {
                    tracing::info!(%host, %server, error = %other, "an attestation could not be checked yet");
                    ApiError::new(
                        axum::http::StatusCode::BAD_GATEWAY,
                        app::types::ErrorCode::PeerUnavailable,
                        format!("The keys of {server} cannot be had right now; try again later."),
                    )
                }
            })?;
        if !valid {
            return Err(refuse(format!(
                "{host} passed on a signature of {server} that does not verify."
            )));
        }
        state
            .store
            .record_forwarded(&Forwarded {
                host: host.as_str(),
                host_chat_id: update.chat_id,
                actor: &attestation.actor.to_string(),
                kind: &attestation.kind,
                reference: &attestation.reference,
                body_sha256: &attestation.body_sha256,
                at: now_millis(),
            })
            .await?;
    }
    let check = Check {
        state,
        host,
        own,
        update,
        copy: copy.as_ref().map(|c| c.id),
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

//! A chat's state as it travels from its host to the servers that keep a copy:
//! built here for chats hosted here ([`chat_update`]), and checked and
//! applied here to copies of chats hosted elsewhere ([`apply`]), whose news is
//! then published on the chat core's event stream.

use std::collections::HashMap;

use app::types::{CausewayId, ChatEvent, ChatKind, ChatRole, ServerName};

use super::Context;
use super::client::{remember, send_ephemeral};
use super::protocol::{ChatUpdate, Ephemeral};
use crate::chat::{self, ChatId, ChatLocation, Event, Seq};
use crate::error::ApiError;
use crate::storage::{
    Applied, ChatMemberRow, ChatRow, ReplicaChat, ReplicaEvent, ReplicaFile, ReplicaMessage,
    StorageError, direct_key,
};

/// Chat `chat`, hosted here, as member servers are told it: its members
/// (`rows`, with the presence of this server's users) and `events`.
pub(crate) async fn chat_update(
    state: &Context,
    chat: &ChatRow,
    rows: Vec<ChatMemberRow>,
    events: Vec<ChatEvent>,
    last_seq: i64,
) -> Result<ChatUpdate, ApiError> {
    let own = &state.config.server_name;
    let name_of = chat::member_names(&state.store, chat.id, own.as_str()).await?;
    let mut members = Vec::with_capacity(rows.len());
    for row in rows {
        let id: CausewayId = row.member.parse().map_err(ApiError::internal)?;
        // This server's people as Display Fields let them out; others as
        // their own server told.
        let display_name = if &id.server == own {
            super::name_for_peer(state, id.login.as_str(), &name_of(&id))
        } else {
            name_of(&id)
        };
        members.push(super::protocol::MemberState {
            display_name,
            online: &id.server == own && state.hub.is_online(&row.member),
            causeway_id: id,
            role: row.role,
            joined_seq: row.joined_seq.0,
            read_seq: row.read_seq.0,
        });
    }
    let attestations = super::trust::attestations_for(state, chat.id, &events).await?;
    Ok(ChatUpdate {
        attestations,
        chat_id: chat.id.0,
        kind: chat.kind,
        title: chat.title.clone(),
        created_by: chat.created_by.parse().map_err(ApiError::internal)?,
        created_at: chat.created_at,
        members,
        events,
        last_seq,
    })
}

fn replica_of(own: &ServerName, host: &ServerName, update: &ChatUpdate) -> ReplicaChat {
    let members: Vec<(String, ChatRole, i64, i64)> = update
        .members
        .iter()
        .map(|m| (m.causeway_id.to_string(), m.role, m.joined_seq, m.read_seq))
        .collect();
    let direct_key = match (update.kind, update.members.as_slice()) {
        (ChatKind::Direct, [a, b]) => Some(direct_key(
            &a.causeway_id.to_string(),
            &b.causeway_id.to_string(),
        )),
        _ => None,
    };
    ReplicaChat {
        host: host.to_string(),
        host_chat_id: update.chat_id,
        kind: update.kind,
        title: update.title.clone(),
        direct_key,
        created_by: update.created_by.to_string(),
        created_at: update.created_at,
        members,
        own_server: own.to_string(),
        events: update.events.iter().map(replica_event).collect(),
    }
}

fn replica_event(event: &ChatEvent) -> ReplicaEvent {
    ReplicaEvent {
        seq: Seq(event.seq),
        kind: event.kind,
        actor: event.actor.to_string(),
        at: event.at,
        subject: event.subject.as_ref().map(ToString::to_string),
        role: event.role,
        message: event.message.as_ref().map(|m| ReplicaMessage {
            seq: Seq(m.seq),
            sender: m.sender.to_string(),
            client_id: m.client_id.clone(),
            body: m.body.clone(),
            reply_to: m.reply_to.map(Seq),
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted_at: m.deleted_at,
            file: m.file.as_ref().map(|f| ReplicaFile {
                host_file_id: f.id,
                sha256: f.sha256.clone(),
                name: f.name.clone(),
                size: f.size,
                media_type: f.media_type.clone(),
                uploaded_by: f.uploaded_by.to_string(),
                created_at: f.created_at,
            }),
        }),
    }
}

/// Is this update from `host` well-formed? Bounded, in order, made by one of
/// the host's people, with texts this server's own people could write.
fn check_update(host: &ServerName, update: &ChatUpdate) -> Result<(), ApiError> {
    if &update.created_by.server != host {
        return Err(ApiError::invalid_input(format!(
            "A chat hosted by {host} is made by one of its users."
        )));
    }
    // The shape of a direct chat (two people, one of the host's; fewer once
    // one has left) is the trust checks' to judge (`trust::check_update`).
    if update.title.chars().count() > 128 || update.members.len() > 1000 {
        return Err(ApiError::invalid_input(
            "A chat has a title of at most 128 characters and at most 1000 members.",
        ));
    }
    let ordered = update.events.windows(2).all(|w| w[0].seq < w[1].seq);
    if !ordered {
        return Err(ApiError::invalid_input("Events must be in order."));
    }
    // What a host sends is held to what this server's own people may write.
    crate::validate::name_text("A chat's title", &update.title)?;
    for member in &update.members {
        crate::validate::name_text("A member's name", &member.display_name)?;
    }
    for message in update.events.iter().filter_map(|e| e.message.as_ref()) {
        crate::validate::message_text(&message.body)?;
        if let Some(file) = &message.file
            && crate::files::headers::file_name(&file.name).as_deref() != Ok(file.name.as_str())
        {
            return Err(ApiError::invalid_input(format!(
                "A file name must be as this server would store it: {:?} is not.",
                file.name
            )));
        }
    }
    Ok(())
}

/// Applies an update from `host` to the copy here and pushes what is new to
/// this server's members (and to those just removed).
pub async fn apply(
    state: &Context,
    host: &ServerName,
    update: ChatUpdate,
) -> Result<Applied, ApiError> {
    check_update(host, &update)?;
    super::trust::check_update(state, host, &update).await?;
    for member in &update.members {
        if &member.causeway_id.server == host {
            remember(state, &member.causeway_id, &member.display_name, None).await?;
        }
    }
    let applied = state
        .store
        .apply_replica(&replica_of(&state.config.server_name, host, &update))
        .await
        .map_err(|error| match error {
            StorageError::Conflict(_) => {
                ApiError::invalid_input("A direct chat of these two people exists here already.")
            }
            other => other.into(),
        })?;
    let own = &state.config.server_name;
    let local_now: Vec<String> = update
        .members
        .iter()
        .filter(|m| &m.causeway_id.server == own)
        .map(|m| m.causeway_id.to_string())
        .collect();
    let removed: Vec<&String> = applied
        .members_before
        .iter()
        .filter(|m| !local_now.contains(m))
        .collect();
    let location = ChatLocation::Copy {
        host: host.clone(),
        host_chat_id: update.chat_id,
    };
    // Presence of the host's people, as the host saw it.
    for member in update
        .members
        .iter()
        .filter(|m| &m.causeway_id.server == host)
    {
        let id = member.causeway_id.to_string();
        if state.federation.is_remote_online(&id) != member.online {
            state
                .federation
                .note_presence(&member.causeway_id, member.online);
            state.events.publish(Event::Presence {
                member: member.causeway_id.clone(),
                online: member.online,
                to: local_now.clone(),
            });
        }
    }
    // A new copy: tell the host who of this server's people in it are online.
    if applied.members_before.is_empty() {
        for member in &local_now {
            if state.hub.is_online(member)
                && let Ok(id) = member.parse::<CausewayId>()
            {
                let item = Ephemeral::Presence {
                    member: id,
                    online: true,
                };
                send_ephemeral(state, vec![host.clone()], item);
            }
        }
    }
    let by_seq: HashMap<i64, &ChatEvent> = update.events.iter().map(|e| (e.seq, e)).collect();
    for seq in &applied.new_events {
        if let Some(event) = by_seq.get(&seq.0) {
            let mut event = (*event).clone();
            if let Some(message) = &mut event.message {
                message.chat_id = applied.chat.id.0;
                message.file = local_file(state, applied.chat.id, message.file.as_ref()).await?;
            }
            let to = local_now
                .iter()
                .chain(removed.iter().copied())
                .cloned()
                .collect();
            state.events.publish(Event::Chat {
                chat_id: applied.chat.id,
                location: location.clone(),
                event: Box::new(event),
                to,
            });
        }
    }
    if applied.new_events.is_empty() {
        // Read positions may have moved: tell the members here. Those of this
        // server's people are never taken from a host.
        for member in update
            .members
            .iter()
            .filter(|m| &m.causeway_id.server != own)
        {
            state.events.publish(Event::Read {
                chat_id: applied.chat.id,
                location: location.clone(),
                member: member.causeway_id.clone(),
                seq: Seq(member.read_seq),
                to: local_now.clone(),
            });
        }
    }
    Ok(applied)
}

/// A host's file (as the host describes it) as members here see it, with this
/// server's id: `None` when this server does not know it (yet).
pub async fn local_file(
    state: &Context,
    chat_id: ChatId,
    hosted: Option<&app::types::FileInfo>,
) -> Result<Option<app::types::FileInfo>, ApiError> {
    let Some(hosted) = hosted else {
        return Ok(None);
    };
    state
        .store
        .file_by_host_id(chat_id, hosted.id)
        .await?
        .map(|row| chat::file_info(&row))
        .transpose()
        .map_err(ApiError::from)
}

//! Stored rows as clients (and member servers) see them: messages with their
//! files, events with their messages, member names.

use std::collections::HashMap;

use app::types::{CausewayId, ChatEvent, FileInfo, Message};

use super::{ChatError, ChatId, Seq};
use crate::storage::{EventRow, FileRow, MessageRow, Store};

pub(super) fn parse_id(id: &str) -> Result<CausewayId, ChatError> {
    CausewayId::parse(id)
        .map_err(|e| ChatError::Internal(format!("stored Causeway ID {id:?}: {e}")))
}

/// A stored file as clients see it.
pub fn file_info(row: &FileRow) -> Result<FileInfo, ChatError> {
    Ok(FileInfo {
        id: row.id,
        name: row.name.clone(),
        size: row.size,
        media_type: row.media_type.clone(),
        sha256: row.sha256.clone(),
        uploaded_by: parse_id(&row.uploaded_by)?,
        created_at: row.created_at,
    })
}

/// A message as clients get it; `files` holds the files of the messages at hand
/// (see [`files_of`]). A deleted message shows no file.
fn message(
    chat_id: ChatId,
    row: MessageRow,
    files: &HashMap<i64, FileInfo>,
) -> Result<Message, ChatError> {
    let file = match row.file_id {
        Some(id) if row.deleted_at.is_none() => files.get(&id).cloned(),
        _ => None,
    };
    Ok(Message {
        file,
        chat_id: chat_id.0,
        seq: row.seq.0,
        sender: parse_id(&row.sender)?,
        client_id: row.client_id,
        body: row.body,
        reply_to: row.reply_to.map(|seq| seq.0),
        created_at: row.created_at,
        edited_at: row.edited_at,
        deleted_at: row.deleted_at,
    })
}

/// The files the messages in `rows` carry, by id, looked up at once.
async fn files_of(
    store: &Store,
    chat_id: ChatId,
    rows: &[MessageRow],
) -> Result<HashMap<i64, FileInfo>, ChatError> {
    let ids: Vec<i64> = rows.iter().filter_map(|m| m.file_id).collect();
    let mut found = HashMap::with_capacity(ids.len());
    for row in store.files_in(chat_id, &ids).await? {
        found.insert(row.id, file_info(&row)?);
    }
    Ok(found)
}

/// Messages as clients get them, with their files.
pub(super) async fn messages_out(
    store: &Store,
    chat_id: ChatId,
    rows: Vec<MessageRow>,
) -> Result<Vec<Message>, ChatError> {
    let files = files_of(store, chat_id, &rows).await?;
    rows.into_iter()
        .map(|m| message(chat_id, m, &files))
        .collect()
}

/// One message as clients get it, with its file.
pub async fn message_out(
    store: &Store,
    chat_id: ChatId,
    row: MessageRow,
) -> Result<Message, ChatError> {
    let files = files_of(store, chat_id, std::slice::from_ref(&row)).await?;
    message(chat_id, row, &files)
}

/// The display names of chat `chat_id`'s members: a local user's own, a remote
/// user's as their server last told it, else the login.
pub async fn member_names(
    store: &Store,
    chat_id: ChatId,
    own: &str,
) -> Result<impl Fn(&CausewayId) -> String + use<>, ChatError> {
    let names = store.member_names(chat_id, own).await?;
    Ok(move |id: &CausewayId| {
        names
            .get(&id.to_string())
            .cloned()
            .unwrap_or_else(|| id.login.to_string())
    })
}

/// An event row as clients see it, with its message as it stands now (looked up
/// once per message through `messages`).
pub async fn chat_event(
    store: &Store,
    chat_id: ChatId,
    row: EventRow,
    messages: &mut HashMap<Seq, Message>,
) -> Result<ChatEvent, ChatError> {
    let message = match row.message_seq {
        Some(seq) => match messages.get(&seq) {
            Some(m) => Some(m.clone()),
            None => match store.message(chat_id, seq).await? {
                Some(found) => {
                    let m = message_out(store, chat_id, found).await?;
                    messages.insert(seq, m.clone());
                    Some(m)
                }
                None => None,
            },
        },
        None => None,
    };
    Ok(ChatEvent {
        seq: row.seq.0,
        kind: row.kind,
        actor: parse_id(&row.actor)?,
        at: row.at,
        subject: row.subject.as_deref().map(parse_id).transpose()?,
        role: row.role,
        message,
    })
}

/// Events of chat `id` after `after`, each message as it stands now (for a
/// member catching up, and for the outbox).
pub async fn events_out(
    store: &Store,
    id: ChatId,
    after: Seq,
    limit: i64,
) -> Result<Vec<ChatEvent>, ChatError> {
    let rows = store.events_after(id, after, limit).await?;
    let mut messages: HashMap<Seq, Message> = HashMap::new();
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        events.push(chat_event(store, id, row, &mut messages).await?);
    }
    Ok(events)
}

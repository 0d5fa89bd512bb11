//! Chats hosted by this server: members, the per-chat event sequence, messages.
//!
//! Every change to a chat (its creation, a message, an edit, a deletion) is an
//! event with the chat's next sequence number, taken by incrementing
//! `chats.last_seq` inside the transaction that stores the change: the row lock
//! (PostgreSQL) or the write lock (SQLite) orders concurrent writers, so numbers
//! are gap-free and a client that knows the last number it saw can catch up.

use app::types::{ChatKind, ChatRole};

use super::{BeginWrite, Result, StorageError, Store, on_pool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChatRow {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub direct_key: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub last_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChatMemberRow {
    pub member: String,
    pub role: String,
    pub joined_seq: i64,
    pub read_seq: i64,
}

/// A chat as a member's chat list shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChatListRow {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub last_seq: i64,
    /// When the latest event happened (Unix ms).
    pub last_at: i64,
    pub read_seq: i64,
    /// Messages of others after `read_seq` that are not deleted.
    pub unread: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageRow {
    pub seq: i64,
    pub sender: String,
    pub client_id: String,
    pub body: String,
    pub reply_to: Option<i64>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub file_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub kind: String,
    pub actor: String,
    pub at: i64,
    pub message_seq: Option<i64>,
    pub subject: Option<String>,
    pub detail: Option<String>,
}

pub struct NewChat<'a> {
    pub kind: ChatKind,
    pub title: &'a str,
    /// For direct chats: see [`direct_key`].
    pub direct_key: Option<&'a str>,
    pub created_by: &'a str,
    pub members: &'a [(&'a str, ChatRole)],
    pub at: i64,
}

pub struct NewMessage<'a> {
    pub chat_id: i64,
    pub sender: &'a str,
    pub client_id: &'a str,
    pub body: &'a str,
    pub reply_to: Option<i64>,
    /// A file the sender uploaded to this chat and has not sent yet.
    pub file_id: Option<i64>,
    pub at: i64,
}

/// The key that makes a pair's direct chat unique: both IDs, sorted.
pub fn direct_key(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a} {b}")
    } else {
        format!("{b} {a}")
    }
}

const CHAT_COLUMNS: &str = "id, kind, title, direct_key, created_by, created_at, last_seq";
const MESSAGE_COLUMNS: &str =
    "seq, sender, client_id, body, reply_to, created_at, edited_at, deleted_at, file_id";

/// Takes the chat's next sequence number and records the event, on `tx`.
/// `None` when there is no such chat.
macro_rules! next_event {
    ($tx:expr, $chat:expr, $kind:expr, $actor:expr, $at:expr, $message:expr) => {
        next_event!($tx, $chat, $kind, $actor, $at, $message, None::<&str>, None::<&str>)
    };
    ($tx:expr, $chat:expr, $kind:expr, $actor:expr, $at:expr, $message:expr, $subject:expr, $detail:expr) => {{
        let seq: Option<i64> = sqlx::query_scalar(
            "update chats set last_seq = last_seq + 1 where id = $1 returning last_seq",
        )
        .bind($chat)
        .fetch_optional(&mut *$tx)
        .await?;
        if let Some(seq) = seq {
            let message: Option<i64> = $message;
            sqlx::query(
                "insert into chat_events (chat_id, seq, kind, actor, at, message_seq, subject, detail) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind($chat)
            .bind(seq)
            .bind($kind)
            .bind($actor)
            .bind($at)
            .bind(message.or(if $kind == "message" { Some(seq) } else { None }))
            .bind($subject)
            .bind($detail)
            .execute(&mut *$tx)
            .await?;
        }
        seq
    }};
}

impl Store {
    /// Creates a chat with its members (each seeing it from its first event, the
    /// creation). A second direct chat for the same pair is
    /// `Conflict("chats_direct_key")`.
    pub async fn create_chat(&self, chat: &NewChat<'_>) -> Result<ChatRow> {
        let insert = format!(
            "insert into chats (kind, title, direct_key, created_by, created_at) \
             values ($1, $2, $3, $4, $5) returning {CHAT_COLUMNS}"
        );
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: ChatRow = sqlx::query_as(&insert)
                .bind(chat.kind.as_str())
                .bind(chat.title)
                .bind(chat.direct_key)
                .bind(chat.created_by)
                .bind(chat.at)
                .fetch_one(&mut *tx)
                .await
                .map_err(StorageError::on_unique("chats_direct_key"))?;
            let seq = next_event!(tx, row.id, "created", chat.created_by, chat.at, None)
                .ok_or(StorageError::Missing("chat"))?;
            for (member, role) in chat.members {
                sqlx::query(
                    "insert into chat_members (chat_id, member, role, joined_seq) values ($1, $2, $3, $4)",
                )
                .bind(row.id)
                .bind(*member)
                .bind(role.as_str())
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(StorageError::on_unique("chat_members_pkey"))?;
            }
            tx.commit().await?;
            Ok(ChatRow {
                last_seq: seq,
                ..row
            })
        })
    }

    pub async fn chat(&self, id: i64) -> Result<Option<ChatRow>> {
        let sql = format!("select {CHAT_COLUMNS} from chats where id = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?)
    }

    /// The direct chat of a pair, by [`direct_key`].
    pub async fn direct_chat(&self, key: &str) -> Result<Option<ChatRow>> {
        let sql = format!("select {CHAT_COLUMNS} from chats where direct_key = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(key)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn chat_members(&self, chat_id: i64) -> Result<Vec<ChatMemberRow>> {
        let sql = "select member, role, joined_seq, read_seq from chat_members \
                   where chat_id = $1 order by member";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(chat_id)
            .fetch_all(pool)
            .await)?)
    }

    pub async fn chat_member(&self, chat_id: i64, member: &str) -> Result<Option<ChatMemberRow>> {
        let sql = "select member, role, joined_seq, read_seq from chat_members \
                   where chat_id = $1 and member = $2";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(chat_id)
            .bind(member)
            .fetch_optional(pool)
            .await)?)
    }

    /// The chats of a member, latest activity first, with unread counts.
    pub async fn chats_of(&self, member: &str) -> Result<Vec<ChatListRow>> {
        let sql = "select c.id, c.kind, c.title, c.last_seq, e.at as last_at, m.read_seq, \
                   (select count(*) from messages g where g.chat_id = c.id and g.seq > m.read_seq \
                    and g.sender <> m.member and g.deleted_at is null) as unread \
                   from chat_members m join chats c on c.id = m.chat_id \
                   join chat_events e on e.chat_id = c.id and e.seq = c.last_seq \
                   where m.member = $1 order by e.at desc, c.id desc";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(member)
            .fetch_all(pool)
            .await)?)
    }

    /// Stores a message as the chat's next event. A retry with the same sender and
    /// `client_id` returns the stored message and `false` instead of a copy.
    /// `Missing("chat")` when there is no such chat, `Missing("file")` when the
    /// file is not the sender's, not of this chat, or sent with another message.
    pub async fn post_message(&self, message: &NewMessage<'_>) -> Result<(MessageRow, bool)> {
        let existing = format!(
            "select {MESSAGE_COLUMNS} from messages where chat_id = $1 and sender = $2 and client_id = $3"
        );
        let insert = format!(
            "insert into messages (chat_id, seq, sender, client_id, body, reply_to, created_at, search_text, file_id) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning {MESSAGE_COLUMNS}"
        );
        let search_text = message.body.to_lowercase();
        let first_try = on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let found: Option<MessageRow> = sqlx::query_as(&existing)
                .bind(message.chat_id)
                .bind(message.sender)
                .bind(message.client_id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(found) = found {
                return Ok((found, false));
            }
            let seq = next_event!(
                tx,
                message.chat_id,
                "message",
                message.sender,
                message.at,
                None
            )
            .ok_or(StorageError::Missing("chat"))?;
            if let Some(file_id) = message.file_id {
                let claimed = sqlx::query(super::files::ATTACH_FILE)
                    .bind(seq)
                    .bind(file_id)
                    .bind(message.chat_id)
                    .bind(message.sender)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if claimed == 0 {
                    return Err(StorageError::Missing("file"));
                }
            }
            let stored: std::result::Result<MessageRow, _> = sqlx::query_as(&insert)
                .bind(message.chat_id)
                .bind(seq)
                .bind(message.sender)
                .bind(message.client_id)
                .bind(message.body)
                .bind(message.reply_to)
                .bind(message.at)
                .bind(&search_text)
                .bind(message.file_id)
                .fetch_one(&mut *tx)
                .await;
            match stored.map_err(StorageError::on_unique("messages_client_id_key")) {
                Ok(row) => {
                    tx.commit().await?;
                    Ok(Some(row))
                }
                // A concurrent retry stored it first: answer with that copy.
                Err(StorageError::Conflict(_)) => Ok(None),
                Err(other) => Err(other),
            }
        })?;
        match first_try {
            Some(row) => Ok((row, true)),
            None => {
                let found: Option<MessageRow> = on_pool!(self, |pool| sqlx::query_as(&existing)
                    .bind(message.chat_id)
                    .bind(message.sender)
                    .bind(message.client_id)
                    .fetch_optional(pool)
                    .await)?;
                found
                    .map(|row| (row, false))
                    .ok_or(StorageError::Missing("message"))
            }
        }
    }

    /// Replaces the text of a message that is not deleted; returns the edit's
    /// sequence number, or `None` when there is no such message.
    pub async fn edit_message(
        &self,
        chat_id: i64,
        seq: i64,
        body: &str,
        actor: &str,
        at: i64,
    ) -> Result<Option<i64>> {
        let search_text = body.to_lowercase();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(
                "update messages set body = $1, edited_at = $2, search_text = $3 \
                 where chat_id = $4 and seq = $5 and deleted_at is null",
            )
            .bind(body)
            .bind(at)
            .bind(&search_text)
            .bind(chat_id)
            .bind(seq)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Ok(None);
            }
            let event = next_event!(tx, chat_id, "edit", actor, at, Some(seq));
            tx.commit().await?;
            Ok(event)
        })
    }

    /// Deletes a message (its text goes; its place in the history stays); returns
    /// the deletion's sequence number, or `None` when there is no such message.
    pub async fn delete_message(
        &self,
        chat_id: i64,
        seq: i64,
        actor: &str,
        at: i64,
    ) -> Result<Option<i64>> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(
                "update messages set body = '', search_text = '', deleted_at = $1 \
                 where chat_id = $2 and seq = $3 and deleted_at is null",
            )
            .bind(at)
            .bind(chat_id)
            .bind(seq)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Ok(None);
            }
            let event = next_event!(tx, chat_id, "delete", actor, at, Some(seq));
            tx.commit().await?;
            Ok(event)
        })
    }

    /// A page of messages in sequence order: the latest `limit`, or those before
    /// or after a sequence number.
    pub async fn messages(
        &self,
        chat_id: i64,
        before: Option<i64>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<MessageRow>> {
        let (sql, bound, newest_first) = match (before, after) {
            (_, Some(after)) => (
                format!(
                    "select {MESSAGE_COLUMNS} from messages where chat_id = $1 and seq > $2 order by seq limit $3"
                ),
                after,
                false,
            ),
            (before, None) => (
                format!(
                    "select {MESSAGE_COLUMNS} from messages where chat_id = $1 and seq < $2 order by seq desc limit $3"
                ),
                before.unwrap_or(i64::MAX),
                true,
            ),
        };
        let mut rows: Vec<MessageRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(chat_id)
            .bind(bound)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        if newest_first {
            rows.reverse();
        }
        Ok(rows)
    }

    /// Adds a member (seeing the chat from this event on); returns the event's
    /// number, `None` for no such chat, `Conflict` when already a member.
    pub async fn add_chat_member(
        &self,
        chat_id: i64,
        member: &str,
        role: ChatRole,
        actor: &str,
        at: i64,
    ) -> Result<Option<i64>> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let Some(seq) = next_event!(
                tx,
                chat_id,
                "member_added",
                actor,
                at,
                None,
                Some(member),
                Some(role.as_str())
            ) else {
                return Ok(None);
            };
            sqlx::query(
                "insert into chat_members (chat_id, member, role, joined_seq, read_seq) values ($1, $2, $3, $4, $5)",
            )
            .bind(chat_id)
            .bind(member)
            .bind(role.as_str())
            .bind(seq)
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(StorageError::on_unique("chat_members_pkey"))?;
            tx.commit().await?;
            Ok(Some(seq))
        })
    }

    /// Takes a member out (`member_removed` by someone else, `member_left` by
    /// themselves); returns the event's number, `None` when they were not a member.
    pub async fn remove_chat_member(
        &self,
        chat_id: i64,
        member: &str,
        actor: &str,
        at: i64,
    ) -> Result<Option<i64>> {
        let kind = if member == actor {
            "member_left"
        } else {
            "member_removed"
        };
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let gone = sqlx::query("delete from chat_members where chat_id = $1 and member = $2")
                .bind(chat_id)
                .bind(member)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if gone == 0 {
                return Ok(None);
            }
            let seq = next_event!(
                tx,
                chat_id,
                kind,
                actor,
                at,
                None,
                Some(member),
                None::<&str>
            );
            tx.commit().await?;
            Ok(seq)
        })
    }

    /// Gives a member a new role; returns the event's number, `None` when they are
    /// not a member.
    pub async fn set_chat_role(
        &self,
        chat_id: i64,
        member: &str,
        role: ChatRole,
        actor: &str,
        at: i64,
    ) -> Result<Option<i64>> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let changed =
                sqlx::query("update chat_members set role = $1 where chat_id = $2 and member = $3")
                    .bind(role.as_str())
                    .bind(chat_id)
                    .bind(member)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if changed == 0 {
                return Ok(None);
            }
            let seq = next_event!(
                tx,
                chat_id,
                "role_changed",
                actor,
                at,
                None,
                Some(member),
                Some(role.as_str())
            );
            tx.commit().await?;
            Ok(seq)
        })
    }

    /// One message by its number.
    pub async fn message(&self, chat_id: i64, seq: i64) -> Result<Option<MessageRow>> {
        let sql = format!("select {MESSAGE_COLUMNS} from messages where chat_id = $1 and seq = $2");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(chat_id)
            .bind(seq)
            .fetch_optional(pool)
            .await)?)
    }

    /// Events after a sequence number, in order: a reconnecting client's catch-up.
    pub async fn events_after(
        &self,
        chat_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>> {
        let sql = "select seq, kind, actor, at, message_seq, subject, detail from chat_events \
                   where chat_id = $1 and seq > $2 order by seq limit $3";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(chat_id)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }

    /// Moves a member's read position forward (never back, never past the chat's
    /// last event); returns the position now, or `None` for a non-member.
    pub async fn mark_read(&self, chat_id: i64, member: &str, seq: i64) -> Result<Option<i64>> {
        let sql = "update chat_members set read_seq = case \
                   when $1 > read_seq then (select case when $1 < c.last_seq then $1 else c.last_seq end \
                                            from chats c where c.id = $2) \
                   else read_seq end \
                   where chat_id = $2 and member = $3 returning read_seq";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(seq)
            .bind(chat_id)
            .bind(member)
            .fetch_optional(pool)
            .await)?)
    }

    /// Messages of a chat whose text contains `text` (any case), newest first.
    pub async fn search_messages(
        &self,
        chat_id: i64,
        text: &str,
        limit: i64,
    ) -> Result<Vec<MessageRow>> {
        let sql = format!(
            "select {MESSAGE_COLUMNS} from messages where chat_id = $1 and search_text like $2 escape '\\' \
             order by seq desc limit $3"
        );
        let pattern = super::like_pattern(text);
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(chat_id)
            .bind(&pattern)
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }

    /// Everyone who shares a chat with `member` (not `member`): whom their
    /// presence concerns.
    pub async fn chat_partners(&self, member: &str) -> Result<Vec<String>> {
        let sql = "select distinct other.member from chat_members mine \
                   join chat_members other on other.chat_id = mine.chat_id \
                   where mine.member = $1 and other.member <> $1";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(member)
            .fetch_all(pool)
            .await)?)
    }
}

//! Chats hosted by this server: members, the per-chat event sequence, messages.
//!
//! Every change to a chat (its creation, a message, an edit, a deletion) is an
//! event with the chat's next sequence number, taken by incrementing
//! `chats.last_seq` inside the transaction that stores the change: the row lock
//! (PostgreSQL) or the write lock (SQLite) orders concurrent writers, so numbers
//! are gap-free and a client that knows the last number it saw can catch up.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use app::types::{ChatKind, ChatRole, EventKind};

use super::{Backend, BeginWrite, ChatId, Posted, Result, Seq, StorageError, Store, on_pool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChatRow {
    pub id: ChatId,
    pub kind: ChatKind,
    pub title: String,
    pub direct_key: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub last_seq: Seq,
    /// For a chat hosted by another server: its name, and the chat's id there.
    pub host: Option<String>,
    pub host_chat_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChatMemberRow {
    pub member: String,
    pub role: ChatRole,
    pub joined_seq: Seq,
    pub read_seq: Seq,
}

/// A chat as a member's chat list shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChatListRow {
    pub id: ChatId,
    pub kind: ChatKind,
    pub title: String,
    pub last_seq: Seq,
    /// When the latest event happened (Unix ms).
    pub last_at: i64,
    pub read_seq: Seq,
    /// The member sees the chat from this event on.
    pub joined_seq: Seq,
    /// Messages of others after `read_seq` that are not deleted.
    pub unread: i64,
    /// The member muted the chat.
    pub muted: bool,
}

/// A message found by [`Store::search_everywhere`], with its chat.
#[derive(Debug, sqlx::FromRow)]
struct SearchRow {
    chat_id: ChatId,
    #[sqlx(flatten)]
    message: MessageRow,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageRow {
    pub seq: Seq,
    pub sender: String,
    pub client_id: String,
    pub body: String,
    pub reply_to: Option<Seq>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub file_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub seq: Seq,
    pub kind: EventKind,
    pub actor: String,
    pub at: i64,
    pub message_seq: Option<Seq>,
    pub subject: Option<String>,
    /// The new role of `member_added` and `role_changed`.
    #[sqlx(rename = "detail")]
    pub role: Option<ChatRole>,
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
    pub chat_id: ChatId,
    pub sender: &'a str,
    pub client_id: &'a str,
    pub body: &'a str,
    pub reply_to: Option<Seq>,
    /// A file the sender uploaded to this chat and has not sent yet.
    pub file_id: Option<i64>,
    pub at: i64,
}

/// A send as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message: MessageRow,
    /// `false` for a retry, answered with the first copy.
    pub created: bool,
    /// The chat's members when the message was stored: whom to push it to.
    pub members: Arc<[String]>,
}

/// The key that makes a pair's direct chat unique: both IDs, sorted.
pub fn direct_key(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a} {b}")
    } else {
        format!("{b} {a}")
    }
}

pub(super) const CHAT_COLUMNS: &str =
    "id, kind, title, direct_key, created_by, created_at, last_seq, host, host_chat_id";
const MESSAGE_COLUMNS: &str =
    "seq, sender, client_id, body, reply_to, created_at, edited_at, deleted_at, file_id";

/// The columns a send writes into `messages`, and how one message fills them
/// (`bind_message!`): the whole per-message write of a send. A new column goes
/// into both (and into [`stored_message`], the row the sender is answered with).
const MESSAGE_INSERT_COLUMNS: &str =
    "chat_id, seq, sender, client_id, body, reply_to, created_at, search_text, file_id";
const MESSAGE_INSERT_VALUES: usize = 9;

/// Binds the [`MESSAGE_INSERT_COLUMNS`] of `$message`, numbered `$seq`.
macro_rules! bind_message {
    ($query:expr, $message:expr, $seq:expr) => {
        $query
            .bind($message.chat_id)
            .bind($seq)
            .bind($message.sender)
            .bind($message.client_id)
            .bind($message.body)
            .bind($message.reply_to)
            .bind($message.at)
            .bind($message.body.to_lowercase())
            .bind($message.file_id)
    };
}

/// A new message as it is stored.
fn stored_message(message: &NewMessage<'_>, seq: Seq) -> MessageRow {
    MessageRow {
        seq,
        sender: message.sender.to_owned(),
        client_id: message.client_id.to_owned(),
        body: message.body.to_owned(),
        reply_to: message.reply_to,
        created_at: message.at,
        edited_at: None,
        deleted_at: None,
        file_id: message.file_id,
    }
}

/// `($1, $2), ($3, $4)`: placeholders for `rows` rows of `values` values each.
/// SQLite gets plain `?`s: it looks up a numbered parameter by a linear scan,
/// which made binding a statement of a few thousand `$N`s quadratic.
fn placeholders(backend: Backend, rows: usize, values: usize) -> String {
    let mut sql = String::with_capacity(rows * values * 6);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for value in 0..values {
            if value > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push_str(&format!("${}", row * values + value + 1));
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// A message already stored, with its chat.
#[derive(sqlx::FromRow)]
struct KeyedMessageRow {
    chat_id: ChatId,
    #[sqlx(flatten)]
    row: MessageRow,
}

/// The sends of a batch to one chat, by index: all, and those to store.
#[derive(Default)]
struct ChatSends {
    all: Vec<usize>,
    new: Vec<usize>,
}

/// What a batch does with each of its sends.
enum Plan {
    /// A retry of a message stored before: answered with that copy.
    Stored(MessageRow),
    /// The same send as an earlier one of the batch (by index): answered with its copy.
    Repeat(usize),
    /// A new message: stored with the next number of its chat, if there is one.
    New,
}

impl Store {
    /// Creates a chat with its members (each seeing it from its first event, the
    /// creation). A second direct chat for the same pair is
    /// `Conflict("chats_direct_key")`.
    pub async fn create_chat(&self, chat: &NewChat<'_>) -> Result<ChatRow> {
        let (row, _) = self
            .transaction(async |tx| tx.create_chat(chat).await)
            .await?;
        Ok(row)
    }

    pub async fn chat(&self, id: ChatId) -> Result<Option<ChatRow>> {
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

    pub async fn chat_members(&self, chat_id: ChatId) -> Result<Vec<ChatMemberRow>> {
        let sql = "select member, role, joined_seq, read_seq from chat_members \
                   where chat_id = $1 order by member";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(chat_id)
            .fetch_all(pool)
            .await)?)
    }

    /// The display names of a chat's members, by Causeway ID: a user of this
    /// server (`own`) by their own, a user of another server as it last told it.
    /// Members whose name is not known are missing. One query, however many
    /// members the chat has.
    pub async fn member_names(
        &self,
        chat_id: ChatId,
        own: &str,
    ) -> Result<HashMap<String, String>> {
        // `login@own` is split to find the login, so the look-up uses the index
        // on users.login.
        let sql = "select cm.member, coalesce(u.display_name, rp.display_name) \
                   from chat_members cm \
                   left join users u on u.login = substr(cm.member, 1, \
                        length(cm.member) - length(cast($2 as text)) - 1) \
                     and cm.member = u.login || '@' || cast($2 as text) \
                   left join remote_profiles rp on rp.causeway_id = cm.member \
                   where cm.chat_id = $1";
        let rows: Vec<(String, Option<String>)> = on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(chat_id)
            .bind(own)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|(member, name)| Some((member, name?)))
            .collect())
    }

    pub async fn chat_member(
        &self,
        chat_id: ChatId,
        member: &str,
    ) -> Result<Option<ChatMemberRow>> {
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
                   m.joined_seq, \
                   (select count(*) from messages g where g.chat_id = c.id \
                    and g.seq > m.read_seq and g.seq >= m.joined_seq \
                    and g.sender <> m.member and g.deleted_at is null) as unread, \
                   exists (select 1 from chat_mutes u where u.chat_id = c.id \
                    and u.member = m.member) as muted \
                   from chat_members m join chats c on c.id = m.chat_id \
                   join chat_events e on e.chat_id = c.id and e.seq = c.last_seq \
                   where m.member = $1 order by e.at desc, c.id desc";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(member)
            .fetch_all(pool)
            .await)?)
    }

    /// The unread messages of others in a chat whose text names `member`
    /// (candidates: the caller checks each with the mention parser).
    pub async fn unread_mention_candidates(
        &self,
        chat_id: ChatId,
        member: &str,
        after: Seq,
        from: Seq,
    ) -> Result<Vec<String>> {
        let sql = "select body from messages where chat_id = $1 and seq > $2 and seq >= $3 \
                   and sender <> $4 and deleted_at is null and body like $5 escape '\\'";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(chat_id)
            .bind(after)
            .bind(from)
            .bind(member)
            .bind(super::like_pattern(&format!("@{member}")))
            .fetch_all(pool)
            .await)?)
    }

    /// Mutes or unmutes a chat for a member. `false`: not a member.
    pub async fn set_muted(&self, chat_id: ChatId, member: &str, muted: bool) -> Result<bool> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let is_member: i64 = sqlx::query_scalar(
                "select count(*) from chat_members where chat_id = $1 and member = $2",
            )
            .bind(chat_id)
            .bind(member)
            .fetch_one(&mut *tx)
            .await?;
            if is_member == 0 {
                return Ok(false);
            }
            let sql = if muted {
                "insert into chat_mutes (chat_id, member) values ($1, $2) on conflict do nothing"
            } else {
                "delete from chat_mutes where chat_id = $1 and member = $2"
            };
            sqlx::query(sql)
                .bind(chat_id)
                .bind(member)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Stores a message as the chat's next event. A retry with the same sender and
    /// `client_id` returns the stored message and `false` instead of a copy.
    /// `Missing("chat")` when there is no such chat or the sender is not in it,
    /// `Missing("file")` when the file is not the sender's, not of this chat, or
    /// sent with another message. Answered once the message is committed; see
    /// [`Store::send_message`].
    pub async fn post_message(&self, message: &NewMessage<'_>) -> Result<(MessageRow, bool)> {
        self.send_message(message)
            .await
            .map(|sent| (sent.message, sent.created))
    }

    /// [`Store::post_message`], answering also whom to push the message to.
    /// Concurrent sends share one transaction and one commit (`group_commit`).
    pub async fn send_message(&self, message: &NewMessage<'_>) -> Posted {
        match &self.sends {
            Some(sends) => sends.post(message).await,
            None => self.post_alone(message).await,
        }
    }

    /// Stores `messages` in one write transaction — one commit, one fsync — and
    /// returns one result per message, in order, each as [`Store::send_message`]
    /// would have answered it alone: a message refused (no such chat, a sender
    /// not in it, a file it cannot carry) or a retry does not fail the others. Messages to one chat take
    /// its numbers in the order given.
    pub async fn post_messages(&self, messages: &[NewMessage<'_>]) -> Vec<Posted> {
        if messages.is_empty() {
            return Vec::new();
        }
        match self.post_batch(messages).await {
            Ok(results) => results,
            // The transaction as a whole failed (its commit, a lost connection, a
            // retry racing another process): each message gets its own chance.
            Err(error) if messages.len() > 1 => {
                tracing::warn!(%error, count = messages.len(), "a batch of sends failed; storing them one by one");
                let mut results = Vec::with_capacity(messages.len());
                for message in messages {
                    results.push(self.post_alone(message).await);
                }
                results
            }
            Err(error) => vec![self.settle(&messages[0], error).await],
        }
    }

    async fn post_alone(&self, message: &NewMessage<'_>) -> Posted {
        match self.post_batch(std::slice::from_ref(message)).await {
            Ok(mut one) => one.pop().unwrap_or(Err(StorageError::Missing("message"))),
            Err(error) => self.settle(message, error).await,
        }
    }

    /// The answer to a send whose transaction failed with `error`. A unique
    /// violation means a concurrent retry (in another process) stored it first:
    /// the answer is that copy (not new, so there is nobody to push it to).
    async fn settle(&self, message: &NewMessage<'_>, error: StorageError) -> Posted {
        if !matches!(error, StorageError::Conflict("messages_client_id_key")) {
            return Err(error);
        }
        let sql = format!(
            "select {MESSAGE_COLUMNS} from messages where chat_id = $1 and sender = $2 and client_id = $3"
        );
        let found: Option<MessageRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(message.chat_id)
            .bind(message.sender)
            .bind(message.client_id)
            .fetch_optional(pool)
            .await)?;
        found
            .map(|message| Sent {
                message,
                created: false,
                members: Arc::from([]),
            })
            .ok_or(StorageError::Missing("message"))
    }

    /// One transaction for the whole batch, a handful of statements whatever its
    /// size: look up retries; per chat, take the next numbers and read the
    /// members (the senders must be among them); claim the files the messages
    /// carry (one statement per file, as in [`super::files::ATTACH_FILE`]);
    /// insert the events; insert the messages. `Err` only when the transaction fails, and then nothing is stored.
    async fn post_batch(&self, messages: &[NewMessage<'_>]) -> Result<Vec<Posted>> {
        let count = messages.len();
        // Statements of a few sizes are worth preparing once; the rest would only
        // push the common ones out of the connection's statement cache.
        let persistent = count <= 4;
        let backend = self.backend();
        // A join, not `(chat_id, sender, client_id) in (values …)`: SQLite plans
        // that as a scan of every message, this as one index look-up per send.
        let lookup = format!(
            "with sends (chat_id, sender, client_id) as (values {}) \
             select m.chat_id, {} from sends s join messages m \
             on m.chat_id = s.chat_id and m.sender = s.sender and m.client_id = s.client_id",
            placeholders(backend, count, 3),
            MESSAGE_COLUMNS
                .split(", ")
                .map(|c| format!("m.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let (plans, seqs, in_chat, file_refused, members_of) = on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;

            // Retries of sends stored before, and repeats within the batch.
            let mut query = sqlx::query_as::<_, KeyedMessageRow>(&lookup).persistent(persistent);
            for message in messages {
                query = query
                    .bind(message.chat_id)
                    .bind(message.sender)
                    .bind(message.client_id);
            }
            let mut stored: HashMap<(ChatId, String, String), MessageRow> = query
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|k| {
                    (
                        (k.chat_id, k.row.sender.clone(), k.row.client_id.clone()),
                        k.row,
                    )
                })
                .collect();
            let mut first: HashMap<(ChatId, &str, &str), usize> = HashMap::new();
            let mut plans = Vec::with_capacity(count);
            // Chats in id order: two processes sharing a PostgreSQL database lock
            // chat rows in the same order, so cannot deadlock each other.
            let mut chats: BTreeMap<ChatId, ChatSends> = BTreeMap::new();
            for (i, message) in messages.iter().enumerate() {
                let key = (message.chat_id, message.sender, message.client_id);
                let sends = chats.entry(message.chat_id).or_default();
                sends.all.push(i);
                let owned = (key.0, key.1.to_owned(), key.2.to_owned());
                plans.push(if let Some(row) = stored.remove(&owned) {
                    first.insert(key, i);
                    Plan::Stored(row)
                } else if let Some(&earlier) = first.get(&key) {
                    Plan::Repeat(earlier)
                } else {
                    first.insert(key, i);
                    sends.new.push(i);
                    Plan::New
                });
            }

            let mut seqs: Vec<Option<Seq>> = vec![None; count];
            let mut in_chat = vec![false; count];
            let mut file_refused = vec![false; count];
            let mut members_of: HashMap<ChatId, Arc<[String]>> = HashMap::new();
            for (&chat_id, ChatSends { all, new }) in &chats {
                // The chat's next numbers, taken first: on PostgreSQL this locks
                // the chat's row, so the members read next are those the
                // messages reach (a membership change waits for this commit).
                let taken = new.len() as i64;
                let last: Option<i64> = if new.is_empty() {
                    None
                } else {
                    let last = sqlx::query_scalar(
                        "update chats set last_seq = last_seq + $1 where id = $2 returning last_seq",
                    )
                    .bind(taken)
                    .bind(chat_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if last.is_none() {
                        continue; // No such chat: its sends are refused below.
                    }
                    last
                };
                let members: Vec<String> =
                    sqlx::query_scalar("select member from chat_members where chat_id = $1")
                        .bind(chat_id)
                        .fetch_all(&mut *tx)
                        .await?;
                let among: HashSet<&str> = members.iter().map(String::as_str).collect();
                for &i in all {
                    in_chat[i] = among.contains(messages[i].sender);
                }
                drop(among);
                if let Some(last) = last {
                    let mut next = last - taken + 1;
                    for &i in new {
                        if !in_chat[i] {
                            continue;
                        }
                        // The file goes with this message only if nobody sent
                        // it before: a send whose file is taken is refused on
                        // its own, and the number goes to the next send.
                        if let Some(file_id) = messages[i].file_id {
                            let claimed = sqlx::query(super::files::ATTACH_FILE)
                                .bind(next)
                                .bind(file_id)
                                .bind(chat_id)
                                .bind(messages[i].sender)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                            if claimed == 0 {
                                file_refused[i] = true;
                                continue;
                            }
                        }
                        seqs[i] = Some(Seq(next));
                        next += 1;
                    }
                    // Numbers taken for senders not in the chat, or for sends
                    // whose file was taken, go back.
                    if next <= last {
                        sqlx::query("update chats set last_seq = $1 where id = $2")
                            .bind(next - 1)
                            .bind(chat_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                members_of.insert(chat_id, members.into());
            }

            let new: Vec<(&NewMessage<'_>, Seq)> = chats
                .values()
                .flat_map(|sends| &sends.new)
                .filter_map(|&i| seqs[i].map(|seq| (&messages[i], seq)))
                .collect();
            if !new.is_empty() {
                let sql = format!(
                    "insert into chat_events (chat_id, seq, kind, actor, at, message_seq) values {}",
                    placeholders(backend, new.len(), 6)
                );
                let mut query = sqlx::query(&sql).persistent(persistent);
                for &(message, seq) in &new {
                    query = query
                        .bind(message.chat_id)
                        .bind(seq)
                        .bind("message")
                        .bind(message.sender)
                        .bind(message.at)
                        .bind(seq);
                }
                query.execute(&mut *tx).await?;

                let sql = format!(
                    "insert into messages ({MESSAGE_INSERT_COLUMNS}) values {}",
                    placeholders(backend, new.len(), MESSAGE_INSERT_VALUES)
                );
                let mut query = sqlx::query(&sql).persistent(persistent);
                for &(message, seq) in &new {
                    query = bind_message!(query, message, seq);
                }
                query
                    .execute(&mut *tx)
                    .await
                    .map_err(StorageError::on_unique("messages_client_id_key"))?;
            }
            tx.commit().await?;
            Ok::<_, StorageError>((plans, seqs, in_chat, file_refused, members_of))
        })?;

        // Every send's own answer. A chat that does not exist and a chat the
        // sender is not in are the same answer; a file that could not be
        // claimed is `Missing("file")`.
        let mut results: Vec<Posted> = Vec::with_capacity(count);
        for (i, plan) in plans.into_iter().enumerate() {
            let message = &messages[i];
            let members = members_of.get(&message.chat_id).filter(|_| in_chat[i]);
            let Some(members) = members.cloned() else {
                results.push(Err(StorageError::Missing("chat")));
                continue;
            };
            results.push(match plan {
                Plan::Stored(row) => Ok(Sent {
                    message: row,
                    created: false,
                    members,
                }),
                Plan::New if file_refused[i] => Err(StorageError::Missing("file")),
                Plan::New => seqs[i]
                    .map(|seq| Sent {
                        message: stored_message(message, seq),
                        created: true,
                        members,
                    })
                    .ok_or(StorageError::Missing("chat")),
                Plan::Repeat(earlier) => match &results[earlier] {
                    Ok(sent) => Ok(Sent {
                        created: false,
                        ..sent.clone()
                    }),
                    &Err(StorageError::Missing(what)) => Err(StorageError::Missing(what)),
                    Err(_) => Err(StorageError::Missing("chat")),
                },
            });
        }
        Ok(results)
    }

    /// Edits a message of `actor`'s, sent at or after `sent_since` (the edit
    /// window), while they are a member; the text may be empty only for a
    /// message with a file. The edit's event, or `None` when it may not be edited.
    #[allow(clippy::too_many_arguments)] // each is one column or condition of the edit
    pub async fn edit_message(
        &self,
        chat_id: ChatId,
        seq: Seq,
        body: &str,
        actor: &str,
        at: i64,
        sent_since: i64,
    ) -> Result<Option<EventRow>> {
        self.transaction(async |tx| {
            if !tx
                .update_message(chat_id, seq, body, actor, at, sent_since)
                .await?
            {
                return Ok(None);
            }
            let kind = EventKind::Edit;
            tx.append_event(chat_id, kind, actor, at, Some(seq), None, None)
                .await
        })
        .await
    }

    /// Deletes a message (its text goes; its place in the history stays); the
    /// deletion's event, or `None` when there is no such message.
    pub async fn delete_message(
        &self,
        chat_id: ChatId,
        seq: Seq,
        actor: &str,
        at: i64,
    ) -> Result<Option<EventRow>> {
        self.transaction(async |tx| {
            // Whoever deletes is still a member when it is written.
            if !tx.mark_deleted(chat_id, seq, actor, at).await? {
                return Ok(None);
            }
            let kind = EventKind::Delete;
            tx.append_event(chat_id, kind, actor, at, Some(seq), None, None)
                .await
        })
        .await
    }

    /// A page of messages in sequence order: the latest `limit`, or those before
    /// or after a sequence number.
    pub async fn messages(
        &self,
        chat_id: ChatId,
        since: Seq,
        before: Option<Seq>,
        after: Option<Seq>,
        limit: i64,
    ) -> Result<Vec<MessageRow>> {
        let (sql, bound, newest_first) = match (before, after) {
            (_, Some(after)) => (
                format!(
                    "select {MESSAGE_COLUMNS} from messages where chat_id = $1 and seq > $2 \
                     and seq >= $4 order by seq limit $3"
                ),
                after,
                false,
            ),
            (before, None) => (
                format!(
                    "select {MESSAGE_COLUMNS} from messages where chat_id = $1 and seq < $2 \
                     and seq >= $4 order by seq desc limit $3"
                ),
                before.unwrap_or(Seq(i64::MAX)),
                true,
            ),
        };
        let mut rows: Vec<MessageRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(chat_id)
            .bind(bound)
            .bind(limit)
            .bind(since)
            .fetch_all(pool)
            .await)?;
        if newest_first {
            rows.reverse();
        }
        Ok(rows)
    }

    /// Adds a member (seeing the chat from this event on); returns the event,
    /// `None` for no such chat, `Conflict` when already a member.
    pub async fn add_chat_member(
        &self,
        chat_id: ChatId,
        member: &str,
        role: ChatRole,
        actor: &str,
        at: i64,
    ) -> Result<Option<EventRow>> {
        self.transaction(async |tx| tx.add_member(chat_id, member, role, actor, at).await)
            .await
    }

    /// Adds `members` (those not in it yet) to chat `chat_id` as members, with
    /// an outbox cursor for each of `servers` first, in one transaction; the
    /// events, in order.
    pub async fn add_chat_members(
        &self,
        chat_id: ChatId,
        members: &[&str],
        servers: &[&str],
        actor: &str,
        at: i64,
    ) -> Result<Vec<EventRow>> {
        self.transaction(async |tx| {
            tx.lock_chat(chat_id).await?;
            for server in servers {
                tx.ensure_cursor(server, chat_id).await?;
            }
            let mut events = Vec::with_capacity(members.len());
            for member in members {
                if tx.member_role(chat_id, member).await?.is_some() {
                    continue;
                }
                let added = tx.add_member(chat_id, member, ChatRole::Member, actor, at);
                events.push(added.await?.ok_or(StorageError::Missing("chat"))?);
            }
            Ok(events)
        })
        .await
    }

    /// Takes a member out (`member_removed` by someone else, `member_left` by
    /// themselves); returns the event's number, `None` when they were not a member.
    pub async fn remove_chat_member(
        &self,
        chat_id: ChatId,
        member: &str,
        actor: &str,
        at: i64,
    ) -> Result<Option<EventRow>> {
        let kind = if member == actor {
            EventKind::MemberLeft
        } else {
            EventKind::MemberRemoved
        };
        self.transaction(async |tx| {
            if !tx.delete_member(chat_id, member).await? {
                return Ok(None);
            }
            tx.append_event(chat_id, kind, actor, at, None, Some(member), None)
                .await
        })
        .await
    }

    /// Takes a deleted user out of a direct chat (a `member_left` event, as
    /// [`Store::remove_chat_member`]) and frees the pair's key, so a later
    /// account with the same login starts a new chat with the other person
    /// instead of inheriting this one; `title` names the chat for whoever stays.
    /// Returns the event's number, `None` when they were not a member.
    pub async fn leave_direct_chat(
        &self,
        chat_id: ChatId,
        member: &str,
        title: &str,
        at: i64,
    ) -> Result<Option<EventRow>> {
        self.transaction(async |tx| {
            if !tx.delete_member(chat_id, member).await? {
                return Ok(None);
            }
            tx.free_direct_key(chat_id, title).await?;
            let kind = EventKind::MemberLeft;
            tx.append_event(chat_id, kind, member, at, None, Some(member), None)
                .await
        })
        .await
    }

    /// Gives a member a new role; returns the event's number, `None` when they are
    /// not a member.
    pub async fn set_chat_role(
        &self,
        chat_id: ChatId,
        member: &str,
        role: ChatRole,
        actor: &str,
        at: i64,
    ) -> Result<Option<EventRow>> {
        self.transaction(async |tx| {
            if !tx.update_role(chat_id, member, role).await? {
                return Ok(None);
            }
            let kind = EventKind::RoleChanged;
            tx.append_event(chat_id, kind, actor, at, None, Some(member), Some(role))
                .await
        })
        .await
    }

    /// Hands group chat `chat_id` from its owner `from` to the member `to` in
    /// one transaction: `to` becomes owner, then `from` an admin (two events,
    /// returned in order). `None` when `from` is not the owner (any more) or
    /// `to` not a member: there are never two owners, nor none.
    pub async fn hand_chat_over(
        &self,
        chat_id: ChatId,
        from: &str,
        to: &str,
        at: i64,
    ) -> Result<Option<Vec<EventRow>>> {
        self.transaction(async |tx| {
            tx.lock_chat(chat_id).await?;
            let owner = tx.member_role(chat_id, from).await? == Some(ChatRole::Owner);
            let heir = tx.member_role(chat_id, to).await?.is_some();
            if from == to || !owner || !heir {
                return Ok(None);
            }
            let mut seqs = Vec::with_capacity(2);
            for (member, role) in [(to, ChatRole::Owner), (from, ChatRole::Admin)] {
                tx.update_role(chat_id, member, role).await?;
                let kind = EventKind::RoleChanged;
                let event =
                    tx.append_event(chat_id, kind, from, at, None, Some(member), Some(role));
                seqs.extend(event.await?);
            }
            Ok(Some(seqs))
        })
        .await
    }

    /// `member` leaves chat `chat_id` in one transaction; an owner first hands
    /// it to the longest-standing admin, else the longest-standing member.
    /// The events' numbers in order (the hand-over's, if any, then the
    /// departure's); `None` when they are not a member.
    pub async fn leave_chat(
        &self,
        chat_id: ChatId,
        member: &str,
        at: i64,
    ) -> Result<Option<Vec<EventRow>>> {
        self.transaction(async |tx| {
            tx.lock_chat(chat_id).await?;
            let Some(role) = tx.member_role(chat_id, member).await? else {
                return Ok(None);
            };
            let mut seqs = Vec::with_capacity(2);
            if role == ChatRole::Owner
                && let Some(heir) = tx.heir(chat_id, member).await?
            {
                let owner = ChatRole::Owner;
                tx.update_role(chat_id, &heir, owner).await?;
                let kind = EventKind::RoleChanged;
                let event =
                    tx.append_event(chat_id, kind, member, at, None, Some(&heir), Some(owner));
                seqs.extend(event.await?);
            }
            tx.delete_member(chat_id, member).await?;
            let kind = EventKind::MemberLeft;
            let event = tx.append_event(chat_id, kind, member, at, None, Some(member), None);
            seqs.extend(event.await?);
            Ok(Some(seqs))
        })
        .await
    }

    /// One message by its number.
    pub async fn message(&self, chat_id: ChatId, seq: Seq) -> Result<Option<MessageRow>> {
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
        chat_id: ChatId,
        after: Seq,
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
    pub async fn mark_read(&self, chat_id: ChatId, member: &str, seq: Seq) -> Result<Option<Seq>> {
        self.transaction(async |tx| tx.mark_read(chat_id, member, seq).await)
            .await
    }

    /// Messages of a chat whose text or file name contains `text` (any case),
    /// newest first; deleted messages never.
    pub async fn search_messages(
        &self,
        chat_id: ChatId,
        since: Seq,
        text: &str,
        limit: i64,
    ) -> Result<Vec<MessageRow>> {
        let sql = format!(
            "select {MESSAGE_COLUMNS} from messages where chat_id = $1 and deleted_at is null \
             and seq >= $4 \
             and (search_text like $2 escape '\\' or exists (select 1 from files f \
                  where f.id = messages.file_id and f.search_name like $2 escape '\\')) \
             order by seq desc limit $3"
        );
        let pattern = super::like_pattern(text);
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(chat_id)
            .bind(&pattern)
            .bind(limit)
            .bind(since)
            .fetch_all(pool)
            .await)?)
    }

    /// Messages of every chat `member` is in (those since they joined each,
    /// not deleted) whose text or file name contains `text`, newest first,
    /// before the position `before` (`(created_at, chat, seq)`) if given.
    pub async fn search_everywhere(
        &self,
        member: &str,
        text: &str,
        before: Option<(i64, ChatId, Seq)>,
        limit: i64,
    ) -> Result<Vec<(ChatId, MessageRow)>> {
        let columns = MESSAGE_COLUMNS
            .split(", ")
            .map(|c| format!("g.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "select g.chat_id, {columns} from messages g \
             join chat_members m on m.chat_id = g.chat_id and m.member = $1 \
             where g.deleted_at is null and g.seq >= m.joined_seq \
             and (g.search_text like $2 escape '\\' or exists (select 1 from files f \
                  where f.id = g.file_id and f.search_name like $2 escape '\\')) \
             and ($4 or g.created_at < $5 or (g.created_at = $5 and (g.chat_id < $6 \
                  or (g.chat_id = $6 and g.seq < $7)))) \
             order by g.created_at desc, g.chat_id desc, g.seq desc limit $3"
        );
        let pattern = super::like_pattern(text);
        let (at, chat, seq) = before.unwrap_or((0, ChatId(0), Seq(0)));
        let rows: Vec<SearchRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(member)
            .bind(&pattern)
            .bind(limit)
            .bind(before.is_none())
            .bind(at)
            .bind(chat)
            .bind(seq)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(|r| (r.chat_id, r.message)).collect())
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

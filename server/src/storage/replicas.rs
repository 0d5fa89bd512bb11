//! Copies of chats hosted by other servers: applying what a host sends, and the
//! outbox cursors of chats hosted here.

use app::types::{ChatKind, ChatRole, EventKind};

use super::chats::CHAT_COLUMNS;
use super::{BeginWrite, ChatId, ChatRow, Result, Seq, StorageError, Store, on_pool};

/// A chat as its host describes it, to be applied to the copy here.
#[derive(Debug, Clone)]
pub struct ReplicaChat {
    pub host: String,
    pub host_chat_id: i64,
    pub kind: ChatKind,
    pub title: String,
    pub direct_key: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    /// Member, role, joined_seq, read_seq.
    pub members: Vec<(String, ChatRole, i64, i64)>,
    /// The server this copy is on: its people's read positions are kept as
    /// they are here (a host cannot mark what they read), a newcomer's
    /// starts where they joined at most.
    pub own_server: String,
    pub events: Vec<ReplicaEvent>,
}

#[derive(Debug, Clone)]
pub struct ReplicaEvent {
    pub seq: Seq,
    pub kind: EventKind,
    pub actor: String,
    pub at: i64,
    pub subject: Option<String>,
    /// The new role of `member_added` and `role_changed`.
    pub role: Option<ChatRole>,
    pub message: Option<ReplicaMessage>,
}

#[derive(Debug, Clone)]
pub struct ReplicaMessage {
    pub seq: Seq,
    pub sender: String,
    pub client_id: String,
    pub body: String,
    pub reply_to: Option<Seq>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub file: Option<ReplicaFile>,
}

#[derive(Debug, Clone)]
pub struct ReplicaFile {
    pub host_file_id: i64,
    pub sha256: String,
    pub name: String,
    pub size: i64,
    pub media_type: String,
    pub uploaded_by: String,
    pub created_at: i64,
}

/// What applying changed.
#[derive(Debug, Clone)]
pub struct Applied {
    pub chat: ChatRow,
    /// The sequence numbers of the events new here, in order.
    pub new_events: Vec<Seq>,
    /// The members before the update (to tell those removed).
    pub members_before: Vec<String>,
}

/// A chat hosted here and a destination's cursor in it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CursorRow {
    pub chat_id: ChatId,
    pub delivered_seq: Seq,
    pub delivered_reads: i64,
    pub last_seq: Seq,
    pub reads_version: i64,
}

const PENDING: &str = "(c.delivered_seq < ch.last_seq or c.delivered_reads < ch.reads_version)";

impl Store {
    /// The copy here of chat `host_chat_id` of `host`.
    pub async fn chat_by_host(&self, host: &str, host_chat_id: i64) -> Result<Option<ChatRow>> {
        let sql = format!("select {CHAT_COLUMNS} from chats where host = $1 and host_chat_id = $2");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(host)
            .bind(host_chat_id)
            .fetch_optional(pool)
            .await)?)
    }

    /// Applies a host's update to the copy of its chat, making the copy on the
    /// first one: title and members replaced, events not seen yet stored with
    /// their messages as they stand. Events at or below the copy's last number
    /// are ignored, so an update delivered twice changes nothing.
    pub async fn apply_replica(&self, update: &ReplicaChat) -> Result<Applied> {
        let find = format!(
            "select {CHAT_COLUMNS} from chats where host = $1 and host_chat_id = $2{}",
            match self.backend() {
                super::Backend::Postgres => " for update",
                super::Backend::Sqlite => "",
            }
        );
        // Two updates of a new chat may arrive at once (the outbox's and the
        // answer to opening a direct chat): the second insert does nothing and
        // the copy the first made is read instead.
        let insert = format!(
            "insert into chats (kind, title, direct_key, created_by, created_at, host, host_chat_id) \
             values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing returning {CHAT_COLUMNS}"
        );
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let found: Option<ChatRow> = sqlx::query_as(&find)
                .bind(&update.host)
                .bind(update.host_chat_id)
                .fetch_optional(&mut *tx)
                .await?;
            let found = match found {
                Some(chat) => Some(chat),
                None => {
                    sqlx::query_as(&insert)
                        .bind(update.kind)
                        .bind(&update.title)
                        .bind(&update.direct_key)
                        .bind(&update.created_by)
                        .bind(update.created_at)
                        .bind(&update.host)
                        .bind(update.host_chat_id)
                        .fetch_optional(&mut *tx)
                        .await?
                }
            };
            let mut chat = match found {
                Some(chat) => chat,
                // Made meanwhile, or the direct key is another chat's.
                None => sqlx::query_as(&find)
                    .bind(&update.host)
                    .bind(update.host_chat_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StorageError::Conflict("chats_direct_key"))?,
            };
            let reads_before: Vec<(String, i64)> =
                sqlx::query_as("select member, read_seq from chat_members where chat_id = $1")
                    .bind(chat.id)
                    .fetch_all(&mut *tx)
                    .await?;
            let own_suffix = format!("@{}", update.own_server);
            let read_of = |member: &str, joined: i64, read: i64| {
                if !member.ends_with(&own_suffix) {
                    return read;
                }
                reads_before
                    .iter()
                    .find(|(m, _)| m == member)
                    .map_or(read.min(joined), |(_, kept)| *kept)
            };
            let members_before: Vec<String> = reads_before.iter().map(|(m, _)| m.clone()).collect();
            sqlx::query("delete from chat_members where chat_id = $1")
                .bind(chat.id)
                .execute(&mut *tx)
                .await?;
            for (member, role, joined, read) in &update.members {
                sqlx::query(
                    "insert into chat_members (chat_id, member, role, joined_seq, read_seq) \
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(chat.id)
                .bind(member)
                .bind(role)
                .bind(joined)
                .bind(read_of(member, *joined, *read))
                .execute(&mut *tx)
                .await
                .map_err(StorageError::on_unique("chat_members_pkey"))?;
            }
            let mut new_events = Vec::new();
            let mut last_seq = chat.last_seq;
            for event in &update.events {
                if event.seq <= last_seq {
                    continue;
                }
                let message_seq = event.message.as_ref().map(|m| m.seq);
                sqlx::query(
                    "insert into chat_events (chat_id, seq, kind, actor, at, message_seq, subject, detail) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(chat.id)
                .bind(event.seq)
                .bind(event.kind)
                .bind(&event.actor)
                .bind(event.at)
                .bind(message_seq)
                .bind(&event.subject)
                .bind(event.role)
                .execute(&mut *tx)
                .await?;
                if let Some(message) = &event.message {
                    let file_id: Option<i64> = match &message.file {
                        None => None,
                        Some(file) => {
                            let known: Option<i64> = sqlx::query_scalar(
                                "select id from files where chat_id = $1 and host_file_id = $2",
                            )
                            .bind(chat.id)
                            .bind(file.host_file_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                            match known {
                                // Uploaded from here, or seen before: now it is
                                // this message's.
                                Some(id) => {
                                    sqlx::query("update files set message_seq = $1 where id = $2")
                                        .bind(message.seq)
                                        .bind(id)
                                        .execute(&mut *tx)
                                        .await?;
                                    Some(id)
                                }
                                None => Some(
                                    sqlx::query_scalar(
                                        "insert into files (chat_id, sha256, name, size, media_type, \
                                         uploaded_by, created_at, message_seq, host_file_id, \
                                         search_name) \
                                         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                                         returning id",
                                    )
                                    .bind(chat.id)
                                    .bind(&file.sha256)
                                    .bind(&file.name)
                                    .bind(file.size)
                                    .bind(&file.media_type)
                                    .bind(&file.uploaded_by)
                                    .bind(file.created_at)
                                    .bind(message.seq)
                                    .bind(file.host_file_id)
                                    .bind(file.name.to_lowercase())
                                    .fetch_one(&mut *tx)
                                    .await?,
                                ),
                            }
                        }
                    };
                    sqlx::query(
                        "insert into messages (chat_id, seq, sender, client_id, body, reply_to, \
                         created_at, edited_at, deleted_at, search_text, file_id) \
                         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                         on conflict (chat_id, seq) do update set body = excluded.body, \
                         edited_at = excluded.edited_at, deleted_at = excluded.deleted_at, \
                         search_text = excluded.search_text, file_id = excluded.file_id",
                    )
                    .bind(chat.id)
                    .bind(message.seq)
                    .bind(&message.sender)
                    .bind(&message.client_id)
                    .bind(&message.body)
                    .bind(message.reply_to)
                    .bind(message.created_at)
                    .bind(message.edited_at)
                    .bind(message.deleted_at)
                    .bind(message.body.to_lowercase())
                    .bind(file_id)
                    .execute(&mut *tx)
                    .await?;
                }
                new_events.push(event.seq);
                last_seq = event.seq;
            }
            sqlx::query("update chats set title = $1, last_seq = $2 where id = $3")
                .bind(&update.title)
                .bind(last_seq)
                .bind(chat.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            chat.title.clone_from(&update.title);
            chat.last_seq = last_seq;
            Ok(Applied {
                chat,
                new_events,
                members_before,
            })
        })
    }

    /// Gives `destination` a cursor in chat `chat_id` if it has none.
    pub async fn ensure_cursor(&self, destination: &str, chat_id: ChatId) -> Result<()> {
        self.transaction(async |tx| tx.ensure_cursor(destination, chat_id).await)
            .await
    }

    /// The chats with something not yet delivered to `destination`, in id order.
    pub async fn pending_cursors(&self, destination: &str, limit: i64) -> Result<Vec<CursorRow>> {
        let sql = format!(
            "select c.chat_id, c.delivered_seq, c.delivered_reads, ch.last_seq, ch.reads_version \
             from federation_cursors c join chats ch on ch.id = c.chat_id \
             where c.destination = $1 and {PENDING} order by c.chat_id limit $2"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(destination)
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }

    /// Removes the cursor of `destination` in chat `chat_id` when none of the
    /// chat's members is of that server (one was perhaps added since the outbox
    /// looked: then the cursor stays).
    pub async fn drop_departed_cursor(&self, destination: &str, chat_id: ChatId) -> Result<()> {
        let sql = "delete from federation_cursors where destination = $1 and chat_id = $2 \
                   and not exists (select 1 from chat_members m where m.chat_id = $2 \
                   and substr(m.member, length(m.member) - length(cast($1 as text))) \
                       = '@' || cast($1 as text))";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(destination)
            .bind(chat_id)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Moves a cursor forward (never back).
    pub async fn advance_cursor(
        &self,
        destination: &str,
        chat_id: ChatId,
        seq: Seq,
        reads: i64,
    ) -> Result<()> {
        let sql = "update federation_cursors set \
                   delivered_seq = case when $3 > delivered_seq then $3 else delivered_seq end, \
                   delivered_reads = case when $4 > delivered_reads then $4 else delivered_reads end \
                   where destination = $1 and chat_id = $2";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(destination)
            .bind(chat_id)
            .bind(seq)
            .bind(reads)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Destinations with something to deliver.
    pub async fn destinations_pending(&self) -> Result<Vec<String>> {
        let sql = format!(
            "select distinct c.destination from federation_cursors c \
             join chats ch on ch.id = c.chat_id where {PENDING}"
        );
        Ok(on_pool!(self, |pool| sqlx::query_scalar(&sql)
            .fetch_all(pool)
            .await)?)
    }

    /// Per destination, the number of events not yet delivered.
    pub async fn queue_lengths(&self) -> Result<Vec<(String, i64)>> {
        let sql = "select c.destination, cast(sum(ch.last_seq - case when c.delivered_seq < 0 \
                   then 0 else c.delivered_seq end) as bigint) from federation_cursors c \
                   join chats ch on ch.id = c.chat_id group by c.destination";
        let rows: Vec<(String, Option<i64>)> =
            on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(|(d, n)| (d, n.unwrap_or(0))).collect())
    }

    /// Does the built-in group `builtin` (`federated`, `no_group`) hold `right`?
    pub async fn builtin_group_has_right(&self, builtin: &str, right: &str) -> Result<bool> {
        let sql = "select count(*) from group_rights r join groups g on g.id = r.group_id \
                   where g.builtin = $1 and r.right_name = $2";
        let count: i64 = on_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(builtin)
            .bind(right)
            .fetch_one(pool)
            .await)?;
        Ok(count > 0)
    }
}

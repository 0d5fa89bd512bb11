//! Several store operations in one transaction.
//!
//! [`Store::transaction`] begins a write transaction (SQLite's `begin
//! immediate`, which takes the write lock at once; an ordinary one on
//! PostgreSQL), hands a [`Tx`] to the caller's steps, and commits when they
//! succeed. When a step fails nothing of the others stays: the transaction is
//! rolled back. The steps are the building blocks of every multi-step write,
//! on both databases alike.

use app::types::{ChatRole, EventKind};

use super::chats::CHAT_COLUMNS;
use super::users::{USER_COLUMNS, search_text};
use super::{
    BeginWrite, ChatId, ChatRow, EventRow, NewChat, NewUser, Pool, Result, Seq, StorageError,
    Store, UserId, UserRecord,
};

/// An open write transaction; see [`Store::transaction`].
pub struct Tx {
    inner: Inner,
}

enum Inner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$tx` bound to the transaction of whichever database it is.
macro_rules! on_tx {
    ($self:expr, |$tx:ident| $body:expr) => {
        match &mut $self.inner {
            Inner::Sqlite($tx) => $body,
            Inner::Postgres($tx) => $body,
        }
    };
}

impl Store {
    /// Runs `steps` in one transaction and commits it if they succeed; if one
    /// fails, none of them is kept.
    ///
    /// ```ignore
    /// store.transaction(async |tx| {
    ///     tx.lock_chat(chat_id).await?;
    ///     tx.update_role(chat_id, member, ChatRole::Admin).await
    /// }).await?
    /// ```
    pub async fn transaction<T>(&self, steps: impl AsyncFnOnce(&mut Tx) -> Result<T>) -> Result<T> {
        let mut tx = Tx {
            inner: match &self.pool {
                Pool::Sqlite(pool) => Inner::Sqlite(pool.begin_write().await?),
                Pool::Postgres(pool) => Inner::Postgres(pool.begin_write().await?),
            },
        };
        let value = steps(&mut tx).await?;
        match tx.inner {
            Inner::Sqlite(tx) => tx.commit().await?,
            Inner::Postgres(tx) => tx.commit().await?,
        }
        Ok(value)
    }
}

impl Tx {
    /// Holds chat `chat_id` for the rest of the transaction, so that writers
    /// of the same chat (a hand-over and a departure) take turns. SQLite's
    /// write transaction holds the whole database already.
    pub async fn lock_chat(&mut self, chat_id: ChatId) -> Result<()> {
        if let Inner::Postgres(tx) = &mut self.inner {
            sqlx::query("select id from chats where id = $1 for update")
                .bind(chat_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Appends an event to chat `chat_id` with the chat's next number and
    /// returns it as stored; `None` when there is no such chat. A `message`
    /// event refers to the message of its own number unless `message_seq`
    /// says otherwise.
    #[allow(clippy::too_many_arguments)] // each is one column of the event
    pub async fn append_event(
        &mut self,
        chat_id: ChatId,
        kind: EventKind,
        actor: &str,
        at: i64,
        message_seq: Option<Seq>,
        subject: Option<&str>,
        role: Option<ChatRole>,
    ) -> Result<Option<EventRow>> {
        let seq: Option<Seq> = on_tx!(self, |tx| {
            let seq: Option<Seq> = sqlx::query_scalar(
                "update chats set last_seq = last_seq + 1 where id = $1 returning last_seq",
            )
            .bind(chat_id)
            .fetch_optional(&mut **tx)
            .await?;
            if let Some(seq) = seq {
                let message_seq = message_seq.or((kind == EventKind::Message).then_some(seq));
                sqlx::query(
                    "insert into chat_events (chat_id, seq, kind, actor, at, message_seq, subject, detail) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(chat_id)
                .bind(seq)
                .bind(kind)
                .bind(actor)
                .bind(at)
                .bind(message_seq)
                .bind(subject)
                .bind(role)
                .execute(&mut **tx)
                .await?;
            }
            Ok::<_, StorageError>(seq)
        })?;
        Ok(seq.map(|seq| EventRow {
            seq,
            kind,
            actor: actor.to_owned(),
            at,
            message_seq: message_seq.or((kind == EventKind::Message).then_some(seq)),
            subject: subject.map(str::to_owned),
            role,
        }))
    }

    /// A new chat hosted here, its `created` event and its members (who see
    /// it from that event on).
    pub async fn create_chat(&mut self, chat: &NewChat<'_>) -> Result<(ChatRow, EventRow)> {
        let insert = format!(
            "insert into chats (kind, title, direct_key, created_by, created_at) \
             values ($1, $2, $3, $4, $5) returning {CHAT_COLUMNS}"
        );
        let row: ChatRow = on_tx!(self, |tx| sqlx::query_as(&insert)
            .bind(chat.kind)
            .bind(chat.title)
            .bind(chat.direct_key)
            .bind(chat.created_by)
            .bind(chat.at)
            .fetch_one(&mut **tx)
            .await
            .map_err(StorageError::on_unique("chats_direct_key")))?;
        let created = EventKind::Created;
        let event = self
            .append_event(row.id, created, chat.created_by, chat.at, None, None, None)
            .await?
            .ok_or(StorageError::Missing("chat"))?;
        for (member, role) in chat.members {
            self.insert_member(row.id, member, *role, event.seq, Seq(0))
                .await?;
        }
        let row = ChatRow {
            last_seq: event.seq,
            ..row
        };
        Ok((row, event))
    }

    /// Replaces the text of message `seq` of chat `chat_id` when `actor` sent
    /// it at or after `sent_since` and is still a member; the text may be empty
    /// only for a message with a file. `false` when it may not be edited.
    #[allow(clippy::too_many_arguments)] // each is one column or condition of the edit
    pub async fn update_message(
        &mut self,
        chat_id: ChatId,
        seq: Seq,
        body: &str,
        actor: &str,
        at: i64,
        sent_since: i64,
    ) -> Result<bool> {
        let sql = "update messages set body = $1, edited_at = $2, search_text = $3 \
                   where chat_id = $4 and seq = $5 and deleted_at is null \
                   and sender = $6 and created_at >= $7 \
                   and (file_id is not null or $1 <> '') \
                   and exists (select 1 from chat_members m where m.chat_id = $4 and m.member = $6)";
        let search_text = body.to_lowercase();
        let changed = on_tx!(self, |tx| sqlx::query(sql)
            .bind(body)
            .bind(at)
            .bind(&search_text)
            .bind(chat_id)
            .bind(seq)
            .bind(actor)
            .bind(sent_since)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(changed > 0)
    }

    /// Empties message `seq` of chat `chat_id` and marks it deleted, when
    /// `actor` is still a member; `false` when there is no such message.
    pub async fn mark_deleted(
        &mut self,
        chat_id: ChatId,
        seq: Seq,
        actor: &str,
        at: i64,
    ) -> Result<bool> {
        let sql = "update messages set body = '', search_text = '', deleted_at = $1 \
                   where chat_id = $2 and seq = $3 and deleted_at is null \
                   and exists (select 1 from chat_members m where m.chat_id = $2 and m.member = $4)";
        let changed = on_tx!(self, |tx| sqlx::query(sql)
            .bind(at)
            .bind(chat_id)
            .bind(seq)
            .bind(actor)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(changed > 0)
    }

    /// `member`'s role in chat `chat_id`, `None` when they are not in it.
    pub async fn member_role(&mut self, chat_id: ChatId, member: &str) -> Result<Option<ChatRole>> {
        let sql = "select role from chat_members where chat_id = $1 and member = $2";
        Ok(on_tx!(self, |tx| sqlx::query_scalar(sql)
            .bind(chat_id)
            .bind(member)
            .fetch_optional(&mut **tx)
            .await)?)
    }

    /// `actor` adds `member` to chat `chat_id` with `role`: the `member_added`
    /// event, from which on they see the chat. `None` for no such chat,
    /// `Conflict` when they are a member already.
    pub async fn add_member(
        &mut self,
        chat_id: ChatId,
        member: &str,
        role: ChatRole,
        actor: &str,
        at: i64,
    ) -> Result<Option<EventRow>> {
        let kind = EventKind::MemberAdded;
        let event = self
            .append_event(chat_id, kind, actor, at, None, Some(member), Some(role))
            .await?;
        if let Some(event) = &event {
            self.insert_member(chat_id, member, role, event.seq, event.seq)
                .await?;
        }
        Ok(event)
    }

    /// Makes `member` a member of chat `chat_id` with `role`, seeing it from
    /// event `joined_seq` on, having read up to `read_seq`. `Conflict` when
    /// they are one already.
    pub async fn insert_member(
        &mut self,
        chat_id: ChatId,
        member: &str,
        role: ChatRole,
        joined_seq: Seq,
        read_seq: Seq,
    ) -> Result<()> {
        let sql = "insert into chat_members (chat_id, member, role, joined_seq, read_seq) \
                   values ($1, $2, $3, $4, $5)";
        on_tx!(self, |tx| sqlx::query(sql)
            .bind(chat_id)
            .bind(member)
            .bind(role)
            .bind(joined_seq)
            .bind(read_seq)
            .execute(&mut **tx)
            .await
            .map(drop)
            .map_err(StorageError::on_unique("chat_members_pkey")))?;
        Ok(())
    }

    /// Takes `member` out of chat `chat_id`; `false` when they were not in it.
    pub async fn delete_member(&mut self, chat_id: ChatId, member: &str) -> Result<bool> {
        let sql = "delete from chat_members where chat_id = $1 and member = $2";
        let gone = on_tx!(self, |tx| sqlx::query(sql)
            .bind(chat_id)
            .bind(member)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(gone > 0)
    }

    /// Gives `member` of chat `chat_id` the role `role`; `false` when they are
    /// not in it.
    pub async fn update_role(
        &mut self,
        chat_id: ChatId,
        member: &str,
        role: ChatRole,
    ) -> Result<bool> {
        let sql = "update chat_members set role = $1 where chat_id = $2 and member = $3";
        let changed = on_tx!(self, |tx| sqlx::query(sql)
            .bind(role)
            .bind(chat_id)
            .bind(member)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(changed > 0)
    }

    /// Who inherits chat `chat_id` when `owner` leaves: the longest-standing
    /// admin, else the longest-standing member; `None` when nobody is left.
    pub async fn heir(&mut self, chat_id: ChatId, owner: &str) -> Result<Option<String>> {
        let sql = "select member from chat_members where chat_id = $1 and member <> $2 \
                   order by case when role = 'admin' then 0 else 1 end, joined_seq, member \
                   limit 1";
        Ok(on_tx!(self, |tx| sqlx::query_scalar(sql)
            .bind(chat_id)
            .bind(owner)
            .fetch_optional(&mut **tx)
            .await)?)
    }

    /// Frees direct chat `chat_id`'s pair key and names it `title`: the pair
    /// may start a new chat.
    pub async fn free_direct_key(&mut self, chat_id: ChatId, title: &str) -> Result<()> {
        let sql = "update chats set direct_key = null, title = $1 where id = $2";
        on_tx!(self, |tx| sqlx::query(sql)
            .bind(title)
            .bind(chat_id)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Gives `destination` an outbox cursor in chat `chat_id` if it has none.
    pub async fn ensure_cursor(&mut self, destination: &str, chat_id: ChatId) -> Result<()> {
        let sql = "insert into federation_cursors (destination, chat_id) values ($1, $2) \
                   on conflict do nothing";
        on_tx!(self, |tx| sqlx::query(sql)
            .bind(destination)
            .bind(chat_id)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Moves `member`'s read position in chat `chat_id` forward to `seq` (at
    /// most the chat's last event); the position now, `None` when they are
    /// not in it.
    pub async fn mark_read(
        &mut self,
        chat_id: ChatId,
        member: &str,
        seq: Seq,
    ) -> Result<Option<Seq>> {
        let sql = "update chat_members set read_seq = case \
                   when $1 > read_seq then (select case when $1 < c.last_seq then $1 else c.last_seq end \
                                            from chats c where c.id = $2) \
                   else read_seq end \
                   where chat_id = $2 and member = $3 returning read_seq";
        Ok(on_tx!(self, |tx| sqlx::query_scalar(sql)
            .bind(seq)
            .bind(chat_id)
            .bind(member)
            .fetch_optional(&mut **tx)
            .await)?)
    }

    /// Notes that read positions in chat `chat_id` changed, for the outbox.
    pub async fn bump_reads(&mut self, chat_id: ChatId) -> Result<()> {
        let sql = "update chats set reads_version = reads_version + 1 where id = $1";
        on_tx!(self, |tx| sqlx::query(sql)
            .bind(chat_id)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        Ok(())
    }

    // ---- Accounts -----------------------------------------------------------

    /// A new user; `Conflict` when the login is taken.
    pub async fn insert_user(&mut self, user: &NewUser<'_>) -> Result<UserRecord> {
        let sql = format!(
            "insert into users (login, display_name, first_name, last_name, email, phone, company, \
             department, position, password_hash, is_admin, created_at, search_text) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning {USER_COLUMNS}"
        );
        let p = user.profile;
        on_tx!(self, |tx| sqlx::query_as(&sql)
            .bind(user.login)
            .bind(&p.display_name)
            .bind(&p.first_name)
            .bind(&p.last_name)
            .bind(&p.email)
            .bind(&p.phone)
            .bind(&p.company)
            .bind(&p.department)
            .bind(&p.position)
            .bind(user.password_hash)
            .bind(user.is_admin)
            .bind(user.created_at)
            .bind(search_text(user.login, p))
            .fetch_one(&mut **tx)
            .await)
        .map_err(StorageError::on_unique("users_login_key"))
    }

    /// Replaces user `id`'s password hash; `false` when there is no such user.
    pub async fn set_password_hash(&mut self, id: UserId, hash: &str) -> Result<bool> {
        let sql = "update users set password_hash = $1 where id = $2";
        let changed = on_tx!(self, |tx| sqlx::query(sql)
            .bind(hash)
            .bind(id)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Ends the sessions of user `user_id`, all of them or all but `keep` (the
    /// one they are using); how many ended.
    pub async fn end_sessions(&mut self, user_id: UserId, keep: Option<&str>) -> Result<u64> {
        let sql = "delete from sessions where user_id = $1 and ($2 is null or id <> $2)";
        Ok(on_tx!(self, |tx| sqlx::query(sql)
            .bind(user_id)
            .bind(keep)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?)
    }

    /// Makes user `user_id` a member of exactly `group_ids` (groups that are
    /// not built-in); `Missing("group")` for one that is not there.
    pub async fn set_user_groups(&mut self, user_id: UserId, group_ids: &[i64]) -> Result<()> {
        on_tx!(self, |tx| {
            sqlx::query("delete from group_members where user_id = $1")
                .bind(user_id)
                .execute(&mut **tx)
                .await?;
            for group_id in group_ids {
                let inserted = sqlx::query(
                    "insert into group_members (group_id, user_id) \
                     select id, $1 from groups where id = $2 and builtin is null",
                )
                .bind(user_id)
                .bind(*group_id)
                .execute(&mut **tx)
                .await
                .map_err(StorageError::on_foreign_key("user"))?
                .rows_affected();
                if inserted == 0 {
                    return Err(StorageError::Missing("group"));
                }
            }
            Ok(())
        })
    }
}

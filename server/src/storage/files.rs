//! Files uploaded to chats: their metadata. The bytes are in the blob store
//! (the blob store of `files`), named by SHA-256.
//!
//! A file is uploaded first and sent with a message afterwards; the message's
//! transaction claims it ([`ATTACH_FILE`], in the batch that stores the message,
//! `Store::post_messages`), so one file goes with one message at most.

use std::collections::HashSet;

use super::{ChatId, Result, Seq, StorageError, Store, on_pool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileRow {
    pub id: i64,
    pub chat_id: ChatId,
    pub sha256: String,
    pub name: String,
    pub size: i64,
    pub media_type: String,
    pub uploaded_by: String,
    pub created_at: i64,
    /// The message that carries it, once sent.
    pub message_seq: Option<Seq>,
    /// For a file of a chat hosted elsewhere: its id on the host, which serves it.
    pub host_file_id: Option<i64>,
}

pub struct NewFile<'a> {
    pub chat_id: ChatId,
    pub sha256: &'a str,
    pub name: &'a str,
    pub size: i64,
    pub media_type: &'a str,
    pub uploaded_by: &'a str,
    pub at: i64,
    /// The file's id on the chat's host, for a chat hosted elsewhere.
    pub host_file_id: Option<i64>,
}

const FILE_COLUMNS: &str = "id, chat_id, sha256, name, size, media_type, uploaded_by, created_at, \
     message_seq, host_file_id";

/// Claims a file for the message being posted: `$1` message seq, `$2` file id,
/// `$3` chat, `$4` sender. Affects no row unless the sender uploaded the file to
/// this chat and no message has it yet. On PostgreSQL the row lock makes a second
/// concurrent claim wait, then find `message_seq` set.
pub(super) const ATTACH_FILE: &str = "update files set message_seq = $1 \
     where id = $2 and chat_id = $3 and uploaded_by = $4 and message_seq is null";

impl Store {
    /// Records an uploaded file. `Missing("chat")` when the chat is gone.
    pub async fn insert_file(&self, file: &NewFile<'_>) -> Result<FileRow> {
        let sql = format!(
            "insert into files (chat_id, sha256, name, size, media_type, uploaded_by, created_at, \
             host_file_id, search_name) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             returning {FILE_COLUMNS}"
        );
        on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(file.chat_id)
            .bind(file.sha256)
            .bind(file.name)
            .bind(file.size)
            .bind(file.media_type)
            .bind(file.uploaded_by)
            .bind(file.at)
            .bind(file.host_file_id)
            .bind(file.name.to_lowercase())
            .fetch_one(pool)
            .await
            .map_err(StorageError::on_foreign_key("chat")))
    }

    /// The file of a chat hosted elsewhere that the host knows as `host_file_id`.
    pub async fn file_by_host_id(
        &self,
        chat_id: ChatId,
        host_file_id: i64,
    ) -> Result<Option<FileRow>> {
        let sql =
            format!("select {FILE_COLUMNS} from files where chat_id = $1 and host_file_id = $2");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(chat_id)
            .bind(host_file_id)
            .fetch_optional(pool)
            .await)?)
    }

    /// A file of a chat by its id.
    pub async fn file(&self, chat_id: ChatId, id: i64) -> Result<Option<FileRow>> {
        let sql = format!("select {FILE_COLUMNS} from files where chat_id = $1 and id = $2");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(chat_id)
            .bind(id)
            .fetch_optional(pool)
            .await)?)
    }

    /// The files of a chat among `ids` (the files of a page of messages), in id
    /// order. At most a few hundred ids, as a page of messages has.
    pub async fn files_in(&self, chat_id: ChatId, ids: &[i64]) -> Result<Vec<FileRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "select {FILE_COLUMNS} from files where chat_id = $1 and id in ({}) order by id",
            placeholders.join(", ")
        );
        on_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql).bind(chat_id);
            for id in ids {
                query = query.bind(*id);
            }
            Ok(query.fetch_all(pool).await?)
        })
    }

    /// The contents (SHA-256) from `from` up to `to` (excluded) that a file kept
    /// here still needs: one sent with a message that is not deleted, or one
    /// uploaded since `unsent_since` and not sent yet. Files of chats hosted
    /// elsewhere are served by their host and need nothing here.
    pub async fn needed_contents(
        &self,
        from: &str,
        to: &str,
        unsent_since: i64,
    ) -> Result<HashSet<String>> {
        let sql = "select distinct f.sha256 from files f \
             where f.sha256 >= $1 and f.sha256 < $2 and f.host_file_id is null \
             and ((f.message_seq is null and f.created_at >= $3) \
                  or exists (select 1 from messages m where m.chat_id = f.chat_id \
                             and m.seq = f.message_seq and m.deleted_at is null))";
        let rows: Vec<String> = on_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(from)
            .bind(to)
            .bind(unsent_since)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().collect())
    }

    /// How many files (in any chat) have this content.
    pub async fn files_with_content(&self, sha256: &str) -> Result<i64> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "select count(*) from files where sha256 = $1"
        )
        .bind(sha256)
        .fetch_one(pool)
        .await)?)
    }
}

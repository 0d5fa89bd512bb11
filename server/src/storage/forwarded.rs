//! What this server asked other servers to do for its own users (and what
//! third servers signed for theirs), kept so that a host's later update can be
//! checked against it: a host may attribute an event or a message to someone
//! of another server only when that server forwarded or signed it. And, for
//! chats hosted here, the signatures other servers sent with their actions.

use super::{ChatId, Result, Seq, Store, on_pool};

/// One action forwarded to a host (see the migration for what `reference` holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded<'a> {
    pub host: &'a str,
    pub host_chat_id: i64,
    pub actor: &'a str,
    pub kind: &'a str,
    pub reference: &'a str,
    /// SHA-256 (hex) of the text of a send or an edit; empty otherwise.
    pub body_sha256: &'a str,
    pub at: i64,
}

impl Store {
    /// Notes an action about to be forwarded (before it is sent: the host may
    /// apply it and its update arrive before its answer does).
    pub async fn record_forwarded(&self, action: &Forwarded<'_>) -> Result<()> {
        let sql = "insert into forwarded_actions \
                   (host, host_chat_id, actor, kind, ref, body_sha256, at) \
                   values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(action.host)
            .bind(action.host_chat_id)
            .bind(action.actor)
            .bind(action.kind)
            .bind(action.reference)
            .bind(action.body_sha256)
            .bind(action.at)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Was `kind` forwarded for `actor` in the host's chat, about `reference`
    /// (any reference when `None`)?
    pub async fn was_forwarded(
        &self,
        host: &str,
        host_chat_id: i64,
        actor: &str,
        kind: &str,
        reference: Option<&str>,
    ) -> Result<bool> {
        let sql = "select count(*) from forwarded_actions where host = $1 and host_chat_id = $2 \
                   and actor = $3 and kind = $4 and ($5 is null or ref = $5)";
        let count: i64 = on_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(host)
            .bind(host_chat_id)
            .bind(actor)
            .bind(kind)
            .bind(reference)
            .fetch_one(pool)
            .await)?;
        Ok(count > 0)
    }

    /// The texts (SHA-256, hex) that `actor` sent as message `client_id` or
    /// later edited message `seq` to, in the host's chat: `(kind, hash)`.
    pub async fn forwarded_texts(
        &self,
        host: &str,
        host_chat_id: i64,
        actor: &str,
        client_id: &str,
        seq: Seq,
    ) -> Result<Vec<(String, String)>> {
        let sql = "select kind, body_sha256 from forwarded_actions where host = $1 \
                   and host_chat_id = $2 and actor = $3 \
                   and ((kind = 'send' and ref = $4) or (kind = 'edit' and ref = $5))";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(host)
            .bind(host_chat_id)
            .bind(actor)
            .bind(client_id)
            .bind(seq.to_string())
            .fetch_all(pool)
            .await)?)
    }
}

/// A signature kept for an action in a chat hosted here (see the migration).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AttestationRow {
    pub actor: String,
    pub kind: String,
    #[sqlx(rename = "ref")]
    pub reference: String,
    pub body_sha256: String,
    pub key_id: String,
    pub signature: String,
}

impl Store {
    /// Keeps a signature that came with an action in chat `chat_id`, hosted here.
    pub async fn record_attestation(&self, chat_id: ChatId, row: &AttestationRow) -> Result<()> {
        let sql = "insert into attestations \
                   (chat_id, actor, kind, ref, body_sha256, key_id, signature) \
                   values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(chat_id)
            .bind(&row.actor)
            .bind(&row.kind)
            .bind(&row.reference)
            .bind(&row.body_sha256)
            .bind(&row.key_id)
            .bind(&row.signature)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// The signatures kept in chat `chat_id` for `kind` done by `actor`, about
    /// `reference` (any reference when `None`).
    pub async fn attestations(
        &self,
        chat_id: ChatId,
        actor: &str,
        kind: &str,
        reference: Option<&str>,
    ) -> Result<Vec<AttestationRow>> {
        let sql = "select actor, kind, ref, body_sha256, key_id, signature from attestations \
                   where chat_id = $1 and actor = $2 and kind = $3 and ($4 is null or ref = $4)";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(chat_id)
            .bind(actor)
            .bind(kind)
            .bind(reference)
            .fetch_all(pool)
            .await)?)
    }
}

//! Federation's tables: this server's signing keys, transaction ids received
//! (replay protection), other servers' profiles, and each peer's delivery state.

use super::{BeginWrite, Result, StorageError, Store, on_pool};

/// A stored signing key. `Debug` is written by hand: the secret is never printed.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyRow {
    pub key_id: String,
    pub secret_key: Vec<u8>,
    pub public_key: Vec<u8>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow")
            .field("key_id", &self.key_id)
            .field("secret_key", &"<redacted>")
            .field("public_key", &self.public_key)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

const KEY_COLUMNS: &str = "key_id, secret_key, public_key, created_at, retired_at, expires_at";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RemoteProfileRow {
    pub causeway_id: String,
    pub display_name: String,
    pub fields: String,
    pub fetched_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct PeerRow {
    pub server_name: String,
    pub last_attempt_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub failures: i64,
}

const PEER_COLUMNS: &str =
    "server_name, last_attempt_at, last_success_at, last_error, last_error_at, failures";

impl Store {
    /// Keys still published: the current one and retired ones not yet expired.
    pub async fn server_keys(&self, now: i64) -> Result<Vec<KeyRow>> {
        let sql = format!(
            "select {KEY_COLUMNS} from server_keys \
             where expires_at is null or expires_at > $1 order by created_at desc, key_id"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(now)
            .fetch_all(pool)
            .await)?)
    }

    /// Stores `new` as the signing key; the current key, if any, is retired now
    /// and stays published until `old_expires_at`. With `only_if_none`, nothing
    /// changes when a current key exists (a first start racing another process).
    pub async fn rotate_server_key(
        &self,
        new: &KeyRow,
        old_expires_at: i64,
        only_if_none: bool,
    ) -> Result<bool> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let current: Option<String> =
                sqlx::query_scalar("select key_id from server_keys where retired_at is null")
                    .fetch_optional(&mut *tx)
                    .await?;
            if current.is_some() && only_if_none {
                return Ok(false);
            }
            sqlx::query(
                "update server_keys set retired_at = $1, expires_at = $2 where retired_at is null",
            )
            .bind(new.created_at)
            .bind(old_expires_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "insert into server_keys (key_id, secret_key, public_key, created_at) \
                 values ($1, $2, $3, $4)",
            )
            .bind(&new.key_id)
            .bind(&new.secret_key)
            .bind(&new.public_key)
            .bind(new.created_at)
            .execute(&mut *tx)
            .await
            .map_err(StorageError::on_unique("server_keys_pkey"))?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Records a transaction id received from `origin`; `false` when it was
    /// received before (a replay).
    pub async fn note_received(&self, origin: &str, transaction_id: &str, at: i64) -> Result<bool> {
        let sql = "insert into federation_received (origin, transaction_id, received_at) \
                   values ($1, $2, $3) on conflict do nothing";
        let done = on_pool!(self, |pool| sqlx::query(sql)
            .bind(origin)
            .bind(transaction_id)
            .bind(at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Forgets transaction ids received before `before`.
    pub async fn sweep_received(&self, before: i64) -> Result<u64> {
        let sql = "delete from federation_received where received_at < $1";
        Ok(on_pool!(self, |pool| sqlx::query(sql)
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }

    pub async fn remote_profile(&self, causeway_id: &str) -> Result<Option<RemoteProfileRow>> {
        let sql = "select causeway_id, display_name, fields, fetched_at from remote_profiles \
                   where causeway_id = $1";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(causeway_id)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn put_remote_profile(&self, row: &RemoteProfileRow) -> Result<()> {
        let sql = "insert into remote_profiles (causeway_id, display_name, fields, fetched_at) \
                   values ($1, $2, $3, $4) on conflict (causeway_id) do update set \
                   display_name = excluded.display_name, fields = excluded.fields, \
                   fetched_at = excluded.fetched_at";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(&row.causeway_id)
            .bind(&row.display_name)
            .bind(&row.fields)
            .bind(row.fetched_at)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    pub async fn peers(&self) -> Result<Vec<PeerRow>> {
        let sql = format!("select {PEER_COLUMNS} from federation_peers order by server_name");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .fetch_all(pool)
            .await)?)
    }

    /// Records the outcome of a delivery attempt to `server_name`: `Ok` resets
    /// the failure count, `Err` counts one more failure with its reason.
    pub async fn note_peer_attempt(
        &self,
        server_name: &str,
        at: i64,
        outcome: std::result::Result<(), &str>,
    ) -> Result<()> {
        let sql = match outcome {
            Ok(()) => {
                "insert into federation_peers (server_name, last_attempt_at, last_success_at, failures) \
                 values ($1, $2, $2, 0) on conflict (server_name) do update set \
                 last_attempt_at = $2, last_success_at = $2, failures = 0"
            }
            Err(_) => {
                "insert into federation_peers (server_name, last_attempt_at, last_error, last_error_at, failures) \
                 values ($1, $2, $3, $2, 1) on conflict (server_name) do update set \
                 last_attempt_at = $2, last_error = $3, last_error_at = $2, \
                 failures = federation_peers.failures + 1"
            }
        };
        on_pool!(self, |pool| {
            let query = sqlx::query(sql).bind(server_name).bind(at);
            let query = match outcome {
                Ok(()) => query,
                Err(error) => query.bind(error),
            };
            query.execute(pool).await.map(drop)
        })?;
        Ok(())
    }
}

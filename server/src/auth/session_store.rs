//! tower-sessions' `SessionStore` over our own [`Store`], so sessions live in the
//! server's database on both backends. The signed-in user's id is kept in a column
//! of its own, which lets us end all sessions of a user at once.

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use crate::storage::{Store, UserId};
use app::types::SecuritySettings;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    store: Store,
}

impl DbSessionStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

fn backend(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The sign-in record in a stored session's data, if there is one.
pub fn signed_in(data: &[u8]) -> Option<SessionAuth> {
    #[derive(serde::Deserialize)]
    struct Stored {
        #[serde(rename = "auth")]
        auth: Option<SessionAuth>,
    }
    debug_assert_eq!(SessionAuth::KEY, "auth");
    serde_json::from_slice::<Stored>(data).ok()?.auth
}

struct Encoded {
    id: String,
    user_id: Option<UserId>,
    data: Vec<u8>,
    expires_at: i64,
}

fn encode(record: &Record) -> session_store::Result<Encoded> {
    let user_id = record
        .data
        .get(SessionAuth::KEY)
        .and_then(|auth| auth.get("user_id"))
        .and_then(serde_json::Value::as_i64)
        .map(UserId);
    Ok(Encoded {
        id: record.id.to_string(),
        user_id,
        data: serde_json::to_vec(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?,
        expires_at: millis(record.expiry_date),
    })
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let row = encode(record)?;
            if self
                .store
                .insert_session(
                    &row.id,
                    row.user_id.map(|id| id.0),
                    &row.data,
                    row.expires_at,
                )
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            // 128 random bits collided: astronomically unlikely, but take a new id.
            record.id = Id::default();
        }
    }

    /// Updates the record; a session deleted during the request (its user signed
    /// out everywhere, was deactivated or deleted) is not brought back.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let row = encode(record)?;
        let saved = self
            .store
            .save_session(
                &row.id,
                row.user_id.map(|id| id.0),
                &row.data,
                row.expires_at,
            )
            .await
            .map_err(backend)?;
        if !saved {
            tracing::debug!("a session ended during its request; not saved again");
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = millis(OffsetDateTime::now_utc());
        let Some(row) = self
            .store
            .load_session(&id.to_string(), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_slice(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(row.expires_at) * 1_000_000)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store
            .delete_session(&id.to_string())
            .await
            .map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let now = millis(OffsetDateTime::now_utc());
        self.store
            .delete_expired_sessions(now)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// What a signed-in session holds, under [`SessionAuth::KEY`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: UserId,
    /// Unix ms of the sign-in, for the absolute timeout.
    pub signed_in_at: i64,
    /// Unix ms of the last request, for the idle timeout (kept to the minute).
    pub last_seen_at: i64,
    /// "Remember me" was ticked: a long-lived session with no idle timeout.
    pub remember: bool,
}

impl SessionAuth {
    pub const KEY: &'static str = "auth";

    /// Past the absolute timeout (from sign-in), or for a browser session past the
    /// idle timeout (from the last request)?
    pub fn is_expired(&self, now: i64, limits: &SecuritySettings) -> bool {
        let absolute_ms = if self.remember {
            i64::from(limits.remember_me_days) * 86_400_000
        } else {
            i64::from(limits.absolute_timeout_hours) * 3_600_000
        };
        let idle_ms = i64::from(limits.idle_timeout_minutes) * 60_000;
        now - self.signed_in_at > absolute_ms
            || (!self.remember && now - self.last_seen_at > idle_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn limits() -> SecuritySettings {
        SecuritySettings {
            password_min_length: 10,
            lockout_threshold: 5,
            lockout_minutes: 15,
            address_threshold: 50,
            idle_timeout_minutes: 30,
            absolute_timeout_hours: 12,
            remember_me_days: 30,
        }
    }

    fn auth(remember: bool, signed_in_at: i64, last_seen_at: i64) -> SessionAuth {
        SessionAuth {
            user_id: UserId(1),
            signed_in_at,
            last_seen_at,
            remember,
        }
    }

    #[test]
    fn browser_sessions_end_when_idle_or_old() {
        let limits = limits();
        assert!(!auth(false, 0, 0).is_expired(30 * MINUTE, &limits));
        assert!(auth(false, 0, 0).is_expired(30 * MINUTE + 1, &limits));
        // Active all along, but past the absolute limit.
        let t = 12 * 60 * MINUTE;
        assert!(!auth(false, 0, t - MINUTE).is_expired(t, &limits));
        assert!(auth(false, 0, t).is_expired(t + 1, &limits));
    }

    #[test]
    fn remembered_sessions_ignore_idleness_until_their_days_run_out() {
        let limits = limits();
        let day = 24 * 60 * MINUTE;
        assert!(!auth(true, 0, 0).is_expired(29 * day, &limits));
        assert!(auth(true, 0, 29 * day).is_expired(30 * day + 1, &limits));
    }
}

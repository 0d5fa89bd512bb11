//! Browser sessions, the records behind tower-sessions (see `auth::session_store`).

use super::users::USER_COLUMNS;
use super::{Result, Store, UserId, UserRecord, on_pool};

/// A stored session record: its serialized data and when it expires (Unix ms).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub data: Vec<u8>,
    pub expires_at: i64,
}

/// A session row joined with its signed-in user.
#[derive(sqlx::FromRow)]
struct SessionUserRow {
    session_data: Vec<u8>,
    session_expires_at: i64,
    #[sqlx(flatten)]
    user: UserRecord,
}

impl Store {
    /// A live session and the user signed in on it, in one query: what every
    /// request of a signed-in user reads first. `None` when there is no such
    /// session, it has expired, or no user is signed in on it.
    pub async fn session_with_user(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<(SessionRow, UserRecord)>> {
        let user_columns: Vec<String> = USER_COLUMNS
            .split(',')
            .map(|c| format!("u.{}", c.trim()))
            .collect();
        let sql = format!(
            "select s.data as session_data, s.expires_at as session_expires_at, {} \
             from sessions s join users u on u.id = s.user_id \
             where s.id = $1 and s.expires_at > $2",
            user_columns.join(", ")
        );
        let row: Option<SessionUserRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|r| {
            (
                SessionRow {
                    data: r.session_data,
                    expires_at: r.session_expires_at,
                },
                r.user,
            )
        }))
    }

    /// Stores a new session; `false` if the id is taken (the caller picks another).
    pub async fn insert_session(
        &self,
        id: &str,
        user_id: Option<i64>,
        data: &[u8],
        expires_at: i64,
    ) -> Result<bool> {
        let sql = "insert into sessions (id, user_id, data, expires_at) values ($1, $2, $3, $4) \
                   on conflict (id) do nothing";
        let done = on_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(user_id)
            .bind(data)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Updates a stored session. Never creates one: a session deleted while a
    /// request was in flight (sign-out elsewhere, deactivation, password change)
    /// stays deleted. Returns `false` when there was no such session.
    pub async fn save_session(
        &self,
        id: &str,
        user_id: Option<i64>,
        data: &[u8],
        expires_at: i64,
    ) -> Result<bool> {
        let sql = "update sessions set user_id = $1, data = $2, expires_at = $3 where id = $4";
        let changed = on_pool!(self, |pool| sqlx::query(sql)
            .bind(user_id)
            .bind(data)
            .bind(expires_at)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// The session with this id, if it exists and has not expired at `now`.
    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<SessionRow>> {
        let sql = "select data, expires_at from sessions where id = $1 and expires_at > $2";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(id)
            .bind(now)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        let sql = "delete from sessions where id = $1";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Ends every session of a user; returns how many there were.
    pub async fn delete_user_sessions(&self, user_id: UserId) -> Result<u64> {
        self.transaction(async |tx| tx.end_sessions(user_id, None).await)
            .await
    }

    /// Ends every session of a user but one (the one they are using).
    pub async fn delete_other_sessions(&self, user_id: UserId, keep: &str) -> Result<u64> {
        self.transaction(async |tx| tx.end_sessions(user_id, Some(keep)).await)
            .await
    }

    /// Removes sessions that expired before `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        let sql = "delete from sessions where expires_at <= $1";
        Ok(on_pool!(self, |pool| sqlx::query(sql)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }
}

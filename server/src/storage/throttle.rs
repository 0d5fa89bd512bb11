//! Counters for sign-in throttling (see `auth::throttle` for the rules).

use super::{BeginWrite, Result, Store, on_pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ThrottleRow {
    pub failures: i64,
    pub window_started_at: i64,
    pub locked_until: Option<i64>,
}

/// Writes a counter's row whole.
const PUT: &str = "insert into sign_in_throttle (key, failures, window_started_at, locked_until) \
                   values ($1, $2, $3, $4) on conflict (key) do update set \
                   failures = excluded.failures, window_started_at = excluded.window_started_at, \
                   locked_until = excluded.locked_until";

/// One counter a sign-in attempt reserves a place in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleKey {
    pub key: String,
    /// Failures that lock.
    pub threshold: u32,
    /// Only failures since the window started count (per address); without,
    /// all since the last success (per account).
    pub window_ms: Option<i64>,
}

/// The outcome of reserving a sign-in attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// A lock is in force until then: the attempt may not be made.
    Locked(i64),
    /// Counted as a failure in advance. Per key, in the order given: `Some`
    /// when this attempt reached the threshold and set a lock until then (for
    /// later attempts; a success lifts it again).
    Reserved(Vec<Option<i64>>),
}

/// `previous` with one more failure: at `threshold` a lock for `lockout_ms`
/// and a fresh count.
fn one_more(
    previous: Option<ThrottleRow>,
    key: &ThrottleKey,
    lockout_ms: i64,
    now: i64,
) -> (ThrottleRow, Option<i64>) {
    let previous = previous.filter(|r| key.window_ms.is_none_or(|w| now - r.window_started_at < w));
    let failures = previous.map_or(0, |r| r.failures) + 1;
    if failures >= i64::from(key.threshold) {
        let until = now + lockout_ms;
        let row = ThrottleRow {
            failures: 0,
            window_started_at: now,
            locked_until: Some(until),
        };
        return (row, Some(until));
    }
    let row = ThrottleRow {
        failures,
        window_started_at: previous.map_or(now, |r| r.window_started_at),
        locked_until: previous.and_then(|r| r.locked_until),
    };
    (row, None)
}

impl Store {
    /// Reserves a sign-in attempt under every key at once, before the password
    /// is checked: refused when a lock is in force, else counted as a failure
    /// (a success takes it back). One write transaction, so parallel guesses
    /// are counted one after another and no more than a threshold's worth get
    /// through.
    pub async fn reserve_sign_in(
        &self,
        keys: &[ThrottleKey],
        lockout_ms: i64,
        now: i64,
    ) -> Result<Reservation> {
        // On SQLite the write transaction holds the database's one write lock;
        // on PostgreSQL each key is serialised by a transaction advisory lock
        // (a row lock cannot hold a key that has no row yet). Keys are always
        // taken in the same order (account, then address).
        let serialise = match self.backend() {
            super::Backend::Postgres => Some("select pg_advisory_xact_lock(hashtext($1))"),
            super::Backend::Sqlite => None,
        };
        let read = "select failures, window_started_at, locked_until from sign_in_throttle \
                    where key = $1";
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut rows = Vec::with_capacity(keys.len());
            for key in keys {
                if let Some(serialise) = serialise {
                    sqlx::query(serialise)
                        .bind(&key.key)
                        .execute(&mut *tx)
                        .await?;
                }
                let row: Option<ThrottleRow> = sqlx::query_as(read)
                    .bind(&key.key)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(until) = row.and_then(|r| r.locked_until).filter(|t| *t > now) {
                    return Ok(Reservation::Locked(until));
                }
                rows.push(row);
            }
            let mut locked = Vec::with_capacity(keys.len());
            for (key, previous) in keys.iter().zip(rows) {
                let (row, until) = one_more(previous, key, lockout_ms, now);
                locked.push(until);
                sqlx::query(PUT)
                    .bind(&key.key)
                    .bind(row.failures)
                    .bind(row.window_started_at)
                    .bind(row.locked_until)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(Reservation::Reserved(locked))
        })
    }

    /// Takes back one reserved failure under `key` (the attempt succeeded):
    /// one less, or — when its reservation set the lock `set_lock` — the lock
    /// lifted and the count back where it was (`threshold - 1`).
    pub async fn release_sign_in(
        &self,
        key: &str,
        set_lock: Option<i64>,
        threshold: u32,
    ) -> Result<()> {
        match set_lock {
            Some(until) => {
                let sql = "update sign_in_throttle set locked_until = null, failures = $3 \
                           where key = $1 and locked_until = $2";
                on_pool!(self, |pool| sqlx::query(sql)
                    .bind(key)
                    .bind(until)
                    .bind(i64::from(threshold.saturating_sub(1)))
                    .execute(pool)
                    .await
                    .map(drop))?;
            }
            None => {
                let sql = "update sign_in_throttle set failures = failures - 1 \
                           where key = $1 and failures > 0";
                on_pool!(self, |pool| sqlx::query(sql)
                    .bind(key)
                    .execute(pool)
                    .await
                    .map(drop))?;
            }
        }
        Ok(())
    }

    pub async fn throttle(&self, key: &str) -> Result<Option<ThrottleRow>> {
        let sql =
            "select failures, window_started_at, locked_until from sign_in_throttle where key = $1";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(key)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn put_throttle(&self, key: &str, row: ThrottleRow) -> Result<()> {
        on_pool!(self, |pool| sqlx::query(PUT)
            .bind(key)
            .bind(row.failures)
            .bind(row.window_started_at)
            .bind(row.locked_until)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    pub async fn clear_throttle(&self, key: &str) -> Result<()> {
        let sql = "delete from sign_in_throttle where key = $1";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(key)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Account locks in force at `now`, by login: for the users list.
    pub async fn account_locks(&self, now: i64) -> Result<Vec<(String, i64)>> {
        let sql = "select key, locked_until from sign_in_throttle \
                   where key like 'account:%' and locked_until > $1";
        let rows: Vec<(String, i64)> = on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(now)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|(key, until)| key.strip_prefix("account:").map(|l| (l.to_owned(), until)))
            .collect())
    }
}

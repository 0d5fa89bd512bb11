//! Counters for sign-in throttling (see `auth::throttle` for the rules).

use super::{BeginWrite, Result, Store, on_pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ThrottleRow {
    pub failures: i64,
    pub window_started_at: i64,
    pub locked_until: Option<i64>,
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// A lock is in force until then: the attempt may not be made.
    Locked(i64),
    /// Failures and attempts in flight together reach a threshold: this one
    /// must wait for those to finish (nothing is locked).
    Busy,
    /// Counted as in flight under every key; [`Store::finish_sign_in`] ends it.
    Reserved,
}

/// An attempt in flight longer than this (a crash while checking) no longer counts.
const PENDING_TTL_MS: i64 = 60_000;

/// The row of `key` as a reservation reads it.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
struct Counter {
    failures: i64,
    window_started_at: i64,
    locked_until: Option<i64>,
    pending: i64,
    pending_at: i64,
}

impl ThrottleRow {
    /// No failures, a window starting `now`, no lock.
    fn fresh(now: i64) -> Self {
        Self {
            failures: 0,
            window_started_at: now,
            locked_until: None,
        }
    }
}

impl Counter {
    fn row(&self) -> ThrottleRow {
        ThrottleRow {
            failures: self.failures,
            window_started_at: self.window_started_at,
            locked_until: self.locked_until,
        }
    }

    /// Attempts in flight that still count at `now`.
    fn in_flight(&self, now: i64) -> i64 {
        if now - self.pending_at > PENDING_TTL_MS {
            0
        } else {
            self.pending.max(0)
        }
    }
}

/// `previous` with one more failure: at `threshold` a lock for `lockout_ms`
/// and a fresh count.
fn one_more(
    previous: Option<ThrottleRow>,
    key: &ThrottleKey,
    lockout_ms: i64,
    now: i64,
) -> (ThrottleRow, Option<i64>) {
    let previous = windowed(previous, key, now);
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

/// The row, or nothing when its window has passed.
fn windowed(row: Option<ThrottleRow>, key: &ThrottleKey, now: i64) -> Option<ThrottleRow> {
    row.filter(|r| key.window_ms.is_none_or(|w| now - r.window_started_at < w))
}

/// Writes a counter's row whole.
const PUT: &str = "insert into sign_in_throttle (key, failures, window_started_at, locked_until) \
                   values ($1, $2, $3, $4) on conflict (key) do update set \
                   failures = excluded.failures, window_started_at = excluded.window_started_at, \
                   locked_until = excluded.locked_until";

const READ: &str = "select failures, window_started_at, locked_until, pending, pending_at \
                    from sign_in_throttle where key = $1";

const PUT_PENDING: &str = "insert into sign_in_throttle \
                           (key, failures, window_started_at, locked_until, pending, pending_at) \
                           values ($1, $2, $3, $4, $5, $6) on conflict (key) do update set \
                           failures = excluded.failures, \
                           window_started_at = excluded.window_started_at, \
                           locked_until = excluded.locked_until, pending = excluded.pending, \
                           pending_at = excluded.pending_at";

/// The counter of `key` on `tx`, after `serialise` (if any) has taken the
/// key for the rest of the transaction.
macro_rules! read_counter {
    ($tx:expr, $serialise:expr, $key:expr) => {{
        if let Some(serialise) = $serialise {
            sqlx::query(serialise).bind($key).execute(&mut *$tx).await?;
        }
        let counter: Option<Counter> = sqlx::query_as(READ)
            .bind($key)
            .fetch_optional(&mut *$tx)
            .await?;
        counter
    }};
}

impl Store {
    /// On PostgreSQL, the statement that serialises work on one key for the
    /// rest of the transaction (a row lock cannot hold a key with no row yet);
    /// SQLite's write transaction holds the whole database.
    fn serialise_key(&self) -> Option<&'static str> {
        match self.backend() {
            super::Backend::Postgres => Some("select pg_advisory_xact_lock(hashtext($1))"),
            super::Backend::Sqlite => None,
        }
    }

    /// Reserves a sign-in attempt under every key at once, before the password
    /// is checked: refused while a lock is in force, told to wait while the
    /// failures and the attempts in flight reach a threshold, else counted as
    /// in flight. One write transaction (keys always in the same order), so
    /// parallel guesses are counted one after another and no more than a
    /// threshold's worth reach the password check. Never a failure by itself.
    pub async fn reserve_sign_in(&self, keys: &[ThrottleKey], now: i64) -> Result<Reservation> {
        let serialise = self.serialise_key();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut counters = Vec::with_capacity(keys.len());
            let mut busy = false;
            for key in keys {
                let counter = read_counter!(tx, serialise, &key.key);
                if let Some(until) = counter.and_then(|c| c.locked_until).filter(|t| *t > now) {
                    return Ok(Reservation::Locked(until));
                }
                let failures =
                    windowed(counter.map(|c| c.row()), key, now).map_or(0, |r| r.failures);
                let in_flight = counter.map_or(0, |c| c.in_flight(now));
                busy |= failures + in_flight >= i64::from(key.threshold);
                counters.push(counter);
            }
            if busy {
                return Ok(Reservation::Busy);
            }
            for (key, counter) in keys.iter().zip(counters) {
                let row =
                    windowed(counter.map(|c| c.row()), key, now).unwrap_or(ThrottleRow::fresh(now));
                sqlx::query(PUT_PENDING)
                    .bind(&key.key)
                    .bind(row.failures)
                    .bind(row.window_started_at)
                    .bind(row.locked_until)
                    .bind(counter.map_or(0, |c| c.in_flight(now)) + 1)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(Reservation::Reserved)
        })
    }

    /// Ends a reserved attempt under every key: no longer in flight, and — when
    /// `failed` — one more failure (a lock at the threshold, returned). A
    /// success resets the counts of the keys in `reset` (the account's).
    pub async fn finish_sign_in(
        &self,
        keys: &[ThrottleKey],
        failed: bool,
        reset: &[&str],
        lockout_ms: i64,
        now: i64,
    ) -> Result<Option<i64>> {
        let serialise = self.serialise_key();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut locked = None;
            for key in keys {
                let counter = read_counter!(tx, serialise, &key.key);
                let in_flight = counter.map_or(0, |c| (c.in_flight(now) - 1).max(0));
                let row = if failed {
                    let (row, until) = one_more(counter.map(|c| c.row()), key, lockout_ms, now);
                    locked = locked.max(until);
                    row
                } else if reset.contains(&key.key.as_str()) {
                    ThrottleRow::fresh(now)
                } else {
                    counter.map_or(ThrottleRow::fresh(now), |c| c.row())
                };
                sqlx::query(PUT_PENDING)
                    .bind(&key.key)
                    .bind(row.failures)
                    .bind(row.window_started_at)
                    .bind(row.locked_until)
                    .bind(in_flight)
                    .bind(counter.map_or(now, |c| c.pending_at))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(locked)
        })
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

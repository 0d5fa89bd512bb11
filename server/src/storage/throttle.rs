//! Counters for sign-in throttling (see `auth::throttle` for the rules).

use super::{Result, Store, on_pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ThrottleRow {
    pub failures: i64,
    pub window_started_at: i64,
    pub locked_until: Option<i64>,
}

impl Store {
    pub async fn throttle(&self, key: &str) -> Result<Option<ThrottleRow>> {
        let sql =
            "select failures, window_started_at, locked_until from sign_in_throttle where key = $1";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(key)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn put_throttle(&self, key: &str, row: ThrottleRow) -> Result<()> {
        let sql = "insert into sign_in_throttle (key, failures, window_started_at, locked_until) \
                   values ($1, $2, $3, $4) on conflict (key) do update set \
                   failures = excluded.failures, window_started_at = excluded.window_started_at, \
                   locked_until = excluded.locked_until";
        on_pool!(self, |pool| sqlx::query(sql)
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

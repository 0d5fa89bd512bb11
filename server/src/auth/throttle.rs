//! Sign-in throttling (ASVS 2.2.1). Two counters, both kept in the database so
//! every server process sees them:
//!
//! - per account: consecutive failed sign-ins. At the panel's threshold the
//!   account is locked for the lock-out time, or until an administrator unlocks
//!   it. Unknown logins are counted and locked the same way, so a lock tells an
//!   attacker nothing about which accounts exist. A success resets the count.
//! - per client address: failed sign-ins within a window of the lock-out time.
//!   At its threshold the address may not try again until the window passes.
//!   Successes do not reset it, so one valid account cannot launder guesses.

use app::types::SecuritySettings;

use crate::storage::{Result, Store, ThrottleRow};

pub fn account_key(login: &str) -> String {
    format!("account:{login}")
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// When sign-in is refused until, if it is: the later of the two locks.
pub async fn locked_until(
    store: &Store,
    login: Option<&str>,
    address: Option<&str>,
    now: i64,
) -> Result<Option<i64>> {
    let mut until = None;
    let keys = login
        .map(account_key)
        .into_iter()
        .chain(address.map(address_key));
    for key in keys {
        if let Some(ThrottleRow {
            locked_until: Some(t),
            ..
        }) = store.throttle(&key).await?
            && t > now
        {
            until = until.max(Some(t));
        }
    }
    Ok(until)
}

/// Counts a failed sign-in; returns when a lock it set ends, if it set one.
pub async fn failed(
    store: &Store,
    limits: &SecuritySettings,
    login: Option<&str>,
    address: Option<&str>,
    now: i64,
) -> Result<Option<i64>> {
    let lockout_ms = i64::from(limits.lockout_minutes) * 60_000;
    let mut locked = None;
    if let Some(login) = login {
        let key = account_key(login);
        locked = count(store, &key, limits.lockout_threshold, None, lockout_ms, now).await?;
    }
    if let Some(address) = address {
        let key = address_key(address);
        let window = Some(lockout_ms);
        let until = count(
            store,
            &key,
            limits.address_threshold,
            window,
            lockout_ms,
            now,
        )
        .await?;
        locked = locked.max(until);
    }
    Ok(locked)
}

/// Counts one more failure under `key`. At `threshold` it sets a lock for
/// `lockout_ms` (returned) and starts counting afresh. With a `window`, only
/// failures since the window started count (per address); without, all failures
/// since the last success (per account).
async fn count(
    store: &Store,
    key: &str,
    threshold: u32,
    window: Option<i64>,
    lockout_ms: i64,
    now: i64,
) -> Result<Option<i64>> {
    let previous = store
        .throttle(key)
        .await?
        .filter(|r| window.is_none_or(|w| now - r.window_started_at < w));
    let failures = previous.map_or(0, |r| r.failures) + 1;
    let (row, locked) = if failures >= i64::from(threshold) {
        let until = now + lockout_ms;
        let row = ThrottleRow {
            failures: 0,
            window_started_at: now,
            locked_until: Some(until),
        };
        (row, Some(until))
    } else {
        let row = ThrottleRow {
            failures,
            window_started_at: previous.map_or(now, |r| r.window_started_at),
            locked_until: previous.and_then(|r| r.locked_until),
        };
        (row, None)
    };
    store.put_throttle(key, row).await?;
    Ok(locked)
}

/// A successful sign-in clears the account's count (not the address's).
pub async fn succeeded(store: &Store, login: &str) -> Result<()> {
    store.clear_throttle(&account_key(login)).await
}

/// An administrator lifts an account's lock.
pub async fn unlock(store: &Store, login: &str) -> Result<()> {
    store.clear_throttle(&account_key(login)).await
}

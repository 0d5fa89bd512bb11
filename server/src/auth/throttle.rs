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

use crate::storage::{Reservation, Result, Store, ThrottleKey};

pub fn account_key(login: &str) -> String {
    format!("account:{login}")
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

fn keys(limits: &SecuritySettings, login: Option<&str>, address: Option<&str>) -> Vec<ThrottleKey> {
    let lockout_ms = i64::from(limits.lockout_minutes) * 60_000;
    let mut keys = Vec::with_capacity(2);
    if let Some(login) = login {
        keys.push(ThrottleKey {
            key: account_key(login),
            threshold: limits.lockout_threshold,
            window_ms: None,
        });
    }
    if let Some(address) = address {
        keys.push(ThrottleKey {
            key: address_key(address),
            threshold: limits.address_threshold,
            window_ms: Some(lockout_ms),
        });
    }
    keys
}

/// Reserves a sign-in attempt before the password is checked: refused while a
/// lock is in force, told to wait while failures and attempts in flight reach
/// a threshold, else counted as in flight under both counters at once (and
/// ended by [`failed`] or [`succeeded`]). Parallel guesses are thus counted one
/// after another: no more than the threshold's worth reach the password check.
pub async fn reserve(
    store: &Store,
    limits: &SecuritySettings,
    login: Option<&str>,
    address: Option<&str>,
    now: i64,
) -> Result<Reservation> {
    store
        .reserve_sign_in(&keys(limits, login, address), now)
        .await
}

/// Ends a reserved attempt whose password was wrong: one more failure under
/// both counters; returns when a lock it set ends, if it set one.
pub async fn failed(
    store: &Store,
    limits: &SecuritySettings,
    login: Option<&str>,
    address: Option<&str>,
    now: i64,
) -> Result<Option<i64>> {
    let lockout_ms = i64::from(limits.lockout_minutes) * 60_000;
    let keys = keys(limits, login, address);
    store
        .finish_sign_in(&keys, true, &[], lockout_ms, now)
        .await
}

/// Ends a reserved attempt whose password was right: the account's count
/// starts over (not the address's, so one valid account cannot launder
/// guesses).
pub async fn succeeded(
    store: &Store,
    limits: &SecuritySettings,
    login: &str,
    address: Option<&str>,
    now: i64,
) -> Result<()> {
    let lockout_ms = i64::from(limits.lockout_minutes) * 60_000;
    let keys = keys(limits, Some(login), address);
    let account = account_key(login);
    store
        .finish_sign_in(&keys, false, &[account.as_str()], lockout_ms, now)
        .await?;
    Ok(())
}

/// An administrator lifts an account's lock.
pub async fn unlock(store: &Store, login: &str) -> Result<()> {
    store.clear_throttle(&account_key(login)).await
}

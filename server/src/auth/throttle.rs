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

/// Reserves a sign-in attempt before the password is checked: refused while a
/// lock is in force, else counted as a failure under both counters at once
/// (taken back by [`succeeded`]). Parallel guesses are counted one after
/// another, so no more than the threshold's worth reach the password check.
pub async fn reserve(
    store: &Store,
    limits: &SecuritySettings,
    login: Option<&str>,
    address: Option<&str>,
    now: i64,
) -> Result<Reservation> {
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
    store.reserve_sign_in(&keys, lockout_ms, now).await
}

/// Did this reservation set a lock (the attempt was the threshold's last)?
pub fn set_a_lock(reserved: &Reservation) -> bool {
    matches!(reserved, Reservation::Reserved(locks) if locks.iter().any(Option::is_some))
}

/// A successful sign-in clears the account's count and takes back the
/// failure its reservation counted for the address (lifting the address's
/// lock if that reservation set it: a success never locks).
pub async fn succeeded(
    store: &Store,
    limits: &SecuritySettings,
    login: &str,
    address: Option<&str>,
    reserved: &Reservation,
) -> Result<()> {
    store.clear_throttle(&account_key(login)).await?;
    if let Some(address) = address {
        // The address's key is the last one reserved.
        let set_lock = match reserved {
            Reservation::Reserved(locks) => locks.last().copied().flatten(),
            Reservation::Locked(_) => None,
        };
        store
            .release_sign_in(&address_key(address), set_lock, limits.address_threshold)
            .await?;
    }
    Ok(())
}

/// An administrator lifts an account's lock.
pub async fn unlock(store: &Store, login: &str) -> Result<()> {
    store.clear_throttle(&account_key(login)).await
}

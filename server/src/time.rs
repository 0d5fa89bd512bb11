//! Wall-clock time as stored: Unix milliseconds, UTC.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_millis() -> i64 {
    millis_of(SystemTime::now())
}

/// `at` in Unix milliseconds (0 before 1970).
pub fn millis_of(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

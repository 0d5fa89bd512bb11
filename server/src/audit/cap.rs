//! How refusals reach the audit log without a flood burying it: at most
//! [`PER_MINUTE`] entries a minute for each reason (an audit action and an
//! error code), whichever origins or addresses they claim (an attacker picks
//! those, so a cap per origin is no cap). What is held back is counted, and
//! summed up in one entry ("N more refused from M origins") when the next
//! minute's first refusal of that reason comes. Used for refused server-to-
//! server requests and for failed and blocked sign-ins.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use app::types::ErrorCode;

/// Refusals audited for each reason in a minute.
pub const PER_MINUTE: u32 = 20;
const WINDOW: Duration = Duration::from_secs(60);
/// Distinct origins remembered for a summary (the count stops growing there).
const MAX_ORIGINS_COUNTED: usize = 1_000;

/// What to write for one refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admit {
    /// Write this refusal's own entry.
    pub entry: bool,
    /// First write this summary of the last minute's refusals held back.
    pub summary: Option<String>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    written: u32,
    held_back: u64,
    origins: HashSet<String>,
}

/// The counts per reason.
#[derive(Debug, Default)]
pub struct RefusalCap {
    windows: HashMap<(&'static str, ErrorCode), Window>,
}

impl RefusalCap {
    /// Counts one refusal (`action`, `code`) claimed to come from `origin`
    /// (a server or an address), at `now`.
    pub fn admit(
        &mut self,
        action: &'static str,
        code: ErrorCode,
        origin: &str,
        now: Instant,
    ) -> Admit {
        let window = self
            .windows
            .entry((action, code))
            .or_insert_with(|| Window {
                started: now,
                written: 0,
                held_back: 0,
                origins: HashSet::new(),
            });
        let mut summary = None;
        if now.duration_since(window.started) >= WINDOW {
            if window.held_back > 0 {
                summary = Some(format!(
                    "{} more refused ({}) from {}{} origins in the minute before, not written one by one.",
                    window.held_back,
                    code_name(code),
                    window.origins.len(),
                    if window.origins.len() >= MAX_ORIGINS_COUNTED {
                        "+"
                    } else {
                        ""
                    },
                ));
            }
            *window = Window {
                started: now,
                written: 0,
                held_back: 0,
                origins: HashSet::new(),
            };
        }
        let entry = window.written < PER_MINUTE;
        if entry {
            window.written += 1;
        } else {
            window.held_back += 1;
            if window.origins.len() < MAX_ORIGINS_COUNTED {
                window.origins.insert(origin.chars().take(255).collect());
            }
        }
        Admit { entry, summary }
    }
}

fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "federation.refused";

    #[test]
    fn the_cap_is_per_reason_whatever_the_origin_and_what_it_holds_back_is_summed_up() {
        let mut cap = RefusalCap::default();
        let start = Instant::now();
        let written = (0..50)
            .filter(|i| {
                cap.admit(R, ErrorCode::BadSignature, &format!("origin{i}"), start)
                    .entry
            })
            .count();
        assert_eq!(
            written, PER_MINUTE as usize,
            "fifty made-up origins, one cap"
        );
        // Another reason has a cap of its own.
        assert!(cap.admit(R, ErrorCode::StaleRequest, "x", start).entry);
        // The next minute starts with the summary of the last one.
        let later = start + WINDOW;
        let next = cap.admit(R, ErrorCode::BadSignature, "origin0", later);
        assert!(next.entry);
        let summary = next.summary.expect("a summary");
        assert!(
            summary.starts_with("30 more refused (bad_signature) from 30 origins"),
            "{summary}"
        );
        // Nothing held back: no summary.
        let quiet = cap.admit(R, ErrorCode::StaleRequest, "x", later);
        assert_eq!(
            quiet,
            Admit {
                entry: true,
                summary: None
            }
        );
    }
}

//! What this process saw of each other server lately, for the Federation
//! page: answers to its own requests (any answer means the server is there),
//! requests that got no answer, and signed requests that came from it. The
//! outbox's deliveries are also kept in the database; this adds everything
//! else (look-ups, forwarded actions, files, typing and presence) without a
//! database write per request.

use std::collections::HashMap;
use std::sync::Mutex;

/// The most servers remembered; beyond it, news of new ones is dropped (only
/// allowed servers whose keys verified reach this, so it is a guard only).
const MAX_PEERS: usize = 10_000;

/// The longest failure reason kept.
const MAX_REASON_CHARS: usize = 300;

/// One server as seen lately (Unix ms).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// It answered a request of this server.
    pub answered_at: Option<i64>,
    /// A request of this server got no answer, and why.
    pub failed: Option<(i64, String)>,
    /// A signed request from it passed the checks.
    pub heard_at: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Traffic {
    peers: Mutex<HashMap<String, Seen>>,
}

impl Traffic {
    fn note(&self, server: &str, change: impl FnOnce(&mut Seen)) {
        let mut peers = self.peers.lock().expect("traffic lock");
        // A known server (every request but the first) costs no allocation.
        if let Some(seen) = peers.get_mut(server) {
            change(seen);
        } else if peers.len() < MAX_PEERS {
            change(peers.entry(server.to_owned()).or_default());
        }
    }

    pub fn answered(&self, server: &str, at: i64) {
        self.note(server, |seen| seen.answered_at = Some(at));
    }

    pub fn failed(&self, server: &str, at: i64, reason: &str) {
        let reason = reason.chars().take(MAX_REASON_CHARS).collect();
        self.note(server, |seen| seen.failed = Some((at, reason)));
    }

    pub fn heard(&self, server: &str, at: i64) {
        self.note(server, |seen| seen.heard_at = Some(at));
    }

    pub fn seen(&self, server: &str) -> Seen {
        self.peers
            .lock()
            .expect("traffic lock")
            .get(server)
            .cloned()
            .unwrap_or_default()
    }

    /// The servers seen, for a status that lists them all.
    pub fn servers(&self) -> Vec<String> {
        self.peers
            .lock()
            .expect("traffic lock")
            .keys()
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_of_a_server_is_kept_by_kind_and_bounded() {
        let traffic = Traffic::default();
        traffic.answered("guest", 10);
        traffic.failed("guest", 20, &"x".repeat(1000));
        traffic.heard("guest", 30);
        let seen = traffic.seen("guest");
        assert_eq!(seen.answered_at, Some(10));
        assert_eq!(seen.heard_at, Some(30));
        let (at, reason) = seen.failed.unwrap();
        assert_eq!((at, reason.chars().count()), (20, MAX_REASON_CHARS));
        assert_eq!(traffic.seen("other"), Seen::default());

        for i in 0..MAX_PEERS + 5 {
            traffic.heard(&format!("s{i}"), 1);
        }
        assert_eq!(traffic.servers().len(), MAX_PEERS);
        traffic.heard("guest", 40);
        assert_eq!(
            traffic.seen("guest").heard_at,
            Some(40),
            "known ones still change"
        );
    }
}

//! Removing file contents nothing needs any more: the bytes of files whose
//! message was deleted, of uploads never sent (they expire after
//! [`UNSENT_LIFETIME`]), of uploads whose record failed, and partial uploads a
//! crash left behind. A blob is kept while any file still needs it — the store
//! holds each content once, however many files share it.
//!
//! Once an hour, per blob sub-folder: the contents still needed are read from the
//! database, then the folder's blobs that are not among them and were stored
//! more than [`GRACE`] ago are removed. The grace period covers an upload
//! between storing its bytes and recording its file (a second upload of the same
//! bytes marks the blob as stored again, `Blobs::put`). Several processes may
//! sweep the same folder: removing is idempotent.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Blobs;
use super::UNSENT_LIFETIME;
use crate::storage::Store;
use crate::time::millis_of;
use tokio_util::sync::CancellationToken;

/// How often the sweep runs.
const EVERY: Duration = Duration::from_secs(3600);
/// How old a blob or a partial upload must be before it may be removed.
pub const GRACE: Duration = Duration::from_secs(3600);

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Collected {
    pub blobs: u64,
    pub bytes: u64,
    pub partial_uploads: u64,
}

/// Runs the sweep a minute after start, then every hour, until the server stops.
pub fn spawn(store: &Store, blobs: &Blobs, stop: CancellationToken) {
    let (store, blobs) = (store.clone(), blobs.clone());
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut ticks = tokio::time::interval_at(start, EVERY);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = stop.cancelled() => break,
            }
            match collect(&store, &blobs, SystemTime::now()).await {
                Ok(collected) if collected == Collected::default() => {}
                Ok(collected) => tracing::info!(
                    blobs = collected.blobs,
                    bytes = collected.bytes,
                    partial_uploads = collected.partial_uploads,
                    "removed file contents nothing needs"
                ),
                Err(error) => tracing::warn!(%error, "the sweep of unused file contents failed"),
            }
        }
    });
}

/// One sweep, as if the time were `now`.
pub async fn collect(store: &Store, blobs: &Blobs, now: SystemTime) -> anyhow::Result<Collected> {
    let stored_before = now.checked_sub(GRACE).unwrap_or(UNIX_EPOCH);
    let unsent_since = millis_of(
        now.checked_sub(UNSENT_LIFETIME + GRACE)
            .unwrap_or(UNIX_EPOCH),
    );
    let mut collected = Collected {
        partial_uploads: blobs.sweep_incoming(stored_before).await?,
        ..Collected::default()
    };
    for folder in blobs.folders().await? {
        let needed = store
            .needed_contents(&folder, &next_folder(&folder), unsent_since)
            .await?;
        for blob in blobs.list(&folder).await? {
            if blob.modified < stored_before && !needed.contains(&blob.sha256) {
                blobs.remove(&blob.sha256).await?;
                collected.blobs += 1;
                collected.bytes += blob.size;
            }
        }
    }
    Ok(collected)
}

/// The folder name after `folder` (`"a9"` → `"aa"`), or `"g"` after `"ff"`: the
/// upper bound of the SHA-256 names in `folder`. Only hex digits are compared, so
/// the order is the same under any database collation.
fn next_folder(folder: &str) -> String {
    match u8::from_str_radix(folder, 16) {
        Ok(0xff) | Err(_) => "g".to_owned(),
        Ok(n) => format!("{:02x}", n + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_bounded_by_the_next_one() {
        assert_eq!(next_folder("00"), "01");
        assert_eq!(next_folder("a9"), "aa");
        assert_eq!(next_folder("9f"), "a0");
        assert_eq!(next_folder("ff"), "g");
    }
}

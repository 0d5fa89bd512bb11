//! Files sent in chats: the blob store their bytes live in, the rules for
//! names, types and ranges, and the sweep that removes what is no longer
//! needed. The HTTP routes are in the HTTP layer (`http::files`).

pub mod blobs;
pub mod collect;
pub mod headers;

use std::time::Duration;

pub use blobs::{Blobs, PutError, StoredBlob};

/// How long an uploaded file may wait to be sent: after that it can no
/// longer be sent or downloaded, and its bytes are removed (`collect`).
pub const UNSENT_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// An upload received and stored in the blob store, not yet recorded.
pub struct Upload {
    pub blob: StoredBlob,
    pub name: String,
    pub media_type: String,
}

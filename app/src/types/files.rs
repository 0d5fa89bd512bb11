//! Files sent in chats: what the server knows about an uploaded file.

use serde::{Deserialize, Serialize};

use super::CausewayId;

/// A file uploaded to a chat (`POST /api/v1/chats/{id}/files`), and the file a
/// message carries. The bytes are at `GET /api/v1/chats/{chat_id}/files/{id}`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub id: i64,
    /// The file's name as the sender gave it, made safe (no path separators or
    /// control characters).
    pub name: String,
    /// Bytes.
    pub size: i64,
    /// The media type the sender declared (`application/octet-stream` when none).
    pub media_type: String,
    /// SHA-256 of the content, lowercase hex; also the download's `ETag`.
    pub sha256: String,
    pub uploaded_by: CausewayId,
    /// Unix ms.
    pub created_at: i64,
}

impl FileInfo {
    /// The image types the server shows previews of (never SVG, which can carry
    /// scripts).
    pub const PREVIEW_TYPES: [&'static str; 4] =
        ["image/png", "image/jpeg", "image/gif", "image/webp"];

    /// May `GET /api/v1/chats/{chat_id}/files/{id}/preview` show this file?
    pub fn has_preview(&self) -> bool {
        Self::PREVIEW_TYPES.contains(&essence(&self.media_type).as_str())
    }
}

/// `type/subtype` of a media type, lowercase, without parameters.
pub fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The extension of a file name, lowercase, without the dot: `Report.PDF` → `pdf`.
/// `None` when the name has none (`README`, `.profile`).
pub fn extension(name: &str) -> Option<String> {
    match name.rsplit_once('.') {
        // The server folds all of Unicode (the Kelvin sign is a `k` to its
        // blocked-extension check); the browser, which only shows the
        // extension, folds ASCII and carries no case tables.
        #[cfg(not(feature = "hydrate"))]
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => Some(ext.to_lowercase()),
        #[cfg(feature = "hydrate")]
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => Some(ext.to_ascii_lowercase()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_essences() {
        assert_eq!(extension("Report.PDF").as_deref(), Some("pdf"));
        assert_eq!(extension("a.tar.gz").as_deref(), Some("gz"));
        assert_eq!(extension("README"), None);
        assert_eq!(extension(".profile"), None);
        assert_eq!(essence("Image/PNG; q=1"), "image/png");
    }
}

//! The blob store: file contents named by their SHA-256, stored once however
//! often they are sent. Today a local folder, `{files}/ab/cdef…` (the first two
//! hex digits name a sub-folder, so no folder grows too large); the three
//! operations below — [`Blobs::put`], [`Blobs::read`], [`Blobs::first_bytes`] — are
//! what an object store would implement to replace it.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};
use tokio_util::io::ReaderStream;

/// Where file contents live.
#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
}

/// What [`Blobs::put`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// More bytes came than `limit`; nothing was kept.
    #[error("more than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The body failed (the client went away, or sent less than it announced).
    #[error("the body could not be read: {0}")]
    Body(String),
    /// Nothing arrived for the idle time.
    #[error("the client sent nothing for {0:?}")]
    Stalled(Duration),
    #[error("blob store: {0}")]
    Io(#[from] std::io::Error),
}

/// Is `sha256` 64 lowercase hex digits? Only such names ever become paths.
fn valid_name(sha256: &str) -> bool {
    sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Blobs {
    /// A blob store in a local folder (created when needed).
    pub fn local(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Where a blob lives: `{root}/ab/cdef…`.
    pub fn path(&self, sha256: &str) -> std::io::Result<PathBuf> {
        if !valid_name(sha256) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("not a SHA-256 name: {sha256:?}"),
            ));
        }
        Ok(self.root.join(&sha256[..2]).join(&sha256[2..]))
    }

    /// Streams `body` into the store, hashing as it goes, and keeps it under its
    /// SHA-256 — or, when those bytes are stored already, keeps the copy there is.
    /// The bytes go to a temporary file on the same file system first, are
    /// flushed to disk (fsync) and renamed into place, so a blob that has a name
    /// is always whole. More than `limit` bytes, a failing body or `idle` without
    /// data end the upload and leave nothing behind.
    pub async fn put<S, E>(
        &self,
        body: S,
        limit: u64,
        idle: Duration,
    ) -> Result<StoredBlob, PutError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: std::fmt::Display,
    {
        let incoming = self.root.join(".incoming");
        tokio::fs::create_dir_all(&incoming).await?;
        let temporary = incoming.join(format!("{:016x}.part", rand::random::<u64>()));
        let written = write_temporary(&temporary, body, limit, idle).await;
        let stored = match written {
            Ok(stored) => stored,
            Err(error) => {
                remove_quietly(&temporary).await;
                return Err(error);
            }
        };
        let target = self.path(&stored.sha256)?;
        let placed = async {
            if tokio::fs::try_exists(&target).await? {
                // The same bytes are there already: keep one copy.
                remove_quietly(&temporary).await;
                return Ok(());
            }
            let folder = target.parent().unwrap_or(&self.root);
            tokio::fs::create_dir_all(folder).await?;
            tokio::fs::rename(&temporary, &target).await?;
            sync_folder(folder).await
        }
        .await;
        if let Err(error) = placed {
            remove_quietly(&temporary).await;
            return Err(error.into());
        }
        Ok(stored)
    }

    /// `len` bytes of a blob from `start`, as a response body read in 64 KiB pieces.
    pub async fn read(&self, sha256: &str, start: u64, len: u64) -> std::io::Result<Body> {
        let mut file = tokio::fs::File::open(self.path(sha256)?).await?;
        if start > 0 {
            file.seek(SeekFrom::Start(start)).await?;
        }
        Ok(Body::from_stream(ReaderStream::with_capacity(
            file.take(len),
            64 * 1024,
        )))
    }

    /// Up to `n` first bytes of a blob (to recognise a format by its signature).
    pub async fn first_bytes(&self, sha256: &str, n: usize) -> std::io::Result<Vec<u8>> {
        let file = tokio::fs::File::open(self.path(sha256)?).await?;
        let mut bytes = Vec::with_capacity(n);
        file.take(n as u64).read_to_end(&mut bytes).await?;
        Ok(bytes)
    }
}

async fn write_temporary<S, E>(
    temporary: &Path,
    body: S,
    limit: u64,
    idle: Duration,
) -> Result<StoredBlob, PutError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temporary)
        .await?;
    let mut file = BufWriter::with_capacity(256 * 1024, file);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let body = std::pin::pin!(body);
    let mut body = body;
    loop {
        let next = tokio::time::timeout(idle, body.next())
            .await
            .map_err(|_| PutError::Stalled(idle))?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| PutError::Body(e.to_string()))?;
        size = size.saturating_add(chunk.len() as u64);
        if size > limit {
            return Err(PutError::TooLarge { limit });
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    file.into_inner().sync_all().await?;
    Ok(StoredBlob {
        sha256: format!("{:x}", hasher.finalize()),
        size,
    })
}

async fn remove_quietly(path: &Path) {
    if let Err(error) = tokio::fs::remove_file(path).await
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), %error, "a temporary upload file was not removed");
    }
}

/// Flushes a folder's entries to disk, so a rename into it survives a crash.
#[cfg(unix)]
async fn sync_folder(folder: &Path) -> std::io::Result<()> {
    tokio::fs::File::open(folder).await?.sync_all().await
}

#[cfg(not(unix))]
async fn sync_folder(_folder: &Path) -> std::io::Result<()> {
    Ok(())
}

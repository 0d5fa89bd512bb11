//! The blob store: file contents named by their SHA-256, stored once however
//! often they are sent. Today a local folder, `{files}/ab/cdef…` (the first two
//! hex digits name a sub-folder, so no folder grows too large); the operations
//! below — [`Blobs::put`], [`Blobs::read`], [`Blobs::first_bytes`], and for the
//! clean-up [`Blobs::folders`], [`Blobs::list`], [`Blobs::remove`] and
//! [`Blobs::sweep_incoming`] — are what an object store would implement to
//! replace it.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

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

/// A stored blob, as the clean-up sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobEntry {
    pub sha256: String,
    pub size: u64,
    /// When it was stored, or last stored again (see [`Blobs::put`]).
    pub modified: SystemTime,
}

/// Is `sha256` 64 lowercase hex digits? Only such names ever become paths.
fn valid_name(sha256: &str) -> bool {
    sha256.len() == 64 && valid_hex(sha256)
}

fn valid_hex(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
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
                // The same bytes are there already: keep one copy, marked as
                // stored just now, so the clean-up gives it its grace period
                // again before it may remove it.
                remove_quietly(&temporary).await;
                return touch(&target).await;
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

impl Blobs {
    /// The sub-folders that hold blobs (`00` … `ff`); none when nothing was stored.
    pub async fn folders(&self) -> std::io::Result<Vec<String>> {
        let mut folders = Vec::new();
        let Some(mut entries) = read_dir_if_any(&self.root).await? else {
            return Ok(folders);
        };
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.len() == 2 && valid_hex(&name) && entry.file_type().await?.is_dir() {
                folders.push(name);
            }
        }
        folders.sort();
        Ok(folders)
    }

    /// The blobs in sub-folder `folder` (as [`Blobs::folders`] names it).
    pub async fn list(&self, folder: &str) -> std::io::Result<Vec<BlobEntry>> {
        let mut blobs = Vec::new();
        let Some(mut entries) = read_dir_if_any(&self.root.join(folder)).await? else {
            return Ok(blobs);
        };
        while let Some(entry) = entries.next_entry().await? {
            let sha256 = format!("{folder}{}", entry.file_name().to_string_lossy());
            if !valid_name(&sha256) {
                continue;
            }
            let metadata = entry.metadata().await?;
            if metadata.is_file() {
                blobs.push(BlobEntry {
                    sha256,
                    size: metadata.len(),
                    modified: metadata.modified()?,
                });
            }
        }
        Ok(blobs)
    }

    /// Removes a blob (nothing when it is gone already).
    pub async fn remove(&self, sha256: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path(sha256)?).await {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// Removes the partial uploads last written before `before` (left by a
    /// crash: a live upload writes at least every `idle`). How many it removed.
    pub async fn sweep_incoming(&self, before: SystemTime) -> std::io::Result<u64> {
        let mut removed = 0;
        let Some(mut entries) = read_dir_if_any(&self.root.join(".incoming")).await? else {
            return Ok(0);
        };
        while let Some(entry) = entries.next_entry().await? {
            let is_part = entry.file_name().to_string_lossy().ends_with(".part");
            let metadata = entry.metadata().await?;
            if is_part && metadata.is_file() && metadata.modified()? < before {
                remove_quietly(&entry.path()).await;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The entries of `folder`, or `None` when it does not exist.
async fn read_dir_if_any(folder: &Path) -> std::io::Result<Option<tokio::fs::ReadDir>> {
    match tokio::fs::read_dir(folder).await {
        Ok(entries) => Ok(Some(entries)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Marks a file as modified now.
async fn touch(path: &Path) -> std::io::Result<()> {
    let file = tokio::fs::OpenOptions::new().write(true).open(path).await?;
    file.into_std().await.set_modified(SystemTime::now())
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

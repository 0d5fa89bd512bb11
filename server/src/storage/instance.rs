//! One serving process per database. A second server on the same data would run
//! its own group committer, outbox and sweepers beside the first, and nothing
//! else coordinates them; so `serve` claims the database first and holds the
//! claim for the life of the process.
//!
//! - SQLite: an exclusive OS lock (`flock`) on `<database file>.lock` beside the
//!   database. The OS drops it when the process ends, however it ends.
//! - PostgreSQL: a session-level advisory lock taken on a connection of its own
//!   (not from the pool, whose connections come and go). PostgreSQL drops it
//!   when that connection ends.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::Connection;

use super::{Pool, StorageError, Store};

/// The advisory lock's key: "Causeway" in ASCII. Advisory locks are per
/// database, so servers on other databases of one PostgreSQL never meet it.
const ADVISORY_KEY: i64 = 0x4361_7573_6577_6179;

/// How long a PostgreSQL claim is retried: a predecessor killed a moment ago
/// holds its lock until its server process notices the closed connection.
const POSTGRES_PATIENCE: Duration = Duration::from_secs(3);

/// What holds the claim; dropping it (or [`Store::close`]) gives it up.
#[derive(Debug)]
pub(crate) enum Claim {
    File(std::fs::File),
    Postgres(sqlx::PgConnection),
}

impl Claim {
    pub(crate) async fn release(self) {
        match self {
            // Closing the file releases its lock.
            Claim::File(file) => drop(file),
            Claim::Postgres(connection) => {
                if let Err(error) = connection.close().await {
                    tracing::debug!(%error, "closing the advisory-lock connection");
                }
            }
        }
    }
}

fn already_running(place: String, how: &str) -> StorageError {
    StorageError::AlreadyRunning(format!(
        "another Causeway server is already running on this database ({place}). \
         Stop that server before starting this one, or give this one its own {how}. \
         (`causeway admin create` and `causeway key` may run beside it.)"
    ))
}

impl Store {
    /// Claims the database for this process, or fails with
    /// [`StorageError::AlreadyRunning`] when another server holds it. The claim
    /// lasts until [`Store::close`] (or the process ends).
    pub async fn claim_exclusive(&self) -> Result<(), StorageError> {
        let claim = match &self.pool {
            Pool::Sqlite(pool) => {
                let database = pool.connect_options().get_filename().to_path_buf();
                // An in-memory database belongs to this process alone.
                if database.as_os_str().is_empty() || database == Path::new(":memory:") {
                    return Ok(());
                }
                Claim::File(lock_file(&database)?)
            }
            Pool::Postgres(pool) => {
                let options = pool.connect_options();
                let mut connection = sqlx::PgConnection::connect_with(&options).await?;
                let started = std::time::Instant::now();
                loop {
                    let locked: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
                        .bind(ADVISORY_KEY)
                        .fetch_one(&mut connection)
                        .await?;
                    if locked {
                        break;
                    }
                    if started.elapsed() >= POSTGRES_PATIENCE {
                        connection.close().await.ok();
                        let place = format!(
                            "PostgreSQL database {} on {}:{}",
                            options.get_database().unwrap_or("(default)"),
                            options.get_host(),
                            options.get_port()
                        );
                        return Err(already_running(
                            place,
                            "database (`database.url`). A server that just stopped \
                             holds it until PostgreSQL notices: try again in a minute",
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Claim::Postgres(connection)
            }
        };
        let previous = self
            .claim
            .lock()
            // A panic elsewhere while holding this lock leaves an Option behind,
            // still valid: take it over.
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .replace(claim);
        if let Some(previous) = previous {
            previous.release().await;
        }
        Ok(())
    }

    /// Gives up the claim taken by [`Store::claim_exclusive`], if any.
    pub(crate) async fn release_claim(&self) {
        let claim = self
            .claim
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(claim) = claim {
            claim.release().await;
        }
    }
}

/// `database`'s lock file, locked; it names the process that holds it.
fn lock_file(database: &Path) -> Result<std::fs::File, StorageError> {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    let path: PathBuf = database.with_file_name(name);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            file.read_to_string(&mut holder).ok();
            let holder = match holder.trim().parse::<u32>() {
                Ok(pid) => format!(", process {pid}"),
                Err(_) => String::new(),
            };
            return Err(already_running(
                format!(
                    "{}, locked by {}{holder}",
                    database.display(),
                    path.display()
                ),
                "data folder (`data_dir`) or database file (`database.url`)",
            ));
        }
        Err(std::fs::TryLockError::Error(error)) => return Err(error.into()),
    }
    // For people (and the message above): which process holds it.
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    Ok(file)
}

//! The storage interface: one [`Store`] whose methods are the only place SQL
//! lives, with two implementations, SQLite (the embedded default) and PostgreSQL.
//!
//! Each method's SQL is written once in the subset both databases speak (`$1`
//! placeholders, `on conflict`, `returning`, integers for times) and compiled
//! once per backend by [`on_pool!`]; where the two must differ, the method
//! matches on the backend itself. The contract tests in `tests/it/storage_contract.rs`
//! run the same assertions against both.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod audit;
mod chats;
mod directory;
mod federation;
mod files;
mod forwarded;
mod group_commit;
mod ids;
mod instance;
mod replicas;
mod sessions;
mod settings;
mod throttle;
mod tx;
mod users;

pub use audit::{AuditFilter, NewAuditEntry};
pub use chats::{
    ChatListRow, ChatMemberRow, ChatRow, EventRow, MessageRow, NewChat, NewMessage, Sent,
    direct_key,
};
pub use directory::{EntryRow, GroupRow, MateRow, MemberRow, RightRow};
pub use federation::{KeyRow, PeerRow, RemoteProfileRow};
pub use files::{FileRow, NewFile};
pub use forwarded::{AttestationRow, Forwarded};
pub use group_commit::{MAX_BATCH, Posted};
pub use ids::{ChatId, Seq, UserId};
pub use replicas::{Applied, CursorRow, ReplicaChat, ReplicaEvent, ReplicaFile, ReplicaMessage};
pub use sessions::SessionRow;
pub use throttle::{Reservation, ThrottleKey, ThrottleRow};
pub use tx::Tx;
pub use users::{NewUser, UserChange, UserRecord};

/// A pool of one of the two backends.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// The queue of message sends to the store's group committer. `None` in the
    /// committer's own copy, which stores each batch directly.
    sends: Option<group_commit::GroupCommit>,
    /// This process's claim on the database, once a server took it
    /// ([`Store::claim_exclusive`]); shared by every clone, given up by `close`.
    claim: std::sync::Arc<std::sync::Mutex<Option<instance::Claim>>>,
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `$body` with `$pool` bound to the concrete pool of `$store`. The body is
/// compiled once for each backend, so it is checked against both.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::storage::Pool::Sqlite($pool) => $body,
            $crate::storage::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the database URL must start with sqlite: or postgres:")]
    UnknownScheme,
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("no such {0}")]
    Missing(&'static str),
    #[error("the change would leave no active administrator")]
    LastAdministrator,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("data folder: {0}")]
    Io(#[from] std::io::Error),
    /// Another server holds this database; the text says which and what to do.
    #[error("{0}")]
    AlreadyRunning(String),
}

impl StorageError {
    /// Maps a violation of the unique constraint `constraint` to [`StorageError::Conflict`].
    /// PostgreSQL reports the constraint's name and it must match; SQLite reports
    /// none, so a caller passes the one unique constraint its statement can violate.
    pub(crate) fn on_unique(constraint: &'static str) -> impl FnOnce(sqlx::Error) -> StorageError {
        move |error| match &error {
            sqlx::Error::Database(db)
                if db.is_unique_violation()
                    && db.constraint().is_none_or(|name| name == constraint) =>
            {
                StorageError::Conflict(constraint)
            }
            _ => StorageError::Database(error),
        }
    }
}

impl StorageError {
    /// Maps a foreign-key violation (a referenced row is gone) to [`StorageError::Missing`].
    pub(crate) fn on_foreign_key(what: &'static str) -> impl FnOnce(sqlx::Error) -> StorageError {
        move |error| match &error {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StorageError::Missing(what)
            }
            _ => StorageError::Database(error),
        }
    }
}

/// A `like` pattern matching `text` anywhere, any case; `%`, `_` and `\` in the
/// text match themselves (the queries say `escape '\'`).
pub(crate) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Starts a transaction that will write. On SQLite it takes the write lock at
/// once (`begin immediate`): a deferred transaction that reads first and writes
/// later fails with "database is locked" when another writer got in between,
/// while an immediate one waits its turn (up to the busy timeout). PostgreSQL
/// needs nothing special.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = std::result::Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl Future<
        Output = std::result::Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>,
    > + Send {
        self.begin_with("begin immediate")
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl Future<
        Output = std::result::Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>,
    > + Send {
        self.begin()
    }
}

impl Store {
    /// Opens a pool for `url` (`sqlite://path` or `postgres://…`). A SQLite file and
    /// its folder are created when missing; the journal is WAL with full sync, so a
    /// committed transaction survives a crash.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                // A writer waits for the one before it. With full sync, one
                // commit's fsync took over 5 s once on a loaded 2-core machine,
                // and the writer behind it answered 500 ("database is locked"):
                // waiting longer is better than failing.
                .busy_timeout(Duration::from_secs(20));
            if let Some(parent) = options.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)?;
            }
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(max_connections)
                    // The connections live in this process: a ping before each use
                    // would check nothing and cost a round trip to the connection's
                    // thread on every query.
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?,
            )
        } else {
            return Err(StorageError::UnknownScheme);
        };
        let direct = Self {
            pool,
            sends: None,
            claim: Default::default(),
        };
        Ok(Self {
            sends: Some(group_commit::GroupCommit::start(direct.clone())),
            ..direct
        })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations of this backend that are not applied yet.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A cheap round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, |pool| sqlx::query("select 1")
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Stops the group committer, closes the pool and gives up the claim on the
    /// database, if this store holds it.
    pub async fn close(&self) {
        if let Some(sends) = &self.sends {
            sends.stop();
        }
        on_pool!(self, |pool| pool.close().await);
        self.release_claim().await;
    }
}

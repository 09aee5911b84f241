//! Database access: the pool, migrations and the queries, one module per table.
//!
//! The same SQL runs on SQLite and PostgreSQL through sqlx's `Any` driver: `$n`
//! placeholders, integer timestamps (Unix seconds), flags as 0/1 integers. Only the DDL
//! differs, in `migrations/sqlite` and `migrations/postgres`. Transactions are opened by the
//! service layer, never here.

pub mod audit;
pub mod email_verifications;
mod enums;
pub mod join_links;
pub mod members;
pub mod organizations;
pub mod outbox;
pub mod page;
pub mod password_resets;
pub mod rate_limits;
pub mod sessions;
pub mod sso;
pub mod teams;
pub mod two_factor;
pub mod users;
pub mod webhooks;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Transaction};

use crate::server::workers::Wake;

/// A connection of either database, as the queries take it.
pub type Conn = sqlx::AnyConnection;
/// A connection held with, on SQLite, the process's write turn (see [`Db::begin`]).
/// Dereferences to the connection.
pub struct InTurn<C> {
    conn: C,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// SQLite: the outbox workers to wake once this transaction commits.
    wake: Option<Arc<Wake>>,
}

/// An open read-write transaction in the write turn; dropped without [`Tx::commit`] it
/// rolls back.
pub type Tx = InTurn<Transaction<'static, Any>>;

/// A connection for one statement that writes and commits on its own (no `BEGIN`, no
/// `COMMIT`: one round trip instead of three), in the write turn like a [`Tx`].
pub type SingleWrite = InTurn<sqlx::pool::PoolConnection<Any>>;

impl Tx {
    /// Commits; on SQLite then wakes this process's outbox workers, which look for due
    /// rows with one read (the transaction may have queued mail or events). PostgreSQL
    /// wakes them itself, at the commit of an outbox row only (`outbox::listen`).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.conn.commit().await?;
        if let Some(wake) = self.wake {
            wake.wake();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.conn.rollback().await
    }
}

impl<C: std::ops::Deref<Target = Conn>> std::ops::Deref for InTurn<C> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl<C: std::ops::DerefMut<Target = Conn>> std::ops::DerefMut for InTurn<C> {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// The application's database: a pool plus what kind of database it is.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    kind: DbKind,
    /// SQLite has one writer at a time. Writers of this process take turns here, woken
    /// the moment the previous one finishes, instead of colliding inside SQLite, whose
    /// busy handler polls with sleeps of 1 ms and more (long latency tails under load).
    writer: Arc<tokio::sync::Mutex<()>>,
    /// The outbox workers of this handle ([`Db::outbox_wake`]).
    wake: Arc<Wake>,
}

/// How often the server checkpoints a SQLite database ([`Db::checkpoint`]).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). A SQLite file is created if missing.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let kind = DbKind::of_url(url)
            .ok_or_else(|| anyhow::anyhow!("DATABASE_URL must start with sqlite:// or postgres://"))?;
        let mut url = url.to_owned();
        if kind == DbKind::Sqlite && !url.contains("mode=") {
            url.push_str(if url.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
        }
        let options = AnyConnectOptions::from_str(&url)?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
        let pool = match kind {
            DbKind::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    // A file connection does not go stale; pinging it before every use
                    // would cost a round trip to its worker thread per query.
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL lets readers run beside the one writer; a writer waits up
                            // to 5 s for the lock instead of failing at once. No commit
                            // copies the log back into the file (and waits for the disk):
                            // `Db::checkpoint` does, off the request path.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                                 PRAGMA wal_autocheckpoint = 0;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            DbKind::Postgres => AnyPoolOptions::new().max_connections(16).connect_with(options).await?,
        };
        Ok(Self { pool, kind, writer: Arc::default(), wake: Arc::default() })
    }

    /// Brings the schema up to date. Runs at every start; safe to run concurrently from
    /// several instances (sqlx takes a lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.kind {
            DbKind::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await,
            DbKind::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await,
        }
    }

    pub fn kind(&self) -> DbKind {
        self.kind
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// What wakes the outbox workers of this handle (see [`Wake`]).
    pub fn outbox_wake(&self) -> &Arc<Wake> {
        &self.wake
    }

    /// A connection for reads outside a transaction.
    pub async fn conn(&self) -> Result<sqlx::pool::PoolConnection<Any>, sqlx::Error> {
        self.pool.acquire().await
    }

    /// Starts a read-write transaction. On SQLite it first takes this process's write
    /// turn, then the write lock at once (`BEGIN IMMEDIATE`), so that a writer never fails
    /// when it upgrades a read lock. (Other processes on the same file still queue on the
    /// busy timeout.)
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.kind {
            DbKind::Sqlite => {
                let turn = self.write_turn().await;
                let conn = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(Tx { conn, _turn: turn, wake: Some(Arc::clone(&self.wake)) })
            }
            DbKind::Postgres => Ok(Tx { conn: self.pool.begin().await?, _turn: None, wake: None }),
        }
    }

    /// A connection for one self-committing write statement, in the write turn on SQLite.
    /// For a statement that is a whole unit of work by itself (a multi-row insert).
    pub async fn single_write(&self) -> Result<SingleWrite, sqlx::Error> {
        let turn = self.write_turn().await;
        Ok(SingleWrite { conn: self.pool.acquire().await?, _turn: turn, wake: None })
    }

    /// On SQLite, this process's write turn, held by a [`Tx`] or a [`SingleWrite`];
    /// `None` on PostgreSQL, which has row locks.
    async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.kind {
            DbKind::Sqlite => Some(Arc::clone(&self.writer).lock_owned().await),
            DbKind::Postgres => None,
        }
    }

    /// On SQLite, copies the write-ahead log back into the database file (a passive
    /// checkpoint: writers and readers go on meanwhile). Connections do not do it at
    /// commit, where the request would wait for the disk; the server calls this every
    /// [`CHECKPOINT_EVERY`] on SQLite. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), sqlx::Error> {
        if self.kind == DbKind::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Liveness of the database for `/healthz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    /// Whether every migration this build knows of is applied (`/readyz`): an instance of an
    /// older build beside a newer schema is fine, a newer build on an older schema is not.
    pub async fn migrations_applied(&self) -> Result<bool, sqlx::Error> {
        let known = match self.kind {
            DbKind::Sqlite => &SQLITE_MIGRATIONS,
            DbKind::Postgres => &POSTGRES_MIGRATIONS,
        };
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(&self.pool)
            .await?;
        Ok(known.iter().filter(|m| m.migration_type.is_up_migration()).all(|m| applied.contains(&m.version)))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether an error is a unique-constraint violation (the same kind on both databases).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|e| e.is_unique_violation())
}

/// The current time as stored: Unix seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Flags are stored as 0/1 integers on both databases.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

//! sea-orm adapters for SQLite and PostgreSQL, with hand-written SQL that is identical on
//! both backends (`$n` placeholders work on sqlx-sqlite too; the only per-backend parts are
//! `set_config` and `FOR UPDATE`, which SQLite has no use for).
//!
//! Ids are bound as `uuid::Uuid` (PostgreSQL `uuid`, SQLite 16-byte BLOB, which sorts like
//! the uuid type), timestamps as `DateTime<Utc>` (`timestamptz` / RFC 3339 TEXT in UTC,
//! which sorts chronologically), `amr` as JSON TEXT.

mod credentials;
mod db;
mod invitations;
mod refresh;
mod rows;
mod sessions;
mod signing_keys;
mod tenants;
mod usage;
mod users;

pub use credentials::SeaCredentialRepository;
pub use invitations::SeaInvitationRepository;
pub use sessions::SeaSessionRepository;
pub use signing_keys::SeaSigningKeyRepository;
pub use tenants::SeaTenantRepository;
pub use usage::SeaUsageRepository;
pub use users::SeaUserRepository;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::RepoError;
use tessera_domain::ports::{Clock, Repositories, SystemClock};

/// How long a SQLite writer waits for the database lock before reporting `Unavailable`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection pool and the backend it speaks; cloning shares the pool.
#[derive(Clone)]
pub struct SeaStore {
    connection: DatabaseConnection,
    backend: DbBackend,
    /// Stamps the `updated_at` of writes whose port takes no time (`set_settings`, usage).
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SeaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaStore")
            .field("connection", &self.connection)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl SeaStore {
    /// Opens a pool on `url` (`sqlite://path?mode=rwc`, `sqlite::memory:` or `postgres://…`).
    ///
    /// SQLite runs in WAL mode with foreign keys on and a 5 s busy timeout. An in-memory
    /// SQLite database exists once per connection, so it gets exactly one connection that
    /// is never recycled, whatever `max_connections` says.
    ///
    /// # Errors
    /// `Unavailable` when the URL is invalid or the database cannot be reached.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, RepoError> {
        let mut options = ConnectOptions::new(url);
        options.max_connections(max_connections.max(1)).sqlx_logging(false);
        if url.starts_with("sqlite:") {
            options.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
            });
            if is_sqlite_memory(url) {
                options
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None::<Duration>)
                    .max_lifetime(None::<Duration>);
            }
        } else {
            options.set_application_name("tessera");
        }
        let connection = Database::connect(options).await.map_err(RepoError::unavailable)?;
        Ok(Self::from_connection(connection))
    }

    /// Wraps an existing connection (e.g. one a test harness opened).
    pub fn from_connection(connection: DatabaseConnection) -> Self {
        let backend = connection.get_database_backend();
        Self { connection, backend, clock: Arc::new(SystemClock) }
    }

    /// The store with `clock` for the timestamps the adapters write themselves.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Every repository over this pool.
    pub fn repositories(&self) -> Repositories {
        Repositories {
            tenants: Arc::new(SeaTenantRepository::new(self)),
            users: Arc::new(SeaUserRepository::new(self)),
            sessions: Arc::new(SeaSessionRepository::new(self)),
            signing_keys: Arc::new(SeaSigningKeyRepository::new(self)),
            usage: Arc::new(SeaUsageRepository::new(self)),
            invitations: Arc::new(SeaInvitationRepository::new(self)),
            credentials: Arc::new(SeaCredentialRepository::new(self)),
        }
    }

    /// One round trip to the database (readiness probes).
    ///
    /// # Errors
    /// `Unavailable` when the database does not answer.
    pub async fn ping(&self) -> Result<(), RepoError> {
        self.connection.ping().await.map_err(RepoError::unavailable)
    }

    /// The pool, for migrations and operational queries.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.connection
    }

    pub fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_in_memory_sqlite_urls() {
        assert!(is_sqlite_memory("sqlite::memory:"));
        assert!(is_sqlite_memory("sqlite://file:t?mode=memory&cache=shared"));
        assert!(!is_sqlite_memory("sqlite://data/tessera.db?mode=rwc"));
    }
}

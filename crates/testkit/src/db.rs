//! Throw-away test databases, one per call so tests stay parallel-safe.
//!
//! PostgreSQL runs only when `TESSERA_TEST_DATABASE_URL` names a superuser (or a role with
//! CREATEDB and CREATEROLE): each call creates `tessera_t_<uuid>`, migrates it as that
//! owner, and hands back a store connected as `tessera_app` — a login role that neither
//! owns the tables nor bypasses RLS — so what the tests see is what production sees. The
//! database is dropped when its [`PgTestDb`] goes (`TESSERA_TEST_KEEP_DB=1` keeps it).
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a test harness that cannot build its database must fail the test loudly"
)]

use sea_orm::ConnectionTrait;
use std::any::Any;
use std::path::PathBuf;
use tessera_domain::ports::Repositories;
use tessera_migrations::{Migrator, MigratorTrait, grant_app_role};
use tessera_repository::sea::SeaStore;
use uuid::Uuid;

/// The variable naming the PostgreSQL server used by the tests (unset: PostgreSQL skipped).
pub const TEST_DATABASE_URL: &str = "TESSERA_TEST_DATABASE_URL";

/// The application role the PostgreSQL tests connect as.
pub const APP_ROLE: &str = "tessera_app";

/// How many connections a test store's pool may open.
const TEST_POOL_SIZE: u32 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Memory,
    Sqlite,
    Postgres,
}

/// The owner/superuser URL from `TESSERA_TEST_DATABASE_URL`, if set.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL).ok().filter(|url| !url.trim().is_empty())
}

/// A fresh migrated SQLite database in a file under the temp dir. The file stays there;
/// use [`sqlite_test_db`] to have it removed when the test is done.
pub async fn sqlite_store() -> SeaStore {
    open_sqlite(&sqlite_path()).await
}

/// A fresh migrated SQLite database whose files are removed when it is dropped.
pub async fn sqlite_test_db() -> SqliteTestDb {
    let path = sqlite_path();
    SqliteTestDb { store: open_sqlite(&path).await, path }
}

fn sqlite_path() -> PathBuf {
    std::env::temp_dir().join(format!("tessera-test-{}.db", Uuid::new_v4().simple()))
}

async fn open_sqlite(path: &std::path::Path) -> SeaStore {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = SeaStore::connect(&url, TEST_POOL_SIZE).await.expect("open the SQLite test database");
    Migrator::up(store.connection(), None).await.expect("migrate the SQLite test database");
    store
}

/// A SQLite test database in a temp file.
#[derive(Debug)]
pub struct SqliteTestDb {
    pub store: SeaStore,
    pub path: PathBuf,
}

impl Drop for SqliteTestDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.path.clone().into_os_string();
            path.push(suffix);
            // Best effort: a file still open elsewhere is reclaimed by the OS later.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A fresh PostgreSQL database, reached as the application role.
pub struct PgTestDb {
    /// Connected as [`APP_ROLE`]: subject to row-level security.
    pub store: SeaStore,
    /// The owner (the `TESSERA_TEST_DATABASE_URL` role) on this database.
    pub owner_url: String,
    /// [`APP_ROLE`] on this database.
    pub app_url: String,
    pub database: String,
    _dropper: DropDatabase,
}

impl std::fmt::Debug for PgTestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTestDb").field("database", &self.database).finish_non_exhaustive()
    }
}

/// Creates, migrates and grants a fresh database; `None` when `TESSERA_TEST_DATABASE_URL` is unset.
pub async fn postgres_store() -> Option<PgTestDb> {
    let admin_url = postgres_admin_url()?;
    let database = format!("tessera_t_{}", Uuid::new_v4().simple());
    let admin = SeaStore::connect(&admin_url, 1).await.expect("connect to TESSERA_TEST_DATABASE_URL");
    run(&admin, &format!(r#"CREATE DATABASE "{database}""#)).await;
    // From here on a panic still drops the database.
    let dropper = DropDatabase { admin_url: admin_url.clone(), database: database.clone() };
    // Roles are cluster-wide and tests run concurrently: creating one that another test
    // just created raises duplicate_object, or unique_violation when both race the catalog.
    run(
        &admin,
        &format!(
            "DO $$ BEGIN
                 CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
             END $$"
        ),
    )
    .await;
    run(&admin, &format!(r#"GRANT CONNECT ON DATABASE "{database}" TO {APP_ROLE}"#)).await;
    close(admin).await;

    let owner_url = database_url(&admin_url, &database, None);
    let owner = SeaStore::connect(&owner_url, 1).await.expect("connect to the test database as its owner");
    Migrator::up(owner.connection(), None).await.expect("migrate the PostgreSQL test database");
    grant_app_role(owner.connection(), APP_ROLE).await.expect("grant the application role");
    close(owner).await;

    let app_url = database_url(&admin_url, &database, Some(APP_ROLE));
    let store = SeaStore::connect(&app_url, TEST_POOL_SIZE).await.expect("connect as the application role");
    Some(PgTestDb { store, owner_url, app_url, database, _dropper: dropper })
}

/// A fresh, empty (unmigrated) PostgreSQL database owned by a plain login role.
pub struct PgOwnedDb {
    /// The owner role on this database: neither superuser nor `BYPASSRLS`, so forced
    /// row-level security applies to what it runs, migrations included.
    pub owner_url: String,
    pub database: String,
    _dropper: DropDatabase,
}

impl std::fmt::Debug for PgOwnedDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOwnedDb").field("database", &self.database).finish_non_exhaustive()
    }
}

/// The role that owns the databases of [`postgres_owned_database`].
pub const OWNER_ROLE: &str = "tessera_owner";

/// Creates an empty database owned by [`OWNER_ROLE`] (the deployment shape: the migrating
/// role owns the tables but is no superuser); `None` when `TESSERA_TEST_DATABASE_URL` is unset.
pub async fn postgres_owned_database() -> Option<PgOwnedDb> {
    let admin_url = postgres_admin_url()?;
    let database = format!("tessera_t_{}", Uuid::new_v4().simple());
    let admin = SeaStore::connect(&admin_url, 1).await.expect("connect to TESSERA_TEST_DATABASE_URL");
    // As for APP_ROLE: concurrent tests may race to create the role.
    run(
        &admin,
        &format!(
            "DO $$ BEGIN
                 CREATE ROLE {OWNER_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
             END $$"
        ),
    )
    .await;
    run(&admin, &format!(r#"CREATE DATABASE "{database}" OWNER {OWNER_ROLE}"#)).await;
    let dropper = DropDatabase { admin_url: admin_url.clone(), database: database.clone() };
    close(admin).await;
    let owner_url = database_url(&admin_url, &database, Some(OWNER_ROLE));
    Some(PgOwnedDb { owner_url, database, _dropper: dropper })
}

async fn run(store: &SeaStore, sql: &str) {
    if let Err(e) = store.connection().execute_unprepared(sql).await {
        panic!("test database setup failed on `{sql}`: {e}");
    }
}

async fn close(store: SeaStore) {
    let _ = store.connection().close_by_ref().await;
}

/// `url` with another database name and, optionally, another user (and no password).
fn database_url(url: &str, database: &str, user: Option<&str>) -> String {
    let mut url = url::Url::parse(url).expect("TESSERA_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{database}"));
    if let Some(user) = user {
        url.set_username(user).expect("the URL takes a user name");
        url.set_password(None).expect("the URL takes a password");
    }
    url.to_string()
}

/// Drops a test database when it goes out of scope.
struct DropDatabase {
    admin_url: String,
    database: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        if std::env::var_os("TESSERA_TEST_KEEP_DB").is_some() {
            eprintln!("kept test database {}", self.database);
            return;
        }
        let (url, sql) =
            (self.admin_url.clone(), format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.database));
        // Drop runs inside (or after) the test's runtime, which cannot be blocked on: use
        // a runtime of our own on a thread of our own.
        let dropped = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let admin = SeaStore::connect(&url, 1).await.map_err(|e| e.to_string())?;
                let result = admin.connection().execute_unprepared(&sql).await.map_err(|e| e.to_string());
                close(admin).await;
                result.map(drop)
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database {}: {e}", self.database);
        }
    }
}

/// A backend's repositories plus whatever must live as long as they do (the database).
pub struct TestRepositories {
    pub repos: Repositories,
    _keep_alive: Option<Box<dyn Any + Send + Sync>>,
}

impl TestRepositories {
    pub fn new(repos: Repositories) -> Self {
        Self { repos, _keep_alive: None }
    }

    /// Repositories that stay valid only while `owner` lives (a test database guard).
    pub fn owned_by(repos: Repositories, owner: impl Any + Send + Sync) -> Self {
        Self { repos, _keep_alive: Some(Box::new(owner)) }
    }
}

impl From<Repositories> for TestRepositories {
    fn from(repos: Repositories) -> Self {
        Self::new(repos)
    }
}

/// Fresh, empty repositories on `backend`; `None` for PostgreSQL when it is not configured.
pub async fn test_repositories(backend: TestBackend) -> Option<TestRepositories> {
    match backend {
        TestBackend::Memory => Some(TestRepositories::new(tessera_repository::memory::repositories())),
        TestBackend::Sqlite => {
            let db = sqlite_test_db().await;
            Some(TestRepositories::owned_by(db.store.repositories(), db))
        }
        TestBackend::Postgres => {
            let db = postgres_store().await?;
            Some(TestRepositories::owned_by(db.store.repositories(), db))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn database_url_swaps_database_and_user() {
        let url = "postgres://postgres:secret@127.0.0.1:5432/postgres?sslmode=disable";
        assert_eq!(database_url(url, "t1", None), "postgres://postgres:secret@127.0.0.1:5432/t1?sslmode=disable");
        assert_eq!(
            database_url(url, "t1", Some("tessera_app")),
            "postgres://tessera_app@127.0.0.1:5432/t1?sslmode=disable"
        );
    }
}

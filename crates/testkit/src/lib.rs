//! Test support for Tessera (publish = false).
//!
//! - [`db`]: throw-away databases — a migrated SQLite file per call, and on PostgreSQL
//!   (when `TESSERA_TEST_DATABASE_URL` is set) a fresh database per call, reached as the
//!   non-owner application role so row-level security is really enforced.
//! - [`contract`]: the port contract suites every storage adapter must pass, expanded by
//!   [`repository_contract_tests!`] into one named `#[tokio::test]` per case.
//! - [`redis_proxy`]: a TCP proxy and raw commands for the Redis adapters' reconnect tests.

pub mod contract;
pub mod db;
pub mod fixtures;
pub mod redis_proxy;

pub use db::{
    PgOwnedDb, PgTestDb, SqliteTestDb, TestBackend, TestRepositories, postgres_admin_url, postgres_owned_database,
    postgres_store, sqlite_store, sqlite_test_db, test_repositories,
};

//! Credential races on every backend (PostgreSQL: the invitation row or the user row locked,
//! invitation inserts serialised on the tenant row; SQLite: `BEGIN IMMEDIATE`), each over
//! several fresh tenants:
//! - 10 concurrent accepts of one invitation: exactly one user created;
//! - 10 concurrent consumptions of one reset: exactly one succeeds;
//! - concurrent consumptions of 10 resets of one user: exactly one, and no deadlock;
//! - 10 concurrent invitations of one email: exactly one stored;
//! - 10 concurrent password changes of one user: all succeed, the history stays trimmed.

use tessera_testkit::contract::credential_races::{
    concurrent_accepts_create_one_user, concurrent_consumes_of_a_users_resets_use_one,
    concurrent_consumes_use_a_reset_once, concurrent_invitations_of_one_email_store_one,
    concurrent_password_changes_keep_the_history_consistent,
};
use tessera_testkit::{TestBackend, TestRepositories, test_repositories};

const ATTEMPTS: usize = 10;
const ROUNDS: usize = 5;

async fn fixture(backend: TestBackend) -> Option<TestRepositories> {
    let fixture = test_repositories(backend).await;
    if fixture.is_none() {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
    }
    fixture
}

/// `race => memory_test, sqlite_test, postgres_test;`: one test per backend.
macro_rules! on_every_backend {
    ($($race:ident => $($backend:ident: $test:ident),+;)*) => {$($(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $test() {
            if let Some(fixture) = fixture(TestBackend::$backend).await {
                $race(&fixture.repos, ROUNDS, ATTEMPTS).await;
            }
        }
    )+)*};
}

on_every_backend! {
    concurrent_accepts_create_one_user =>
        Memory: memory_accepts_create_one_user,
        Sqlite: sqlite_accepts_create_one_user,
        Postgres: postgres_accepts_create_one_user;
    concurrent_consumes_use_a_reset_once =>
        Memory: memory_consumes_use_a_reset_once,
        Sqlite: sqlite_consumes_use_a_reset_once,
        Postgres: postgres_consumes_use_a_reset_once;
    concurrent_consumes_of_a_users_resets_use_one =>
        Memory: memory_consumes_of_a_users_resets_use_one,
        Sqlite: sqlite_consumes_of_a_users_resets_use_one,
        Postgres: postgres_consumes_of_a_users_resets_use_one;
    concurrent_invitations_of_one_email_store_one =>
        Memory: memory_invitations_of_one_email_store_one,
        Sqlite: sqlite_invitations_of_one_email_store_one,
        Postgres: postgres_invitations_of_one_email_store_one;
    concurrent_password_changes_keep_the_history_consistent =>
        Memory: memory_password_changes_keep_the_history_consistent,
        Sqlite: sqlite_password_changes_keep_the_history_consistent,
        Postgres: postgres_password_changes_keep_the_history_consistent;
}

//! Races on one user's sessions, on every backend (PostgreSQL: the session and token rows
//! locked `FOR UPDATE`, logins serialised on the user row; SQLite: `BEGIN IMMEDIATE`):
//! - 20 concurrent rotations of one refresh token: exactly one `Rotated`, 19
//!   `ReusedWithinGrace`, and the winner's replacement rotates next (5 rounds);
//! - 10 concurrent logins of one user with `max_live` 3: exactly 3 live at the end;
//! - every kind of session write on one user at once: no deadlock, the limit holds.

use tessera_testkit::contract::refresh_rotation::concurrent_rotations_rotate_once;
use tessera_testkit::contract::session_limits::{
    concurrent_logins_keep_max_live, mixed_session_writes_do_not_deadlock,
};
use tessera_testkit::{TestBackend, test_repositories};

const ROTATIONS: usize = 20;
const LOGINS: usize = 10;
const MAX_LIVE: u32 = 3;
const ROUNDS: usize = 5;

async fn rotations(backend: TestBackend) {
    let Some(fixture) = test_repositories(backend).await else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
        return;
    };
    concurrent_rotations_rotate_once(&fixture.repos, ROUNDS, ROTATIONS).await;
}

async fn logins(backend: TestBackend) {
    let Some(fixture) = test_repositories(backend).await else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
        return;
    };
    concurrent_logins_keep_max_live(&fixture.repos, ROUNDS, LOGINS, MAX_LIVE).await;
}

async fn mixed(backend: TestBackend) {
    let Some(fixture) = test_repositories(backend).await else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
        return;
    };
    mixed_session_writes_do_not_deadlock(&fixture.repos, ROUNDS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_rotates_once() {
    rotations(TestBackend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_rotates_once() {
    rotations(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_rotates_once() {
    rotations(TestBackend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_logins_keep_max_live() {
    logins(TestBackend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_logins_keep_max_live() {
    logins(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_logins_keep_max_live() {
    logins(TestBackend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_mixed_writes_do_not_deadlock() {
    mixed(TestBackend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_mixed_writes_do_not_deadlock() {
    mixed(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_mixed_writes_do_not_deadlock() {
    mixed(TestBackend::Postgres).await;
}

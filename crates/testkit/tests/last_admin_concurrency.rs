//! Ten concurrent demotions of a tenant's two admins leave exactly one admin, on every
//! backend (PostgreSQL: row locks on the admin rows; SQLite: `BEGIN IMMEDIATE`). Repeated
//! over several tenants: with the PostgreSQL lock removed this fails nearly every run.

use tessera_testkit::contract::concurrency::concurrent_demotions_keep_one_admin;
use tessera_testkit::{TestBackend, test_repositories};

const ATTEMPTS: usize = 10;
const ROUNDS: usize = 8;

async fn race(backend: TestBackend) {
    let Some(fixture) = test_repositories(backend).await else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
        return;
    };
    concurrent_demotions_keep_one_admin(&fixture.repos, ROUNDS, ATTEMPTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_keeps_one_admin() {
    race(TestBackend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_one_admin() {
    race(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keeps_one_admin() {
    race(TestBackend::Postgres).await;
}

//! Concurrent usage flushes over the same counters, on every backend: each batch names the
//! counters in another order, yet none deadlocks (PostgreSQL row locks are taken in key
//! order) and no count is lost (the upsert adds inside the row lock).

use tessera_testkit::contract::usage::concurrent_flushes_lose_nothing;
use tessera_testkit::{TestBackend, test_repositories};

const FLUSHES: u64 = 12;

async fn race(backend: TestBackend) {
    let Some(fixture) = test_repositories(backend).await else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
        return;
    };
    concurrent_flushes_lose_nothing(&fixture.repos, FLUSHES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_flushes_lose_nothing() {
    race(TestBackend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_flushes_lose_nothing() {
    race(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_flushes_lose_nothing() {
    race(TestBackend::Postgres).await;
}

//! Concurrent read–merge–write loops over one tenant's setting overrides, on every
//! backend: the compare-and-set of `set_settings` makes each writer retry instead of
//! silently dropping another writer's key.

use tessera_testkit::contract::tenant_settings::concurrent_merges_lose_no_key;
use tessera_testkit::{TestBackend, test_repositories};

const WRITERS: usize = 8;

async fn race(backend: TestBackend) {
    let Some(fixture) = test_repositories(backend).await else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
        return;
    };
    concurrent_merges_lose_no_key(&fixture.repos, WRITERS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_merges_lose_no_key() {
    race(TestBackend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_merges_lose_no_key() {
    race(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_merges_lose_no_key() {
    race(TestBackend::Postgres).await;
}

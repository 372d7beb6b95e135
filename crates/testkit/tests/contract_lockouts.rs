//! The lockout store contract on the memory adapter and, when `TESSERA_TEST_REDIS_URL` is
//! set, on Redis; plus Redis-only tests of what the contract cannot see: the key layout (no
//! email in Redis, a TTL), the `NOSCRIPT` fallback, reconnecting, and refusing bad servers.
//!
//! The Redis tests share one server with tests running in parallel, so they touch only keys
//! of their own random tenants and cut only connections of their own proxy.
#![allow(clippy::expect_used, reason = "test helpers outside #[test] functions")]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tessera_domain::RepoError;
use tessera_domain::credentials::{LockoutKey, LockoutStore};
use tessera_repository::memory::{LOCKOUT_MEMORY, MemoryLockoutStore};
use tessera_repository::redis::RedisLockoutStore;
use tessera_testkit::contract::invalidation::{TEST_REDIS_URL, test_redis_url};
use tessera_testkit::contract::lockouts::{BASE, MAX, THRESHOLD, fresh_key, start};
use tessera_testkit::redis_proxy::{Proxy, redis_command};

tessera_testkit::lockout_store_contract_tests!(memory, async {
    Arc::new(MemoryLockoutStore::new()) as Arc<dyn LockoutStore>
});

tessera_testkit::lockout_store_contract_tests!(redis, async { redis_store().await });

async fn redis_store() -> Option<Arc<dyn LockoutStore>> {
    let url = test_redis_url()?;
    Some(Arc::new(connect(&url).await))
}

async fn connect(url: &str) -> RedisLockoutStore {
    RedisLockoutStore::connect(url).await.expect("connect")
}

async fn lock(store: &RedisLockoutStore, key: &LockoutKey) -> Duration {
    let now = start();
    for _ in 0..THRESHOLD - 1 {
        assert_eq!(store.record_failure(key, now, THRESHOLD, BASE, MAX).await.expect("record_failure"), None);
    }
    store.record_failure(key, now, THRESHOLD, BASE, MAX).await.expect("record_failure").expect("locked")
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_connect_refuses_a_bad_url_or_a_silent_server() {
    for url in ["not a url", "http://127.0.0.1:6379", "redis://127.0.0.1:1"] {
        let result = RedisLockoutStore::connect(url).await;
        assert!(matches!(result, Err(RepoError::Unavailable(_))), "{url}: {result:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_keys_are_tenant_scoped_hashed_and_expire() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: {TEST_REDIS_URL} unset");
        return;
    };
    let store = connect(&url).await;
    let key = fresh_key();
    // An independent SHA-256 (the `sha2` crate behind the auth crate) names the same key.
    let expected = format!("tessera:{}:lockout:{}", key.tenant, tessera_auth::opaque::hash_token(&key.email));
    assert_eq!(RedisLockoutStore::redis_key(&key), expected);
    assert!(!expected.contains(&key.email));

    assert_eq!(redis_command(&url, &["EXISTS", &expected]).await, ":0");
    assert_eq!(lock(&store, &key).await, BASE);
    assert_eq!(redis_command(&url, &["TYPE", &expected]).await, "+hash");
    let ttl = redis_command(&url, &["PTTL", &expected]).await;
    let ttl: u64 = ttl.strip_prefix(':').and_then(|ms| ms.parse().ok()).expect("a TTL in ms");
    let memory = u64::try_from(LOCKOUT_MEMORY.as_millis()).expect("ms");
    assert!(memory - 60_000 < ttl && ttl <= memory, "TTL {ttl} ms: the lockout count is kept a day");

    store.reset(&key).await.expect("reset");
    assert_eq!(redis_command(&url, &["EXISTS", &expected]).await, ":0", "reset deletes the key");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_falls_back_to_eval_when_the_script_cache_is_empty() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: {TEST_REDIS_URL} unset");
        return;
    };
    let store = connect(&url).await;
    let key = fresh_key();
    let now = start();
    assert_eq!(store.record_failure(&key, now, THRESHOLD, BASE, MAX).await.expect("first failure"), None);
    // Other tests' stores then fall back the same way: harmless.
    assert_eq!(redis_command(&url, &["SCRIPT", "FLUSH"]).await, "+OK");
    for _ in 2..THRESHOLD {
        assert_eq!(store.record_failure(&key, now, THRESHOLD, BASE, MAX).await.expect("after a flush"), None);
    }
    assert_eq!(store.record_failure(&key, now, THRESHOLD, BASE, MAX).await.expect("fifth"), Some(BASE));
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_reconnects_after_a_lost_connection() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: {TEST_REDIS_URL} unset");
        return;
    };
    let proxy = Proxy::start(&url).await;
    let store = connect(&proxy.url).await;
    let key = fresh_key();
    let now = start();
    assert_eq!(store.record_failure(&key, now, THRESHOLD, BASE, MAX).await.expect("record_failure"), None);

    proxy.cut();
    // Let the multiplexed connection notice the close before it is used again.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(store.locked_for(&key, now).await.expect("a read reconnects"), None);
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(50)).await;
    store.reset(&key).await.expect("a reset reconnects");
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(store.record_failure(&key, now, 1, BASE, MAX).await.expect("a failure reconnects"), Some(BASE));
    assert_eq!(store.locked_for(&key, now).await.expect("locked_for"), Some(BASE));
    let accepted = proxy.accepted.load(Ordering::SeqCst);
    assert_eq!(accepted, 4, "one connection, then one per cut");
}

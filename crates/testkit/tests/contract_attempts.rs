//! The attempt counter contract on the memory adapter and, when `TESSERA_TEST_REDIS_URL` is
//! set, on Redis; plus Redis-only tests of what the contract cannot see: the key layout (no
//! member in clear, expiry at the window's end), the `NOSCRIPT` fallback, and refusing bad
//! servers.
//!
//! The Redis tests share one server with tests running in parallel, so they touch only keys
//! of their own.
#![allow(clippy::expect_used, reason = "test helpers outside #[test] functions")]

use std::sync::Arc;
use tessera_domain::RepoError;
use tessera_domain::credentials::AttemptCounter;
use tessera_repository::memory::MemoryAttemptCounter;
use tessera_repository::redis::RedisAttemptCounter;
use tessera_testkit::contract::attempts::{AttemptWindow, LIMIT, WINDOW, fresh_key, start};
use tessera_testkit::contract::invalidation::{TEST_REDIS_URL, test_redis_url};
use tessera_testkit::redis_proxy::redis_command;

tessera_testkit::attempt_counter_contract_tests!(memory, async {
    Arc::new(MemoryAttemptCounter::new()) as Arc<dyn AttemptCounter>
});

tessera_testkit::attempt_counter_contract_tests!(redis, async { redis_counter().await });

async fn redis_counter() -> Option<Arc<dyn AttemptCounter>> {
    let url = test_redis_url()?;
    Some(Arc::new(connect(&url).await))
}

async fn connect(url: &str) -> RedisAttemptCounter {
    RedisAttemptCounter::connect(url).await.expect("connect")
}

/// The key's expiry, in Unix milliseconds.
async fn expires_at(url: &str, key: &str) -> i64 {
    let reply = redis_command(url, &["PEXPIRETIME", key]).await;
    reply.strip_prefix(':').and_then(|ms| ms.parse().ok()).expect("an expiry in ms")
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_connect_refuses_a_bad_url_or_a_silent_server() {
    for url in ["not a url", "http://127.0.0.1:6379", "redis://127.0.0.1:1"] {
        let result = RedisAttemptCounter::connect(url).await;
        assert!(matches!(result, Err(RepoError::Unavailable(_))), "{url}: {result:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_keys_name_the_window_hash_members_and_expire_at_its_end() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: {TEST_REDIS_URL} unset");
        return;
    };
    let counter = connect(&url).await;
    let (key, now) = (fresh_key(), start());
    let window = AttemptWindow::of(WINDOW, now);

    let hits = format!("tessera:attempts:{key}:{}:{}", window.millis, window.index);
    assert_eq!(RedisAttemptCounter::hits_key(&key, &window), hits);
    assert_eq!(counter.hit(&key, LIMIT, WINDOW, now).await.expect("hit"), None);
    assert_eq!(redis_command(&url, &["EXISTS", &hits]).await, ":1");
    assert_eq!(expires_at(&url, &hits).await, window.end);

    let email = "alice@example.com";
    let set = format!("tessera:distinct:{key}:{}:{}", window.millis, window.index);
    assert_eq!(RedisAttemptCounter::distinct_key(&key, &window), set);
    assert_eq!(counter.distinct(&key, email, WINDOW, now).await.expect("distinct"), 1);
    // An independent SHA-256 (the `sha2` crate behind the auth crate) names the member.
    let hashed = tessera_auth::opaque::hash_token(email);
    assert_eq!(RedisAttemptCounter::hashed_member(email), hashed);
    assert_eq!(redis_command(&url, &["SISMEMBER", &set, &hashed]).await, ":1");
    assert_eq!(redis_command(&url, &["SISMEMBER", &set, email]).await, ":0", "no email in clear");
    assert_eq!(expires_at(&url, &set).await, window.end);
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_falls_back_to_eval_when_the_script_cache_is_empty() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: {TEST_REDIS_URL} unset");
        return;
    };
    let counter = connect(&url).await;
    let (key, now) = (fresh_key(), start());
    assert_eq!(counter.hit(&key, 1, WINDOW, now).await.expect("hit"), None);
    assert_eq!(counter.distinct(&key, "a", WINDOW, now).await.expect("distinct"), 1);
    // Other tests' clients then fall back the same way: harmless.
    assert_eq!(redis_command(&url, &["SCRIPT", "FLUSH"]).await, "+OK");
    let left = AttemptWindow::of(WINDOW, now).remaining();
    assert_eq!(counter.hit(&key, 1, WINDOW, now).await.expect("hit after a flush"), Some(left));
    assert_eq!(counter.distinct(&key, "b", WINDOW, now).await.expect("distinct after a flush"), 2);
}

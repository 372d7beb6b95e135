//! The invalidation bus contract on the memory adapter and, when `TESSERA_TEST_REDIS_URL` is
//! set, on Redis; plus Redis-only tests of what the contract cannot see: resubscribing after
//! a lost connection, skipping undecodable messages, and stopping with the bus.
//!
//! The Redis tests share one server and run in parallel, so connections are never killed by
//! type (`CLIENT KILL TYPE pubsub` would cut every other test's subscriber and lose its
//! events): the bus under test reaches Redis through a small TCP proxy, and only the proxy's
//! upstream connections are killed, by address.
#![allow(clippy::expect_used, reason = "test helpers outside #[test] functions")]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tessera_domain::RepoError;
use tessera_domain::ports::{Invalidation, InvalidationBus};
use tessera_repository::memory::MemoryInvalidationBus;
use tessera_repository::redis::RedisInvalidationBus;
use tessera_testkit::contract::invalidation::{
    BusPair, DELIVERY_DEADLINE, Recorder, TEST_REDIS_URL, tenant_event, test_redis_url,
};
use tessera_testkit::redis_proxy::{Proxy, redis_command};
use tokio::time::Instant;

tessera_testkit::invalidation_bus_contract_tests!(memory, async {
    let bus: Arc<dyn InvalidationBus> = Arc::new(MemoryInvalidationBus::new());
    (Arc::clone(&bus), bus)
});

tessera_testkit::invalidation_bus_contract_tests!(redis, async { redis_pair().await });

async fn redis_pair() -> Option<BusPair> {
    let url = test_redis_url()?;
    Some((connect(&url).await, connect(&url).await))
}

async fn connect(url: &str) -> Arc<dyn InvalidationBus> {
    Arc::new(RedisInvalidationBus::connect(url).await.expect("connect"))
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_connect_refuses_a_bad_url_or_a_silent_server() {
    for url in ["not a url", "http://127.0.0.1:6379", "redis://127.0.0.1:1"] {
        let result = RedisInvalidationBus::connect(url).await;
        assert!(matches!(result, Err(RepoError::Unavailable(_))), "{url}: {result:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_resubscribes_after_a_lost_connection_and_reports_all() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: {TEST_REDIS_URL} unset");
        return;
    };
    let proxy = Proxy::start(&url).await;
    let replica = connect(&proxy.url).await;
    let other = connect(&url).await;
    let heard = Recorder::new();
    replica.subscribe(heard.handler()).await.expect("subscribe");
    let before = tenant_event();
    other.publish(&before).await.expect("publish");
    heard.wait_for(std::slice::from_ref(&before)).await;

    let alls_before = heard.count(&Invalidation::All);
    let killed = proxy.kill_upstream_connections(&url).await;
    assert!(killed >= 2, "killed {killed} connections: expected publisher and pub/sub");
    // Resubscribing waits 100 ms first; another test's `All` may also land here, which is
    // why the next steps prove the subscription really is back.
    wait_until("an All after the reconnect", || heard.count(&Invalidation::All) > alls_before).await;

    let after = tenant_event();
    other.publish(&after).await.expect("publish after the reconnect");
    heard.wait_for(std::slice::from_ref(&after)).await;
    // The replica's publishing connection was killed too: publishing reconnects it.
    let own = tenant_event();
    replica.publish(&own).await.expect("publish on a reconnected publisher");
    heard.wait_for(std::slice::from_ref(&own)).await;
    let accepted = proxy.accepted.load(Ordering::SeqCst);
    assert!(accepted >= 4, "{accepted} proxied connections: expected 2 before and 2 after");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_skips_undecodable_messages() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: {TEST_REDIS_URL} unset");
        return;
    };
    let bus = connect(&url).await;
    let heard = Recorder::new();
    bus.subscribe(heard.handler()).await.expect("subscribe");
    let channel = format!("tessera:{}:invalidate", uuid::Uuid::new_v4());
    for garbage in ["not json", r#"{"kind":"no_such_kind"}"#, r#"{"kind":"tenant"}"#] {
        let reply = redis_command(&url, &["PUBLISH", &channel, garbage]).await;
        assert!(reply.starts_with(':'), "PUBLISH answered {reply:?}");
    }
    // Published after the garbage on one server, so heard after it: the listener survived.
    let event = tenant_event();
    bus.publish(&event).await.expect("publish");
    heard.wait_for(std::slice::from_ref(&event)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_dropping_the_bus_closes_its_connections() {
    let Some(url) = test_redis_url() else {
        eprintln!("skipped: {TEST_REDIS_URL} unset");
        return;
    };
    let proxy = Proxy::start(&url).await;
    let bus = connect(&proxy.url).await;
    bus.subscribe(Recorder::new().handler()).await.expect("subscribe");
    assert_eq!(proxy.active.load(Ordering::SeqCst), 2, "publisher and pub/sub");
    drop(bus);
    wait_until("the proxied connections to close", || proxy.active.load(Ordering::SeqCst) == 0).await;
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DELIVERY_DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

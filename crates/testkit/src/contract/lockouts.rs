//! Contract suite of the `LockoutStore` port (SPEC §6.5), expanded by
//! [`lockout_store_contract_tests!`](crate::lockout_store_contract_tests) into one
//! `#[tokio::test]` per case. A case receives a store and panics when the adapter breaks a
//! rule.
//!
//! Besides the port's own rules, the cases pin the adapters' shared policy: failures count
//! within [`FAILURE_WINDOW`] of the first of a streak, and the lockout count is remembered
//! for [`LOCKOUT_MEMORY`] after the latest lockout.
//!
//! Cases may share the store with tests running in parallel (one Redis for the whole run):
//! each case invents random tenant ids, so its keys are its own. Times are whole
//! milliseconds (what the Redis adapter stores) and driven by the case, never slept through.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::TenantId;
use tessera_domain::credentials::{LockoutKey, LockoutStore};
pub use tessera_repository::memory::{FAILURE_WINDOW, LOCKOUT_MEMORY};
use uuid::Uuid;

/// SPEC §6.5: 5 failures lock for 1 min, doubling up to 1 h.
pub const THRESHOLD: u32 = 5;
pub const BASE: Duration = Duration::from_secs(60);
pub const MAX: Duration = Duration::from_secs(3600);

/// What a contract suite's setup expression may produce: a store, or `None` to skip
/// (Redis not configured).
pub trait IntoLockoutStore {
    fn into_lockout_store(self) -> Option<Arc<dyn LockoutStore>>;
}

impl IntoLockoutStore for Arc<dyn LockoutStore> {
    fn into_lockout_store(self) -> Option<Arc<dyn LockoutStore>> {
        Some(self)
    }
}

impl IntoLockoutStore for Option<Arc<dyn LockoutStore>> {
    fn into_lockout_store(self) -> Option<Arc<dyn LockoutStore>> {
        self
    }
}

/// Expands to `mod $name { #[tokio::test] async fn … }`, one multi-threaded test per case,
/// each on a store from `$setup` — an async block yielding an `Arc<dyn LockoutStore>` or an
/// `Option` of one (`None` skips the case with a message). The calling crate needs `tokio`
/// (macros, rt-multi-thread).
///
/// ```ignore
/// tessera_testkit::lockout_store_contract_tests!(memory, async {
///     Arc::new(MemoryLockoutStore::new()) as Arc<dyn LockoutStore>
/// });
/// ```
#[macro_export]
macro_rules! lockout_store_contract_tests {
    ($name:ident, $setup:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__lockout_store_cases! { $setup;
                not_locked_initially,
                four_failures_do_not_lock_the_fifth_locks_for_base,
                locked_for_counts_down_then_ends,
                further_lockouts_double_up_to_max,
                reset_clears_failures_lockouts_and_the_lock,
                keys_of_other_tenants_and_emails_are_independent,
                failures_older_than_the_window_no_longer_count,
                the_lockout_count_is_forgotten_after_a_quiet_day,
                threshold_and_durations_are_parameters,
                concurrent_failures_lock_exactly_once_per_threshold,
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __lockout_store_cases {
    ($setup:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $case() {
                let store = $crate::contract::lockouts::IntoLockoutStore::into_lockout_store($setup.await);
                let Some(store) = store else {
                    eprintln!("skipped: {} unset", $crate::contract::invalidation::TEST_REDIS_URL);
                    return;
                };
                $crate::contract::lockouts::$case(&store).await;
            }
        )*
    };
}

/// A key of a fresh random tenant: unique to the calling test.
pub fn fresh_key() -> LockoutKey {
    LockoutKey { tenant: TenantId(Uuid::new_v4()), email: "alice@example.com".to_owned() }
}

/// The current time, truncated to whole milliseconds.
pub fn start() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("now is representable")
}

/// `at + duration`.
pub fn after(at: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    at + TimeDelta::from_std(duration).expect("test durations are small")
}

/// `at - duration`.
pub fn before(at: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    at - TimeDelta::from_std(duration).expect("test durations are small")
}

const MS: Duration = Duration::from_millis(1);

async fn locked_for(store: &Arc<dyn LockoutStore>, key: &LockoutKey, now: DateTime<Utc>) -> Option<Duration> {
    store.locked_for(key, now).await.expect("locked_for")
}

/// One failure with the SPEC parameters.
async fn fail(store: &Arc<dyn LockoutStore>, key: &LockoutKey, now: DateTime<Utc>) -> Option<Duration> {
    store.record_failure(key, now, THRESHOLD, BASE, MAX).await.expect("record_failure")
}

/// `THRESHOLD - 1` failures that must not lock, then one that must: returns its duration.
#[track_caller]
fn lock(store: &Arc<dyn LockoutStore>, key: &LockoutKey, now: DateTime<Utc>) -> impl Future<Output = Duration> {
    let caller = std::panic::Location::caller();
    let (store, key) = (Arc::clone(store), key.clone());
    async move {
        for n in 1..THRESHOLD {
            assert_eq!(fail(&store, &key, now).await, None, "{caller}: failure {n} locked");
        }
        fail(&store, &key, now).await.unwrap_or_else(|| panic!("{caller}: failure {THRESHOLD} did not lock"))
    }
}

pub async fn not_locked_initially(store: &Arc<dyn LockoutStore>) {
    let key = fresh_key();
    assert_eq!(locked_for(store, &key, start()).await, None);
    store.reset(&key).await.expect("resetting an unknown key is fine");
    assert_eq!(locked_for(store, &key, start()).await, None);
}

pub async fn four_failures_do_not_lock_the_fifth_locks_for_base(store: &Arc<dyn LockoutStore>) {
    let key = fresh_key();
    let now = start();
    for n in 1..=4 {
        assert_eq!(fail(store, &key, now).await, None, "failure {n}");
        assert_eq!(locked_for(store, &key, now).await, None, "after failure {n}");
    }
    assert_eq!(fail(store, &key, now).await, Some(BASE));
    assert_eq!(locked_for(store, &key, now).await, Some(BASE));
}

pub async fn locked_for_counts_down_then_ends(store: &Arc<dyn LockoutStore>) {
    let key = fresh_key();
    let now = start();
    assert_eq!(lock(store, &key, now).await, BASE);
    assert_eq!(locked_for(store, &key, after(now, MS)).await, Some(BASE - MS));
    assert_eq!(
        locked_for(store, &key, after(now, Duration::from_secs(10))).await,
        Some(BASE - Duration::from_secs(10))
    );
    assert_eq!(locked_for(store, &key, before(after(now, BASE), MS)).await, Some(MS));
    assert_eq!(locked_for(store, &key, after(now, BASE)).await, None, "the lock ends at now + base");
    assert_eq!(locked_for(store, &key, after(now, Duration::from_secs(3600))).await, None);
    // Reading an ended lock changes nothing: the next lock still doubles.
    assert_eq!(lock(store, &key, after(now, BASE)).await, BASE * 2);
}

pub async fn further_lockouts_double_up_to_max(store: &Arc<dyn LockoutStore>) {
    let key = fresh_key();
    let mut now = start();
    let expected = [60, 120, 240, 480, 960, 1920, 3600, 3600].map(Duration::from_secs);
    for (n, expected) in expected.into_iter().enumerate() {
        let locked = lock(store, &key, now).await;
        assert_eq!(locked, expected, "lockout {}", n + 1);
        assert_eq!(locked_for(store, &key, now).await, Some(expected));
        now = after(now, expected);
        assert_eq!(locked_for(store, &key, now).await, None, "lockout {} is over", n + 1);
    }
}

pub async fn reset_clears_failures_lockouts_and_the_lock(store: &Arc<dyn LockoutStore>) {
    let key = fresh_key();
    let now = start();
    assert_eq!(lock(store, &key, now).await, BASE);
    let later = after(now, BASE);
    assert_eq!(lock(store, &key, later).await, BASE * 2);
    store.reset(&key).await.expect("reset");
    assert_eq!(locked_for(store, &key, later).await, None, "reset unlocks");

    for _ in 1..THRESHOLD {
        assert_eq!(fail(store, &key, later).await, None);
    }
    store.reset(&key).await.expect("reset");
    // The failures before the reset are forgotten: four more do not lock.
    for _ in 1..THRESHOLD {
        assert_eq!(fail(store, &key, later).await, None);
    }
    // The lockouts before the reset are forgotten: the next lock is base again.
    assert_eq!(fail(store, &key, later).await, Some(BASE));
}

pub async fn keys_of_other_tenants_and_emails_are_independent(store: &Arc<dyn LockoutStore>) {
    let key = fresh_key();
    let other_email = LockoutKey { tenant: key.tenant, email: "bob@example.com".to_owned() };
    let other_tenant = LockoutKey { tenant: TenantId(Uuid::new_v4()), email: key.email.clone() };
    let now = start();
    for _ in 1..THRESHOLD {
        for k in [&key, &other_email, &other_tenant] {
            assert_eq!(fail(store, k, now).await, None, "failures of other keys do not add up: {k:?}");
        }
    }
    assert_eq!(fail(store, &key, now).await, Some(BASE));
    assert_eq!(locked_for(store, &other_email, now).await, None);
    assert_eq!(locked_for(store, &other_tenant, now).await, None);

    // Each key's count is its own; a reset touches one key only.
    assert_eq!(fail(store, &other_email, now).await, Some(BASE));
    store.reset(&key).await.expect("reset");
    assert_eq!(locked_for(store, &other_email, now).await, Some(BASE));
    assert_eq!(locked_for(store, &other_tenant, now).await, None);
    assert_eq!(fail(store, &other_tenant, now).await, Some(BASE));
}

pub async fn failures_older_than_the_window_no_longer_count(store: &Arc<dyn LockoutStore>) {
    let now = start();
    // Within the window: the fifth failure locks.
    let within = fresh_key();
    for _ in 1..THRESHOLD {
        assert_eq!(fail(store, &within, now).await, None);
    }
    assert_eq!(fail(store, &within, before(after(now, FAILURE_WINDOW), MS)).await, Some(BASE));

    // Once the window is over, the count starts again.
    let expired = fresh_key();
    for _ in 1..THRESHOLD {
        assert_eq!(fail(store, &expired, now).await, None);
    }
    let later = after(now, FAILURE_WINDOW);
    assert_eq!(lock(store, &expired, later).await, BASE);
}

pub async fn the_lockout_count_is_forgotten_after_a_quiet_day(store: &Arc<dyn LockoutStore>) {
    let now = start();
    let remembered = fresh_key();
    assert_eq!(lock(store, &remembered, now).await, BASE);
    assert_eq!(lock(store, &remembered, before(after(now, LOCKOUT_MEMORY), MS)).await, BASE * 2);

    let forgotten = fresh_key();
    assert_eq!(lock(store, &forgotten, now).await, BASE);
    assert_eq!(lock(store, &forgotten, after(now, LOCKOUT_MEMORY)).await, BASE);
}

pub async fn threshold_and_durations_are_parameters(store: &Arc<dyn LockoutStore>) {
    let key = fresh_key();
    let mut now = start();
    let (base, max) = (Duration::from_secs(10), Duration::from_secs(15));
    for expected in [base, max, max] {
        for _ in 1..3 {
            assert_eq!(store.record_failure(&key, now, 3, base, max).await.expect("record_failure"), None);
        }
        assert_eq!(store.record_failure(&key, now, 3, base, max).await.expect("record_failure"), Some(expected));
        assert_eq!(locked_for(store, &key, now).await, Some(expected));
        now = after(now, expected);
    }

    // A base above the maximum is capped too.
    let key = fresh_key();
    let locked = store.record_failure(&key, now, 1, Duration::from_secs(7200), MAX).await.expect("record_failure");
    assert_eq!(locked, Some(MAX));
}

/// 20 concurrent failures at one instant: exactly every fifth locks, each lock doubling the
/// previous one — what only an atomic read-modify-write gives.
pub async fn concurrent_failures_lock_exactly_once_per_threshold(store: &Arc<dyn LockoutStore>) {
    let key = fresh_key();
    let now = start();
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let (store, key) = (Arc::clone(store), key.clone());
            tokio::spawn(async move { store.record_failure(&key, now, THRESHOLD, BASE, MAX).await })
        })
        .collect();
    let mut locks = Vec::new();
    for call in calls {
        if let Some(duration) = call.await.expect("task").expect("record_failure") {
            locks.push(duration);
        }
    }
    locks.sort();
    assert_eq!(locks, [BASE, BASE * 2, BASE * 4, BASE * 8]);
    assert_eq!(locked_for(store, &key, now).await, Some(BASE * 8), "the last lock stands");
    // The failure count was reset by the fourth lock: four more do not lock, a fifth does.
    assert_eq!(lock(store, &key, now).await, BASE * 16);
}

//! Contract suite of the `AttemptCounter` port (SPEC §6.5/§7), expanded by
//! [`attempt_counter_contract_tests!`](crate::attempt_counter_contract_tests) into one
//! `#[tokio::test]` per case. A case receives a counter and panics when the adapter breaks
//! a rule.
//!
//! Besides the port's own rules, the cases pin the adapters' shared policy: fixed windows
//! aligned on the Unix epoch ([`AttemptWindow`]), so an over-limit `hit` answers exactly the
//! time left until the window ends.
//!
//! Cases may share the counter with tests running in parallel (one Redis for the whole
//! run): each case invents random keys, so its counts are its own. Times are whole
//! milliseconds in the next window of the real time (Redis expires keys at the window's end) and driven by
//! the case, never slept through.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::credentials::AttemptCounter;
pub use tessera_repository::memory::AttemptWindow;
use uuid::Uuid;

pub const LIMIT: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(60);

/// What a contract suite's setup expression may produce: a counter, or `None` to skip
/// (Redis not configured).
pub trait IntoAttemptCounter {
    fn into_attempt_counter(self) -> Option<Arc<dyn AttemptCounter>>;
}

impl IntoAttemptCounter for Arc<dyn AttemptCounter> {
    fn into_attempt_counter(self) -> Option<Arc<dyn AttemptCounter>> {
        Some(self)
    }
}

impl IntoAttemptCounter for Option<Arc<dyn AttemptCounter>> {
    fn into_attempt_counter(self) -> Option<Arc<dyn AttemptCounter>> {
        self
    }
}

/// Expands to `mod $name { #[tokio::test] async fn … }`, one multi-threaded test per case,
/// each on a counter from `$setup` — an async block yielding an `Arc<dyn AttemptCounter>`
/// or an `Option` of one (`None` skips the case with a message). The calling crate needs
/// `tokio` (macros, rt-multi-thread).
///
/// ```ignore
/// tessera_testkit::attempt_counter_contract_tests!(memory, async {
///     Arc::new(MemoryAttemptCounter::new()) as Arc<dyn AttemptCounter>
/// });
/// ```
#[macro_export]
macro_rules! attempt_counter_contract_tests {
    ($name:ident, $setup:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__attempt_counter_cases! { $setup;
                hits_within_the_limit_pass_and_the_next_answers_the_time_left,
                a_new_window_resets_the_count,
                keys_and_window_lengths_are_independent,
                distinct_counts_distinct_members_only,
                distinct_resets_with_the_window,
                concurrent_hits_exceed_the_limit_exactly_once_each,
                concurrent_distinct_members_each_count_once,
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __attempt_counter_cases {
    ($setup:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $case() {
                let counter = $crate::contract::attempts::IntoAttemptCounter::into_attempt_counter($setup.await);
                let Some(counter) = counter else {
                    eprintln!("skipped: {} unset", $crate::contract::invalidation::TEST_REDIS_URL);
                    return;
                };
                $crate::contract::attempts::$case(&counter).await;
            }
        )*
    };
}

/// A key of a fresh random tenant: unique to the calling test.
pub fn fresh_key() -> String {
    format!("{}:login", Uuid::new_v4())
}

/// 1.234 s into the [`WINDOW`] after the current one: at least 58 s before that window
/// ends, so Redis never expires a case's keys (at the window's end) while the case runs.
pub fn start() -> DateTime<Utc> {
    let now = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("now is representable");
    at(AttemptWindow::of(WINDOW, now).end + 1234)
}

/// The instant `ms` milliseconds after the Unix epoch.
pub fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("test instants are representable")
}

/// `at + duration`.
pub fn after(at: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    at + TimeDelta::from_std(duration).expect("test durations are small")
}

async fn hit(counter: &Arc<dyn AttemptCounter>, key: &str, now: DateTime<Utc>) -> Option<Duration> {
    counter.hit(key, LIMIT, WINDOW, now).await.expect("hit")
}

async fn distinct(counter: &Arc<dyn AttemptCounter>, key: &str, member: &str, now: DateTime<Utc>) -> u64 {
    counter.distinct(key, member, WINDOW, now).await.expect("distinct")
}

/// `LIMIT` hits at `now` that must pass.
async fn fill(counter: &Arc<dyn AttemptCounter>, key: &str, now: DateTime<Utc>) {
    for n in 1..=LIMIT {
        assert_eq!(hit(counter, key, now).await, None, "hit {n} of {LIMIT} is within the limit");
    }
}

pub async fn hits_within_the_limit_pass_and_the_next_answers_the_time_left(counter: &Arc<dyn AttemptCounter>) {
    let key = fresh_key();
    let now = start();
    let window = AttemptWindow::of(WINDOW, now);
    fill(counter, &key, now).await;
    let left = hit(counter, &key, now).await.expect("hit 11 exceeds the limit");
    assert!(!left.is_zero() && left <= WINDOW, "{left:?}");
    assert_eq!(left, window.remaining(), "the time until the fixed window ends");
    // Every further hit in the window is over the limit too, and counts down with the time.
    let later = at(window.end - 1);
    assert_eq!(hit(counter, &key, later).await, Some(Duration::from_millis(1)));

    // A limit of zero refuses the first hit.
    assert_eq!(counter.hit(&fresh_key(), 0, WINDOW, now).await.expect("hit"), Some(window.remaining()));
}

pub async fn a_new_window_resets_the_count(counter: &Arc<dyn AttemptCounter>) {
    let key = fresh_key();
    let now = start();
    let window = AttemptWindow::of(WINDOW, now);
    fill(counter, &key, now).await;
    assert!(hit(counter, &key, at(window.end - 1)).await.is_some(), "the window's last millisecond still counts");
    let next = at(window.end);
    fill(counter, &key, next).await;
    assert_eq!(hit(counter, &key, next).await, Some(WINDOW), "a whole window is left at its start");
    // Fixed windows: hits late in one window and early in the next do not add up.
    let key = fresh_key();
    fill(counter, &key, at(window.end - 1)).await;
    fill(counter, &key, after(next, Duration::from_millis(1))).await;
}

pub async fn keys_and_window_lengths_are_independent(counter: &Arc<dyn AttemptCounter>) {
    let (key, other) = (fresh_key(), fresh_key());
    let now = start();
    fill(counter, &key, now).await;
    fill(counter, &other, now).await;
    assert!(hit(counter, &key, now).await.is_some());
    assert!(hit(counter, &other, now).await.is_some());
    assert_eq!(counter.hit(&fresh_key(), LIMIT, WINDOW, now).await.expect("hit"), None);
    // The same key counted over another window length is another counter.
    let hour = Duration::from_secs(3600);
    assert_eq!(counter.hit(&key, LIMIT, hour, now).await.expect("hit"), None);
    // Hits and distinct sets do not share state either.
    assert_eq!(distinct(counter, &key, "alice@example.com", now).await, 1);
}

pub async fn distinct_counts_distinct_members_only(counter: &Arc<dyn AttemptCounter>) {
    let (key, other) = (fresh_key(), fresh_key());
    let now = start();
    assert_eq!(distinct(counter, &key, "alice@example.com", now).await, 1);
    assert_eq!(distinct(counter, &key, "alice@example.com", now).await, 1, "a repeat is not new");
    assert_eq!(distinct(counter, &key, "bob@example.com", now).await, 2);
    assert_eq!(distinct(counter, &key, "Alice@example.com", now).await, 3, "members are compared as given");
    assert_eq!(distinct(counter, &key, "bob@example.com", now).await, 3);
    assert_eq!(distinct(counter, &other, "alice@example.com", now).await, 1, "sets are per key");
    assert_eq!(distinct(counter, &key, "carol@example.com", now).await, 4);
}

pub async fn distinct_resets_with_the_window(counter: &Arc<dyn AttemptCounter>) {
    let key = fresh_key();
    let now = start();
    let window = AttemptWindow::of(WINDOW, now);
    for (n, member) in ["a", "b", "c"].into_iter().enumerate() {
        assert_eq!(distinct(counter, &key, member, now).await, n as u64 + 1);
    }
    assert_eq!(distinct(counter, &key, "a", at(window.end - 1)).await, 3);
    let next = at(window.end);
    assert_eq!(distinct(counter, &key, "a", next).await, 1, "the new window's set starts empty");
    assert_eq!(distinct(counter, &key, "d", next).await, 2);
}

/// 50 concurrent hits at one instant with a limit of 10: exactly 40 are over the limit —
/// what only an atomic increment gives.
pub async fn concurrent_hits_exceed_the_limit_exactly_once_each(counter: &Arc<dyn AttemptCounter>) {
    let key = fresh_key();
    let now = start();
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let (counter, key) = (Arc::clone(counter), key.clone());
            tokio::spawn(async move { counter.hit(&key, LIMIT, WINDOW, now).await })
        })
        .collect();
    let mut over = 0;
    for call in calls {
        if let Some(left) = call.await.expect("task").expect("hit") {
            assert_eq!(left, AttemptWindow::of(WINDOW, now).remaining());
            over += 1;
        }
    }
    assert_eq!(over, 40);
    assert!(hit(counter, &key, now).await.is_some(), "the count stands at 50");
}

/// 20 concurrent new members: the sizes answered are exactly 1..=20.
pub async fn concurrent_distinct_members_each_count_once(counter: &Arc<dyn AttemptCounter>) {
    let key = fresh_key();
    let now = start();
    let calls: Vec<_> = (0..20)
        .map(|n| {
            let (counter, key) = (Arc::clone(counter), key.clone());
            tokio::spawn(async move { counter.distinct(&key, &format!("user{n}@example.com"), WINDOW, now).await })
        })
        .collect();
    let mut sizes = Vec::new();
    for call in calls {
        sizes.push(call.await.expect("task").expect("distinct"));
    }
    sizes.sort_unstable();
    assert_eq!(sizes, (1..=20).collect::<Vec<u64>>());
    assert_eq!(distinct(counter, &key, "user0@example.com", now).await, 20);
}

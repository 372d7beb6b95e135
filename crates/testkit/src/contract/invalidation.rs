//! Contract suite of the `InvalidationBus` port, expanded by
//! [`invalidation_bus_contract_tests!`](crate::invalidation_bus_contract_tests) into one
//! `#[tokio::test]` per case. A case receives two buses that share one medium — two replicas
//! (for the memory adapter, the same instance twice) — and panics when the adapter breaks a
//! rule.
//!
//! Cases may share the medium with tests running in parallel (one Redis for the whole run):
//! each case invents random tenant ids and asserts only on its own events. An `All` may come
//! from anyone, so a case that expects one proves less than a tenant case does.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tessera_domain::TenantId;
use tessera_domain::ports::{Invalidation, InvalidationBus, InvalidationHandler};
use tokio::time::Instant;
use uuid::Uuid;

/// The variable that points the Redis contract tests at a server.
pub const TEST_REDIS_URL: &str = "TESSERA_TEST_REDIS_URL";

/// How long a published event may take to reach a subscriber.
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(2);

const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// The Redis URL for tests, when [`TEST_REDIS_URL`] is set.
pub fn test_redis_url() -> Option<String> {
    std::env::var(TEST_REDIS_URL).ok().filter(|url| !url.is_empty())
}

/// Two buses on one medium: what a publish on either must reach.
pub type BusPair = (Arc<dyn InvalidationBus>, Arc<dyn InvalidationBus>);

/// What a contract suite's setup expression may produce: a [`BusPair`], or `None` to skip
/// (Redis not configured).
pub trait IntoBusPair {
    fn into_bus_pair(self) -> Option<BusPair>;
}

impl IntoBusPair for BusPair {
    fn into_bus_pair(self) -> Option<BusPair> {
        Some(self)
    }
}

impl IntoBusPair for Option<BusPair> {
    fn into_bus_pair(self) -> Option<BusPair> {
        self
    }
}

/// Expands to `mod $name { #[tokio::test] async fn … }`, one multi-threaded test per case,
/// each on a fresh pair of buses from `$setup` — an async block yielding a [`BusPair`] or an
/// `Option` of one (`None` skips the case with a message). The calling crate needs `tokio`
/// (macros, rt-multi-thread).
///
/// ```ignore
/// tessera_testkit::invalidation_bus_contract_tests!(memory, async {
///     let bus: Arc<dyn InvalidationBus> = Arc::new(MemoryInvalidationBus::new());
///     (Arc::clone(&bus), bus)
/// });
/// ```
#[macro_export]
macro_rules! invalidation_bus_contract_tests {
    ($name:ident, $setup:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__invalidation_bus_cases! { $setup;
                publish_reaches_subscribers_on_both_buses,
                tenant_and_all_variants_round_trip,
                every_handler_receives,
                later_handlers_join_the_same_listener,
                publishing_before_anyone_subscribes_succeeds,
                two_tenants_events_arrive_distinctly,
                burst_of_100_events_all_arrive,
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __invalidation_bus_cases {
    ($setup:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $case() {
                let pair = $crate::contract::invalidation::IntoBusPair::into_bus_pair($setup.await);
                let Some((a, b)) = pair else {
                    eprintln!("skipped: {} unset", $crate::contract::invalidation::TEST_REDIS_URL);
                    return;
                };
                $crate::contract::invalidation::$case(&a, &b).await;
            }
        )*
    };
}

/// Records what a handler hears, for assertions.
#[derive(Clone, Default)]
pub struct Recorder {
    events: Arc<Mutex<Vec<Invalidation>>>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A handler that appends to this recorder.
    pub fn handler(&self) -> InvalidationHandler {
        let events = Arc::clone(&self.events);
        Arc::new(move |event| {
            events.lock().unwrap_or_else(PoisonError::into_inner).push(event);
        })
    }

    /// Everything heard so far, in arrival order.
    pub fn events(&self) -> Vec<Invalidation> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// How many times `event` was heard.
    pub fn count(&self, event: &Invalidation) -> usize {
        self.events().iter().filter(|heard| *heard == event).count()
    }

    /// Waits until every one of `expected` has been heard, polling; panics after
    /// [`DELIVERY_DEADLINE`] with what is missing.
    #[track_caller]
    pub fn wait_for<'a>(&'a self, expected: &'a [Invalidation]) -> impl Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let deadline = Instant::now() + DELIVERY_DEADLINE;
            loop {
                let heard = self.events();
                let missing: Vec<_> = expected.iter().filter(|e| !heard.contains(e)).collect();
                if missing.is_empty() {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "{caller}: {} of {} events not delivered within {DELIVERY_DEADLINE:?}, e.g. {:?} (heard {} events)",
                    missing.len(),
                    expected.len(),
                    missing[0],
                    heard.len(),
                );
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        }
    }
}

/// A tenant event with a fresh random tenant: unique to the calling test.
pub fn tenant_event() -> Invalidation {
    Invalidation::Tenant { tenant_id: TenantId(Uuid::new_v4()) }
}

async fn subscribed(bus: &Arc<dyn InvalidationBus>) -> Recorder {
    let recorder = Recorder::new();
    bus.subscribe(recorder.handler()).await.expect("subscribe");
    recorder
}

async fn publish(bus: &Arc<dyn InvalidationBus>, event: &Invalidation) {
    bus.publish(event).await.expect("publish");
}

pub async fn publish_reaches_subscribers_on_both_buses(a: &Arc<dyn InvalidationBus>, b: &Arc<dyn InvalidationBus>) {
    let on_a = subscribed(a).await;
    let on_b = subscribed(b).await;
    let event = tenant_event();
    publish(a, &event).await;
    on_a.wait_for(std::slice::from_ref(&event)).await;
    on_b.wait_for(std::slice::from_ref(&event)).await;
}

pub async fn tenant_and_all_variants_round_trip(a: &Arc<dyn InvalidationBus>, b: &Arc<dyn InvalidationBus>) {
    let on_a = subscribed(a).await;
    let on_b = subscribed(b).await;
    let events = [tenant_event(), Invalidation::All];
    for event in &events {
        publish(b, event).await;
    }
    on_a.wait_for(&events).await;
    on_b.wait_for(&events).await;
}

pub async fn every_handler_receives(a: &Arc<dyn InvalidationBus>, b: &Arc<dyn InvalidationBus>) {
    let mut recorders = Vec::new();
    for bus in [a, a, a, b, b] {
        recorders.push(subscribed(bus).await);
    }
    let event = tenant_event();
    publish(b, &event).await;
    for recorder in &recorders {
        recorder.wait_for(std::slice::from_ref(&event)).await;
    }
}

pub async fn later_handlers_join_the_same_listener(a: &Arc<dyn InvalidationBus>, b: &Arc<dyn InvalidationBus>) {
    let first = subscribed(a).await;
    let before = tenant_event();
    publish(b, &before).await;
    first.wait_for(std::slice::from_ref(&before)).await;

    let later = subscribed(a).await;
    let after = tenant_event();
    publish(b, &after).await;
    first.wait_for(std::slice::from_ref(&after)).await;
    later.wait_for(std::slice::from_ref(&after)).await;
}

/// Events published before anyone subscribes need not be delivered, but publishing them
/// must succeed and must not disturb later subscriptions.
pub async fn publishing_before_anyone_subscribes_succeeds(a: &Arc<dyn InvalidationBus>, b: &Arc<dyn InvalidationBus>) {
    publish(a, &tenant_event()).await;
    publish(b, &tenant_event()).await;

    let on_a = subscribed(a).await;
    let on_b = subscribed(b).await;
    let event = tenant_event();
    publish(a, &event).await;
    on_a.wait_for(std::slice::from_ref(&event)).await;
    on_b.wait_for(std::slice::from_ref(&event)).await;
}

pub async fn two_tenants_events_arrive_distinctly(a: &Arc<dyn InvalidationBus>, b: &Arc<dyn InvalidationBus>) {
    let on_a = subscribed(a).await;
    let on_b = subscribed(b).await;
    let first = tenant_event();
    let second = tenant_event();
    publish(a, &first).await;
    publish(b, &second).await;

    let both = [first, second];
    for recorder in [&on_a, &on_b] {
        recorder.wait_for(&both).await;
    }
    // Give a duplicate the chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for recorder in [&on_a, &on_b] {
        for event in &both {
            assert_eq!(recorder.count(event), 1, "{event:?} in {:?}", recorder.events());
        }
    }
}

pub async fn burst_of_100_events_all_arrive(a: &Arc<dyn InvalidationBus>, b: &Arc<dyn InvalidationBus>) {
    let on_a = subscribed(a).await;
    let on_b = subscribed(b).await;
    let events: Vec<_> = (0..100).map(|_| tenant_event()).collect();
    for (i, event) in events.iter().enumerate() {
        publish(if i % 2 == 0 { a } else { b }, event).await;
    }
    on_a.wait_for(&events).await;
    on_b.wait_for(&events).await;
}

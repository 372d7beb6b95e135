//! `UsageRepository`: per-(tenant, month) request counters, added to in atomic batches.

use super::sample::{provision, tenant};
use super::{assert_conflict, assert_not_found};
use tessera_domain::TenantId;
use tessera_domain::ports::{Repositories, RequestCount};

const NOV: &str = "2026-11";
const DEC: &str = "2026-12";

fn count(tenant_id: TenantId, period: &str, count: u64) -> RequestCount {
    RequestCount { tenant_id, period: period.to_owned(), count }
}

pub async fn requests_without_usage_are_zero(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    assert_eq!(r.usage.requests(t.id, NOV).await.unwrap(), 0);
    // Not even the tenant has to exist: nothing was counted for it.
    assert_eq!(r.usage.requests(tenant("ghost").id, NOV).await.unwrap(), 0);
}

pub async fn add_then_read(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    r.usage.add_requests(&[count(t.id, NOV, 42)]).await.unwrap();
    assert_eq!(r.usage.requests(t.id, NOV).await.unwrap(), 42);
}

pub async fn repeated_adds_accumulate(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    r.usage.add_requests(&[count(t.id, NOV, 5)]).await.unwrap();
    r.usage.add_requests(&[count(t.id, NOV, 7)]).await.unwrap();
    // The same counter twice in one batch adds both.
    r.usage.add_requests(&[count(t.id, NOV, 1), count(t.id, NOV, 2)]).await.unwrap();
    r.usage.add_requests(&[count(t.id, NOV, 0)]).await.unwrap();
    assert_eq!(r.usage.requests(t.id, NOV).await.unwrap(), 15);
}

pub async fn periods_and_tenants_stay_separate(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, _) = provision(r, "tenant-b").await;
    let (c, _) = provision(r, "tenant-c").await;
    r.usage
        .add_requests(&[count(b.id, DEC, 4), count(a.id, NOV, 1), count(b.id, NOV, 3), count(a.id, DEC, 2)])
        .await
        .unwrap();
    r.usage.add_requests(&[count(a.id, NOV, 10)]).await.unwrap();
    let read = async |t: TenantId, p: &str| r.usage.requests(t, p).await.unwrap();
    assert_eq!(read(a.id, NOV).await, 11);
    assert_eq!(read(a.id, DEC).await, 2);
    assert_eq!(read(b.id, NOV).await, 3);
    assert_eq!(read(b.id, DEC).await, 4);
    assert_eq!(read(c.id, NOV).await, 0);
    assert_eq!(read(a.id, "2027-01").await, 0);
}

pub async fn an_empty_batch_is_fine(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    r.usage.add_requests(&[]).await.unwrap();
    assert_eq!(r.usage.requests(t.id, NOV).await.unwrap(), 0);
}

/// The foreign key to `tenants` fails the whole batch, entries before and after included.
pub async fn a_batch_naming_an_unknown_tenant_applies_nothing(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, _) = provision(r, "tenant-b").await;
    r.usage.add_requests(&[count(a.id, NOV, 1)]).await.unwrap();
    let ghost = tenant("ghost").id;
    let batch = [count(a.id, NOV, 10), count(a.id, DEC, 10), count(ghost, NOV, 10), count(b.id, NOV, 10)];
    assert_not_found(r.usage.add_requests(&batch).await);
    assert_eq!(r.usage.requests(a.id, NOV).await.unwrap(), 1);
    assert_eq!(r.usage.requests(a.id, DEC).await.unwrap(), 0);
    assert_eq!(r.usage.requests(b.id, NOV).await.unwrap(), 0);
    assert_eq!(r.usage.requests(ghost, NOV).await.unwrap(), 0);
}

/// A period that is not `YYYY-MM` is a caller bug: `Conflict("period")`, nothing applied.
pub async fn a_malformed_period_is_refused(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    for bad in ["2026-13", "2026-1", "2026/11", "november", ""] {
        let batch = [count(t.id, NOV, 1), count(t.id, bad, 1)];
        assert_conflict(r.usage.add_requests(&batch).await, "period");
        assert_conflict(r.usage.requests(t.id, bad).await, "period");
    }
    assert_eq!(r.usage.requests(t.id, NOV).await.unwrap(), 0);
}

/// Counts are stored as signed 64-bit integers: they saturate at `i64::MAX`.
pub async fn counts_saturate_at_i64_max(r: &Repositories) {
    let max = i64::MAX as u64;
    let (t, _) = provision(r, "acme").await;
    r.usage.add_requests(&[count(t.id, NOV, u64::MAX)]).await.unwrap();
    assert_eq!(r.usage.requests(t.id, NOV).await.unwrap(), max);
    r.usage.add_requests(&[count(t.id, NOV, 5)]).await.unwrap();
    assert_eq!(r.usage.requests(t.id, NOV).await.unwrap(), max);

    r.usage.add_requests(&[count(t.id, DEC, max - 1)]).await.unwrap();
    r.usage.add_requests(&[count(t.id, DEC, 1), count(t.id, DEC, 1)]).await.unwrap();
    assert_eq!(r.usage.requests(t.id, DEC).await.unwrap(), max);
}

/// `flushes` concurrent batches over the same three tenants' counters, each naming them
/// in a different order (as replicas would): none fails — no deadlock, no lost update —
/// and every count is there. Run it on a multi-threaded runtime.
pub async fn concurrent_flushes_lose_nothing(r: &Repositories, flushes: u64) {
    let mut tenants = Vec::new();
    for slug in ["flush-a", "flush-b", "flush-c"] {
        tenants.push(provision(r, slug).await.0.id);
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(flushes as usize));
    let tasks: Vec<_> = (0..flushes)
        .map(|i| {
            let mut batch: Vec<RequestCount> =
                tenants.iter().flat_map(|&t| [count(t, NOV, 1), count(t, DEC, i)]).collect();
            let len = batch.len();
            batch.rotate_left(i as usize % len);
            if i % 2 == 1 {
                batch.reverse();
            }
            let (usage, start) = (r.usage.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                usage.add_requests(&batch).await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("the flush task ran").expect("a concurrent flush failed");
    }
    for t in tenants {
        assert_eq!(r.usage.requests(t, NOV).await.unwrap(), flushes);
        assert_eq!(r.usage.requests(t, DEC).await.unwrap(), flushes * (flushes - 1) / 2);
    }
}

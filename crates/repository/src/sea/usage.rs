//! Usage counters on SQL. `usage_counters` is tenant-owned (row-level security on
//! PostgreSQL). A batch is one write transaction: summed per `(tenant, period)` first,
//! then, tenant by tenant in id order, `set_config` followed by one upsert per period —
//! the same order in every flush, so replicas flushing the same counters queue on their
//! row locks instead of deadlocking. An unknown tenant fails the foreign key, which
//! rolls the whole batch back.

use super::SeaStore;
use super::db::{self, Access, commit, exec, one};
use super::rows;
use crate::rules::{check_period, sum_batch};
use async_trait::async_trait;
use tessera_domain::ports::{RequestCount, UsageRepository};
use tessera_domain::{RepoError, TenantId};

/// Adds to the counter, saturating at `i64::MAX` (both addends are non-negative, so the
/// subtraction cannot overflow; plain addition would error on PostgreSQL and turn into a
/// REAL on SQLite).
const UPSERT: &str = "INSERT INTO usage_counters (tenant_id, period, requests, updated_at) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (tenant_id, period) DO UPDATE SET \
     requests = CASE WHEN usage_counters.requests > 9223372036854775807 - excluded.requests \
         THEN 9223372036854775807 ELSE usage_counters.requests + excluded.requests END, \
     updated_at = excluded.updated_at";

#[derive(Debug, Clone)]
pub struct SeaUsageRepository {
    store: SeaStore,
}

impl SeaUsageRepository {
    pub fn new(store: &SeaStore) -> Self {
        Self { store: store.clone() }
    }
}

#[async_trait]
impl UsageRepository for SeaUsageRepository {
    /// Counts saturate at `i64::MAX`, the most a `BIGINT` holds.
    ///
    /// # Errors
    /// `NotFound` when an entry names an unknown tenant (the foreign key),
    /// `Conflict("period")` for a period that is not `YYYY-MM`; nothing is added then.
    #[tracing::instrument(skip_all, fields(entries = batch.len()))]
    async fn add_requests(&self, batch: &[RequestCount]) -> Result<(), RepoError> {
        let sums = sum_batch(batch)?;
        if sums.is_empty() {
            return Ok(());
        }
        let now = self.store.clock.now();
        let tx = self.store.begin_global(Access::Write).await?;
        let mut scope: Option<TenantId> = None;
        for ((tenant, period), count) in sums {
            if scope != Some(tenant) {
                db::set_tenant(&tx, tenant).await?;
                scope = Some(tenant);
            }
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            exec(&tx, UPSERT, [tenant.as_uuid().into(), period.into(), count.into(), now.into()]).await?;
        }
        // Any error above dropped `tx` uncommitted: none of the batch is stored.
        commit(tx).await
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn requests(&self, tenant: TenantId, period: &str) -> Result<u64, RepoError> {
        check_period(period)?;
        let sql = "SELECT requests FROM usage_counters WHERE tenant_id = $1 AND period = $2";
        let tx = self.store.begin_tenant(tenant, Access::Read).await?;
        let row = one(&tx, sql, [tenant.as_uuid().into(), period.into()]).await?;
        commit(tx).await?;
        row.as_ref().map_or(Ok(0), |row| rows::count(row, "requests"))
    }
}

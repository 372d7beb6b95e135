//! Memory usage counters. A batch is checked whole (periods, tenants) before any counter
//! moves, so it is applied entirely or not at all, like the SQL transaction.

use super::MemoryStore;
use crate::rules::{add_count, check_period, sum_batch};
use async_trait::async_trait;
use tessera_domain::ports::{RequestCount, UsageRepository};
use tessera_domain::{RepoError, TenantId};

#[derive(Debug, Clone)]
pub struct MemoryUsageRepository {
    store: MemoryStore,
}

impl MemoryUsageRepository {
    pub fn new(store: &MemoryStore) -> Self {
        Self { store: store.clone() }
    }
}

#[async_trait]
impl UsageRepository for MemoryUsageRepository {
    /// Counts saturate at `i64::MAX`, the most the SQL column holds.
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
        let mut state = self.store.write();
        if sums.keys().any(|(t, _)| !state.tenants.contains_key(t)) {
            return Err(RepoError::NotFound);
        }
        for ((tenant, period), count) in sums {
            let counter = state.usage.entry((tenant, period.to_owned())).or_default();
            *counter = add_count(*counter, count);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn requests(&self, tenant: TenantId, period: &str) -> Result<u64, RepoError> {
        check_period(period)?;
        let state = self.store.read();
        let stored = state.usage.get(&(tenant, period.to_owned())).copied();
        Ok(stored.unwrap_or_default())
    }
}

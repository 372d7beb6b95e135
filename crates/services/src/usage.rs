//! Tenant usage (SPEC §3/§7): request counts kept in memory and flushed in batches (never
//! a write per request), seats counted from storage, limits from the effective quotas.

use crate::rules::{reach, require};
use crate::{Core, ServiceResult};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tessera_domain::ports::RequestCount;
use tessera_domain::{Permission, Principal, RepoError, TenantId};

/// One quota: what is used and the limit (`None` = unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaUse {
    pub used: u64,
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub monthly_requests: QuotaUse,
    pub max_users: QuotaUse,
    pub max_api_keys: QuotaUse,
    pub storage_bytes: QuotaUse,
}

type Pending = HashMap<(TenantId, String), u64>;

pub struct UsageService {
    core: Core,
    pending: Arc<Mutex<Pending>>,
}

/// `YYYY-MM` of `at`, and the month's bounds.
fn month_of(at: DateTime<Utc>) -> (String, DateTime<Utc>, DateTime<Utc>) {
    let from = Utc.with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0).single().unwrap_or(at);
    let (ny, nm) = if at.month() == 12 { (at.year() + 1, 1) } else { (at.year(), at.month() + 1) };
    let to = Utc.with_ymd_and_hms(ny, nm, 1, 0, 0, 0).single().unwrap_or(at);
    (format!("{:04}-{:02}", at.year(), at.month()), from, to)
}

impl UsageService {
    pub(crate) fn new(core: Core) -> Self {
        Self { core, pending: Arc::default() }
    }

    /// Counts one request of `tenant` in memory (a map update under a short lock).
    pub fn record_request(&self, tenant: TenantId) {
        let (period, _, _) = month_of(self.core.clock.now());
        if let Ok(mut pending) = self.pending.lock() {
            *pending.entry((tenant, period)).or_insert(0) += 1;
        }
    }

    /// Writes the counts gathered since the last flush in one batch. On failure they are
    /// put back, so nothing counted is lost; the next flush retries them.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn flush(&self) -> ServiceResult<usize> {
        let taken: Pending = match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return Ok(0),
        };
        if taken.is_empty() {
            return Ok(0);
        }
        let mut batch: Vec<RequestCount> = taken
            .iter()
            .map(|((tenant_id, period), count)| RequestCount {
                tenant_id: *tenant_id,
                period: period.clone(),
                count: *count,
            })
            .collect();
        let mut result = self.core.repos.usage.add_requests(&batch).await;
        let mut taken = taken;
        if matches!(result, Err(RepoError::NotFound)) {
            // A tenant purged since its requests were counted fails the whole batch: drop its
            // counts (there is nobody left to bill) and store the rest.
            let mut kept = Vec::with_capacity(batch.len());
            for entry in batch {
                if self.core.repos.tenants.get(entry.tenant_id).await.is_ok() {
                    kept.push(entry);
                } else {
                    tracing::warn!(tenant_id = %entry.tenant_id, "dropping usage of a tenant that no longer exists");
                    taken.remove(&(entry.tenant_id, entry.period.clone()));
                }
            }
            result = self.core.repos.usage.add_requests(&kept).await;
            batch = kept;
        }
        match result {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                if let Ok(mut p) = self.pending.lock() {
                    for (key, n) in taken {
                        *p.entry(key).or_insert(0) += n;
                    }
                }
                Err(e.into())
            }
        }
    }

    fn pending_for(&self, tenant: TenantId, period: &str) -> u64 {
        self.pending.lock().map(|p| p.get(&(tenant, period.to_owned())).copied().unwrap_or(0)).unwrap_or(0)
    }

    /// `GET /tenants/{id}/usage`: its admin or a super_admin.
    pub async fn usage(&self, principal: &Principal, id: TenantId) -> ServiceResult<UsageReport> {
        reach(principal, id)?;
        require(principal, Permission::TenantManage)?;
        let ctx = self.core.tenant_context(id).await?;
        let (period, from, to) = month_of(self.core.clock.now());
        let stored = self.core.repos.usage.requests(id, &period).await?;
        let users = self.core.repos.users.count(id).await?;
        let q = &ctx.settings.quotas;
        Ok(UsageReport {
            from,
            to,
            monthly_requests: QuotaUse { used: stored + self.pending_for(id, &period), limit: q.monthly_requests },
            max_users: QuotaUse { used: users, limit: q.max_users },
            // API keys and stored data arrive with SPEC §8 and §12; until then none exist.
            max_api_keys: QuotaUse { used: 0, limit: q.max_api_keys },
            storage_bytes: QuotaUse { used: 0, limit: q.storage_bytes },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::month_of;
    use chrono::{TimeZone, Utc};

    #[test]
    fn month_bounds_roll_over_the_year() {
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).single().unwrap_or_default();
        let (period, from, to) = month_of(at);
        assert_eq!(period, "2026-12");
        assert_eq!(from.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2027-01-01T00:00:00+00:00");
    }
}

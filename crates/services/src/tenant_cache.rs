//! The per-tenant context read on hot paths (status for every authenticated request,
//! effective settings for login and token issue) without a database round trip: cached
//! per replica, dropped on change here at once and on other replicas through the
//! `InvalidationBus`, and reloaded after a TTL as a safety net.

use crate::{ServiceError, ServiceResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tessera_domain::ports::{Invalidation, InvalidationHandler, TenantRepository};
use tessera_domain::settings::{self, SettingsBounds, TenantSettings};
use tessera_domain::{Tenant, TenantId};

/// A tenant with its effective settings.
#[derive(Debug, Clone)]
pub struct TenantContext {
    pub tenant: Tenant,
    pub settings: TenantSettings,
}

struct Entry {
    ctx: Arc<TenantContext>,
    loaded: Instant,
}

#[derive(Clone)]
pub struct TenantCache {
    entries: Arc<RwLock<HashMap<TenantId, Entry>>>,
    /// Bumped by every invalidation; a load that raced one is not stored.
    generation: Arc<AtomicU64>,
    ttl: Duration,
}

fn poisoned() -> ServiceError {
    ServiceError::Internal("tenant cache lock poisoned".into())
}

impl TenantCache {
    pub fn new(ttl: Duration) -> Self {
        Self { entries: Arc::default(), generation: Arc::default(), ttl }
    }

    /// The cached context, loading it on a miss.
    pub async fn get(
        &self,
        repo: &dyn TenantRepository,
        platform: &TenantSettings,
        bounds: SettingsBounds,
        id: TenantId,
    ) -> ServiceResult<Arc<TenantContext>> {
        if let Some(e) = self.entries.read().map_err(|_| poisoned())?.get(&id)
            && e.loaded.elapsed() < self.ttl
        {
            return Ok(Arc::clone(&e.ctx));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let tenant = repo.get(id).await?;
        let overrides = repo.settings(id).await?;
        let settings = effective_settings(platform, &tenant, &overrides, bounds);
        let ctx = Arc::new(TenantContext { tenant, settings });
        let mut entries = self.entries.write().map_err(|_| poisoned())?;
        if self.generation.load(Ordering::Acquire) == generation {
            entries.insert(id, Entry { ctx: Arc::clone(&ctx), loaded: Instant::now() });
        }
        Ok(ctx)
    }

    pub fn invalidate(&self, event: &Invalidation) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.write() {
            match event {
                Invalidation::Tenant { tenant_id } => {
                    entries.remove(tenant_id);
                }
                Invalidation::All => entries.clear(),
                Invalidation::Session { .. } | Invalidation::User { .. } => {}
            }
        }
    }

    /// The handler to subscribe to the bus.
    pub fn handler(&self) -> InvalidationHandler {
        let cache = self.clone();
        Arc::new(move |event| cache.invalidate(&event))
    }
}

/// platform ← plan ← tenant. Overrides that no longer validate (e.g. the platform maximum
/// was lowered since they were stored) are dropped key by key, loudly, rather than failing
/// every request of the tenant.
pub fn effective_settings(
    platform: &TenantSettings,
    tenant: &Tenant,
    overrides: &serde_json::Value,
    bounds: SettingsBounds,
) -> TenantSettings {
    let base = platform.to_value();
    let plan = settings::plan_defaults(tenant.plan);
    let mut overrides = overrides.clone();
    for _ in 0..8 {
        match settings::validate(&settings::compose(&base, &plan, &overrides), bounds) {
            Ok(s) => return s,
            Err(errors) => {
                for e in errors {
                    tracing::error!(tenant_id = %tenant.id, key = %e.field, "stored setting override is invalid; ignoring it");
                    let mut patch = serde_json::Value::Null;
                    for key in e.field.split('.').rev() {
                        patch = serde_json::json!({ key: patch });
                    }
                    settings::merge_patch(&mut overrides, &patch);
                }
            }
        }
    }
    settings::validate(&settings::compose(&base, &plan, &serde_json::json!({})), bounds)
        .unwrap_or_else(|_| platform.clone())
}

//! Tessera's use cases. All authorization and tenant checks happen here; the world is
//! reached only through the ports of `tessera-domain`.

pub mod auth;
pub mod config;
pub mod error;
pub mod keys;
pub mod password;
mod rules;
pub mod settings;
pub mod tenant_cache;
pub mod tenants;
pub mod usage;
pub mod users;

use std::sync::Arc;
use tessera_domain::ports::{Clock, DomainEvent, EventSink, IdGenerator, Invalidation, InvalidationBus, Repositories};
use tessera_domain::{TenantId, UserId};

pub use auth::AuthService;
pub use config::CoreConfig;
pub use error::{ServiceError, ServiceResult};
pub use keys::SigningKeys;
pub use password::PasswordWorker;
pub use settings::SettingsService;
pub use tenant_cache::{TenantCache, TenantContext};
pub use tenants::TenantService;
pub use usage::UsageService;
pub use users::UserService;

/// The ports and shared parts every service is built from.
#[derive(Clone)]
pub struct Core {
    pub repos: Repositories,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub passwords: PasswordWorker,
    pub config: Arc<CoreConfig>,
    pub bus: Arc<dyn InvalidationBus>,
    pub events: Arc<dyn EventSink>,
    pub tenant_cache: TenantCache,
}

impl Core {
    /// The tenant and its effective settings, from the per-replica cache.
    pub(crate) async fn tenant_context(&self, id: TenantId) -> ServiceResult<Arc<TenantContext>> {
        let cfg = &self.config;
        self.tenant_cache.get(self.repos.tenants.as_ref(), &cfg.platform_settings, cfg.bounds, id).await
    }

    /// Drops the tenant's cached context here at once and on every other replica through
    /// the bus. A bus failure is logged: the cache TTL still bounds staleness.
    pub(crate) async fn invalidate_tenant(&self, tenant_id: TenantId) {
        let event = Invalidation::Tenant { tenant_id };
        self.tenant_cache.invalidate(&event);
        if let Err(e) = self.bus.publish(&event).await {
            tracing::error!(%tenant_id, error = %e, "could not publish a tenant invalidation");
        }
    }

    /// Records a domain event; a failure is logged, never fails the change itself.
    pub(crate) async fn record(&self, kind: &str, tenant_id: TenantId, actor: Option<UserId>, data: serde_json::Value) {
        let event =
            DomainEvent { id: self.ids.new_id(), kind: kind.to_owned(), tenant_id, actor, at: self.clock.now(), data };
        if let Err(e) = self.events.record(event).await {
            tracing::error!(%tenant_id, kind, error = %e, "could not record a domain event");
        }
    }
}

/// Every service of the core, built once by the composition root.
pub struct Services {
    pub tenants: TenantService,
    pub users: UserService,
    pub auth: AuthService,
    pub settings: SettingsService,
    pub usage: UsageService,
    core: Core,
}

impl Services {
    pub fn new(core: Core, keys: SigningKeys) -> Self {
        Self {
            tenants: TenantService::new(core.clone()),
            users: UserService::new(core.clone()),
            auth: AuthService::new(core.clone(), keys),
            settings: SettingsService::new(core.clone()),
            usage: UsageService::new(core.clone()),
            core,
        }
    }

    /// Subscribes the caches to the invalidation bus (call once, at start).
    ///
    /// # Errors
    /// The bus could not start listening.
    pub async fn subscribe_invalidations(&self) -> ServiceResult<()> {
        self.core.bus.subscribe(self.core.tenant_cache.handler()).await.map_err(Into::into)
    }
}

//! Tessera's use cases. All authorization and tenant checks happen here; the world is
//! reached only through the ports of `tessera-domain`.

pub mod auth;
pub mod config;
pub mod error;
pub mod invitations;
pub mod keys;
mod login_throttle;
pub mod password;
mod password_policy;
pub mod passwords;
mod refresh;
mod rules;
pub mod session_cache;
pub mod sessions;
pub mod settings;
pub mod tenant_cache;
pub mod tenants;
pub mod usage;
pub mod users;
mod verified_tokens;

use std::sync::Arc;
use tessera_domain::credentials::{AttemptCounter, BreachedPasswords, LockoutStore};
use tessera_domain::ports::{
    Clock, DomainEvent, EventSink, IdGenerator, Invalidation, InvalidationBus, Mailer, Repositories,
};
use tessera_domain::{SessionId, TenantId, UserId};

pub use auth::AuthService;
pub use config::CoreConfig;
pub use error::{ServiceError, ServiceResult};
pub use invitations::InvitationService;
pub use keys::SigningKeys;
pub use password::PasswordWorker;
pub use passwords::PasswordService;
pub use session_cache::SessionCache;
pub use sessions::SessionService;
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
    pub session_cache: SessionCache,
    pub mailer: Arc<dyn Mailer>,
    pub lockouts: Arc<dyn LockoutStore>,
    pub breached: Arc<dyn BreachedPasswords>,
    pub attempts: Arc<dyn AttemptCounter>,
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
        self.broadcast(Invalidation::Tenant { tenant_id }).await;
    }

    /// Publishes an invalidation after applying it locally; a bus failure is logged.
    pub(crate) async fn broadcast(&self, event: Invalidation) {
        self.session_cache.invalidate(&event);
        self.tenant_cache.invalidate(&event);
        if let Err(e) = self.bus.publish(&event).await {
            tracing::error!(error = %e, "could not publish an invalidation");
        }
    }

    /// Revokes one session everywhere (storage, then every replica's cache).
    pub(crate) async fn revoke_session(&self, tenant_id: TenantId, session_id: SessionId) -> ServiceResult<()> {
        self.repos.sessions.revoke(tenant_id, session_id, self.clock.now()).await?;
        self.broadcast(Invalidation::Session { tenant_id, session_id }).await;
        Ok(())
    }

    /// Revokes every session of a user but `keep`, everywhere.
    pub(crate) async fn revoke_user_sessions(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        keep: Option<SessionId>,
    ) -> ServiceResult<usize> {
        let revoked = self.repos.sessions.revoke_all_for_user(tenant_id, user_id, keep, self.clock.now()).await?;
        match keep {
            // The kept session's cache entry must survive: invalidate the others one by one.
            Some(_) => {
                for session_id in &revoked {
                    self.broadcast(Invalidation::Session { tenant_id, session_id: *session_id }).await;
                }
            }
            None => self.broadcast(Invalidation::User { tenant_id, user_id }).await,
        }
        Ok(revoked.len())
    }

    /// Sends a mail; a failure is logged (the caller's answer must not depend on it).
    pub(crate) async fn mail(&self, to: &tessera_domain::Email, subject: &str, text: String) {
        let mail = tessera_domain::ports::OutgoingMail { to: to.clone(), subject: subject.to_owned(), text };
        if let Err(e) = self.mailer.send(&mail).await {
            tracing::error!(error = %e, subject, "could not send a mail");
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
    pub sessions: SessionService,
    pub invitations: InvitationService,
    pub passwords: Arc<PasswordService>,
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
            sessions: SessionService::new(core.clone()),
            invitations: InvitationService::new(core.clone()),
            passwords: Arc::new(PasswordService::new(core.clone())),
            usage: UsageService::new(core.clone()),
            core,
        }
    }

    /// Re-reads the signing keys (run every minute so rotations elsewhere are picked up).
    ///
    /// # Errors
    /// Storage failures; the previous keys stay in use.
    pub async fn reload_keys(&self) -> ServiceResult<()> {
        self.auth.keys.reload().await
    }

    /// `tessera keys rotate`: a new signing key of `algorithm`; returns its `kid`.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn rotate_keys(&self, algorithm: tessera_domain::signing::SigningAlgorithm) -> ServiceResult<String> {
        self.auth.keys.rotate(algorithm).await
    }

    /// Subscribes the caches to the invalidation bus (call once, at start).
    ///
    /// # Errors
    /// The bus could not start listening.
    pub async fn subscribe_invalidations(&self) -> ServiceResult<()> {
        self.core.bus.subscribe(self.core.tenant_cache.handler()).await?;
        self.core.bus.subscribe(self.core.session_cache.handler()).await.map_err(Into::into)
    }
}

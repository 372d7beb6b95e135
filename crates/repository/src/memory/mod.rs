//! In-memory adapters: one state behind a `std::sync::RwLock`, shared by the repositories
//! so that provisioning (tenant + admin), cascades and foreign keys are atomic. The lock is
//! taken and released inside each synchronous block, never across an `.await`.
//!
//! Every write validates everything first and mutates last, so a refused write leaves the
//! state untouched — the same all-or-nothing result a SQL transaction gives.

mod attempts;
mod credentials;
mod events;
mod invalidation;
mod invitations;
mod lockouts;
mod sessions;
mod tenants;
mod usage;
mod users;

pub use attempts::{AttemptWindow, DEFAULT_MAX_ATTEMPT_ENTRIES, MemoryAttemptCounter};
pub use credentials::MemoryCredentialRepository;
pub use events::MemoryEventSink;
pub use invalidation::MemoryInvalidationBus;
pub use invitations::MemoryInvitationRepository;
pub use lockouts::{DEFAULT_MAX_ENTRIES, FAILURE_WINDOW, LOCKOUT_MEMORY, MemoryLockoutStore};
pub use sessions::{MemorySessionRepository, MemorySigningKeyRepository};
pub use tenants::MemoryTenantRepository;
pub use usage::MemoryUsageRepository;
pub use users::MemoryUserRepository;

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tessera_domain::credentials::{Invitation, PasswordReset};
use tessera_domain::ports::{Clock, Repositories, SystemClock};
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::signing::StoredSigningKey;
use tessera_domain::{SessionId, Tenant, TenantId, User, UserId};
use uuid::Uuid;

/// The tables, keyed by primary key like their SQL counterparts (so iteration is id order).
#[derive(Default)]
struct State {
    tenants: BTreeMap<TenantId, Tenant>,
    users: BTreeMap<UserId, User>,
    sessions: BTreeMap<SessionId, Session>,
    refresh_tokens: BTreeMap<Uuid, StoredRefresh>,
    signing_keys: BTreeMap<String, StoredSigningKey>,
    /// `tenants.settings`, for the tenants that have overrides (absent = `{}`).
    tenant_settings: BTreeMap<TenantId, serde_json::Value>,
    /// `usage_counters`, keyed by `(tenant_id, period)`.
    usage: BTreeMap<(TenantId, String), u64>,
    invitations: BTreeMap<Uuid, Invitation>,
    password_resets: BTreeMap<Uuid, PasswordReset>,
    /// `password_history`: each user's previous hashes, oldest first (user ids are unique
    /// across tenants, like the primary key they mirror).
    password_history: BTreeMap<UserId, Vec<String>>,
}

/// A `refresh_tokens` row: the record plus the columns only the adapters write.
#[derive(Debug, Clone)]
struct StoredRefresh {
    record: RefreshTokenRecord,
    /// Set when its session is revoked: the token can never be used again.
    revoked_at: Option<DateTime<Utc>>,
    /// The token that replaced it at rotation (the family chain, for audits).
    replaced_by: Option<Uuid>,
}

impl StoredRefresh {
    fn new(record: RefreshTokenRecord) -> Self {
        Self { record, revoked_at: None, replaced_by: None }
    }
}

/// The shared state of the memory adapters. Cloning shares it.
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<RwLock<State>>,
    /// Stamps the `updated_at` of writes whose port takes no time (`set_settings`, usage).
    clock: Arc<dyn Clock>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self { state: Arc::default(), clock: Arc::new(SystemClock) }
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The store with `clock` for the timestamps the adapters write themselves.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Every repository over this store's state.
    pub fn repositories(&self) -> Repositories {
        Repositories {
            tenants: Arc::new(MemoryTenantRepository::new(self)),
            users: Arc::new(MemoryUserRepository::new(self)),
            sessions: Arc::new(MemorySessionRepository::new(self)),
            signing_keys: Arc::new(MemorySigningKeyRepository::new(self)),
            usage: Arc::new(MemoryUsageRepository::new(self)),
            invitations: Arc::new(MemoryInvitationRepository::new(self)),
            credentials: Arc::new(MemoryCredentialRepository::new(self)),
        }
    }

    // A poisoned lock is recovered rather than reported: writes validate before they
    // mutate, so a panic elsewhere cannot have left a half-applied change behind.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

/// Repositories over a fresh, empty memory store.
pub fn repositories() -> Repositories {
    MemoryStore::new().repositories()
}

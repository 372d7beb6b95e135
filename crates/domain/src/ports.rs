//! Outbound ports. Every method that touches tenant data takes the tenant as a typed
//! argument; adapters MUST scope every statement to it (PostgreSQL also enforces it by RLS).

use crate::session::{RefreshTokenRecord, Session};
use crate::signing::StoredSigningKey;
use crate::{Email, Page, PageRequest, RepoError, SessionId, Slug, Tenant, TenantId, User, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use uuid::Uuid;

/// The tenant registry. Tenants are not tenant-owned rows: the registry is global.
#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// Creates the tenant and its first admin in one atomic unit of work.
    ///
    /// # Errors
    /// `Conflict("slug")` when the slug is taken; nothing is written on any failure.
    async fn provision(&self, tenant: &Tenant, admin: &User) -> Result<(), RepoError>;

    /// # Errors
    /// `NotFound` for an unknown id.
    async fn get(&self, id: TenantId) -> Result<Tenant, RepoError>;

    async fn find_by_slug(&self, slug: &Slug) -> Result<Option<Tenant>, RepoError>;

    /// Lists tenants in id order, deleted ones included.
    async fn list(&self, page: PageRequest) -> Result<Page<Tenant>, RepoError>;

    /// Writes name, status, plan, `updated_at` and `deleted_at`.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    async fn update(&self, tenant: &Tenant) -> Result<(), RepoError>;

    /// The tenant's setting overrides: a JSON object, `{}` when there are none.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    async fn settings(&self, id: TenantId) -> Result<serde_json::Value, RepoError>;

    /// Replaces the tenant's setting overrides (and `updated_at`) in one write, only if they
    /// still equal `expected` (compare-and-set, so concurrent merge patches cannot drop each
    /// other's keys: the service re-reads and retries).
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `Conflict("settings_changed")` when the stored overrides
    /// differ from `expected`; `Conflict("settings")` when `overrides` is not an object.
    async fn set_settings(
        &self,
        id: TenantId,
        expected: &serde_json::Value,
        overrides: &serde_json::Value,
    ) -> Result<(), RepoError>;
}

/// Whether a user write must leave the tenant at least one active admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminGuard {
    /// Refuse (`Conflict("last_admin")`) a write after which the tenant, which had an
    /// active admin, has none. Checked inside the write's transaction, so concurrent
    /// demotions cannot both pass.
    KeepOne,
    None,
}

#[async_trait]
pub trait UserRepository: Send + Sync {
    /// # Errors
    /// `Conflict("email")` when the tenant already has a user with that email.
    async fn insert(&self, tenant: TenantId, user: &User) -> Result<(), RepoError>;

    /// # Errors
    /// `NotFound` when no such user exists in `tenant` (whatever other tenants hold).
    async fn get(&self, tenant: TenantId, id: UserId) -> Result<User, RepoError>;

    async fn find_by_email(&self, tenant: TenantId, email: &Email) -> Result<Option<User>, RepoError>;

    async fn list(&self, tenant: TenantId, page: PageRequest) -> Result<Page<User>, RepoError>;

    /// Writes every mutable field of `user`.
    ///
    /// # Errors
    /// `NotFound`, `Conflict("email")`, or `Conflict("last_admin")` under `AdminGuard::KeepOne`.
    async fn update(&self, tenant: TenantId, user: &User, guard: AdminGuard) -> Result<(), RepoError>;

    /// # Errors
    /// `NotFound`, or `Conflict("last_admin")` under `AdminGuard::KeepOne`.
    async fn delete(&self, tenant: TenantId, id: UserId, guard: AdminGuard) -> Result<(), RepoError>;

    async fn count(&self, tenant: TenantId) -> Result<u64, RepoError>;
}

#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Stores a new session with its first refresh token and, in the same transaction,
    /// revokes (at `session.created_at`) the user's oldest live sessions so that at most
    /// `max_live` remain live, the new one included. A live session is one with no
    /// `revoked_at` and `expires_at` after `session.created_at`.
    ///
    /// Returns the ids of the sessions it evicted, oldest first.
    async fn create(
        &self,
        tenant: TenantId,
        session: &Session,
        refresh: &RefreshTokenRecord,
        max_live: u32,
    ) -> Result<Vec<SessionId>, RepoError>;

    /// # Errors
    /// `NotFound` when the session is not in `tenant`.
    async fn get(&self, tenant: TenantId, id: SessionId) -> Result<Session, RepoError>;

    /// The user's sessions that are not revoked and not past `expires_at` at `now`, newest first.
    async fn list_live(&self, tenant: TenantId, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, RepoError>;

    /// Revokes one session and every refresh token of it. Revoking a revoked session is a
    /// no-op that succeeds.
    ///
    /// # Errors
    /// `NotFound` when the session is not in `tenant`.
    async fn revoke(&self, tenant: TenantId, id: SessionId, at: DateTime<Utc>) -> Result<(), RepoError>;

    /// Revokes every live session of `user` but `keep`, with their refresh tokens, and
    /// returns the ids it revoked.
    async fn revoke_all_for_user(
        &self,
        tenant: TenantId,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, RepoError>;

    /// Rotates a refresh token in one atomic unit of work (SPEC §6.2). Looks up the token by
    /// `presented_hash` in `tenant`, locking it, and:
    /// - unknown, expired, or its session revoked or past `expires_at`, or idle since
    ///   `session.last_seen_at` for longer than `idle_timeout` → `Invalid`;
    /// - already used at most `grace` before `now` → `ReusedWithinGrace` (nothing changes);
    /// - already used earlier → revokes the session and all its tokens → `ReuseDetected`;
    /// - otherwise marks it used at `now`, stores `replacement` (same session) and sets the
    ///   session's `last_seen_at` to `now` → `Rotated` with the session as updated.
    ///
    /// Of concurrent rotations of one token exactly one sees `Rotated`.
    async fn rotate_refresh(
        &self,
        tenant: TenantId,
        presented_hash: &str,
        replacement: &RefreshTokenRecord,
        now: DateTime<Utc>,
        grace: chrono::Duration,
        idle_timeout: chrono::Duration,
    ) -> Result<RefreshOutcome, RepoError>;
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    Rotated(Session),
    ReusedWithinGrace,
    /// Theft suspected: the session (and its token family) is now revoked.
    ReuseDetected {
        session_id: SessionId,
        user_id: UserId,
    },
    Invalid,
}

/// A number of requests of one tenant in one calendar month (UTC), to add to the stored count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestCount {
    pub tenant_id: TenantId,
    /// `YYYY-MM`.
    pub period: String,
    pub count: u64,
}

/// Persisted usage counters (SPEC §3/§7). Written in batches, never per request.
#[async_trait]
pub trait UsageRepository: Send + Sync {
    /// Adds every count of the batch to its (tenant, period) counter, creating it when
    /// missing, in one transaction: the whole batch is stored or none of it.
    async fn add_requests(&self, batch: &[RequestCount]) -> Result<(), RepoError>;

    /// The stored request count of `tenant` for `period` (`YYYY-MM`); 0 when none.
    async fn requests(&self, tenant: TenantId, period: &str) -> Result<u64, RepoError>;
}

/// A cache entry that changed somewhere; every replica drops its copy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Invalidation {
    /// A tenant's status, plan or settings changed.
    Tenant { tenant_id: TenantId },
    /// A session was revoked (logout, session revoke, eviction, refresh reuse).
    Session { tenant_id: TenantId, session_id: SessionId },
    /// A user's sessions were revoked or their role changed: drop everything cached for them.
    User { tenant_id: TenantId, user_id: UserId },
    /// Drop everything cached: sent to a subscriber that may have missed messages.
    All,
}

/// Called for every invalidation a replica hears (its own included). Must not block.
pub type InvalidationHandler = Arc<dyn Fn(Invalidation) + Send + Sync>;

/// Cross-replica cache invalidation (memory: this process; Redis: pub/sub on channels
/// prefixed with the tenant id).
#[async_trait]
pub trait InvalidationBus: Send + Sync {
    /// Delivers `event` to the subscribers of every replica, this one included.
    ///
    /// # Errors
    /// `Unavailable` when the message could not be sent.
    async fn publish(&self, event: &Invalidation) -> Result<(), RepoError>;

    /// Registers `handler` for the events of every replica. Adapters that can lose messages
    /// (a dropped connection) call it with `Invalidation::All` once they are listening again.
    ///
    /// # Errors
    /// `Unavailable` when listening could not start.
    async fn subscribe(&self, handler: InvalidationHandler) -> Result<(), RepoError>;
}

/// A fact about a change, for the audit log to persist once it exists (SPEC §10/§11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEvent {
    pub id: Uuid,
    /// e.g. `tenant.settings_updated`.
    pub kind: String,
    pub tenant_id: TenantId,
    /// The user who made the change, when a user did.
    pub actor: Option<crate::UserId>,
    pub at: DateTime<Utc>,
    /// What changed; never a secret.
    pub data: serde_json::Value,
}

/// Where the services report domain events.
#[async_trait]
pub trait EventSink: Send + Sync {
    async fn record(&self, event: DomainEvent) -> Result<(), RepoError>;
}

/// A plain-text mail to one recipient (password reset, change notification, MFA codes).
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: Email,
    pub subject: String,
    pub text: String,
}

impl std::fmt::Debug for OutgoingMail {
    // Mails carry one-time secrets (reset links, codes): never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMail").field("subject", &self.subject).finish_non_exhaustive()
    }
}

/// Outbound mail (SPEC §6.4/§6.5): a file adapter for development and tests, SMTP in
/// production.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// # Errors
    /// `Unavailable` when the mail could not be handed over.
    async fn send(&self, mail: &OutgoingMail) -> Result<(), RepoError>;
}

/// Token signing keys are platform-wide (one issuer for the whole server).
#[async_trait]
pub trait SigningKeyRepository: Send + Sync {
    /// # Errors
    /// `Conflict("kid")` when the kid exists.
    async fn insert(&self, key: &StoredSigningKey) -> Result<(), RepoError>;

    /// Every stored key, newest first.
    async fn list(&self) -> Result<Vec<StoredSigningKey>, RepoError>;

    /// Marks every key that is not yet retired, except `keep`, as retired at `at`; returns
    /// how many it retired. (Rotation inserts the new key first, then retires the others.)
    async fn retire_all_except(&self, keep: &str, at: DateTime<Utc>) -> Result<u64, RepoError>;
}

/// Wall-clock time, a port so tests can move it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Identifier generation, a port so tests can make it deterministic.
pub trait IdGenerator: Send + Sync {
    /// A new time-ordered id (UUIDv7).
    fn new_id(&self) -> Uuid;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Truncated to microseconds, the precision PostgreSQL keeps, so every backend
    /// round-trips the same instant.
    fn now(&self) -> DateTime<Utc> {
        use chrono::DurationRound;
        let now = Utc::now();
        now.duration_trunc(chrono::TimeDelta::microseconds(1)).unwrap_or(now)
    }
}

/// UUIDv7 from the system clock and OS randomness.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidV7Generator;

impl IdGenerator for UuidV7Generator {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// Every storage port of one backend, as the composition root hands them to the services.
#[derive(Clone)]
pub struct Repositories {
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub signing_keys: Arc<dyn SigningKeyRepository>,
    pub usage: Arc<dyn UsageRepository>,
    pub invitations: Arc<dyn crate::credentials::InvitationRepository>,
    pub credentials: Arc<dyn crate::credentials::CredentialRepository>,
}

//! Invitations (SPEC §5), password resets and history (§6.5), and login lockouts (§6.5):
//! entities and their ports.

use crate::{Email, Page, PageRequest, RepoError, RoleName, TenantId, User, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// An invitation to join a tenant with a role. Only the token's hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub email: Email,
    pub role: RoleName,
    pub token_hash: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Invitation {
    pub fn status(&self, now: DateTime<Utc>) -> InvitationStatus {
        if self.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if self.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if self.expires_at <= now {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        }
    }
}

#[async_trait]
pub trait InvitationRepository: Send + Sync {
    /// # Errors
    /// `Conflict("invitation")` when a pending (not accepted, not revoked, not expired at
    /// `invitation.created_at`) invitation for the same email exists in the tenant;
    /// `Conflict("email")` when the tenant already has a user with that email.
    async fn insert(&self, tenant: TenantId, invitation: &Invitation) -> Result<(), RepoError>;

    /// # Errors
    /// `NotFound` when not in `tenant`.
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Invitation, RepoError>;

    /// In id order (cursor pagination).
    async fn list(&self, tenant: TenantId, page: PageRequest) -> Result<Page<Invitation>, RepoError>;

    /// Marks a pending invitation revoked. Revoking a revoked one succeeds.
    ///
    /// # Errors
    /// `NotFound`; `Conflict("accepted")` when already accepted.
    async fn revoke(&self, tenant: TenantId, id: Uuid, at: DateTime<Utc>) -> Result<(), RepoError>;

    /// One unit of work: finds the pending invitation with `token_hash` in `tenant` whose
    /// email equals `user.email` and that has not expired at `now`, inserts `user` with the
    /// invitation's role (the `role` of `user` is replaced), and marks it accepted. Returns
    /// the stored user.
    ///
    /// # Errors
    /// `NotFound` when no such pending invitation exists (unknown, used, revoked, expired,
    /// another email); `Conflict("email")` when the user exists.
    async fn accept(
        &self,
        tenant: TenantId,
        token_hash: &str,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<User, RepoError>;

    /// True when a pending invitation names `role` (a role cannot be deleted then).
    async fn pending_with_role(&self, tenant: TenantId, role: &RoleName, now: DateTime<Utc>)
    -> Result<bool, RepoError>;
}

/// A single-use password reset (30 minutes). Only the token's hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait CredentialRepository: Send + Sync {
    async fn create_reset(&self, tenant: TenantId, reset: &PasswordReset) -> Result<(), RepoError>;

    /// The user of the unused, unexpired reset with `token_hash`, without using it (so a new
    /// password that fails the policy does not burn the link).
    ///
    /// # Errors
    /// `NotFound` when there is no usable reset with that hash in `tenant`.
    async fn find_reset(&self, tenant: TenantId, token_hash: &str, now: DateTime<Utc>) -> Result<UserId, RepoError>;

    /// Atomically marks the unused, unexpired reset with `token_hash` used at `now` and
    /// returns its user. Every other outstanding reset of that user is voided too.
    ///
    /// # Errors
    /// `NotFound` when there is no usable reset with that hash in `tenant`.
    async fn consume_reset(&self, tenant: TenantId, token_hash: &str, now: DateTime<Utc>) -> Result<UserId, RepoError>;

    /// One unit of work: stores `new_hash` as the user's password (setting
    /// `password_changed_at` to `at` and clearing `require_password_change`), pushes the old
    /// hash onto the history and keeps only the `keep` most recent history entries.
    ///
    /// # Errors
    /// `NotFound` when the user is not in `tenant`.
    async fn change_password(
        &self,
        tenant: TenantId,
        user: UserId,
        new_hash: &str,
        keep: u32,
        at: DateTime<Utc>,
    ) -> Result<(), RepoError>;

    /// The user's previous password hashes, newest first, at most `n`.
    async fn password_history(&self, tenant: TenantId, user: UserId, n: u32) -> Result<Vec<String>, RepoError>;
}

/// What a login lockout is about: one (tenant, email) pair, whether or not the account
/// exists (the email is normalised; adapters may hash it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LockoutKey {
    pub tenant: TenantId,
    pub email: String,
}

/// Progressive login lockouts (SPEC §6.5): 5 failures lock for 1 min, each further lockout
/// doubles it up to 1 h, a success resets. Shared across replicas (Redis) or per process.
#[async_trait]
pub trait LockoutStore: Send + Sync {
    /// How long the key stays locked from `now`; `None` when it is not locked.
    async fn locked_for(&self, key: &LockoutKey, now: DateTime<Utc>) -> Result<Option<Duration>, RepoError>;

    /// Counts a failure at `now`; when it reaches `threshold` failures, locks the key for
    /// `base × 2^(lockouts so far)` capped at `max`, resets the failure count, and returns
    /// the lock's duration.
    async fn record_failure(
        &self,
        key: &LockoutKey,
        now: DateTime<Utc>,
        threshold: u32,
        base: Duration,
        max: Duration,
    ) -> Result<Option<Duration>, RepoError>;

    /// A success, or an admin's unlock: forgets failures, lockouts and the lock.
    async fn reset(&self, key: &LockoutKey) -> Result<(), RepoError>;
}

/// Known-breached passwords (SPEC §6.5). The shipped adapter is an offline filter of the
/// most common breached passwords; a k-anonymity online checker can implement it too.
#[async_trait]
pub trait BreachedPasswords: Send + Sync {
    /// True when `password` is known to be breached. A filter may report false positives
    /// (rarely), never false negatives for the passwords it was built from.
    async fn is_breached(&self, password: &str) -> Result<bool, RepoError>;
}

/// Fixed-window attempt counters for login throttles (SPEC §6.5/§7): per IP, per (IP,
/// email), per tenant, and the number of distinct accounts tried from one IP (the
/// credential-stuffing signal). Shared across replicas (Redis) or per process.
#[async_trait]
pub trait AttemptCounter: Send + Sync {
    /// Counts one attempt on `key` in the current window of `window` and returns how long
    /// until the window frees capacity when the count now exceeds `limit`; `None` when the
    /// attempt is within the limit. (The attempt is counted either way.)
    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, RepoError>;

    /// Adds `member` to the set of `key` for the current window of `window` and returns how
    /// many distinct members the set holds now.
    async fn distinct(&self, key: &str, member: &str, window: Duration, now: DateTime<Utc>) -> Result<u64, RepoError>;
}

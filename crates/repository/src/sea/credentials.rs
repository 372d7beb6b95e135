//! Password resets and password history on SQL (SPEC §6.5), tenant-owned and under
//! row-level security on PostgreSQL.
//!
//! Lock order: the user's row first (`FOR NO KEY UPDATE`, as a login takes it, which the
//! foreign-key checks of inserts do not wait for), then the user's resets or history. So
//! two consumptions of *different* resets of one user queue on the user row instead of each
//! holding its own reset while voiding the other's (a deadlock), and two password changes
//! of one user cannot take the same history `seq`. A consumption that waited reads its reset
//! again in a new statement and sees the winner's `used_at` (READ COMMITTED). SQLite's
//! `BEGIN IMMEDIATE` serialises every writer anyway.

use super::SeaStore;
use super::db::{Access, all, commit, exec, expect_changed, get, locking, one};
use crate::rules::ensure_in_scope;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_domain::credentials::{CredentialRepository, PasswordReset};
use tessera_domain::{RepoError, TenantId, UserId};
use uuid::Uuid;

const LOCK_USER_OF_RESET: &str = "SELECT id FROM users WHERE tenant_id = $1 \
     AND id = (SELECT user_id FROM password_resets WHERE tenant_id = $1 AND token_hash = $2) FOR NO KEY UPDATE";

const FIND_RESET: &str = "SELECT user_id FROM password_resets \
     WHERE tenant_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3";

const USE_RESET: &str = "UPDATE password_resets SET used_at = $3 \
     WHERE tenant_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3";

const VOID_OTHER_RESETS: &str =
    "UPDATE password_resets SET used_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL";

const LOCK_USER: &str = "SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE";

const SET_PASSWORD: &str = "UPDATE users SET password_hash = $3, password_changed_at = $4, \
     require_password_change = false, updated_at = $4 WHERE tenant_id = $1 AND id = $2";

/// Pushes `$3` with the user's next `seq` (1 for the first entry).
const PUSH_HISTORY: &str = "INSERT INTO password_history (tenant_id, user_id, seq, hash, created_at) \
     SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4 FROM password_history WHERE tenant_id = $1 AND user_id = $2";

/// Keeps the user's `$3` newest entries.
const TRIM_HISTORY: &str = "DELETE FROM password_history WHERE tenant_id = $1 AND user_id = $2 AND seq NOT IN \
     (SELECT seq FROM password_history WHERE tenant_id = $1 AND user_id = $2 ORDER BY seq DESC LIMIT $3)";

const HISTORY: &str =
    "SELECT hash FROM password_history WHERE tenant_id = $1 AND user_id = $2 ORDER BY seq DESC LIMIT $3";

#[derive(Debug, Clone)]
pub struct SeaCredentialRepository {
    store: SeaStore,
}

impl SeaCredentialRepository {
    pub fn new(store: &SeaStore) -> Self {
        Self { store: store.clone() }
    }
}

#[async_trait]
impl CredentialRepository for SeaCredentialRepository {
    /// A user outside `tenant` fails the foreign key `(tenant_id, user_id)`: `NotFound`.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn create_reset(&self, tenant: TenantId, reset: &PasswordReset) -> Result<(), RepoError> {
        ensure_in_scope(tenant, reset.tenant_id)?;
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        exec(
            &tx,
            "INSERT INTO password_resets (id, tenant_id, user_id, token_hash, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                reset.id.into(),
                tenant.as_uuid().into(),
                reset.user_id.as_uuid().into(),
                reset.token_hash.as_str().into(),
                reset.created_at.into(),
                reset.expires_at.into(),
                reset.used_at.into(),
            ],
        )
        .await?;
        commit(tx).await
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn find_reset(&self, tenant: TenantId, token_hash: &str, now: DateTime<Utc>) -> Result<UserId, RepoError> {
        let tx = self.store.begin_tenant(tenant, Access::Read).await?;
        let row = one(&tx, FIND_RESET, [tenant.as_uuid().into(), token_hash.into(), now.into()]).await?;
        commit(tx).await?;
        Ok(UserId(get::<Uuid>(&row.ok_or(RepoError::NotFound)?, "user_id")?))
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn consume_reset(&self, tenant: TenantId, token_hash: &str, now: DateTime<Utc>) -> Result<UserId, RepoError> {
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        let key = [tenant.as_uuid().into(), token_hash.into()];
        let row = one(&tx, locking(&tx, LOCK_USER_OF_RESET), key.clone()).await?.ok_or(RepoError::NotFound)?;
        let user = UserId(get::<Uuid>(&row, "id")?);
        // Dropping `tx` uncommitted (NotFound) releases the lock and changes nothing.
        expect_changed(exec(&tx, USE_RESET, key.into_iter().chain([now.into()])).await?)?;
        exec(&tx, VOID_OTHER_RESETS, [tenant.as_uuid().into(), user.as_uuid().into(), now.into()]).await?;
        commit(tx).await?;
        Ok(user)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn change_password(
        &self,
        tenant: TenantId,
        user: UserId,
        new_hash: &str,
        keep: u32,
        at: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let ids = || [tenant.as_uuid().into(), user.as_uuid().into()];
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        let row = one(&tx, locking(&tx, LOCK_USER), ids()).await?.ok_or(RepoError::NotFound)?;
        let old: String = get(&row, "password_hash")?;
        expect_changed(exec(&tx, SET_PASSWORD, ids().into_iter().chain([new_hash.into(), at.into()])).await?)?;
        exec(&tx, PUSH_HISTORY, ids().into_iter().chain([old.into(), at.into()])).await?;
        exec(&tx, TRIM_HISTORY, ids().into_iter().chain([i64::from(keep).into()])).await?;
        // Any error above dropped `tx` uncommitted: the old password and history stand.
        commit(tx).await
    }

    /// An unknown user, or one of another tenant, has no history.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn password_history(&self, tenant: TenantId, user: UserId, n: u32) -> Result<Vec<String>, RepoError> {
        let tx = self.store.begin_tenant(tenant, Access::Read).await?;
        let values = [tenant.as_uuid().into(), user.as_uuid().into(), i64::from(n).into()];
        let found = all(&tx, HISTORY, values).await?;
        commit(tx).await?;
        found.iter().map(|row| get(row, "hash")).collect()
    }
}

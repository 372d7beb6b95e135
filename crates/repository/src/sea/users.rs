//! Users on SQL. Every statement runs in a tenant-scoped transaction and filters on
//! `tenant_id`. `AdminGuard::KeepOne` is checked inside the write's transaction: on
//! PostgreSQL the tenant's active admin rows *and the target row* are locked in id order by
//! one statement before the write, and the admins re-counted after it; SQLite's `BEGIN
//! IMMEDIATE` already serialises writers.
//!
//! Why the target is in the locked set: PostgreSQL keeps the lock on a row that `FOR
//! UPDATE` waited for even when the row no longer matches after the wait (an admin just
//! demoted). A guard that locked only the admins could then hold a row that another guard
//! is about to write while waiting for a row that guard holds — a deadlock the concurrency
//! test provoked. With the target locked up front, every lock a guarded write takes is
//! taken by that one statement, in ascending id order, so guarded writes queue instead.

use super::SeaStore;
use super::db::{Access, all, commit, exec, expect_changed, get, one};
use super::rows::{self, user_columns};
use crate::rules::{conflict, cursor, ensure_in_scope, overfetch};
use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend};
use tessera_domain::ports::{AdminGuard, UserRepository};
use tessera_domain::{Email, Page, PageRequest, RepoError, TenantId, User, UserId};
use uuid::Uuid;

/// The predicate of `User::is_active_admin`, in SQL.
macro_rules! active_admin {
    () => {
        "status = 'active' AND role IN ('admin', 'super_admin')"
    };
}

const LOCK_TARGET_AND_ADMINS: &str = concat!(
    "SELECT id, (",
    active_admin!(),
    ") AS active_admin FROM users WHERE tenant_id = $1 AND (id = $2 OR (",
    active_admin!(),
    ")) ORDER BY id FOR UPDATE"
);
const COUNT_ACTIVE_ADMINS: &str = concat!("SELECT count(*) AS n FROM users WHERE tenant_id = $1 AND ", active_admin!());

#[derive(Debug, Clone)]
pub struct SeaUserRepository {
    store: SeaStore,
}

impl SeaUserRepository {
    pub fn new(store: &SeaStore) -> Self {
        Self { store: store.clone() }
    }

    /// Runs `write` (which returns the rows it changed) under the admin guard.
    async fn guarded_write(
        &self,
        tenant: TenantId,
        target: UserId,
        guard: AdminGuard,
        write: impl AsyncFnOnce(&DatabaseTransaction) -> Result<u64, RepoError>,
    ) -> Result<(), RepoError> {
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        let target_was_admin = match guard {
            AdminGuard::KeepOne => lock_target_and_admins(&tx, tenant, target).await?,
            AdminGuard::None => false,
        };
        expect_changed(write(&tx).await?)?;
        if target_was_admin && count(&tx, COUNT_ACTIVE_ADMINS, tenant).await? == 0 {
            // Dropping `tx` uncommitted rolls the write back.
            return Err(conflict(conflict::LAST_ADMIN));
        }
        commit(tx).await
    }
}

/// Locks (PostgreSQL) the target and the tenant's active admins; tells whether the target
/// is one of those admins.
async fn lock_target_and_admins(tx: &DatabaseTransaction, tenant: TenantId, target: UserId) -> Result<bool, RepoError> {
    let sql = match tx.get_database_backend() {
        DbBackend::Postgres => LOCK_TARGET_AND_ADMINS,
        // SQLite has no row locks (and no FOR UPDATE): the IMMEDIATE transaction holds the
        // database's write lock already.
        _ => LOCK_TARGET_AND_ADMINS.trim_end_matches(" FOR UPDATE"),
    };
    for row in all(tx, sql, [tenant.as_uuid().into(), target.as_uuid().into()]).await? {
        if get::<Uuid>(&row, "id")? == target.as_uuid() {
            return get::<bool>(&row, "active_admin");
        }
    }
    Ok(false)
}

async fn count(c: &impl ConnectionTrait, sql: &str, tenant: TenantId) -> Result<u64, RepoError> {
    let row = one(c, sql, [tenant.as_uuid().into()]).await?.ok_or(RepoError::NotFound)?;
    Ok(u64::try_from(get::<i64>(&row, "n")?).unwrap_or_default())
}

/// Inserts `user` inside a transaction already scoped to its tenant (also used by provisioning).
pub(crate) async fn insert_user(tx: &DatabaseTransaction, user: &User) -> Result<(), RepoError> {
    exec(
        tx,
        concat!(
            "INSERT INTO users (",
            user_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ),
        [
            user.id.as_uuid().into(),
            user.tenant_id.as_uuid().into(),
            user.email.as_str().into(),
            user.full_name.as_str().into(),
            user.role.as_str().into(),
            user.status.as_str().into(),
            user.mfa_enabled.into(),
            user.password_hash.as_str().into(),
            user.require_password_change.into(),
            user.created_at.into(),
            user.updated_at.into(),
            user.last_login_at.into(),
            user.password_changed_at.into(),
        ],
    )
    .await
    .map(drop)
}

#[async_trait]
impl UserRepository for SeaUserRepository {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn insert(&self, tenant: TenantId, user: &User) -> Result<(), RepoError> {
        ensure_in_scope(tenant, user.tenant_id)?;
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        insert_user(&tx, user).await?;
        commit(tx).await
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn get(&self, tenant: TenantId, id: UserId) -> Result<User, RepoError> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users WHERE tenant_id = $1 AND id = $2");
        let row = self.store.read_one(tenant, sql, [tenant.as_uuid().into(), id.as_uuid().into()]).await?;
        row.as_ref().map(rows::user).ok_or(RepoError::NotFound)?
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn find_by_email(&self, tenant: TenantId, email: &Email) -> Result<Option<User>, RepoError> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users WHERE tenant_id = $1 AND email = $2");
        let row = self.store.read_one(tenant, sql, [tenant.as_uuid().into(), email.as_str().into()]).await?;
        row.as_ref().map(rows::user).transpose()
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn list(&self, tenant: TenantId, page: PageRequest) -> Result<Page<User>, RepoError> {
        let sql =
            concat!("SELECT ", user_columns!(), " FROM users WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3");
        let limit = overfetch(page.limit) as i64;
        let tx = self.store.begin_tenant(tenant, Access::Read).await?;
        let found = all(&tx, sql, [tenant.as_uuid().into(), cursor(page.after).into(), limit.into()]).await?;
        commit(tx).await?;
        Ok(Page::from_overfetch(rows::each(&found, rows::user)?, page.limit, |u| u.id.as_uuid()))
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn update(&self, tenant: TenantId, user: &User, guard: AdminGuard) -> Result<(), RepoError> {
        self.guarded_write(tenant, user.id, guard, async |tx| {
            exec(
                tx,
                "UPDATE users SET email = $3, full_name = $4, role = $5, status = $6, mfa_enabled = $7, \
                 password_hash = $8, require_password_change = $9, updated_at = $10, last_login_at = $11, \
                 password_changed_at = $12 WHERE tenant_id = $1 AND id = $2",
                [
                    tenant.as_uuid().into(),
                    user.id.as_uuid().into(),
                    user.email.as_str().into(),
                    user.full_name.as_str().into(),
                    user.role.as_str().into(),
                    user.status.as_str().into(),
                    user.mfa_enabled.into(),
                    user.password_hash.as_str().into(),
                    user.require_password_change.into(),
                    user.updated_at.into(),
                    user.last_login_at.into(),
                    user.password_changed_at.into(),
                ],
            )
            .await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn delete(&self, tenant: TenantId, id: UserId, guard: AdminGuard) -> Result<(), RepoError> {
        self.guarded_write(tenant, id, guard, async |tx| {
            exec(
                tx,
                "DELETE FROM users WHERE tenant_id = $1 AND id = $2",
                [tenant.as_uuid().into(), id.as_uuid().into()],
            )
            .await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn count(&self, tenant: TenantId) -> Result<u64, RepoError> {
        let tx = self.store.begin_tenant(tenant, Access::Read).await?;
        let n = count(&tx, "SELECT count(*) AS n FROM users WHERE tenant_id = $1", tenant).await?;
        commit(tx).await?;
        Ok(n)
    }
}

//! The tenant registry on SQL. `tenants` is a global table (no row-level security);
//! provisioning is one transaction that also writes the admin under the new tenant's scope.
//! Setting overrides are the `settings` column (JSON TEXT, default `{}`), which only
//! `set_settings` writes, as a compare-and-set against the parsed stored value.

use super::SeaStore;
use super::db::{self, Access, commit, exec, expect_changed, one};
use super::rows::{self, tenant_columns};
use super::users::insert_user;
use crate::rules::{check_settings, check_settings_unchanged, cursor, ensure_in_scope, overfetch};
use async_trait::async_trait;
use tessera_domain::ports::TenantRepository;
use tessera_domain::{Page, PageRequest, RepoError, Slug, Tenant, TenantId, User};

#[derive(Debug, Clone)]
pub struct SeaTenantRepository {
    store: SeaStore,
}

impl SeaTenantRepository {
    pub fn new(store: &SeaStore) -> Self {
        Self { store: store.clone() }
    }
}

#[async_trait]
impl TenantRepository for SeaTenantRepository {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant.id))]
    async fn provision(&self, tenant: &Tenant, admin: &User) -> Result<(), RepoError> {
        ensure_in_scope(tenant.id, admin.tenant_id)?;
        let tx = self.store.begin_global(Access::Write).await?;
        exec(
            &tx,
            "INSERT INTO tenants (id, slug, name, status, plan, created_at, updated_at, deleted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [
                tenant.id.as_uuid().into(),
                tenant.slug.as_str().into(),
                tenant.name.as_str().into(),
                tenant.status.as_str().into(),
                tenant.plan.as_str().into(),
                tenant.created_at.into(),
                tenant.updated_at.into(),
                tenant.deleted_at.into(),
            ],
        )
        .await?;
        // The admin is a tenant-owned row: write it under the new tenant's scope. Any error
        // drops `tx` uncommitted, which rolls the tenant back too.
        db::set_tenant(&tx, tenant.id).await?;
        insert_user(&tx, admin).await?;
        commit(tx).await
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %id))]
    async fn get(&self, id: TenantId) -> Result<Tenant, RepoError> {
        let sql = concat!("SELECT ", tenant_columns!(), " FROM tenants WHERE id = $1");
        let row = one(self.store.connection(), sql, [id.as_uuid().into()]).await?;
        row.as_ref().map(rows::tenant).ok_or(RepoError::NotFound)?
    }

    async fn find_by_slug(&self, slug: &Slug) -> Result<Option<Tenant>, RepoError> {
        let sql = concat!("SELECT ", tenant_columns!(), " FROM tenants WHERE slug = $1");
        let row = one(self.store.connection(), sql, [slug.as_str().into()]).await?;
        row.as_ref().map(rows::tenant).transpose()
    }

    async fn list(&self, page: PageRequest) -> Result<Page<Tenant>, RepoError> {
        let sql = concat!("SELECT ", tenant_columns!(), " FROM tenants WHERE id > $1 ORDER BY id LIMIT $2");
        let limit = overfetch(page.limit) as i64;
        let found = db::all(self.store.connection(), sql, [cursor(page.after).into(), limit.into()]).await?;
        Ok(Page::from_overfetch(rows::each(&found, rows::tenant)?, page.limit, |t| t.id.as_uuid()))
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant.id))]
    async fn update(&self, tenant: &Tenant) -> Result<(), RepoError> {
        let changed = exec(
            self.store.connection(),
            "UPDATE tenants SET name = $2, status = $3, plan = $4, updated_at = $5, deleted_at = $6 WHERE id = $1",
            [
                tenant.id.as_uuid().into(),
                tenant.name.as_str().into(),
                tenant.status.as_str().into(),
                tenant.plan.as_str().into(),
                tenant.updated_at.into(),
                tenant.deleted_at.into(),
            ],
        )
        .await?;
        expect_changed(changed)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %id))]
    async fn settings(&self, id: TenantId) -> Result<serde_json::Value, RepoError> {
        let sql = "SELECT settings FROM tenants WHERE id = $1";
        let row = one(self.store.connection(), sql, [id.as_uuid().into()]).await?;
        row.as_ref().map(rows::settings).ok_or(RepoError::NotFound)?
    }

    /// One write transaction: the row is locked (`FOR UPDATE` on PostgreSQL; SQLite's `BEGIN
    /// IMMEDIATE` holds the database), the stored overrides are parsed and compared with
    /// `expected` as JSON values (not as text), and only then replaced.
    #[tracing::instrument(skip_all, fields(tenant_id = %id))]
    async fn set_settings(
        &self,
        id: TenantId,
        expected: &serde_json::Value,
        overrides: &serde_json::Value,
    ) -> Result<(), RepoError> {
        check_settings(overrides)?;
        let text = serde_json::to_string(overrides).map_err(RepoError::unavailable)?;
        let tx = self.store.begin_global(Access::Write).await?;
        let sql = db::locking(&tx, "SELECT settings FROM tenants WHERE id = $1 FOR UPDATE");
        let row = one(&tx, sql, [id.as_uuid().into()]).await?.ok_or(RepoError::NotFound)?;
        check_settings_unchanged(&rows::settings(&row)?, expected)?;
        let changed = exec(
            &tx,
            "UPDATE tenants SET settings = $2, updated_at = $3 WHERE id = $1",
            [id.as_uuid().into(), text.into(), self.store.clock.now().into()],
        )
        .await?;
        expect_changed(changed)?;
        commit(tx).await
    }
}

//! The memory tenant registry. Provisioning checks the tenant and its admin against the
//! whole state before writing either, so it is all-or-nothing. Setting overrides live
//! beside the tenants (as their own column does in SQL), so `update` cannot touch them;
//! `set_settings` replaces them only if they still equal what the caller read.

use super::{MemoryStore, State};
use crate::rules::{check_settings, check_settings_unchanged, conflict, cursor, ensure_in_scope, overfetch};
use async_trait::async_trait;
use std::ops::Bound;
use tessera_domain::ports::TenantRepository;
use tessera_domain::{Page, PageRequest, RepoError, Slug, Tenant, TenantId, User};

#[derive(Debug, Clone)]
pub struct MemoryTenantRepository {
    store: MemoryStore,
}

impl MemoryTenantRepository {
    pub fn new(store: &MemoryStore) -> Self {
        Self { store: store.clone() }
    }
}

impl State {
    fn check_new_tenant(&self, tenant: &Tenant) -> Result<(), RepoError> {
        if self.tenants.contains_key(&tenant.id) {
            return Err(conflict(conflict::ID));
        }
        if self.tenants.values().any(|t| t.slug == tenant.slug) {
            return Err(conflict(conflict::SLUG));
        }
        Ok(())
    }
}

#[async_trait]
impl TenantRepository for MemoryTenantRepository {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant.id))]
    async fn provision(&self, tenant: &Tenant, admin: &User) -> Result<(), RepoError> {
        ensure_in_scope(tenant.id, admin.tenant_id)?;
        let mut state = self.store.write();
        state.check_new_tenant(tenant)?;
        state.check_new_user(admin)?;
        state.tenants.insert(tenant.id, tenant.clone());
        state.users.insert(admin.id, admin.clone());
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %id))]
    async fn get(&self, id: TenantId) -> Result<Tenant, RepoError> {
        self.store.read().tenants.get(&id).cloned().ok_or(RepoError::NotFound)
    }

    async fn find_by_slug(&self, slug: &Slug) -> Result<Option<Tenant>, RepoError> {
        Ok(self.store.read().tenants.values().find(|t| &t.slug == slug).cloned())
    }

    async fn list(&self, page: PageRequest) -> Result<Page<Tenant>, RepoError> {
        let after = TenantId(cursor(page.after));
        let rows = self
            .store
            .read()
            .tenants
            .range((Bound::Excluded(after), Bound::Unbounded))
            .take(overfetch(page.limit))
            .map(|(_, t)| t.clone())
            .collect();
        Ok(Page::from_overfetch(rows, page.limit, |t: &Tenant| t.id.as_uuid()))
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant.id))]
    async fn update(&self, tenant: &Tenant) -> Result<(), RepoError> {
        let mut state = self.store.write();
        let stored = state.tenants.get_mut(&tenant.id).ok_or(RepoError::NotFound)?;
        stored.name.clone_from(&tenant.name);
        stored.status = tenant.status;
        stored.plan = tenant.plan;
        stored.updated_at = tenant.updated_at;
        stored.deleted_at = tenant.deleted_at;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %id))]
    async fn settings(&self, id: TenantId) -> Result<serde_json::Value, RepoError> {
        let state = self.store.read();
        if !state.tenants.contains_key(&id) {
            return Err(RepoError::NotFound);
        }
        Ok(state.tenant_settings.get(&id).cloned().unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new())))
    }

    /// Compares the stored overrides with `expected` as JSON values, under the write lock.
    #[tracing::instrument(skip_all, fields(tenant_id = %id))]
    async fn set_settings(
        &self,
        id: TenantId,
        expected: &serde_json::Value,
        overrides: &serde_json::Value,
    ) -> Result<(), RepoError> {
        check_settings(overrides)?;
        let now = self.store.clock.now();
        let mut state = self.store.write();
        if !state.tenants.contains_key(&id) {
            return Err(RepoError::NotFound);
        }
        let empty = serde_json::Value::Object(serde_json::Map::new());
        check_settings_unchanged(state.tenant_settings.get(&id).unwrap_or(&empty), expected)?;
        if let Some(stored) = state.tenants.get_mut(&id) {
            stored.updated_at = now;
        }
        state.tenant_settings.insert(id, overrides.clone());
        Ok(())
    }
}

//! The memory user repository: email unique per tenant, ids unique across tenants (as
//! primary keys are in SQL), every look-up filtered by the scope tenant.

use super::{MemoryStore, State};
use crate::rules::{conflict, cursor, ensure_in_scope, overfetch};
use async_trait::async_trait;
use std::ops::Bound;
use tessera_domain::ports::{AdminGuard, UserRepository};
use tessera_domain::{Email, Page, PageRequest, RepoError, TenantId, User, UserId};

#[derive(Debug, Clone)]
pub struct MemoryUserRepository {
    store: MemoryStore,
}

impl MemoryUserRepository {
    pub fn new(store: &MemoryStore) -> Self {
        Self { store: store.clone() }
    }
}

impl State {
    pub(super) fn tenant_user(&self, tenant: TenantId, id: UserId) -> Option<&User> {
        self.users.get(&id).filter(|u| u.tenant_id == tenant)
    }

    pub(super) fn email_taken(&self, tenant: TenantId, email: &Email, except: Option<UserId>) -> bool {
        self.users.values().any(|u| u.tenant_id == tenant && &u.email == email && Some(u.id) != except)
    }

    /// Uniqueness checks of a user about to be inserted (its tenant may be new).
    pub(super) fn check_new_user(&self, user: &User) -> Result<(), RepoError> {
        if self.users.contains_key(&user.id) {
            return Err(conflict(conflict::ID));
        }
        if self.email_taken(user.tenant_id, &user.email, None) {
            return Err(conflict(conflict::EMAIL));
        }
        Ok(())
    }

    /// `AdminGuard::KeepOne`: refuse when the target was an active admin, will not be one,
    /// and no other active admin remains in the tenant.
    fn check_admin_guard(
        &self,
        tenant: TenantId,
        target: &User,
        remains_admin: bool,
        guard: AdminGuard,
    ) -> Result<(), RepoError> {
        if guard == AdminGuard::None || !target.is_active_admin() || remains_admin {
            return Ok(());
        }
        let others = self.users.values().any(|u| u.tenant_id == tenant && u.id != target.id && u.is_active_admin());
        if others { Ok(()) } else { Err(conflict(conflict::LAST_ADMIN)) }
    }
}

#[async_trait]
impl UserRepository for MemoryUserRepository {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn insert(&self, tenant: TenantId, user: &User) -> Result<(), RepoError> {
        ensure_in_scope(tenant, user.tenant_id)?;
        let mut state = self.store.write();
        state.check_new_user(user)?;
        if !state.tenants.contains_key(&tenant) {
            return Err(RepoError::NotFound);
        }
        state.users.insert(user.id, user.clone());
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn get(&self, tenant: TenantId, id: UserId) -> Result<User, RepoError> {
        self.store.read().tenant_user(tenant, id).cloned().ok_or(RepoError::NotFound)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn find_by_email(&self, tenant: TenantId, email: &Email) -> Result<Option<User>, RepoError> {
        let state = self.store.read();
        Ok(state.users.values().find(|u| u.tenant_id == tenant && &u.email == email).cloned())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn list(&self, tenant: TenantId, page: PageRequest) -> Result<Page<User>, RepoError> {
        let after = UserId(cursor(page.after));
        let rows = self
            .store
            .read()
            .users
            .range((Bound::Excluded(after), Bound::Unbounded))
            .map(|(_, u)| u)
            .filter(|u| u.tenant_id == tenant)
            .take(overfetch(page.limit))
            .cloned()
            .collect();
        Ok(Page::from_overfetch(rows, page.limit, |u: &User| u.id.as_uuid()))
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn update(&self, tenant: TenantId, user: &User, guard: AdminGuard) -> Result<(), RepoError> {
        let mut state = self.store.write();
        let current = state.tenant_user(tenant, user.id).ok_or(RepoError::NotFound)?;
        // Identity and creation time are not mutable fields.
        let updated =
            User { id: current.id, tenant_id: current.tenant_id, created_at: current.created_at, ..user.clone() };
        if state.email_taken(tenant, &updated.email, Some(updated.id)) {
            return Err(conflict(conflict::EMAIL));
        }
        state.check_admin_guard(tenant, current, updated.is_active_admin(), guard)?;
        state.users.insert(updated.id, updated);
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn delete(&self, tenant: TenantId, id: UserId, guard: AdminGuard) -> Result<(), RepoError> {
        let mut state = self.store.write();
        let current = state.tenant_user(tenant, id).ok_or(RepoError::NotFound)?;
        state.check_admin_guard(tenant, current, false, guard)?;
        state.users.remove(&id);
        // ON DELETE CASCADE: the user's sessions, and with them their refresh tokens; the
        // user's password resets and history.
        state.sessions.retain(|_, s| s.user_id != id);
        state.password_resets.retain(|_, r| r.user_id != id);
        state.password_history.remove(&id);
        let State { sessions, refresh_tokens, .. } = &mut *state;
        refresh_tokens.retain(|_, r| sessions.contains_key(&r.record.session_id));
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn count(&self, tenant: TenantId) -> Result<u64, RepoError> {
        let n = self.store.read().users.values().filter(|u| u.tenant_id == tenant).count();
        Ok(n as u64)
    }
}

//! Memory password resets and password history (SPEC §6.5). Each write runs under one
//! write lock, checked first and applied last, like the SQL transaction it mirrors.

use super::{MemoryStore, State};
use crate::rules::{conflict, ensure_in_scope};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_domain::credentials::{CredentialRepository, PasswordReset};
use tessera_domain::{RepoError, TenantId, UserId};

#[derive(Debug, Clone)]
pub struct MemoryCredentialRepository {
    store: MemoryStore,
}

impl MemoryCredentialRepository {
    pub fn new(store: &MemoryStore) -> Self {
        Self { store: store.clone() }
    }
}

impl State {
    /// The user of the unused reset with `token_hash` in `tenant` that is unexpired at `now`.
    fn usable_reset(&self, tenant: TenantId, token_hash: &str, now: DateTime<Utc>) -> Option<UserId> {
        self.password_resets
            .values()
            .find(|r| r.tenant_id == tenant && r.token_hash == token_hash && r.used_at.is_none() && r.expires_at > now)
            .map(|r| r.user_id)
    }
}

#[async_trait]
impl CredentialRepository for MemoryCredentialRepository {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn create_reset(&self, tenant: TenantId, reset: &PasswordReset) -> Result<(), RepoError> {
        ensure_in_scope(tenant, reset.tenant_id)?;
        let mut state = self.store.write();
        if state.password_resets.contains_key(&reset.id) {
            return Err(conflict(conflict::ID));
        }
        if state.password_resets.values().any(|r| r.token_hash == reset.token_hash) {
            return Err(conflict(conflict::TOKEN_HASH));
        }
        // The foreign key (tenant_id, user_id) → users.
        if state.tenant_user(tenant, reset.user_id).is_none() {
            return Err(RepoError::NotFound);
        }
        state.password_resets.insert(reset.id, reset.clone());
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn find_reset(&self, tenant: TenantId, token_hash: &str, now: DateTime<Utc>) -> Result<UserId, RepoError> {
        self.store.read().usable_reset(tenant, token_hash, now).ok_or(RepoError::NotFound)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn consume_reset(&self, tenant: TenantId, token_hash: &str, now: DateTime<Utc>) -> Result<UserId, RepoError> {
        let mut state = self.store.write();
        let user = state.usable_reset(tenant, token_hash, now).ok_or(RepoError::NotFound)?;
        // The presented reset and every other outstanding one of the user.
        for reset in state.password_resets.values_mut().filter(|r| r.user_id == user && r.used_at.is_none()) {
            reset.used_at = Some(now);
        }
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
        let mut state = self.store.write();
        let stored = state.users.get_mut(&user).filter(|u| u.tenant_id == tenant).ok_or(RepoError::NotFound)?;
        let old = std::mem::replace(&mut stored.password_hash, new_hash.to_owned());
        stored.password_changed_at = at;
        stored.require_password_change = false;
        stored.updated_at = at;
        let history = state.password_history.entry(user).or_default();
        history.push(old);
        let excess = history.len().saturating_sub(keep as usize);
        history.drain(..excess);
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn password_history(&self, tenant: TenantId, user: UserId, n: u32) -> Result<Vec<String>, RepoError> {
        let state = self.store.read();
        if state.tenant_user(tenant, user).is_none() {
            return Ok(Vec::new());
        }
        let history = state.password_history.get(&user).map(Vec::as_slice).unwrap_or_default();
        Ok(history.iter().rev().take(n as usize).cloned().collect())
    }
}

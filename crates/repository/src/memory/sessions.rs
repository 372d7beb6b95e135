//! Memory sessions (with their refresh tokens) and the platform's signing keys.

use super::MemoryStore;
use crate::rules::{check_new_session, conflict};
use async_trait::async_trait;
use tessera_domain::ports::{SessionRepository, SigningKeyRepository};
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::signing::StoredSigningKey;
use tessera_domain::{RepoError, SessionId, TenantId};

#[derive(Debug, Clone)]
pub struct MemorySessionRepository {
    store: MemoryStore,
}

impl MemorySessionRepository {
    pub fn new(store: &MemoryStore) -> Self {
        Self { store: store.clone() }
    }
}

#[async_trait]
impl SessionRepository for MemorySessionRepository {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn create(&self, tenant: TenantId, session: &Session, refresh: &RefreshTokenRecord) -> Result<(), RepoError> {
        check_new_session(tenant, session, refresh)?;
        let mut state = self.store.write();
        if state.sessions.contains_key(&session.id) || state.refresh_tokens.contains_key(&refresh.id) {
            return Err(conflict(conflict::ID));
        }
        if state.refresh_tokens.values().any(|r| r.token_hash == refresh.token_hash) {
            return Err(conflict(conflict::TOKEN_HASH));
        }
        // The foreign key (tenant_id, user_id) → users.
        if state.tenant_user(tenant, session.user_id).is_none() {
            return Err(RepoError::NotFound);
        }
        state.sessions.insert(session.id, session.clone());
        state.refresh_tokens.insert(refresh.id, refresh.clone());
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn get(&self, tenant: TenantId, id: SessionId) -> Result<Session, RepoError> {
        let state = self.store.read();
        state.sessions.get(&id).filter(|s| s.tenant_id == tenant).cloned().ok_or(RepoError::NotFound)
    }
}

#[derive(Debug, Clone)]
pub struct MemorySigningKeyRepository {
    store: MemoryStore,
}

impl MemorySigningKeyRepository {
    pub fn new(store: &MemoryStore) -> Self {
        Self { store: store.clone() }
    }
}

#[async_trait]
impl SigningKeyRepository for MemorySigningKeyRepository {
    #[tracing::instrument(skip_all, fields(kid = %key.kid))]
    async fn insert(&self, key: &StoredSigningKey) -> Result<(), RepoError> {
        let mut state = self.store.write();
        if state.signing_keys.contains_key(&key.kid) {
            return Err(conflict(conflict::KID));
        }
        state.signing_keys.insert(key.kid.clone(), key.clone());
        Ok(())
    }

    async fn list(&self) -> Result<Vec<StoredSigningKey>, RepoError> {
        let mut keys: Vec<StoredSigningKey> = self.store.read().signing_keys.values().cloned().collect();
        // Newest first; the kid breaks ties the same way `ORDER BY created_at DESC, kid DESC` does.
        keys.sort_by(|a, b| (&b.created_at, &b.kid).cmp(&(&a.created_at, &a.kid)));
        Ok(keys)
    }
}

//! Memory sessions (with their refresh tokens) and the platform's signing keys. Every
//! session write, eviction and rotation included, runs under one write lock: checked
//! first, applied last, like the SQL transaction it mirrors.

use super::{MemoryStore, State, StoredRefresh};
use crate::rules::{Presented, TokenState, check_new_session, classify, conflict, ensure_in_scope, evictions, is_live};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use tessera_domain::ports::{RefreshOutcome, SessionRepository, SigningKeyRepository};
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::signing::StoredSigningKey;
use tessera_domain::{RepoError, SessionId, TenantId, UserId};

#[derive(Debug, Clone)]
pub struct MemorySessionRepository {
    store: MemoryStore,
}

impl MemorySessionRepository {
    pub fn new(store: &MemoryStore) -> Self {
        Self { store: store.clone() }
    }
}

impl State {
    /// The primary keys and the unique token hash a new refresh token must not collide with.
    fn check_new_refresh(&self, refresh: &RefreshTokenRecord) -> Result<(), RepoError> {
        if self.refresh_tokens.contains_key(&refresh.id) {
            return Err(conflict(conflict::ID));
        }
        if self.refresh_tokens.values().any(|r| r.record.token_hash == refresh.token_hash) {
            return Err(conflict(conflict::TOKEN_HASH));
        }
        Ok(())
    }

    fn tenant_session(&self, tenant: TenantId, id: SessionId) -> Option<&Session> {
        self.sessions.get(&id).filter(|s| s.tenant_id == tenant)
    }

    /// The user's sessions live at `at`, in id order.
    fn live_sessions(&self, tenant: TenantId, user: UserId, at: DateTime<Utc>) -> impl Iterator<Item = &Session> {
        self.sessions
            .values()
            .filter(move |s| s.tenant_id == tenant && s.user_id == user && is_live(s.revoked_at, s.expires_at, at))
    }

    /// Revokes the sessions (those not revoked yet) and every refresh token of them.
    fn revoke_sessions(&mut self, ids: &[SessionId], at: DateTime<Utc>) {
        for id in ids {
            if let Some(session) = self.sessions.get_mut(id) {
                session.revoked_at.get_or_insert(at);
            }
        }
        for token in self.refresh_tokens.values_mut().filter(|t| ids.contains(&t.record.session_id)) {
            token.revoked_at.get_or_insert(at);
        }
    }
}

#[async_trait]
impl SessionRepository for MemorySessionRepository {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn create(
        &self,
        tenant: TenantId,
        session: &Session,
        refresh: &RefreshTokenRecord,
        max_live: u32,
    ) -> Result<Vec<SessionId>, RepoError> {
        check_new_session(tenant, session, refresh)?;
        let mut state = self.store.write();
        if state.sessions.contains_key(&session.id) {
            return Err(conflict(conflict::ID));
        }
        state.check_new_refresh(refresh)?;
        // The foreign key (tenant_id, user_id) → users.
        if state.tenant_user(tenant, session.user_id).is_none() {
            return Err(RepoError::NotFound);
        }
        let at = session.created_at;
        let live = state.live_sessions(tenant, session.user_id, at).map(|s| (s.created_at, s.id)).collect();
        let evicted = evictions(live, is_live(session.revoked_at, session.expires_at, at), max_live);
        state.revoke_sessions(&evicted, at);
        state.sessions.insert(session.id, session.clone());
        state.refresh_tokens.insert(refresh.id, StoredRefresh::new(refresh.clone()));
        Ok(evicted)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn get(&self, tenant: TenantId, id: SessionId) -> Result<Session, RepoError> {
        self.store.read().tenant_session(tenant, id).cloned().ok_or(RepoError::NotFound)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn list_live(&self, tenant: TenantId, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, RepoError> {
        let mut live: Vec<Session> = self.store.read().live_sessions(tenant, user, now).cloned().collect();
        // Newest first, the id breaking ties as `ORDER BY created_at DESC, id DESC` does.
        live.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
        Ok(live)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn revoke(&self, tenant: TenantId, id: SessionId, at: DateTime<Utc>) -> Result<(), RepoError> {
        let mut state = self.store.write();
        if state.tenant_session(tenant, id).is_none() {
            return Err(RepoError::NotFound);
        }
        state.revoke_sessions(&[id], at);
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn revoke_all_for_user(
        &self,
        tenant: TenantId,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, RepoError> {
        let mut state = self.store.write();
        let revoked: Vec<SessionId> =
            state.live_sessions(tenant, user, at).map(|s| s.id).filter(|id| Some(*id) != keep).collect();
        state.revoke_sessions(&revoked, at);
        Ok(revoked)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn rotate_refresh(
        &self,
        tenant: TenantId,
        presented_hash: &str,
        replacement: &RefreshTokenRecord,
        now: DateTime<Utc>,
        grace: Duration,
        idle_timeout: Duration,
    ) -> Result<RefreshOutcome, RepoError> {
        ensure_in_scope(tenant, replacement.tenant_id)?;
        let mut state = self.store.write();
        let found = state
            .refresh_tokens
            .values()
            .find(|t| t.record.tenant_id == tenant && t.record.token_hash == presented_hash)
            .map(|t| (t.record.id, t.record.session_id, TokenState::of(t)));
        let Some((token_id, session_id, token)) = found else {
            return Ok(RefreshOutcome::Invalid);
        };
        let Some(session) = state.tenant_session(tenant, session_id).cloned() else {
            return Ok(RefreshOutcome::Invalid);
        };
        match classify(token, &session, now, grace, idle_timeout) {
            Presented::Invalid => Ok(RefreshOutcome::Invalid),
            Presented::ReusedWithinGrace => Ok(RefreshOutcome::ReusedWithinGrace),
            Presented::ReuseDetected => {
                state.revoke_sessions(&[session.id], now);
                Ok(RefreshOutcome::ReuseDetected { session_id: session.id, user_id: session.user_id })
            }
            Presented::Fresh => {
                // The replacement joins the rotated token's family, whatever session it named.
                let replacement =
                    RefreshTokenRecord { session_id: session.id, user_id: session.user_id, ..replacement.clone() };
                state.check_new_refresh(&replacement)?;
                if let Some(used) = state.refresh_tokens.get_mut(&token_id) {
                    used.record.used_at = Some(now);
                    used.replaced_by = Some(replacement.id);
                }
                state.refresh_tokens.insert(replacement.id, StoredRefresh::new(replacement));
                let updated = Session { last_seen_at: now, ..session };
                state.sessions.insert(updated.id, updated.clone());
                Ok(RefreshOutcome::Rotated(updated))
            }
        }
    }
}

impl TokenState {
    fn of(stored: &StoredRefresh) -> Self {
        Self { expires_at: stored.record.expires_at, used_at: stored.record.used_at, revoked_at: stored.revoked_at }
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

    #[tracing::instrument(skip_all, fields(keep = %keep))]
    async fn retire_all_except(&self, keep: &str, at: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut state = self.store.write();
        let mut retired = 0;
        for key in state.signing_keys.values_mut().filter(|k| k.kid != keep && k.retired_at.is_none()) {
            key.retired_at = Some(at);
            retired += 1;
        }
        Ok(retired)
    }
}

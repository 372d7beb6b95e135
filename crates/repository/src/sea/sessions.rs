//! Sessions with their refresh tokens (tenant-owned, one transaction per create) and the
//! platform's signing keys (a global table).

use super::SeaStore;
use super::db::{Access, all, commit, exec, one};
use super::rows::{self, session_columns, signing_key_columns};
use crate::rules::check_new_session;
use async_trait::async_trait;
use tessera_domain::ports::{SessionRepository, SigningKeyRepository};
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::signing::StoredSigningKey;
use tessera_domain::{RepoError, SessionId, TenantId};

#[derive(Debug, Clone)]
pub struct SeaSessionRepository {
    store: SeaStore,
}

impl SeaSessionRepository {
    pub fn new(store: &SeaStore) -> Self {
        Self { store: store.clone() }
    }
}

#[async_trait]
impl SessionRepository for SeaSessionRepository {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn create(&self, tenant: TenantId, session: &Session, refresh: &RefreshTokenRecord) -> Result<(), RepoError> {
        check_new_session(tenant, session, refresh)?;
        let amr = serde_json::to_string(&session.amr).map_err(RepoError::unavailable)?;
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        exec(
            &tx,
            concat!("INSERT INTO sessions (", session_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
            [
                session.id.as_uuid().into(),
                tenant.as_uuid().into(),
                session.user_id.as_uuid().into(),
                session.created_at.into(),
                session.last_seen_at.into(),
                session.expires_at.into(),
                session.ip.clone().into(),
                session.user_agent.clone().into(),
                amr.into(),
                session.revoked_at.into(),
            ],
        )
        .await?;
        exec(
            &tx,
            "INSERT INTO refresh_tokens (id, tenant_id, session_id, user_id, token_hash, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [
                refresh.id.into(),
                tenant.as_uuid().into(),
                refresh.session_id.as_uuid().into(),
                refresh.user_id.as_uuid().into(),
                refresh.token_hash.as_str().into(),
                refresh.created_at.into(),
                refresh.expires_at.into(),
                refresh.used_at.into(),
            ],
        )
        .await?;
        commit(tx).await
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn get(&self, tenant: TenantId, id: SessionId) -> Result<Session, RepoError> {
        let sql = concat!("SELECT ", session_columns!(), " FROM sessions WHERE tenant_id = $1 AND id = $2");
        let tx = self.store.begin_tenant(tenant, Access::Read).await?;
        let row = one(&tx, sql, [tenant.as_uuid().into(), id.as_uuid().into()]).await?;
        commit(tx).await?;
        row.as_ref().map(rows::session).ok_or(RepoError::NotFound)?
    }
}

#[derive(Debug, Clone)]
pub struct SeaSigningKeyRepository {
    store: SeaStore,
}

impl SeaSigningKeyRepository {
    pub fn new(store: &SeaStore) -> Self {
        Self { store: store.clone() }
    }
}

#[async_trait]
impl SigningKeyRepository for SeaSigningKeyRepository {
    #[tracing::instrument(skip_all, fields(kid = %key.kid))]
    async fn insert(&self, key: &StoredSigningKey) -> Result<(), RepoError> {
        exec(
            self.store.connection(),
            concat!("INSERT INTO signing_keys (", signing_key_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6)"),
            [
                key.kid.as_str().into(),
                key.algorithm.as_str().into(),
                key.public_key.clone().into(),
                key.private_key_sealed.clone().into(),
                key.created_at.into(),
                key.retired_at.into(),
            ],
        )
        .await
        .map(drop)
    }

    async fn list(&self) -> Result<Vec<StoredSigningKey>, RepoError> {
        let sql = concat!("SELECT ", signing_key_columns!(), " FROM signing_keys ORDER BY created_at DESC, kid DESC");
        rows::each(&all(self.store.connection(), sql, []).await?, rows::signing_key)
    }
}

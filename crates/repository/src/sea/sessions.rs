//! Sessions with their refresh tokens (tenant-owned, under row-level security on
//! PostgreSQL). Every write is one transaction; rotation lives in `refresh`.
//!
//! Lock order, the same in every write so that concurrent ones queue instead of
//! deadlocking: the user row (logins only), then sessions in id order, then their refresh
//! tokens. A login locks its user row (`FOR NO KEY UPDATE`, which a foreign-key check does
//! not wait for) before it counts the live sessions: locking only the live sessions would
//! not serialise two first logins (there is nothing to lock yet), nor make a waiting login
//! see the session the one before it inserted. After the lock, a new statement sees
//! everything committed before it (READ COMMITTED). SQLite's `BEGIN IMMEDIATE` already
//! serialises every writer.

use super::SeaStore;
use super::db::{Access, all, commit, exec, get, locking, one, placeholders};
use super::refresh;
use super::rows::{self, session_columns};
use crate::rules::{check_new_session, evictions, is_live};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseTransaction, Value};
use tessera_domain::ports::{RefreshOutcome, SessionRepository};
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::{RepoError, SessionId, TenantId, UserId};
use uuid::Uuid;

const LOCK_USER: &str = "SELECT id FROM users WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE";

/// The user's sessions live at `$3`, locked in id order.
const LOCK_LIVE: &str = "SELECT id, created_at FROM sessions \
     WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3 ORDER BY id FOR UPDATE";

const LIST_LIVE: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3 \
     ORDER BY created_at DESC, id DESC"
);

/// How many ids one `IN (…)` list binds (PostgreSQL takes at most 65 535 parameters).
const IN_LIST_CHUNK: usize = 500;

#[derive(Debug, Clone)]
pub struct SeaSessionRepository {
    store: SeaStore,
}

impl SeaSessionRepository {
    pub fn new(store: &SeaStore) -> Self {
        Self { store: store.clone() }
    }
}

/// Inserts a session inside a transaction scoped to `tenant`.
async fn insert_session(tx: &DatabaseTransaction, tenant: TenantId, session: &Session) -> Result<(), RepoError> {
    let amr = serde_json::to_string(&session.amr).map_err(RepoError::unavailable)?;
    exec(
        tx,
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
    .await
    .map(drop)
}

/// Inserts a refresh token (not revoked, not replaced) inside a transaction scoped to `tenant`.
pub(super) async fn insert_refresh(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    refresh: &RefreshTokenRecord,
) -> Result<(), RepoError> {
    exec(
        tx,
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
    .await
    .map(drop)
}

/// Locks the user's sessions live at `at` (id order) and returns them as `(created_at, id)`.
async fn lock_live(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    user: UserId,
    at: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, SessionId)>, RepoError> {
    let found = all(tx, locking(tx, LOCK_LIVE), [tenant.as_uuid().into(), user.as_uuid().into(), at.into()]).await?;
    found.iter().map(|row| Ok((get(row, "created_at")?, SessionId(get::<Uuid>(row, "id")?)))).collect()
}

/// Revokes the sessions that are not revoked yet, and every refresh token of them, at `at`.
pub(super) async fn revoke_sessions(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    ids: &[SessionId],
    at: DateTime<Utc>,
) -> Result<(), RepoError> {
    for chunk in ids.chunks(IN_LIST_CHUNK) {
        let list = placeholders(3, chunk.len());
        let values = || {
            let head: [Value; 2] = [tenant.as_uuid().into(), at.into()];
            head.into_iter().chain(chunk.iter().map(|id| id.as_uuid().into()))
        };
        let sessions = format!(
            "UPDATE sessions SET revoked_at = $2 WHERE tenant_id = $1 AND revoked_at IS NULL AND id IN ({list})"
        );
        exec(tx, &sessions, values()).await?;
        let tokens = format!(
            "UPDATE refresh_tokens SET revoked_at = $2 \
             WHERE tenant_id = $1 AND revoked_at IS NULL AND session_id IN ({list})"
        );
        exec(tx, &tokens, values()).await?;
    }
    Ok(())
}

#[async_trait]
impl SessionRepository for SeaSessionRepository {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn create(
        &self,
        tenant: TenantId,
        session: &Session,
        refresh: &RefreshTokenRecord,
        max_live: u32,
    ) -> Result<Vec<SessionId>, RepoError> {
        check_new_session(tenant, session, refresh)?;
        let at = session.created_at;
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        let user = [tenant.as_uuid().into(), session.user_id.as_uuid().into()];
        // Also the foreign key's check, made explicit: no such user in this tenant.
        one(&tx, locking(&tx, LOCK_USER), user).await?.ok_or(RepoError::NotFound)?;
        let live = lock_live(&tx, tenant, session.user_id, at).await?;
        let evicted = evictions(live, is_live(session.revoked_at, session.expires_at, at), max_live);
        revoke_sessions(&tx, tenant, &evicted, at).await?;
        insert_session(&tx, tenant, session).await?;
        insert_refresh(&tx, tenant, refresh).await?;
        // Any error above dropped `tx` uncommitted: nothing was evicted or stored.
        commit(tx).await?;
        Ok(evicted)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn get(&self, tenant: TenantId, id: SessionId) -> Result<Session, RepoError> {
        let sql = concat!("SELECT ", session_columns!(), " FROM sessions WHERE tenant_id = $1 AND id = $2");
        let tx = self.store.begin_tenant(tenant, Access::Read).await?;
        let row = one(&tx, sql, [tenant.as_uuid().into(), id.as_uuid().into()]).await?;
        commit(tx).await?;
        row.as_ref().map(rows::session).ok_or(RepoError::NotFound)?
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn list_live(&self, tenant: TenantId, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, RepoError> {
        let tx = self.store.begin_tenant(tenant, Access::Read).await?;
        let found = all(&tx, LIST_LIVE, [tenant.as_uuid().into(), user.as_uuid().into(), now.into()]).await?;
        commit(tx).await?;
        rows::each(&found, rows::session)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn revoke(&self, tenant: TenantId, id: SessionId, at: DateTime<Utc>) -> Result<(), RepoError> {
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        let sql = locking(&tx, "SELECT id FROM sessions WHERE tenant_id = $1 AND id = $2 FOR UPDATE");
        one(&tx, sql, [tenant.as_uuid().into(), id.as_uuid().into()]).await?.ok_or(RepoError::NotFound)?;
        revoke_sessions(&tx, tenant, &[id], at).await?;
        commit(tx).await
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn revoke_all_for_user(
        &self,
        tenant: TenantId,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, RepoError> {
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        let live = lock_live(&tx, tenant, user, at).await?;
        let revoked: Vec<SessionId> = live.into_iter().map(|(_, id)| id).filter(|id| Some(*id) != keep).collect();
        revoke_sessions(&tx, tenant, &revoked, at).await?;
        commit(tx).await?;
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
        refresh::rotate(&self.store, tenant, presented_hash, replacement, now, grace, idle_timeout).await
    }
}

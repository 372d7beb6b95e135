//! Refresh-token rotation on SQL (SPEC §6.2): one write transaction that locks, classifies
//! and writes, so that of concurrent presentations of one token exactly one rotates it.
//!
//! PostgreSQL: the token's session is locked first (`FOR UPDATE`, found through the token
//! by a sub-select), then the token itself; sessions before tokens is the lock order of
//! every session write (see `sessions`), so rotation never deadlocks with a revocation or
//! an eviction. A rotation that waited for the lock reads the token again in a new
//! statement and so sees the winner's `used_at` (READ COMMITTED). SQLite: the `BEGIN
//! IMMEDIATE` transaction holds the database's write lock from the start.

use super::SeaStore;
use super::db::{Access, commit, exec, get, locking, one};
use super::rows::{self, session_columns};
use super::sessions::{insert_refresh, revoke_sessions};
use crate::rules::{Presented, TokenState, classify, ensure_in_scope};
use chrono::{DateTime, Duration, Utc};
use sea_orm::QueryResult;
use tessera_domain::ports::RefreshOutcome;
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::{RepoError, TenantId};
use uuid::Uuid;

const LOCK_SESSION_OF_TOKEN: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE tenant_id = $1 \
     AND id = (SELECT session_id FROM refresh_tokens WHERE tenant_id = $1 AND token_hash = $2) FOR UPDATE"
);

const LOCK_TOKEN: &str = "SELECT id, expires_at, used_at, revoked_at FROM refresh_tokens \
     WHERE tenant_id = $1 AND token_hash = $2 FOR UPDATE";

fn token_state(row: &QueryResult) -> Result<(Uuid, TokenState), RepoError> {
    let state = TokenState {
        expires_at: get(row, "expires_at")?,
        used_at: get(row, "used_at")?,
        revoked_at: get(row, "revoked_at")?,
    };
    Ok((get(row, "id")?, state))
}

/// `SessionRepository::rotate_refresh`. The replacement is stored in the rotated token's
/// session and for its user, whatever session and user the record names (the caller cannot
/// know them before the look-up).
pub(super) async fn rotate(
    store: &SeaStore,
    tenant: TenantId,
    presented_hash: &str,
    replacement: &RefreshTokenRecord,
    now: DateTime<Utc>,
    grace: Duration,
    idle_timeout: Duration,
) -> Result<RefreshOutcome, RepoError> {
    ensure_in_scope(tenant, replacement.tenant_id)?;
    let tx = store.begin_tenant(tenant, Access::Write).await?;
    let key = || [tenant.as_uuid().into(), presented_hash.into()];
    let session = match one(&tx, locking(&tx, LOCK_SESSION_OF_TOKEN), key()).await? {
        Some(row) => rows::session(&row)?,
        None => return commit(tx).await.map(|()| RefreshOutcome::Invalid),
    };
    let Some(row) = one(&tx, locking(&tx, LOCK_TOKEN), key()).await? else {
        return commit(tx).await.map(|()| RefreshOutcome::Invalid);
    };
    let (token_id, token) = token_state(&row)?;
    let outcome = match classify(token, &session, now, grace, idle_timeout) {
        Presented::Invalid => RefreshOutcome::Invalid,
        Presented::ReusedWithinGrace => RefreshOutcome::ReusedWithinGrace,
        Presented::ReuseDetected => {
            revoke_sessions(&tx, tenant, &[session.id], now).await?;
            RefreshOutcome::ReuseDetected { session_id: session.id, user_id: session.user_id }
        }
        Presented::Fresh => {
            let replacement =
                RefreshTokenRecord { session_id: session.id, user_id: session.user_id, ..replacement.clone() };
            exec(
                &tx,
                "UPDATE refresh_tokens SET used_at = $3, replaced_by = $4 WHERE tenant_id = $1 AND id = $2",
                [tenant.as_uuid().into(), token_id.into(), now.into(), replacement.id.into()],
            )
            .await?;
            insert_refresh(&tx, tenant, &replacement).await?;
            exec(
                &tx,
                "UPDATE sessions SET last_seen_at = $3 WHERE tenant_id = $1 AND id = $2",
                [tenant.as_uuid().into(), session.id.as_uuid().into(), now.into()],
            )
            .await?;
            RefreshOutcome::Rotated(Session { last_seen_at: now, ..session })
        }
    };
    // Any error above dropped `tx` uncommitted: the token is still unused then.
    commit(tx).await?;
    Ok(outcome)
}

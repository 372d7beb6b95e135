//! Rules every adapter applies the same way: the scope check on entities handed in, the
//! names of the conflicts a port reports, and the cursor convention of list ports.

use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::{RepoError, TenantId};
use uuid::Uuid;

/// `Conflict` names reported by the adapters (the ports document the first four).
pub(crate) mod conflict {
    pub const SLUG: &str = "slug";
    pub const EMAIL: &str = "email";
    pub const LAST_ADMIN: &str = "last_admin";
    pub const KID: &str = "kid";
    /// A primary key that already exists.
    pub const ID: &str = "id";
    pub const TOKEN_HASH: &str = "token_hash";
    /// An entity whose `tenant_id` differs from the scope argument of the call.
    pub const TENANT_MISMATCH: &str = "tenant_mismatch";
    /// A refresh token that does not belong to the session stored with it.
    pub const SESSION_MISMATCH: &str = "session_mismatch";
}

pub(crate) fn conflict(name: &str) -> RepoError {
    RepoError::Conflict(name.to_owned())
}

/// The scope argument is authoritative: an entity claiming another tenant is a caller bug,
/// refused before anything is written.
pub(crate) fn ensure_in_scope(scope: TenantId, owner: TenantId) -> Result<(), RepoError> {
    if scope == owner {
        Ok(())
    } else {
        Err(conflict(conflict::TENANT_MISMATCH))
    }
}

/// The exclusive lower bound of a page. Ids are UUIDv7, never nil, so the nil UUID is
/// "before everything" and one SQL statement serves first and later pages alike.
pub(crate) fn cursor(after: Option<Uuid>) -> Uuid {
    after.unwrap_or(Uuid::nil())
}

/// How many rows a list fetches: one more than the page, to learn whether another exists.
pub(crate) fn overfetch(limit: u32) -> usize {
    limit as usize + 1
}

/// A new session and its first refresh token: both in scope, the token bound to the session.
pub(crate) fn check_new_session(
    tenant: TenantId,
    session: &Session,
    refresh: &RefreshTokenRecord,
) -> Result<(), RepoError> {
    ensure_in_scope(tenant, session.tenant_id)?;
    ensure_in_scope(tenant, refresh.tenant_id)?;
    if refresh.session_id != session.id || refresh.user_id != session.user_id {
        return Err(conflict(conflict::SESSION_MISMATCH));
    }
    Ok(())
}

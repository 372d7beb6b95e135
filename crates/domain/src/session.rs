//! Login sessions and their refresh tokens (SPEC §6.2–§6.3).

use crate::{SessionId, TenantId, UserId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// RFC 8176 authentication method references, e.g. `["pwd"]`.
    pub amr: Vec<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A refresh token as stored: only the SHA-256 of the opaque token, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub session_id: SessionId,
    pub user_id: UserId,
    /// Lower-case hex SHA-256 of the token the client holds.
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

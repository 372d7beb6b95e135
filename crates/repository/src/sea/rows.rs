//! Column lists and row → entity mapping. A stored value the domain refuses (an unknown
//! status, a malformed slug) is reported as `Unavailable(CorruptRow)`, never a panic.

use super::db::get;
use sea_orm::QueryResult;
use tessera_domain::credentials::Invitation;
use tessera_domain::session::Session;
use tessera_domain::signing::{SigningAlgorithm, StoredSigningKey};
use tessera_domain::{Email, Plan, RepoError, RoleName, Slug, Tenant, TenantStatus, User, UserStatus};
use uuid::Uuid;

/// The columns `tenant` reads, in `concat!`-able form.
macro_rules! tenant_columns {
    () => {
        "id, slug, name, status, plan, created_at, updated_at, deleted_at"
    };
}

macro_rules! user_columns {
    () => {
        "id, tenant_id, email, full_name, role, status, mfa_enabled, password_hash, \
         require_password_change, created_at, updated_at, last_login_at, password_changed_at"
    };
}

macro_rules! session_columns {
    () => {
        "id, tenant_id, user_id, created_at, last_seen_at, expires_at, ip, user_agent, amr, revoked_at"
    };
}

macro_rules! invitation_columns {
    () => {
        "id, tenant_id, email, role, token_hash, created_by, created_at, expires_at, accepted_at, revoked_at"
    };
}

macro_rules! signing_key_columns {
    () => {
        "kid, algorithm, public_key, private_key_sealed, created_at, retired_at"
    };
}

pub(crate) use {invitation_columns, session_columns, signing_key_columns, tenant_columns, user_columns};

/// A stored value the domain does not accept.
#[derive(Debug)]
pub(crate) struct CorruptRow(&'static str);

impl std::fmt::Display for CorruptRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stored value of {} is not valid", self.0)
    }
}

impl std::error::Error for CorruptRow {}

/// Reads a text column and parses it with the domain's own parser.
fn parsed<T>(row: &QueryResult, column: &'static str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T, RepoError> {
    parse(&get::<String>(row, column)?).ok_or_else(|| RepoError::unavailable(CorruptRow(column)))
}

pub(crate) fn tenant(row: &QueryResult) -> Result<Tenant, RepoError> {
    Ok(Tenant {
        id: get::<Uuid>(row, "id")?.into(),
        slug: parsed(row, "slug", |s| Slug::parse_any(s).ok())?,
        name: get(row, "name")?,
        status: parsed(row, "status", TenantStatus::parse)?,
        plan: parsed(row, "plan", Plan::parse)?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        deleted_at: get(row, "deleted_at")?,
    })
}

pub(crate) fn user(row: &QueryResult) -> Result<User, RepoError> {
    Ok(User {
        id: get::<Uuid>(row, "id")?.into(),
        tenant_id: get::<Uuid>(row, "tenant_id")?.into(),
        email: parsed(row, "email", |s| Email::parse(s).ok())?,
        full_name: get(row, "full_name")?,
        role: RoleName::new(get::<String>(row, "role")?),
        status: parsed(row, "status", UserStatus::parse)?,
        mfa_enabled: get(row, "mfa_enabled")?,
        password_hash: get(row, "password_hash")?,
        require_password_change: get(row, "require_password_change")?,
        password_changed_at: get(row, "password_changed_at")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        last_login_at: get(row, "last_login_at")?,
    })
}

pub(crate) fn invitation(row: &QueryResult) -> Result<Invitation, RepoError> {
    Ok(Invitation {
        id: get(row, "id")?,
        tenant_id: get::<Uuid>(row, "tenant_id")?.into(),
        email: parsed(row, "email", |s| Email::parse(s).ok())?,
        role: RoleName::new(get::<String>(row, "role")?),
        token_hash: get(row, "token_hash")?,
        created_by: get::<Uuid>(row, "created_by")?.into(),
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        accepted_at: get(row, "accepted_at")?,
        revoked_at: get(row, "revoked_at")?,
    })
}

pub(crate) fn session(row: &QueryResult) -> Result<Session, RepoError> {
    Ok(Session {
        id: get::<Uuid>(row, "id")?.into(),
        tenant_id: get::<Uuid>(row, "tenant_id")?.into(),
        user_id: get::<Uuid>(row, "user_id")?.into(),
        created_at: get(row, "created_at")?,
        last_seen_at: get(row, "last_seen_at")?,
        expires_at: get(row, "expires_at")?,
        ip: get(row, "ip")?,
        user_agent: get(row, "user_agent")?,
        amr: parsed(row, "amr", |s| serde_json::from_str(s).ok())?,
        revoked_at: get(row, "revoked_at")?,
    })
}

pub(crate) fn signing_key(row: &QueryResult) -> Result<StoredSigningKey, RepoError> {
    Ok(StoredSigningKey {
        kid: get(row, "kid")?,
        algorithm: parsed(row, "algorithm", SigningAlgorithm::parse)?,
        public_key: get(row, "public_key")?,
        private_key_sealed: get(row, "private_key_sealed")?,
        created_at: get(row, "created_at")?,
        retired_at: get(row, "retired_at")?,
    })
}

/// A non-negative `BIGINT` column.
pub(crate) fn count(row: &QueryResult, column: &'static str) -> Result<u64, RepoError> {
    u64::try_from(get::<i64>(row, column)?).map_err(|_| RepoError::unavailable(CorruptRow(column)))
}

/// The `settings` column: a JSON object, or the row is corrupt.
pub(crate) fn settings(row: &QueryResult) -> Result<serde_json::Value, RepoError> {
    parsed(row, "settings", |s| serde_json::from_str::<serde_json::Value>(s).ok().filter(serde_json::Value::is_object))
}

/// Maps every row, stopping at the first one that does not map.
pub(crate) fn each<T>(
    rows: &[QueryResult],
    map: fn(&QueryResult) -> Result<T, RepoError>,
) -> Result<Vec<T>, RepoError> {
    rows.iter().map(map).collect()
}

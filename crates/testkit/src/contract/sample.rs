//! Sample entities for the contract cases. Timestamps are truncated to microseconds, the
//! precision PostgreSQL keeps, so a round trip compares equal on every backend.

use chrono::{DateTime, SubsecRound, Utc};
use tessera_domain::credentials::{Invitation, PasswordReset};
use tessera_domain::ports::Repositories;
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::signing::{SigningAlgorithm, StoredSigningKey};
use tessera_domain::{
    Email, Plan, RoleName, SessionId, Slug, Tenant, TenantId, TenantStatus, User, UserId, UserStatus,
};
use uuid::Uuid;

/// A PHC string shaped like Argon2id output; the storage layer never looks inside.
pub const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn email(address: &str) -> Email {
    Email::parse(address).expect("a valid sample email")
}

pub fn tenant(slug: &str) -> Tenant {
    let at = now();
    Tenant {
        id: TenantId(Uuid::now_v7()),
        slug: Slug::parse_any(slug).expect("a valid sample slug"),
        name: format!("Tenant {slug}"),
        status: TenantStatus::Active,
        plan: Plan::Standard,
        created_at: at,
        updated_at: at,
        deleted_at: None,
    }
}

pub fn user(tenant: TenantId, address: &str, role: &str) -> User {
    let at = now();
    User {
        id: UserId(Uuid::now_v7()),
        tenant_id: tenant,
        email: email(address),
        full_name: format!("User {address}"),
        role: RoleName::new(role),
        status: UserStatus::Active,
        mfa_enabled: false,
        password_hash: PASSWORD_HASH.to_owned(),
        require_password_change: false,
        password_changed_at: at,
        created_at: at,
        updated_at: at,
        last_login_at: None,
    }
}

/// Provisions tenant `slug` with the admin `admin@<slug>.test`.
pub async fn provision(repos: &Repositories, slug: &str) -> (Tenant, User) {
    let tenant = tenant(slug);
    let admin = user(tenant.id, &format!("admin@{slug}.test"), RoleName::ADMIN);
    repos.tenants.provision(&tenant, &admin).await.expect("provision a sample tenant");
    (tenant, admin)
}

pub async fn add_user(repos: &Repositories, tenant: TenantId, address: &str, role: &str) -> User {
    let user = user(tenant, address, role);
    repos.users.insert(tenant, &user).await.expect("insert a sample user");
    user
}

/// A fresh session of `user` and its first refresh token.
pub fn session(user: &User) -> (Session, RefreshTokenRecord) {
    session_at(user, now())
}

/// A session of `user` created (and last seen) at `at`, expiring 30 days later, and its
/// first refresh token.
pub fn session_at(user: &User, at: DateTime<Utc>) -> (Session, RefreshTokenRecord) {
    let at = at.trunc_subsecs(6);
    let session = Session {
        id: SessionId(Uuid::now_v7()),
        tenant_id: user.tenant_id,
        user_id: user.id,
        created_at: at,
        last_seen_at: at,
        expires_at: at + chrono::Duration::days(30),
        ip: Some("203.0.113.7".to_owned()),
        user_agent: Some("contract-test/1.0".to_owned()),
        amr: vec!["pwd".to_owned(), "otp".to_owned()],
        revoked_at: None,
    };
    let refresh = RefreshTokenRecord {
        id: Uuid::now_v7(),
        tenant_id: user.tenant_id,
        session_id: session.id,
        user_id: user.id,
        token_hash: token_hash(),
        created_at: at,
        expires_at: session.expires_at,
        used_at: None,
    };
    (session, refresh)
}

/// A random 64-hex-digit token hash.
pub fn token_hash() -> String {
    format!("{:064x}", Uuid::new_v4().as_u128())
}

/// A replacement refresh token as a service builds it before a rotation: in `tenant`,
/// created at `at` and valid 7 days, its session and user not known yet (nil), since
/// the adapter binds it to the rotated token's session.
pub fn replacement(tenant: TenantId, at: DateTime<Utc>) -> RefreshTokenRecord {
    let at = at.trunc_subsecs(6);
    RefreshTokenRecord {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        session_id: SessionId(Uuid::nil()),
        user_id: UserId(Uuid::nil()),
        token_hash: token_hash(),
        created_at: at,
        expires_at: at + chrono::Duration::days(7),
        used_at: None,
    }
}

pub fn signing_key(kid: &str, created_at: DateTime<Utc>) -> StoredSigningKey {
    StoredSigningKey {
        kid: kid.to_owned(),
        algorithm: SigningAlgorithm::EdDSA,
        public_key: (0u8..32).collect(),
        private_key_sealed: vec![0, 159, 255, 1, 42],
        created_at: created_at.trunc_subsecs(6),
        retired_at: None,
    }
}

/// A pending invitation of `address` to `tenant` as `role`, created at `at` by `created_by`
/// and valid 7 days.
pub fn invitation(tenant: TenantId, address: &str, role: &str, created_by: UserId, at: DateTime<Utc>) -> Invitation {
    let at = at.trunc_subsecs(6);
    Invitation {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        email: email(address),
        role: RoleName::new(role),
        token_hash: token_hash(),
        created_by,
        created_at: at,
        expires_at: at + chrono::Duration::days(7),
        accepted_at: None,
        revoked_at: None,
    }
}

/// An unused password reset of `user`, created at `at` and valid 30 minutes.
pub fn reset(user: &User, at: DateTime<Utc>) -> PasswordReset {
    let at = at.trunc_subsecs(6);
    PasswordReset {
        id: Uuid::now_v7(),
        tenant_id: user.tenant_id,
        user_id: user.id,
        token_hash: token_hash(),
        created_at: at,
        expires_at: at + chrono::Duration::minutes(30),
        used_at: None,
    }
}

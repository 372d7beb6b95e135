//! Login, access-token issue and verification, and the principal behind a bearer token
//! (SPEC §6.1–§6.2).

use crate::{Core, ServiceError, ServiceResult, SigningKeys};
use chrono::Duration as ChronoDuration;
use tessera_auth::jwt::{AccessClaims, TokenValidation};
use tessera_auth::opaque::{hash_token, new_refresh_token_for};
use tessera_auth::password::PasswordCheck;
use tessera_domain::credentials::LockoutKey;
use tessera_domain::ports::{AdminGuard, Invalidation};
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::{
    Email, Principal, RoleName, SessionId, Slug, Tenant, TenantId, TenantStatus, User, UserId, UserStatus,
};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    pub tenant_slug: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The login answer (SPEC §6.1).
#[derive(Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenPair(…)")
    }
}

/// What `GET /auth/me` shows.
#[derive(Debug, Clone)]
pub struct Me {
    pub user: User,
    pub tenant: Tenant,
    pub principal: Principal,
}

/// SPEC §6.5: 5 failures lock for 1 min, doubling on each further lockout, at most 1 h.
pub const LOCKOUT_THRESHOLD: u32 = 5;
pub const LOCKOUT_BASE: std::time::Duration = std::time::Duration::from_secs(60);
pub const LOCKOUT_MAX: std::time::Duration = std::time::Duration::from_secs(3600);

/// The lockout key of a login attempt: the tenant and the normalised email (the raw text
/// lower-cased when it is not a valid address, so junk is throttled too).
pub fn lockout_key(tenant: TenantId, email: &str) -> LockoutKey {
    let email = Email::parse(email).map(|e| e.as_str().to_owned()).unwrap_or_else(|_| email.trim().to_lowercase());
    LockoutKey { tenant, email }
}

pub struct AuthService {
    pub(crate) core: Core,
    pub(crate) keys: SigningKeys,
    verified: crate::verified_tokens::VerifiedTokens,
}

impl AuthService {
    pub(crate) fn new(core: Core, keys: SigningKeys) -> Self {
        Self { core, keys, verified: Default::default() }
    }

    /// Every failure (unknown tenant, unknown email, wrong password, disabled user) answers
    /// the same `Unauthenticated` after one Argon2 verification, so neither status nor
    /// timing tells them apart. A suspended tenant answers before the password is checked.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, input: LoginInput) -> ServiceResult<TokenPair> {
        let repos = &self.core.repos;
        let tenant = match Slug::parse_any(&input.tenant_slug) {
            Ok(slug) => repos.tenants.find_by_slug(&slug).await?,
            Err(_) => None,
        };
        let tenant = match tenant {
            Some(t) if t.status == TenantStatus::Suspended => {
                return Err(ServiceError::TenantSuspended);
            }
            Some(t) if t.status == TenantStatus::Active => Some(t),
            _ => None,
        };
        crate::login_throttle::check(&self.core, input.ip.as_deref(), &input.email, tenant.as_ref().map(|t| t.id))
            .await?;
        // Lockouts are keyed by (tenant, email) whether or not the account exists, and are
        // checked before the password, so the 429 is the same for every account.
        let key = tenant.as_ref().map(|t| lockout_key(t.id, &input.email));
        if let Some(key) = &key
            && let Some(retry_after) = self.core.lockouts.locked_for(key, self.core.clock.now()).await?
        {
            return Err(ServiceError::RateLimited { retry_after });
        }
        let user = match (&tenant, Email::parse(&input.email)) {
            (Some(t), Ok(email)) => repos.users.find_by_email(t.id, &email).await?,
            _ => None,
        };
        let (Some(tenant), Some(mut user)) = (tenant, user) else {
            self.core.passwords.dummy_verify(input.password).await?;
            self.record_failure(key.as_ref()).await?;
            return Err(ServiceError::Unauthenticated);
        };
        let check = self.core.passwords.verify(input.password.clone(), user.password_hash.clone()).await?;
        let PasswordCheck::Valid { needs_rehash } = check else {
            self.record_failure(key.as_ref()).await?;
            return Err(ServiceError::Unauthenticated);
        };
        if user.status != UserStatus::Active {
            return Err(ServiceError::Unauthenticated);
        }
        if let Some(key) = &key {
            self.core.lockouts.reset(key).await?;
        }
        let now = self.core.clock.now();
        if needs_rehash {
            user.password_hash = self.core.passwords.hash(input.password).await?;
        }
        // Password maximum age (SPEC §6.5): past it, the user must change it (shown by
        // `require_password_change`); the login itself still succeeds.
        let policy = &self.core.tenant_context(tenant.id).await?.settings.password_policy;
        if let Some(days) = policy.max_age_days
            && user.password_changed_at + chrono::Duration::days(i64::from(days)) < now
        {
            user.require_password_change = true;
        }
        user.last_login_at = Some(now);
        user.updated_at = now;
        repos.users.update(tenant.id, &user, AdminGuard::None).await?;
        self.start_session(&user, input.ip, input.user_agent, vec!["pwd".into()]).await
    }

    async fn record_failure(&self, key: Option<&LockoutKey>) -> ServiceResult<()> {
        let Some(key) = key else { return Ok(()) };
        let now = self.core.clock.now();
        if let Some(locked) =
            self.core.lockouts.record_failure(key, now, LOCKOUT_THRESHOLD, LOCKOUT_BASE, LOCKOUT_MAX).await?
        {
            tracing::warn!(tenant_id = %key.tenant, seconds = locked.as_secs(), "login locked after repeated failures");
            self.core
                .record("auth.lockout", key.tenant, None, serde_json::json!({ "seconds": locked.as_secs() }))
                .await;
        }
        Ok(())
    }

    async fn start_session(
        &self,
        user: &User,
        ip: Option<String>,
        user_agent: Option<String>,
        amr: Vec<String>,
    ) -> ServiceResult<TokenPair> {
        let ctx = self.core.tenant_context(user.tenant_id).await?;
        let settings = &ctx.settings;
        let now = self.core.clock.now();
        let hours = u64::from(settings.sessions.absolute_timeout_hours);
        let refresh_secs = settings.tokens.refresh_ttl_seconds.min(hours * 3600);
        let refresh_ttl = ChronoDuration::seconds(i64::try_from(refresh_secs).map_err(ServiceError::internal)?);
        let session = Session {
            id: SessionId(self.core.ids.new_id()),
            tenant_id: user.tenant_id,
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + refresh_ttl,
            ip,
            user_agent,
            amr,
            revoked_at: None,
        };
        let (refresh_token, record) = self.new_refresh_record(&session, now + refresh_ttl)?;
        let max_live = settings.sessions.max_per_user;
        let evicted = self.core.repos.sessions.create(user.tenant_id, &session, &record, max_live).await?;
        for session_id in evicted {
            self.core.broadcast(Invalidation::Session { tenant_id: user.tenant_id, session_id }).await;
        }
        let access_ttl = settings.tokens.access_ttl_seconds;
        let access_token = self.issue_access_token(user, &session, access_ttl)?;
        Ok(TokenPair { access_token, refresh_token, expires_in: access_ttl })
    }

    /// A new opaque refresh token of `session` (carrying its tenant) and its stored record.
    pub(crate) fn new_refresh_record(
        &self,
        session: &Session,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> ServiceResult<(String, RefreshTokenRecord)> {
        let token = new_refresh_token_for(session.tenant_id.as_uuid()).map_err(ServiceError::internal)?;
        let record = RefreshTokenRecord {
            id: self.core.ids.new_id(),
            tenant_id: session.tenant_id,
            session_id: session.id,
            user_id: session.user_id,
            token_hash: hash_token(&token),
            created_at: self.core.clock.now(),
            expires_at,
            used_at: None,
        };
        Ok((token, record))
    }

    pub(crate) fn issue_access_token(&self, user: &User, session: &Session, ttl_seconds: u64) -> ServiceResult<String> {
        let cfg = &self.core.config;
        let iat = self.core.clock.now().timestamp();
        let ttl = i64::try_from(ttl_seconds).map_err(ServiceError::internal)?;
        let claims = AccessClaims {
            iss: cfg.issuer.clone(),
            sub: user.id.to_string(),
            aud: cfg.audience.clone(),
            exp: iat + ttl,
            iat,
            nbf: iat,
            jti: self.core.ids.new_id().to_string(),
            tid: user.tenant_id.to_string(),
            role: user.role.to_string(),
            sid: Some(session.id.to_string()),
            amr: session.amr.clone(),
        };
        self.keys.ring()?.sign_access_token(&claims).map_err(ServiceError::internal)
    }

    /// Verifies a bearer access token and builds the caller's principal. A super_admin may
    /// act inside another tenant through `act_as` (the `X-Tenant-Id` header); anyone else
    /// naming a tenant other than their token's gets 403.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, token: &str, act_as: Option<TenantId>) -> ServiceResult<Principal> {
        let cfg = &self.core.config;
        let validation = TokenValidation {
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
            leeway_seconds: cfg.leeway.as_secs(),
        };
        let now = self.core.clock.now().timestamp();
        let leeway = i64::try_from(validation.leeway_seconds).unwrap_or(30);
        let claims = match self.verified.get(token, now, leeway) {
            Some(claims) => claims,
            None => {
                let ring = self.keys.ring()?;
                let claims = std::sync::Arc::new(
                    ring.verify_access_token(token, &validation, now).map_err(|_| ServiceError::Unauthenticated)?,
                );
                self.verified.insert(token, claims.clone(), now);
                claims
            }
        };
        let parse = |s: &str| Uuid::parse_str(s).map_err(|_| ServiceError::Unauthenticated);
        let home = TenantId(parse(&claims.tid)?);
        let user_id = UserId(parse(&claims.sub)?);
        let session_id = claims.sid.as_deref().map(parse).transpose()?.map(SessionId);
        self.check_tenant_live(home).await?;
        // Revocation (logout, session revoke, disable, role or password change): the
        // session must still be live, answered from the replica's session cache.
        if let Some(sid) = session_id {
            let sessions = self.core.repos.sessions.as_ref();
            let live = self.core.session_cache.is_live(sessions, home, user_id, sid, self.core.clock.now()).await?;
            if !live {
                return Err(ServiceError::Unauthenticated);
            }
        }
        let role = RoleName::new(claims.role.clone());
        let tenant_id = match act_as {
            Some(t) if t != home && role.is_super_admin() => {
                self.check_tenant_live(t).await?;
                t
            }
            Some(t) if t != home => {
                return Err(ServiceError::ForbiddenAction("X-Tenant-Id names another tenant than the token".into()));
            }
            _ => home,
        };
        let permissions = role.built_in_permissions().unwrap_or_default();
        Ok(Principal { tenant_id, home_tenant_id: home, user_id, role, permissions, session_id })
    }

    /// Suspended → 403 `tenant_suspended`; deleted or unknown → 401. Answered from the
    /// tenant cache (no database round trip on the hot path).
    async fn check_tenant_live(&self, id: TenantId) -> ServiceResult<()> {
        match self.core.tenant_context(id).await {
            Ok(ctx) if ctx.tenant.status == TenantStatus::Active => Ok(()),
            Ok(ctx) if ctx.tenant.status == TenantStatus::Suspended => Err(ServiceError::TenantSuspended),
            Ok(_) | Err(ServiceError::NotFound) => Err(ServiceError::Unauthenticated),
            Err(e) => Err(e),
        }
    }

    pub async fn me(&self, principal: &Principal) -> ServiceResult<Me> {
        let repos = &self.core.repos;
        let user = match repos.users.get(principal.home_tenant_id, principal.user_id).await {
            Ok(u) => u,
            Err(tessera_domain::RepoError::NotFound) => return Err(ServiceError::Unauthenticated),
            Err(e) => return Err(e.into()),
        };
        let tenant = repos.tenants.get(principal.tenant_id).await?;
        Ok(Me { user, tenant, principal: principal.clone() })
    }

    /// The public JWKS document (`/.well-known/jwks.json`).
    pub fn jwks(&self) -> ServiceResult<serde_json::Value> {
        Ok(self.keys.ring()?.jwks())
    }
}

//! Refresh-token rotation with reuse detection, and logout (SPEC §6.2).

use crate::auth::{AuthService, TokenPair};
use crate::{ServiceError, ServiceResult};
use chrono::Duration as ChronoDuration;
use tessera_auth::opaque::{hash_token, refresh_token_tenant};
use tessera_domain::ports::{Invalidation, RefreshOutcome};
use tessera_domain::session::Session;
use tessera_domain::{Principal, TenantId, TenantStatus, UserStatus};

fn seconds(n: u64) -> ServiceResult<ChronoDuration> {
    Ok(ChronoDuration::seconds(i64::try_from(n).map_err(ServiceError::internal)?))
}

impl AuthService {
    /// Exchanges a refresh token for a new pair in one atomic rotation. A token used again
    /// within the grace window answers 401 and changes nothing (client races); later, it
    /// revokes the whole session (theft detection, event `auth.refresh_reuse`).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, presented: &str) -> ServiceResult<TokenPair> {
        let tenant = refresh_token_tenant(presented).map(TenantId).ok_or(ServiceError::Unauthenticated)?;
        let ctx = match self.core.tenant_context(tenant).await {
            Ok(ctx) => ctx,
            Err(ServiceError::NotFound) => return Err(ServiceError::Unauthenticated),
            Err(e) => return Err(e),
        };
        match ctx.tenant.status {
            TenantStatus::Active => {}
            TenantStatus::Suspended => return Err(ServiceError::TenantSuspended),
            TenantStatus::Deleted => return Err(ServiceError::Unauthenticated),
        }
        let settings = &ctx.settings;
        let now = self.core.clock.now();
        // The replacement's session id is only known after the lookup; the adapter keeps the
        // session and user of the token it rotates, so a placeholder session stands in here.
        let placeholder = Session {
            id: tessera_domain::SessionId(uuid::Uuid::nil()),
            tenant_id: tenant,
            user_id: tessera_domain::UserId(uuid::Uuid::nil()),
            created_at: now,
            last_seen_at: now,
            expires_at: now,
            ip: None,
            user_agent: None,
            amr: Vec::new(),
            revoked_at: None,
        };
        let (token, replacement) =
            self.new_refresh_record(&placeholder, now + seconds(settings.tokens.refresh_ttl_seconds)?)?;
        let grace = seconds(self.core.config.refresh_reuse_grace.as_secs())?;
        let idle = seconds(u64::from(settings.sessions.idle_timeout_minutes) * 60)?;
        let outcome = self
            .core
            .repos
            .sessions
            .rotate_refresh(tenant, &hash_token(presented), &replacement, now, grace, idle)
            .await?;
        let session = match outcome {
            RefreshOutcome::Rotated(session) => session,
            RefreshOutcome::ReusedWithinGrace | RefreshOutcome::Invalid => return Err(ServiceError::Unauthenticated),
            RefreshOutcome::ReuseDetected { session_id, user_id } => {
                tracing::warn!(tenant_id = %tenant, %session_id, "refresh token reuse: session revoked");
                self.core.broadcast(Invalidation::Session { tenant_id: tenant, session_id }).await;
                let data = serde_json::json!({ "session_id": session_id, "user_id": user_id });
                self.core.record("auth.refresh_reuse", tenant, Some(user_id), data).await;
                return Err(ServiceError::Unauthenticated);
            }
        };
        let user = match self.core.repos.users.get(tenant, session.user_id).await {
            Ok(u) if u.status == UserStatus::Active => u,
            Ok(_) | Err(tessera_domain::RepoError::NotFound) => return Err(ServiceError::Unauthenticated),
            Err(e) => return Err(e.into()),
        };
        let access_ttl = settings.tokens.access_ttl_seconds;
        let access_token = self.issue_access_token(&user, &session, access_ttl)?;
        Ok(TokenPair { access_token, refresh_token: token, expires_in: access_ttl })
    }

    /// Revokes the caller's session: its refresh tokens at once, its access tokens on every
    /// replica within about a second.
    pub async fn logout(&self, principal: &Principal) -> ServiceResult<()> {
        match principal.session_id {
            Some(sid) => self.core.revoke_session(principal.home_tenant_id, sid).await,
            None => Ok(()),
        }
    }
}

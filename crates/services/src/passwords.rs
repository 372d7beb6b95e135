//! The password lifecycle (SPEC §6.5): change, forgot (always 202), reset with single-use
//! 30-minute tokens, and a notification mail after either.

use crate::password_policy::{Owner, check_new_password};
use crate::{Core, ServiceError, ServiceResult};
use chrono::Duration;
use tessera_auth::opaque::{hash_token, new_refresh_token_for, refresh_token_tenant};
use tessera_auth::password::PasswordCheck;
use tessera_domain::credentials::PasswordReset;
use tessera_domain::{Email, Principal, RepoError, Slug, TenantId, TenantStatus, User, UserId, UserStatus};

const RESET_LIFETIME_MINUTES: i64 = 30;

pub struct PasswordService {
    core: Core,
}

fn bad_token() -> ServiceError {
    ServiceError::field("token", "is invalid, expired or already used")
}

impl PasswordService {
    pub(crate) fn new(core: Core) -> Self {
        Self { core }
    }

    async fn owner_check(&self, user: &User, field: &str, password: &str) -> ServiceResult<()> {
        let ctx = self.core.tenant_context(user.tenant_id).await?;
        let owner = Owner {
            email: user.email.as_str(),
            full_name: &user.full_name,
            tenant_name: &ctx.tenant.name,
            tenant_slug: ctx.tenant.slug.as_str(),
            user: Some((user.tenant_id, user.id)),
        };
        check_new_password(&self.core, field, password, &ctx.settings.password_policy, &owner).await
    }

    async fn store(&self, user: &User, password: String) -> ServiceResult<()> {
        let policy = self.core.tenant_context(user.tenant_id).await?.settings.password_policy.clone();
        let hash = self.core.passwords.hash(password).await?;
        let now = self.core.clock.now();
        self.core.repos.credentials.change_password(user.tenant_id, user.id, &hash, policy.history, now).await?;
        Ok(())
    }

    async fn notify(&self, user: &User, how: &str) {
        let text = format!(
            "The password of your account {} was {how} at {}.\n\nIf this was not you, reset your password at once and tell your administrator.\n",
            user.email,
            self.core.clock.now().format("%Y-%m-%d %H:%M UTC"),
        );
        self.core.mail(&user.email, "Your password was changed", text).await;
    }

    /// 204; a wrong `current_password` is 422 on that field. The caller's other sessions
    /// are revoked, the current one stays.
    #[tracing::instrument(skip_all, fields(tenant_id = %principal.home_tenant_id))]
    pub async fn change(&self, principal: &Principal, current: &str, new: &str) -> ServiceResult<()> {
        let user = self.core.repos.users.get(principal.home_tenant_id, principal.user_id).await?;
        let check = self.core.passwords.verify(current.to_owned(), user.password_hash.clone()).await?;
        if !matches!(check, PasswordCheck::Valid { .. }) {
            return Err(ServiceError::field("current_password", "is not the current password"));
        }
        self.owner_check(&user, "new_password", new).await?;
        self.store(&user, new.to_owned()).await?;
        self.core.revoke_user_sessions(user.tenant_id, user.id, principal.session_id).await?;
        self.core.record("user.password_changed", user.tenant_id, Some(user.id), serde_json::json!({})).await;
        self.notify(&user, "changed").await;
        Ok(())
    }

    /// Always succeeds (202) whether or not the account exists; the lookup and the mail
    /// happen in the background so neither status nor timing tells.
    pub fn forgot(self: &std::sync::Arc<Self>, email: &str, tenant_slug: &str) {
        let (this, email, slug) = (self.clone(), email.to_owned(), tenant_slug.to_owned());
        tokio::spawn(async move {
            if let Err(e) = this.send_reset(&email, &slug).await {
                tracing::error!(error = %e, "password reset request failed");
            }
        });
    }

    async fn send_reset(&self, email: &str, slug: &str) -> ServiceResult<()> {
        let (Ok(slug), Ok(email)) = (Slug::parse_any(slug), Email::parse(email)) else { return Ok(()) };
        let Some(tenant) = self.core.repos.tenants.find_by_slug(&slug).await? else { return Ok(()) };
        if tenant.status != TenantStatus::Active {
            return Ok(());
        }
        let Some(user) = self.core.repos.users.find_by_email(tenant.id, &email).await? else { return Ok(()) };
        if user.status != UserStatus::Active {
            return Ok(());
        }
        let token = new_refresh_token_for(tenant.id.as_uuid()).map_err(ServiceError::internal)?;
        let now = self.core.clock.now();
        let reset = PasswordReset {
            id: self.core.ids.new_id(),
            tenant_id: tenant.id,
            user_id: user.id,
            token_hash: hash_token(&token),
            created_at: now,
            expires_at: now + Duration::minutes(RESET_LIFETIME_MINUTES),
            used_at: None,
        };
        self.core.repos.credentials.create_reset(tenant.id, &reset).await?;
        let link = format!("{}?token={token}", self.core.config.reset_link_base);
        let text = format!(
            "Someone asked to reset the password of your account {} at {}.\n\nReset it here (the link works once, for {RESET_LIFETIME_MINUTES} minutes):\n{link}\n\nIf this was not you, ignore this mail.\n",
            user.email, tenant.name,
        );
        self.core.mail(&user.email, "Reset your password", text).await;
        self.core.record("user.password_reset_requested", tenant.id, Some(user.id), serde_json::json!({})).await;
        Ok(())
    }

    /// 204; an invalid, expired or used token is 422 on `token`. Every session of the user
    /// is revoked.
    pub async fn reset(&self, token: &str, new: &str) -> ServiceResult<()> {
        let tenant = refresh_token_tenant(token).map(TenantId).ok_or_else(bad_token)?;
        let hash = hash_token(token);
        let now = self.core.clock.now();
        let user_id: UserId = match self.core.repos.credentials.find_reset(tenant, &hash, now).await {
            Ok(u) => u,
            Err(RepoError::NotFound) => return Err(bad_token()),
            Err(e) => return Err(e.into()),
        };
        let user = self.core.repos.users.get(tenant, user_id).await.map_err(|_| bad_token())?;
        self.owner_check(&user, "new_password", new).await?;
        match self.core.repos.credentials.consume_reset(tenant, &hash, now).await {
            Ok(_) => {}
            Err(RepoError::NotFound) => return Err(bad_token()),
            Err(e) => return Err(e.into()),
        }
        self.store(&user, new.to_owned()).await?;
        self.core.revoke_user_sessions(tenant, user.id, None).await?;
        // A reset proves the address and ends any lockout.
        let key = crate::auth::lockout_key(tenant, user.email.as_str());
        self.core.lockouts.reset(&key).await?;
        self.core.record("user.password_reset", tenant, Some(user.id), serde_json::json!({})).await;
        self.notify(&user, "reset").await;
        Ok(())
    }
}

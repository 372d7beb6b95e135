//! Invitations (SPEC §5): single-use, 7-day tokens that let a person register into an
//! existing tenant with a given role.

use crate::password_policy::{Owner, check_new_password};
use crate::rules::{Errors, check_grantable, check_name, require};
use crate::users::build_user;
use crate::{Core, ServiceError, ServiceResult};
use chrono::Duration;
use tessera_auth::opaque::{hash_token, new_refresh_token_for, refresh_token_tenant};
use tessera_domain::credentials::Invitation;
use tessera_domain::{Email, FieldError, Page, PageRequest, Permission, Principal, RepoError, Tenant, TenantId, User};
use uuid::Uuid;

const LIFETIME_DAYS: i64 = 7;

pub struct InvitationService {
    core: Core,
}

/// The answer to a new invitation: the token appears only here.
#[derive(Clone)]
pub struct IssuedInvitation {
    pub invitation: Invitation,
    pub token: String,
}

impl std::fmt::Debug for IssuedInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedInvitation").field("invitation", &self.invitation.id).finish_non_exhaustive()
    }
}

fn invalid_token() -> ServiceError {
    ServiceError::field(
        "invitation_token",
        "is invalid, expired, used, revoked, of another tenant or for another email",
    )
}

impl InvitationService {
    pub(crate) fn new(core: Core) -> Self {
        Self { core }
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %principal.tenant_id))]
    pub async fn create(&self, principal: &Principal, email: &str, role: &str) -> ServiceResult<IssuedInvitation> {
        require(principal, Permission::UsersWrite)?;
        let mut errors = Errors::default();
        let email = errors.check(Email::parse(email).map_err(|e| FieldError::new("email", e.to_string())));
        let role = match check_grantable(principal, role) {
            Ok(r) => Some(r),
            Err(ServiceError::Validation(v)) => {
                errors.extend(v);
                None
            }
            Err(other) => return Err(other),
        };
        errors.finish()?;
        let (Some(email), Some(role)) = (email, role) else {
            return Err(ServiceError::Internal("validated values missing".into()));
        };
        let tenant = principal.tenant_id;
        let token = new_refresh_token_for(tenant.as_uuid()).map_err(ServiceError::internal)?;
        let now = self.core.clock.now();
        let invitation = Invitation {
            id: self.core.ids.new_id(),
            tenant_id: tenant,
            email,
            role,
            token_hash: hash_token(&token),
            created_by: principal.user_id,
            created_at: now,
            expires_at: now + Duration::days(LIFETIME_DAYS),
            accepted_at: None,
            revoked_at: None,
        };
        self.core.repos.invitations.insert(tenant, &invitation).await.map_err(|e| match e {
            RepoError::Conflict(what) if what == "email" => {
                ServiceError::Conflict("a user with this email already exists in the tenant".into())
            }
            RepoError::Conflict(_) => ServiceError::Conflict("a pending invitation for this email exists".into()),
            other => other.into(),
        })?;
        let data = serde_json::json!({ "invitation_id": invitation.id, "role": invitation.role });
        self.core.record("invitation.created", tenant, Some(principal.user_id), data).await;
        Ok(IssuedInvitation { invitation, token })
    }

    pub async fn list(&self, principal: &Principal, page: PageRequest) -> ServiceResult<Page<Invitation>> {
        require(principal, Permission::UsersWrite)?;
        Ok(self.core.repos.invitations.list(principal.tenant_id, page).await?)
    }

    pub async fn get(&self, principal: &Principal, id: Uuid) -> ServiceResult<Invitation> {
        require(principal, Permission::UsersWrite)?;
        Ok(self.core.repos.invitations.get(principal.tenant_id, id).await?)
    }

    pub async fn revoke(&self, principal: &Principal, id: Uuid) -> ServiceResult<()> {
        require(principal, Permission::UsersWrite)?;
        self.core.repos.invitations.revoke(principal.tenant_id, id, self.core.clock.now()).await.map_err(
            |e| match e {
                RepoError::Conflict(_) => ServiceError::Conflict("the invitation was already accepted".into()),
                other => other.into(),
            },
        )?;
        let data = serde_json::json!({ "invitation_id": id });
        self.core.record("invitation.revoked", principal.tenant_id, Some(principal.user_id), data).await;
        Ok(())
    }

    /// `POST /auth/register` into the existing `tenant` with an invitation token.
    pub(crate) async fn register(
        &self,
        tenant: &Tenant,
        token: &str,
        email: &str,
        password: &str,
        full_name: &str,
    ) -> ServiceResult<User> {
        if refresh_token_tenant(token).map(TenantId) != Some(tenant.id) {
            return Err(invalid_token());
        }
        let mut errors = Errors::default();
        let parsed = errors.check(Email::parse(email).map_err(|e| FieldError::new("email", e.to_string())));
        let name = errors.check(check_name("full_name", full_name));
        errors.finish()?;
        let (Some(email), Some(full_name)) = (parsed, name) else {
            return Err(ServiceError::Internal("validated values missing".into()));
        };
        let ctx = self.core.tenant_context(tenant.id).await?;
        let owner = Owner {
            email: email.as_str(),
            full_name: &full_name,
            tenant_name: &tenant.name,
            tenant_slug: tenant.slug.as_str(),
            user: None,
        };
        check_new_password(&self.core, "password", password, &ctx.settings.password_policy, &owner).await?;
        let hash = self.core.passwords.hash(password.to_owned()).await?;
        let user = build_user(&self.core, tenant.id, email, full_name, tessera_domain::RoleName::viewer(), hash);
        let now = self.core.clock.now();
        let user = match self.core.repos.invitations.accept(tenant.id, &hash_token(token), &user, now).await {
            Ok(u) => u,
            Err(RepoError::NotFound) => return Err(invalid_token()),
            Err(RepoError::Conflict(_)) => {
                return Err(ServiceError::Conflict("a user with this email already exists in the tenant".into()));
            }
            Err(e) => return Err(e.into()),
        };
        let data = serde_json::json!({ "user_id": user.id, "role": user.role });
        self.core.record("invitation.accepted", tenant.id, Some(user.id), data).await;
        Ok(user)
    }
}

//! Tenants (SPEC §3): registration, provisioning, reading, patching, suspension and
//! soft deletion.

use crate::password_policy::{Owner, check_new_password};
use crate::rules::{Errors, check_name, check_password, reach, require, require_super_admin};
use crate::users::build_user;
use crate::{Core, ServiceError, ServiceResult};
use tessera_domain::values::SlugError;
use tessera_domain::{
    Email, Page, PageRequest, Permission, Plan, Principal, RoleName, Slug, Tenant, TenantId, TenantStatus, User, UserId,
};

/// The first admin of a new tenant.
#[derive(Debug, Clone)]
pub struct AdminInput {
    pub email: String,
    pub password: String,
    pub full_name: String,
}

/// `POST /tenants` by a super_admin.
#[derive(Debug, Clone)]
pub struct NewTenantInput {
    pub slug: String,
    pub name: String,
    pub plan: Option<String>,
    pub admin: AdminInput,
}

/// `POST /auth/register`: a new slug creates the tenant with the caller as its admin.
#[derive(Debug, Clone)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub full_name: String,
    pub tenant_slug: String,
    pub tenant_name: Option<String>,
    pub invitation_token: Option<String>,
}

/// A merge patch of a tenant: absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub plan: Option<String>,
}

/// What `provision` creates; `prefix` is where the admin's fields sit in the request
/// (`admin.` or nothing), so validation errors name the client's field.
pub(crate) struct Provision<'a> {
    pub slug: Slug,
    pub name: &'a str,
    pub name_field: &'a str,
    pub plan: Plan,
    pub admin: AdminInput,
    pub prefix: &'a str,
    pub role: RoleName,
}

pub struct TenantService {
    core: Core,
}

impl TenantService {
    pub(crate) fn new(core: Core) -> Self {
        Self { core }
    }

    /// Self-service registration. A reserved slug is refused first (422 `tenant_slug`);
    /// an existing slug needs an invitation (409 without one).
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, input: RegisterInput) -> ServiceResult<(User, Tenant)> {
        let slug = match Slug::parse_registrable(&input.tenant_slug) {
            Ok(s) => s,
            Err(SlugError::Reserved) => {
                return Err(ServiceError::field("tenant_slug", "is reserved"));
            }
            Err(e) => return Err(ServiceError::field("tenant_slug", e.to_string())),
        };
        if let Some(existing) = self.core.repos.tenants.find_by_slug(&slug).await? {
            return match input.invitation_token {
                Some(token) if existing.status == TenantStatus::Active => {
                    let invitations = crate::invitations::InvitationService::new(self.core.clone());
                    let user = invitations
                        .register(&existing, &token, &input.email, &input.password, &input.full_name)
                        .await?;
                    Ok((user, existing))
                }
                Some(_) => Err(ServiceError::field(
                    "invitation_token",
                    "is invalid, expired, used, revoked, of another tenant or for another email",
                )),
                None => {
                    Err(ServiceError::Conflict("tenant slug is taken; registering into it needs an invitation".into()))
                }
            };
        }
        if input.invitation_token.is_some() {
            return Err(ServiceError::field("invitation_token", "is invalid, expired or already used"));
        }
        let name = input.tenant_name.clone().unwrap_or_else(|| slug.as_str().to_owned());
        let admin = AdminInput { email: input.email, password: input.password, full_name: input.full_name };
        self.provision(Provision {
            slug,
            name: &name,
            name_field: "tenant_name",
            plan: Plan::Standard,
            admin,
            prefix: "",
            role: RoleName::admin(),
        })
        .await
    }

    /// Creates a tenant and its admin (super_admin only).
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, principal: &Principal, input: NewTenantInput) -> ServiceResult<Tenant> {
        require_super_admin(principal)?;
        let mut errors = Errors::default();
        let slug = errors.check(
            Slug::parse_registrable(&input.slug).map_err(|e| tessera_domain::FieldError::new("slug", e.to_string())),
        );
        let plan = match input.plan.as_deref() {
            None => Some(Plan::Standard),
            Some(p) => errors.check(
                Plan::parse(p)
                    .ok_or_else(|| tessera_domain::FieldError::new("plan", "must be standard, premium or enterprise")),
            ),
        };
        errors.finish()?;
        let (Some(slug), Some(plan)) = (slug, plan) else {
            return Err(ServiceError::Internal("validated values missing".into()));
        };
        let (_, tenant) = self
            .provision(Provision {
                slug,
                name: &input.name,
                name_field: "name",
                plan,
                admin: input.admin,
                prefix: "admin.",
                role: RoleName::admin(),
            })
            .await?;
        Ok(tenant)
    }

    /// Creates the tenant and its first user in one unit of work; nothing is left on failure.
    pub(crate) async fn provision(&self, spec: Provision<'_>) -> ServiceResult<(User, Tenant)> {
        let Provision { slug, name, name_field, plan, admin, prefix, role } = spec;
        let cfg = &self.core.config;
        let mut errors = Errors::default();
        let name = errors.check(check_name(name_field, name));
        let email = errors.check(
            Email::parse(&admin.email)
                .map_err(|e| tessera_domain::FieldError::new(format!("{prefix}email"), e.to_string())),
        );
        let full_name = errors.check(check_name(&format!("{prefix}full_name"), &admin.full_name));
        errors.check(check_password(
            &format!("{prefix}password"),
            &admin.password,
            &cfg.platform_settings.password_policy,
        ));
        errors.finish()?;
        let (Some(name), Some(email), Some(full_name)) = (name, email, full_name) else {
            return Err(ServiceError::Internal("validated values missing".into()));
        };
        if self.core.repos.tenants.find_by_slug(&slug).await?.is_some() {
            return Err(ServiceError::Conflict("tenant slug is taken".into()));
        }
        let owner = Owner {
            email: email.as_str(),
            full_name: &full_name,
            tenant_name: &name,
            tenant_slug: slug.as_str(),
            user: None,
        };
        let field = format!("{prefix}password");
        check_new_password(&self.core, &field, &admin.password, &cfg.platform_settings.password_policy, &owner).await?;
        let password_hash = self.core.passwords.hash(admin.password).await?;
        let now = self.core.clock.now();
        let id = TenantId(self.core.ids.new_id());
        let user = build_user(&self.core, id, email, full_name, role, password_hash);
        let tenant = Tenant {
            id,
            slug,
            name,
            status: TenantStatus::Active,
            plan,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        self.core.repos.tenants.provision(&tenant, &user).await.map_err(|e| match e {
            tessera_domain::RepoError::Conflict(_) => ServiceError::Conflict("tenant slug is taken".into()),
            other => other.into(),
        })?;
        tracing::info!(tenant_id = %tenant.id, "tenant provisioned");
        let data = serde_json::json!({ "slug": tenant.slug, "plan": tenant.plan, "admin_id": user.id });
        self.core.record("tenant.created", tenant.id, None, data).await;
        Ok((user, tenant))
    }

    /// `tessera create-admin`: the platform tenant and a super_admin in it. Idempotent: an
    /// existing platform tenant gets the user added, an existing user is left as it is.
    pub async fn ensure_platform_admin(&self, email: &str, password: &str, full_name: &str) -> ServiceResult<User> {
        let repos = &self.core.repos;
        let admin = AdminInput { email: email.into(), password: password.into(), full_name: full_name.into() };
        let Some(platform) = repos.tenants.find_by_slug(&Slug::platform()).await? else {
            let (user, _) = self
                .provision(Provision {
                    slug: Slug::platform(),
                    name: "Platform",
                    name_field: "name",
                    plan: Plan::Enterprise,
                    admin,
                    prefix: "",
                    role: RoleName::super_admin(),
                })
                .await?;
            return Ok(user);
        };
        let parsed = Email::parse(email).map_err(|e| ServiceError::field("email", e.to_string()))?;
        if let Some(existing) = repos.users.find_by_email(platform.id, &parsed).await? {
            return Ok(existing);
        }
        let cfg = &self.core.config;
        check_password("password", password, &cfg.platform_settings.password_policy)
            .map_err(|e| ServiceError::Validation(vec![e]))?;
        let full_name = check_name("full_name", full_name).map_err(|e| ServiceError::Validation(vec![e]))?;
        let owner = Owner {
            email: parsed.as_str(),
            full_name: &full_name,
            tenant_name: &platform.name,
            tenant_slug: "platform",
            user: None,
        };
        check_new_password(&self.core, "password", password, &cfg.platform_settings.password_policy, &owner).await?;
        let hash = self.core.passwords.hash(password.to_owned()).await?;
        let user = build_user(&self.core, platform.id, parsed, full_name, RoleName::super_admin(), hash);
        repos.users.insert(platform.id, &user).await?;
        Ok(user)
    }

    /// Its admin (`tenant:manage`) or a super_admin; another tenant's id → 404.
    pub async fn get(&self, principal: &Principal, id: TenantId) -> ServiceResult<Tenant> {
        reach(principal, id)?;
        require(principal, Permission::TenantManage)?;
        self.core.repos.tenants.get(id).await.map_err(Into::into)
    }

    pub async fn list(&self, principal: &Principal, page: PageRequest) -> ServiceResult<Page<Tenant>> {
        require_super_admin(principal)?;
        self.core.repos.tenants.list(page).await.map_err(Into::into)
    }

    /// Renames the tenant; changing the plan needs a super_admin.
    pub async fn patch(&self, principal: &Principal, id: TenantId, patch: TenantPatch) -> ServiceResult<Tenant> {
        let mut tenant = self.get(principal, id).await?;
        let mut errors = Errors::default();
        if let Some(name) = &patch.name
            && let Some(n) = errors.check(check_name("name", name))
        {
            tenant.name = n;
        }
        if let Some(plan) = &patch.plan {
            match Plan::parse(plan) {
                Some(p) => {
                    if p != tenant.plan {
                        require_super_admin(principal)?;
                    }
                    tenant.plan = p;
                }
                None => errors.push("plan", "must be standard, premium or enterprise"),
            }
        }
        errors.finish()?;
        tenant.updated_at = self.core.clock.now();
        self.core.repos.tenants.update(&tenant).await?;
        self.core.invalidate_tenant(tenant.id).await;
        let data = serde_json::json!({ "name": tenant.name, "plan": tenant.plan });
        self.core.record("tenant.updated", tenant.id, Some(principal.user_id), data).await;
        Ok(tenant)
    }

    /// Soft delete: status `deleted`, 30-day grace during which a super_admin can restore it.
    pub async fn delete(&self, principal: &Principal, id: TenantId) -> ServiceResult<()> {
        let tenant = self.get(principal, id).await?;
        self.set_status(principal.user_id, tenant, TenantStatus::Deleted).await.map(|_| ())
    }

    pub async fn suspend(&self, principal: &Principal, id: TenantId) -> ServiceResult<Tenant> {
        reach(principal, id)?;
        require_super_admin(principal)?;
        let tenant = self.core.repos.tenants.get(id).await?;
        self.set_status(principal.user_id, tenant, TenantStatus::Suspended).await
    }

    pub async fn activate(&self, principal: &Principal, id: TenantId) -> ServiceResult<Tenant> {
        reach(principal, id)?;
        require_super_admin(principal)?;
        let tenant = self.core.repos.tenants.get(id).await?;
        self.set_status(principal.user_id, tenant, TenantStatus::Active).await
    }

    async fn set_status(&self, actor: UserId, mut tenant: Tenant, status: TenantStatus) -> ServiceResult<Tenant> {
        if tenant.slug == Slug::platform() && status != TenantStatus::Active {
            return Err(ServiceError::Conflict("the platform tenant cannot be suspended or deleted".into()));
        }
        let now = self.core.clock.now();
        tenant.deleted_at = if status == TenantStatus::Deleted { Some(now) } else { None };
        tenant.status = status;
        tenant.updated_at = now;
        self.core.repos.tenants.update(&tenant).await?;
        self.core.invalidate_tenant(tenant.id).await;
        tracing::info!(tenant_id = %tenant.id, status = status.as_str(), "tenant status changed");
        let kind = match status {
            TenantStatus::Active => "tenant.activated",
            TenantStatus::Suspended => "tenant.suspended",
            TenantStatus::Deleted => "tenant.deleted",
        };
        self.core.record(kind, tenant.id, Some(actor), serde_json::json!({})).await;
        Ok(tenant)
    }
}

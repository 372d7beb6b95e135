//! Users and their built-in roles (SPEC §5): CRUD, role changes, disable/enable, with the
//! grant, last-admin and self rules.

use crate::password_policy::{Owner, check_new_password};
use crate::rules::{Errors, check_grantable, check_name, check_password, require};
use crate::{Core, ServiceError, ServiceResult};
use tessera_domain::ports::AdminGuard;
use tessera_domain::{
    Email, FieldError, Page, PageRequest, Permission, Principal, RepoError, RoleName, TenantId, User, UserId,
    UserStatus,
};

#[derive(Debug, Clone)]
pub struct NewUserInput {
    pub email: String,
    pub full_name: String,
    pub role: String,
    pub password: String,
    pub require_password_change: bool,
}

/// A merge patch of a user: absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub full_name: Option<String>,
    pub email: Option<String>,
}

/// Builds a new active user with fresh id and timestamps.
pub(crate) fn build_user(
    core: &Core,
    tenant: TenantId,
    email: Email,
    full_name: String,
    role: RoleName,
    password_hash: String,
) -> User {
    let now = core.clock.now();
    User {
        id: UserId(core.ids.new_id()),
        tenant_id: tenant,
        email,
        full_name,
        role,
        status: UserStatus::Active,
        mfa_enabled: false,
        password_hash,
        require_password_change: false,
        password_changed_at: now,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    }
}

fn email_field(field: &str, raw: &str) -> Result<Email, FieldError> {
    Email::parse(raw).map_err(|e| FieldError::new(field, e.to_string()))
}

/// Maps storage conflicts of user writes to client-facing messages.
fn user_conflict(e: RepoError) -> ServiceError {
    match e {
        RepoError::Conflict(what) if what == "email" => {
            ServiceError::Conflict("a user with this email already exists in the tenant".into())
        }
        RepoError::Conflict(what) if what == "last_admin" => {
            ServiceError::Conflict("the last admin of a tenant cannot be demoted, disabled or deleted".into())
        }
        other => other.into(),
    }
}

pub struct UserService {
    core: Core,
}

impl UserService {
    pub(crate) fn new(core: Core) -> Self {
        Self { core }
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %principal.tenant_id))]
    pub async fn create(&self, principal: &Principal, input: NewUserInput) -> ServiceResult<User> {
        require(principal, Permission::UsersWrite)?;
        let ctx = self.core.tenant_context(principal.tenant_id).await?;
        let mut errors = Errors::default();
        let email = errors.check(email_field("email", &input.email));
        let full_name = errors.check(check_name("full_name", &input.full_name));
        errors.check(check_password("password", &input.password, &ctx.settings.password_policy));
        // Grant rules answer 403 before field errors only when the fields are otherwise fine.
        let role = match check_grantable(principal, &input.role) {
            Ok(r) => Some(r),
            Err(ServiceError::Validation(mut v)) => {
                errors.extend(v.drain(..));
                None
            }
            Err(other) => return Err(other),
        };
        errors.finish()?;
        let (Some(email), Some(full_name), Some(role)) = (email, full_name, role) else {
            return Err(ServiceError::Internal("validated values missing".into()));
        };
        let tenant = principal.tenant_id;
        if self.core.repos.users.find_by_email(tenant, &email).await?.is_some() {
            return Err(ServiceError::Conflict("a user with this email already exists in the tenant".into()));
        }
        let owner = Owner {
            email: email.as_str(),
            full_name: &full_name,
            tenant_name: &ctx.tenant.name,
            tenant_slug: ctx.tenant.slug.as_str(),
            user: None,
        };
        check_new_password(&self.core, "password", &input.password, &ctx.settings.password_policy, &owner).await?;
        let hash = self.core.passwords.hash(input.password).await?;
        let mut user = build_user(&self.core, tenant, email, full_name, role, hash);
        user.require_password_change = input.require_password_change;
        self.core.repos.users.insert(tenant, &user).await.map_err(user_conflict)?;
        tracing::info!(user_id = %user.id, "user created");
        let data = serde_json::json!({ "user_id": user.id, "role": user.role });
        self.core.record("user.created", tenant, Some(principal.user_id), data).await;
        Ok(user)
    }

    /// `users:read`, or the caller reading themself.
    pub async fn get(&self, principal: &Principal, id: UserId) -> ServiceResult<User> {
        if principal.user_id != id {
            require(principal, Permission::UsersRead)?;
        }
        let user = self.core.repos.users.get(principal.tenant_id, id).await?;
        self.with_lock_status(user).await
    }

    pub async fn list(&self, principal: &Principal, page: PageRequest) -> ServiceResult<Page<User>> {
        require(principal, Permission::UsersRead)?;
        let page = self.core.repos.users.list(principal.tenant_id, page).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for user in page.items {
            items.push(self.with_lock_status(user).await?);
        }
        Ok(Page { items, next_after: page.next_after })
    }

    /// `locked` while a login lockout lasts (SPEC §6.5); the stored status stays `active`.
    async fn with_lock_status(&self, mut user: User) -> ServiceResult<User> {
        if user.status == UserStatus::Active {
            let key = crate::auth::lockout_key(user.tenant_id, user.email.as_str());
            if self.core.lockouts.locked_for(&key, self.core.clock.now()).await?.is_some() {
                user.status = UserStatus::Locked;
            }
        }
        Ok(user)
    }

    /// `POST /users/{id}/unlock`: clears a login lockout (`users:write`).
    pub async fn unlock(&self, principal: &Principal, id: UserId) -> ServiceResult<User> {
        require(principal, Permission::UsersWrite)?;
        let user = self.core.repos.users.get(principal.tenant_id, id).await?;
        let key = crate::auth::lockout_key(user.tenant_id, user.email.as_str());
        self.core.lockouts.reset(&key).await?;
        let data = serde_json::json!({ "user_id": id });
        self.core.record("user.unlocked", principal.tenant_id, Some(principal.user_id), data).await;
        Ok(user)
    }

    pub async fn patch(&self, principal: &Principal, id: UserId, patch: UserPatch) -> ServiceResult<User> {
        require(principal, Permission::UsersWrite)?;
        let mut user = self.core.repos.users.get(principal.tenant_id, id).await?;
        let mut errors = Errors::default();
        if let Some(name) = &patch.full_name
            && let Some(n) = errors.check(check_name("full_name", name))
        {
            user.full_name = n;
        }
        if let Some(email) = &patch.email
            && let Some(e) = errors.check(email_field("email", email))
        {
            user.email = e;
        }
        errors.finish()?;
        self.write(user, AdminGuard::None).await
    }

    /// `PUT /users/{id}/role`: grant rules, then the last-admin rule.
    pub async fn set_role(&self, principal: &Principal, id: UserId, role: &str) -> ServiceResult<User> {
        require(principal, Permission::UsersWrite)?;
        let role = check_grantable(principal, role)?;
        let mut user = self.core.repos.users.get(principal.tenant_id, id).await?;
        // Nobody takes away a role that holds more than they do (e.g. an admin's, from a non-admin).
        check_grantable(principal, user.role.as_str())?;
        user.role = role;
        let user = self.write(user, AdminGuard::KeepOne).await?;
        // SPEC §6.2: a role change or a disable revokes the user's sessions everywhere.
        self.core.revoke_user_sessions(user.tenant_id, user.id, None).await?;
        Ok(user)
    }

    pub async fn disable(&self, principal: &Principal, id: UserId) -> ServiceResult<User> {
        require(principal, Permission::UsersWrite)?;
        if principal.user_id == id {
            return Err(ServiceError::Conflict("you cannot disable yourself".into()));
        }
        let mut user = self.core.repos.users.get(principal.tenant_id, id).await?;
        user.status = UserStatus::Disabled;
        let user = self.write(user, AdminGuard::KeepOne).await?;
        // SPEC §6.2: a role change or a disable revokes the user's sessions everywhere.
        self.core.revoke_user_sessions(user.tenant_id, user.id, None).await?;
        Ok(user)
    }

    pub async fn enable(&self, principal: &Principal, id: UserId) -> ServiceResult<User> {
        require(principal, Permission::UsersWrite)?;
        let mut user = self.core.repos.users.get(principal.tenant_id, id).await?;
        user.status = UserStatus::Active;
        self.write(user, AdminGuard::None).await
    }

    pub async fn delete(&self, principal: &Principal, id: UserId) -> ServiceResult<()> {
        require(principal, Permission::UsersDelete)?;
        if principal.user_id == id {
            return Err(ServiceError::Conflict("you cannot delete yourself".into()));
        }
        self.core.repos.users.delete(principal.tenant_id, id, AdminGuard::KeepOne).await.map_err(user_conflict)?;
        tracing::info!(user_id = %id, "user deleted");
        // Their sessions went with them; drop what replicas cached.
        self.core
            .broadcast(tessera_domain::ports::Invalidation::User { tenant_id: principal.tenant_id, user_id: id })
            .await;
        let data = serde_json::json!({ "user_id": id });
        self.core.record("user.deleted", principal.tenant_id, Some(principal.user_id), data).await;
        Ok(())
    }

    async fn write(&self, mut user: User, guard: AdminGuard) -> ServiceResult<User> {
        user.updated_at = self.core.clock.now();
        self.core.repos.users.update(user.tenant_id, &user, guard).await.map_err(user_conflict)?;
        Ok(user)
    }
}

//! The tenant's password policy applied to a new password (SPEC §6.5): the rules of
//! `tessera-auth` (length, classes, strength, containment), then the breached-password port
//! and the user's history (Argon2 comparisons on the blocking pool).

use crate::{Core, ServiceError, ServiceResult};
use tessera_auth::password_policy::{self, PolicyContext};
use tessera_domain::settings::PasswordPolicy;
use tessera_domain::{FieldError, TenantId, UserId};

/// Who the password is for, so it may not contain their email or the tenant's name.
pub(crate) struct Owner<'a> {
    pub email: &'a str,
    pub full_name: &'a str,
    pub tenant_name: &'a str,
    pub tenant_slug: &'a str,
    /// An existing user (history applies); `None` for a new one.
    pub user: Option<(TenantId, UserId)>,
}

/// 422 naming `field` with every rule the password breaks.
pub(crate) async fn check_new_password(
    core: &Core,
    field: &str,
    password: &str,
    policy: &PasswordPolicy,
    owner: &Owner<'_>,
) -> ServiceResult<()> {
    // zxcvbn can take milliseconds: run the rules on the blocking pool.
    let owned = (
        password.to_owned(),
        policy.clone(),
        [owner.email, owner.full_name, owner.tenant_name, owner.tenant_slug].map(str::to_owned),
    );
    let messages = tokio::task::spawn_blocking(move || {
        let (password, policy, [email, full_name, tenant_name, tenant_slug]) = owned;
        let ctx = PolicyContext {
            email: &email,
            full_name: &full_name,
            tenant_name: &tenant_name,
            tenant_slug: &tenant_slug,
        };
        password_policy::check(&password, &policy, &ctx).iter().map(|v| v.message()).collect::<Vec<_>>()
    })
    .await
    .map_err(ServiceError::internal)?;
    let mut errors: Vec<FieldError> = messages.into_iter().map(|m| FieldError::new(field, m)).collect();
    if errors.is_empty() && policy.check_breached && core.breached.is_breached(password).await? {
        errors.push(FieldError::new(field, "is a known breached or common password"));
    }
    if errors.is_empty()
        && policy.history > 0
        && let Some((tenant, user)) = owner.user
    {
        let mut hashes = core.repos.credentials.password_history(tenant, user, policy.history).await?;
        hashes.push(core.repos.users.get(tenant, user).await?.password_hash);
        if core.passwords.matches_any(password.to_owned(), hashes).await? {
            errors.push(FieldError::new(field, format!("must differ from the last {} passwords", policy.history)));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ServiceError::Validation(errors)) }
}

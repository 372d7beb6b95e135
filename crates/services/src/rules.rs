//! Authorization and input rules shared by the services (SPEC §5).

use crate::{ServiceError, ServiceResult};
use tessera_domain::settings::PasswordPolicy;
use tessera_domain::{FieldError, Permission, Principal, RoleName, TenantId};

/// 403 naming `p` unless the caller holds it.
pub(crate) fn require(principal: &Principal, p: Permission) -> ServiceResult<()> {
    if principal.has(p) { Ok(()) } else { Err(ServiceError::Forbidden { missing: p }) }
}

/// 404 unless the caller may see data of `tenant` at all: ids of other tenants cannot be
/// probed (SPEC §2).
pub(crate) fn reach(principal: &Principal, tenant: TenantId) -> ServiceResult<()> {
    if principal.can_reach(tenant) { Ok(()) } else { Err(ServiceError::NotFound) }
}

pub(crate) fn require_super_admin(principal: &Principal) -> ServiceResult<()> {
    if principal.is_super_admin() {
        Ok(())
    } else {
        Err(ServiceError::ForbiddenAction("this action needs the super_admin role".into()))
    }
}

/// Checks that `principal` may grant `role`: the role exists (422, field `role`),
/// `super_admin` only from a super_admin (403), and its permissions are a subset of the
/// caller's (403 naming the first one missing).
pub(crate) fn check_grantable(principal: &Principal, role: &str) -> ServiceResult<RoleName> {
    let role = RoleName::new(role);
    if role.is_super_admin() {
        return if principal.is_super_admin() {
            Ok(role)
        } else {
            Err(ServiceError::ForbiddenAction("only a super_admin can grant super_admin".into()))
        };
    }
    let Some(perms) = role.built_in_permissions() else {
        return Err(ServiceError::field("role", format!("unknown role `{}`", role.as_str())));
    };
    if let Some(missing) = perms.into_iter().find(|p| !principal.has(*p)) {
        return Err(ServiceError::Forbidden { missing });
    }
    Ok(role)
}

/// The tenant's password policy: length and character classes. (Strength, history,
/// breached-password and containment checks arrive with the password lifecycle.)
pub(crate) fn check_password(field: &str, password: &str, policy: &PasswordPolicy) -> Result<(), FieldError> {
    let len = password.chars().count();
    let (min, max) = (policy.min_length as usize, policy.max_length as usize);
    if len < min {
        return Err(FieldError::new(field, format!("must be at least {min} characters")));
    }
    if len > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    if policy.require_classes {
        let classes = [
            password.chars().any(char::is_lowercase),
            password.chars().any(char::is_uppercase),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_alphanumeric()),
        ];
        if classes.contains(&false) {
            return Err(FieldError::new(
                field,
                "must contain a lower-case letter, an upper-case letter, a digit and a symbol",
            ));
        }
    }
    Ok(())
}

/// A display name: 1–200 characters, not blank, no control characters.
pub(crate) fn check_name(field: &str, name: &str) -> Result<String, FieldError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 200 || trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(field, "must be 1 to 200 characters without control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Collects field errors; `finish` fails with all of them at once.
#[derive(Default)]
pub(crate) struct Errors(Vec<FieldError>);

impl Errors {
    pub(crate) fn check<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub(crate) fn push(&mut self, field: &str, message: &str) {
        self.0.push(FieldError::new(field, message));
    }

    pub(crate) fn extend(&mut self, more: impl IntoIterator<Item = FieldError>) {
        self.0.extend(more);
    }

    pub(crate) fn finish(self) -> ServiceResult<()> {
        if self.0.is_empty() { Ok(()) } else { Err(ServiceError::Validation(self.0)) }
    }
}

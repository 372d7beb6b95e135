//! The authenticated caller, as every service call receives it.

use crate::{Permission, RoleName, SessionId, TenantId, UserId};
use std::collections::BTreeSet;

/// Who is calling, in which tenant, with which permissions. Built by the services from a
/// verified token; frontends never construct one from client input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant the caller acts in (for a super-admin using `X-Tenant-Id`, that tenant).
    pub tenant_id: TenantId,
    /// The tenant the caller's account belongs to.
    pub home_tenant_id: TenantId,
    pub user_id: UserId,
    pub role: RoleName,
    pub permissions: BTreeSet<Permission>,
    pub session_id: Option<SessionId>,
}

impl Principal {
    pub fn is_super_admin(&self) -> bool {
        self.role.is_super_admin()
    }

    pub fn has(&self, p: Permission) -> bool {
        self.is_super_admin() || self.permissions.contains(&p)
    }

    /// Every permission the caller holds (all of them for a super_admin), sorted.
    pub fn permissions_list(&self) -> Vec<Permission> {
        if self.is_super_admin() { Permission::ALL.to_vec() } else { self.permissions.iter().copied().collect() }
    }

    /// True when the caller may act on data of `tenant` at all (own tenant, or super-admin).
    pub fn can_reach(&self, tenant: TenantId) -> bool {
        self.is_super_admin() || self.tenant_id == tenant
    }
}

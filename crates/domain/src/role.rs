//! Permissions and the built-in roles of SPEC §5.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

macro_rules! permissions {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// A tenant permission (SPEC §5). `super_admin` holds all of them in every tenant.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission { $($variant),* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name),* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($name => Some(Permission::$variant),)* _ => None }
            }
        }
    };
}

permissions! {
    UsersRead => "users:read",
    UsersWrite => "users:write",
    UsersDelete => "users:delete",
    RolesManage => "roles:manage",
    TenantManage => "tenant:manage",
    AuditRead => "audit:read",
    ApiKeysManage => "api_keys:manage",
    ApisManage => "apis:manage",
    WebhooksManage => "webhooks:manage",
    DataRead => "data:read",
    DataWrite => "data:write",
    DataDelete => "data:delete",
    DataIngest => "data:ingest",
    AnalyticsRead => "analytics:read",
    AnalyticsQuery => "analytics:query",
    AnalyticsExport => "analytics:export",
    ApiAccess => "api:access",
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Permission::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown permission `{s}`")))
    }
}

/// A role's name as stored on a user. Built-in names resolve here; custom roles (a later
/// capability) resolve through a role store, so this is a name, not a closed enum.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleName(String);

impl RoleName {
    pub const SUPER_ADMIN: &'static str = "super_admin";
    pub const ADMIN: &'static str = "admin";
    pub const DEVELOPER: &'static str = "developer";
    pub const ANALYST: &'static str = "analyst";
    pub const VIEWER: &'static str = "viewer";

    /// The built-in tenant roles, in the order `GET /roles` lists them.
    pub const BUILT_IN_TENANT: [&'static str; 4] = [Self::ADMIN, Self::DEVELOPER, Self::ANALYST, Self::VIEWER];

    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn super_admin() -> Self {
        Self::new(Self::SUPER_ADMIN)
    }

    pub fn admin() -> Self {
        Self::new(Self::ADMIN)
    }

    pub fn viewer() -> Self {
        Self::new(Self::VIEWER)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_super_admin(&self) -> bool {
        self.0 == Self::SUPER_ADMIN
    }

    pub fn is_admin(&self) -> bool {
        self.0 == Self::ADMIN
    }

    /// The permissions of a built-in role, or `None` for a name that is not built in.
    pub fn built_in_permissions(&self) -> Option<BTreeSet<Permission>> {
        use Permission::*;
        let list: &[Permission] = match self.0.as_str() {
            Self::SUPER_ADMIN | Self::ADMIN => Permission::ALL,
            Self::DEVELOPER => {
                &[DataRead, DataWrite, ApiAccess, ApiKeysManage, ApisManage, WebhooksManage, AnalyticsRead]
            }
            Self::ANALYST => &[DataRead, AnalyticsRead, AnalyticsQuery, AnalyticsExport, DataIngest],
            Self::VIEWER => &[DataRead, AnalyticsRead],
            _ => return None,
        };
        Some(list.iter().copied().collect())
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(*p));
        }
        assert_eq!(Permission::ALL.len(), 17);
        assert_eq!(Permission::parse("users:nope"), None);
    }

    #[test]
    fn built_in_roles_match_spec() {
        let dev = RoleName::new("developer").built_in_permissions().unwrap_or_default();
        assert!(dev.contains(&Permission::ApiKeysManage));
        assert!(!dev.contains(&Permission::UsersRead));
        let viewer = RoleName::viewer().built_in_permissions().unwrap_or_default();
        assert_eq!(viewer.len(), 2);
        assert!(viewer.is_subset(&dev));
        assert_eq!(RoleName::admin().built_in_permissions().map(|p| p.len()), Some(17));
        assert_eq!(RoleName::new("custom").built_in_permissions(), None);
    }
}

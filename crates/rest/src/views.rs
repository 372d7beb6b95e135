//! Response bodies: what clients see of the domain entities (never a password hash).

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use tessera_domain::{Tenant, User};
use utoipa::ToSchema;
use uuid::Uuid;

/// HATEOAS links of a single resource: `self` and its related actions.
pub type ResourceLinks = BTreeMap<String, String>;

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    #[schema(example = "active")]
    pub status: String,
    #[schema(example = "standard")]
    pub plan: String,
    /// The tenant's setting overrides.
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub links: ResourceLinks,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        let base = format!("/api/v1/tenants/{}", t.id);
        let links =
            [("self", base.clone()), ("suspend", format!("{base}/suspend")), ("activate", format!("{base}/activate"))]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
        Self {
            id: t.id.as_uuid(),
            slug: t.slug.to_string(),
            name: t.name.clone(),
            status: t.status.as_str().to_owned(),
            plan: t.plan.as_str().to_owned(),
            settings: serde_json::json!({}),
            created_at: t.created_at,
            links,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: String,
    #[schema(example = "active")]
    pub status: String,
    pub mfa_enabled: bool,
    pub require_password_change: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub links: ResourceLinks,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        let base = format!("/api/v1/users/{}", u.id);
        let links = [
            ("self", base.clone()),
            ("role", format!("{base}/role")),
            ("disable", format!("{base}/disable")),
            ("enable", format!("{base}/enable")),
            ("tenant", format!("/api/v1/tenants/{}", u.tenant_id)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Self {
            id: u.id.as_uuid(),
            tenant_id: u.tenant_id.as_uuid(),
            email: u.email.to_string(),
            full_name: u.full_name.clone(),
            role: u.role.to_string(),
            status: u.status.as_str().to_owned(),
            mfa_enabled: u.mfa_enabled,
            require_password_change: u.require_password_change,
            created_at: u.created_at,
            last_login_at: u.last_login_at,
            links,
        }
    }
}

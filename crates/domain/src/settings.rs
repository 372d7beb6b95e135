//! Tenant settings (SPEC §3): the document, its hierarchy (platform defaults ← plan
//! defaults ← tenant overrides), JSON merge patches of the overrides, and validation that
//! names the key.

use crate::{FieldError, Plan, RoleName};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    pub password_policy: PasswordPolicy,
    pub mfa: MfaSettings,
    pub sessions: SessionSettings,
    pub tokens: TokenSettings,
    pub rate_limits: RateLimitSettings,
    pub cors_origins: Vec<String>,
    pub features: BTreeMap<String, bool>,
    pub branding: Branding,
    pub retention: Retention,
    pub quotas: Quotas,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub max_length: u32,
    /// Require a lower-case letter, an upper-case letter, a digit and a symbol.
    pub require_classes: bool,
    /// Minimum zxcvbn score, 0 (off) to 4.
    pub min_strength: u8,
    /// How many previous passwords may not be reused.
    pub history: u32,
    /// Days after which a password must be changed; `null` = never.
    pub max_age_days: Option<u32>,
    pub check_breached: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaSettings {
    pub required: bool,
    pub required_roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    pub max_per_user: u32,
    pub idle_timeout_minutes: u32,
    pub absolute_timeout_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    pub access_ttl_seconds: u64,
    pub refresh_ttl_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub per_role_per_minute: BTreeMap<String, u32>,
    /// `null` = unlimited.
    pub tenant_per_hour: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    pub display_name: Option<String>,
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    pub analytics_days: u32,
    pub usage_days: u32,
    pub audit_days: u32,
}

/// SPEC §7 quotas; `null` = unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    pub monthly_requests: Option<u64>,
    pub max_users: Option<u64>,
    pub max_api_keys: Option<u64>,
    pub storage_bytes: Option<u64>,
}

impl Default for TenantSettings {
    /// The built-in platform defaults (SPEC §3, §6.3, §6.5, §7); configuration's
    /// `[tenant_defaults]` is laid over them.
    fn default() -> Self {
        let per_role = [("viewer", 60), ("analyst", 200), ("developer", 300), ("admin", 500), ("super_admin", 10_000)];
        Self {
            password_policy: PasswordPolicy {
                min_length: 12,
                max_length: 128,
                require_classes: false,
                min_strength: 0,
                history: 5,
                max_age_days: None,
                check_breached: true,
            },
            mfa: MfaSettings { required: false, required_roles: Vec::new() },
            sessions: SessionSettings { max_per_user: 10, idle_timeout_minutes: 1440, absolute_timeout_hours: 168 },
            tokens: TokenSettings { access_ttl_seconds: 900, refresh_ttl_seconds: 604_800 },
            rate_limits: RateLimitSettings {
                per_role_per_minute: per_role.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect(),
                tenant_per_hour: Some(10_000),
            },
            cors_origins: Vec::new(),
            features: BTreeMap::new(),
            branding: Branding { display_name: None, logo_url: None, primary_color: None },
            retention: Retention { analytics_days: 90, usage_days: 395, audit_days: 365 },
            quotas: Quotas {
                monthly_requests: Some(1_000_000),
                max_users: Some(1_000),
                max_api_keys: Some(100),
                storage_bytes: Some(GIB),
            },
        }
    }
}

impl TenantSettings {
    /// The document as JSON (for composing and showing).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Platform-wide bounds that no tenant override may exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingsBounds {
    pub max_access_ttl_seconds: u64,
    pub max_refresh_ttl_seconds: u64,
}

const GIB: u64 = 1024 * 1024 * 1024;

/// The plan's overlay on the platform defaults (SPEC §7): rate limit per hour and quotas.
/// Unlike tenant overrides, a `null` here is a value ("unlimited").
pub fn plan_defaults(plan: Plan) -> Value {
    let (per_hour, factor): (Option<u64>, Option<u64>) = match plan {
        Plan::Standard => (Some(10_000), Some(1)),
        Plan::Premium => (Some(50_000), Some(10)),
        Plan::Enterprise => (None, None),
    };
    let q = |base: u64| factor.map(|f| base * f);
    json!({
        "rate_limits": {"tenant_per_hour": per_hour},
        "quotas": {
            "monthly_requests": q(1_000_000),
            "max_users": q(1_000),
            "max_api_keys": q(100),
            "storage_bytes": q(GIB),
        }
    })
}

/// Lays `top` over `base`: objects merge key by key, anything else replaces.
pub fn overlay(base: &mut Value, top: &Value) {
    match (base, top) {
        (Value::Object(b), Value::Object(t)) => {
            for (k, v) in t {
                match b.get_mut(k) {
                    Some(existing) => overlay(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, t) => *b = t.clone(),
    }
}

/// RFC 7396 JSON merge patch, then empty objects pruned (an override object with nothing
/// left in it is no override).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                let entry = t.entry(k.clone()).or_insert(Value::Null);
                merge_patch(entry, v);
                if entry.as_object().is_some_and(Map::is_empty) {
                    t.remove(k);
                }
            }
        }
    }
}

/// The effective document: platform ← plan ← tenant.
pub fn compose(platform: &Value, plan: &Value, tenant: &Value) -> Value {
    let mut doc = platform.clone();
    overlay(&mut doc, plan);
    overlay(&mut doc, tenant);
    doc
}

/// Where each leaf of the effective document comes from: `platform`, `plan` or `tenant`.
pub fn sources(effective: &Value, plan: &Value, tenant: &Value) -> BTreeMap<String, &'static str> {
    let mut out = BTreeMap::new();
    let mut leaves = Vec::new();
    collect_leaves(effective, String::new(), &mut leaves);
    for path in leaves {
        let source = if lookup(tenant, &path).is_some() {
            "tenant"
        } else if lookup(plan, &path).is_some() {
            "plan"
        } else {
            "platform"
        };
        out.insert(path, source);
    }
    out
}

fn collect_leaves(v: &Value, prefix: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                collect_leaves(child, path, out);
            }
        }
        _ => out.push(prefix),
    }
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |node, key| node.as_object()?.get(key))
}

/// Parses an effective document and checks every range, naming the offending key.
///
/// # Errors
/// Unknown keys at any depth, wrong types, and out-of-range values.
pub fn validate(doc: &Value, bounds: SettingsBounds) -> Result<TenantSettings, Vec<FieldError>> {
    let settings: TenantSettings = serde_path_to_error::deserialize(doc).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        vec![FieldError::new(field_of(&path, &message), message)]
    })?;
    let mut errors = Vec::new();
    let mut check = |ok: bool, field: &str, message: String| {
        if !ok {
            errors.push(FieldError::new(field, message));
        }
    };
    let p = &settings.password_policy;
    check(p.min_length >= 8, "password_policy.min_length", "must be at least 8".into());
    check(p.max_length <= 1024, "password_policy.max_length", "must be at most 1024".into());
    check(
        p.min_length <= p.max_length,
        "password_policy.min_length",
        "must not exceed password_policy.max_length".into(),
    );
    check(p.min_strength <= 4, "password_policy.min_strength", "must be between 0 and 4".into());
    check(p.history <= 24, "password_policy.history", "must be at most 24".into());
    check(
        p.max_age_days.is_none_or(|d| (1..=3650).contains(&d)),
        "password_policy.max_age_days",
        "must be 1 to 3650, or null".into(),
    );
    for role in &settings.mfa.required_roles {
        check(is_tenant_role(role), "mfa.required_roles", format!("unknown role `{role}`"));
    }
    let s = &settings.sessions;
    check((1..=1000).contains(&s.max_per_user), "sessions.max_per_user", "must be between 1 and 1000".into());
    check(
        (1..=525_600).contains(&s.idle_timeout_minutes),
        "sessions.idle_timeout_minutes",
        "must be between 1 and 525600".into(),
    );
    check(
        (1..=8760).contains(&s.absolute_timeout_hours),
        "sessions.absolute_timeout_hours",
        "must be between 1 and 8760".into(),
    );
    let t = &settings.tokens;
    let max_access = bounds.max_access_ttl_seconds;
    check(
        (60..=max_access).contains(&t.access_ttl_seconds),
        "tokens.access_ttl_seconds",
        format!("must be between 60 and the platform maximum {max_access}"),
    );
    let max_refresh = bounds.max_refresh_ttl_seconds;
    check(
        t.refresh_ttl_seconds <= max_refresh,
        "tokens.refresh_ttl_seconds",
        format!("must not exceed the platform maximum {max_refresh}"),
    );
    check(
        t.refresh_ttl_seconds >= t.access_ttl_seconds,
        "tokens.refresh_ttl_seconds",
        "must not be shorter than tokens.access_ttl_seconds".into(),
    );
    for (role, n) in &settings.rate_limits.per_role_per_minute {
        let field = format!("rate_limits.per_role_per_minute.{role}");
        check(is_tenant_role(role) || role == RoleName::SUPER_ADMIN, &field, format!("unknown role `{role}`"));
        check((1..=1_000_000).contains(n), &field, "must be between 1 and 1000000".into());
    }
    check(
        settings.rate_limits.tenant_per_hour != Some(0),
        "rate_limits.tenant_per_hour",
        "must be positive, or null".into(),
    );
    for origin in &settings.cors_origins {
        check(is_origin(origin), "cors_origins", format!("`{origin}` is not an origin like https://app.example.com"));
    }
    for name in settings.features.keys() {
        check(
            is_feature_name(name),
            &format!("features.{name}"),
            "feature names are 1-64 characters of a-z, 0-9, _ and -".into(),
        );
    }
    let b = &settings.branding;
    check(
        b.display_name.as_ref().is_none_or(|n| !n.trim().is_empty() && n.chars().count() <= 100),
        "branding.display_name",
        "must be 1 to 100 characters".into(),
    );
    check(
        b.logo_url
            .as_ref()
            .is_none_or(|u| u.starts_with("https://") && u.len() <= 2048 && !u.contains(char::is_whitespace)),
        "branding.logo_url",
        "must be an https URL".into(),
    );
    check(
        b.primary_color.as_ref().is_none_or(|c| is_hex_color(c)),
        "branding.primary_color",
        "must be a color like #1a2b3c".into(),
    );
    let r = &settings.retention;
    for (field, days) in [
        ("retention.analytics_days", r.analytics_days),
        ("retention.usage_days", r.usage_days),
        ("retention.audit_days", r.audit_days),
    ] {
        check((1..=3650).contains(&days), field, "must be between 1 and 3650".into());
    }
    if errors.is_empty() { Ok(settings) } else { Err(errors) }
}

fn is_tenant_role(role: &str) -> bool {
    RoleName::BUILT_IN_TENANT.contains(&role)
}

fn is_origin(o: &str) -> bool {
    let Some(rest) = o.strip_prefix("https://").or_else(|| o.strip_prefix("http://")) else { return false };
    !rest.is_empty() && !rest.contains(['/', '?', '#', ' ', '*', '@']) && o.len() <= 253
}

fn is_feature_name(n: &str) -> bool {
    (1..=64).contains(&n.len())
        && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn is_hex_color(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// serde reports an unknown field at its parent's path; name the field itself.
fn field_of(path: &str, message: &str) -> String {
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
        .filter(|name| !path.ends_with(name));
    match (unknown, path) {
        (Some(name), "." | "") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, ".") => String::new(),
        (None, p) => p.to_owned(),
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;

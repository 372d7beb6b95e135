//! Tenant settings (SPEC §3): the tenant's overrides, merge-patched and validated against
//! the effective document, and the effective document with the source of every key.

use crate::rules::{reach, require};
use crate::tenant_cache::effective_settings;
use crate::{Core, ServiceError, ServiceResult};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tessera_domain::settings::{self, TenantSettings};
use tessera_domain::{FieldError, Permission, Principal, RepoError, TenantId};

/// Objects of the document whose keys are data (role names, feature names), not schema.
const MAP_KEYS: [&str; 2] = ["rate_limits.per_role_per_minute", "features"];

/// `GET /tenants/{id}/settings/effective`.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveSettings {
    pub settings: Value,
    pub sources: BTreeMap<String, &'static str>,
}

pub struct SettingsService {
    core: Core,
}

impl SettingsService {
    pub(crate) fn new(core: Core) -> Self {
        Self { core }
    }

    async fn authorize(&self, principal: &Principal, id: TenantId) -> ServiceResult<()> {
        reach(principal, id)?;
        require(principal, Permission::TenantManage)?;
        Ok(())
    }

    /// The tenant's own overrides (`{}` when it inherits everything).
    pub async fn overrides(&self, principal: &Principal, id: TenantId) -> ServiceResult<Value> {
        self.authorize(principal, id).await?;
        self.core.repos.tenants.settings(id).await.map_err(Into::into)
    }

    /// Applies a JSON merge patch to the overrides (`null` removes one, so the inherited
    /// value shows again) after validating the resulting effective document.
    #[tracing::instrument(skip_all, fields(tenant_id = %id))]
    pub async fn patch(&self, principal: &Principal, id: TenantId, patch: Value) -> ServiceResult<Value> {
        self.authorize(principal, id).await?;
        if !patch.is_object() {
            return Err(ServiceError::field("body", "must be a JSON object (a merge patch of the settings)"));
        }
        let platform = self.core.config.platform_settings.to_value();
        let unknown = unknown_keys(&patch, &platform, "");
        if !unknown.is_empty() {
            return Err(ServiceError::Validation(
                unknown.into_iter().map(|k| FieldError::new(k, "unknown setting")).collect(),
            ));
        }
        // Read, patch, validate, compare-and-set: a concurrent patch makes the write fail and
        // this one start over on the new overrides, so neither loses the other's keys.
        let mut attempts = 0;
        let overrides = loop {
            let tenant = self.core.repos.tenants.get(id).await?;
            let current = self.core.repos.tenants.settings(id).await?;
            let mut overrides = current.clone();
            settings::merge_patch(&mut overrides, &patch);
            let plan = settings::plan_defaults(tenant.plan);
            settings::validate(&settings::compose(&platform, &plan, &overrides), self.core.config.bounds)
                .map_err(ServiceError::Validation)?;
            match self.core.repos.tenants.set_settings(id, &current, &overrides).await {
                Ok(()) => break overrides,
                Err(RepoError::Conflict(what)) if what == "settings_changed" && attempts < 5 => attempts += 1,
                Err(e) => return Err(e.into()),
            }
        };
        self.core.invalidate_tenant(id).await;
        let keys: Vec<String> =
            settings::sources(&patch_as_leaves(&patch), &json!({}), &json!({})).into_keys().collect();
        self.core.record("tenant.settings_updated", id, Some(principal.user_id), json!({ "keys": keys })).await;
        Ok(overrides)
    }

    pub async fn effective(&self, principal: &Principal, id: TenantId) -> ServiceResult<EffectiveSettings> {
        self.authorize(principal, id).await?;
        let tenant = self.core.repos.tenants.get(id).await?;
        let overrides = self.core.repos.tenants.settings(id).await?;
        let cfg = &self.core.config;
        let resolved: TenantSettings = effective_settings(&cfg.platform_settings, &tenant, &overrides, cfg.bounds);
        let document = resolved.to_value();
        let plan = settings::plan_defaults(tenant.plan);
        let sources = settings::sources(&document, &plan, &overrides);
        Ok(EffectiveSettings { settings: document, sources })
    }
}

/// Keys of `patch` that the settings document does not have (map-valued objects accept
/// any key; their values are checked by validation).
fn unknown_keys(patch: &Value, schema: &Value, prefix: &str) -> Vec<String> {
    let (Value::Object(p), Value::Object(s)) = (patch, schema) else { return Vec::new() };
    let mut out = Vec::new();
    for (k, v) in p {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match s.get(k) {
            None => out.push(path),
            Some(_) if MAP_KEYS.contains(&path.as_str()) => {}
            Some(child) if child.is_object() => out.extend(unknown_keys(v, child, &path)),
            Some(_) => {}
        }
    }
    out
}

/// A patch with its `null`s made leaves, so removals are listed among the changed keys.
fn patch_as_leaves(patch: &Value) -> Value {
    match patch {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), patch_as_leaves(v))).collect()),
        Value::Null => json!("removed"),
        other => other.clone(),
    }
}

use super::*;

const BOUNDS: SettingsBounds = SettingsBounds { max_access_ttl_seconds: 3600, max_refresh_ttl_seconds: 2_592_000 };

fn platform() -> Value {
    TenantSettings::default().to_value()
}

fn effective(tenant: &Value) -> Value {
    compose(&platform(), &plan_defaults(Plan::Standard), tenant)
}

fn error_fields(tenant: Value) -> Vec<String> {
    validate(&effective(&tenant), BOUNDS).err().unwrap_or_default().into_iter().map(|e| e.field).collect()
}

#[test]
fn defaults_are_valid_and_complete() {
    let s = validate(&platform(), BOUNDS).unwrap();
    assert_eq!(s, TenantSettings::default());
    assert_eq!(s.password_policy.min_length, 12);
    assert_eq!(s.password_policy.history, 5);
    assert_eq!(s.rate_limits.per_role_per_minute["viewer"], 60);
}

#[test]
fn plans_set_limits_and_quotas() {
    let premium = validate(&compose(&platform(), &plan_defaults(Plan::Premium), &json!({})), BOUNDS).unwrap();
    assert_eq!(premium.rate_limits.tenant_per_hour, Some(50_000));
    assert_eq!(premium.quotas.max_users, Some(10_000));
    let enterprise = validate(&compose(&platform(), &plan_defaults(Plan::Enterprise), &json!({})), BOUNDS).unwrap();
    assert_eq!(enterprise.quotas.monthly_requests, None);
    assert_eq!(enterprise.rate_limits.tenant_per_hour, None);
}

#[test]
fn merge_patch_follows_rfc_7396_and_prunes_empty_objects() {
    let mut doc = json!({"a": {"b": 1, "c": 2}, "d": [1, 2]});
    merge_patch(&mut doc, &json!({"a": {"b": null, "e": 3}, "d": [3]}));
    assert_eq!(doc, json!({"a": {"c": 2, "e": 3}, "d": [3]}));
    merge_patch(&mut doc, &json!({"a": {"c": null, "e": null}}));
    assert_eq!(doc, json!({"d": [3]}), "an emptied object disappears");
    merge_patch(&mut doc, &json!({"x": {"y": null}}));
    assert_eq!(doc, json!({"d": [3]}), "removing what is absent leaves nothing behind");
}

#[test]
fn sources_name_every_leaf() {
    let tenant = json!({"password_policy": {"min_length": 14}, "features": {"beta": true}});
    let plan = plan_defaults(Plan::Premium);
    let eff = compose(&platform(), &plan, &tenant);
    let src = sources(&eff, &plan, &tenant);
    assert_eq!(src["password_policy.min_length"], "tenant");
    assert_eq!(src["password_policy.max_length"], "platform");
    assert_eq!(src["features.beta"], "tenant");
    assert_eq!(src["quotas.max_users"], "plan");
    assert_eq!(src["rate_limits.tenant_per_hour"], "plan");
    assert_eq!(src["rate_limits.per_role_per_minute.viewer"], "platform");
    assert_eq!(src["cors_origins"], "platform");
    assert_eq!(src["branding.logo_url"], "platform");
    assert!(src.keys().all(|k| lookup(&eff, k).is_some()));
}

#[test]
fn unknown_keys_are_named_at_any_depth() {
    assert_eq!(error_fields(json!({"bogus": 1})), vec!["bogus"]);
    assert_eq!(error_fields(json!({"password_policy": {"min_lenght": 9}})), vec!["password_policy.min_lenght"]);
    assert_eq!(error_fields(json!({"branding": {"logo": "x"}})), vec!["branding.logo"]);
}

#[test]
fn wrong_types_are_named() {
    assert_eq!(error_fields(json!({"password_policy": {"min_length": "twelve"}})), vec!["password_policy.min_length"]);
    assert_eq!(error_fields(json!({"mfa": {"required": "yes"}})), vec!["mfa.required"]);
}

#[test]
fn ranges_are_enforced_naming_the_key() {
    assert_eq!(error_fields(json!({"password_policy": {"min_length": 7}})), vec!["password_policy.min_length"]);
    assert_eq!(
        error_fields(json!({"password_policy": {"min_length": 40, "max_length": 30}})),
        vec!["password_policy.min_length"]
    );
    assert_eq!(error_fields(json!({"password_policy": {"min_strength": 5}})), vec!["password_policy.min_strength"]);
    assert_eq!(error_fields(json!({"tokens": {"access_ttl_seconds": 3601}})), vec!["tokens.access_ttl_seconds"]);
    assert_eq!(error_fields(json!({"tokens": {"access_ttl_seconds": 3600}})), Vec::<String>::new());
    assert_eq!(error_fields(json!({"mfa": {"required_roles": ["admin", "wizard"]}})), vec!["mfa.required_roles"]);
    assert_eq!(
        error_fields(json!({"rate_limits": {"per_role_per_minute": {"wizard": 5}}})),
        vec!["rate_limits.per_role_per_minute.wizard"]
    );
    assert_eq!(error_fields(json!({"sessions": {"max_per_user": 0}})), vec!["sessions.max_per_user"]);
    assert_eq!(error_fields(json!({"cors_origins": ["https://app.example.com", "*"]})), vec!["cors_origins"]);
    assert_eq!(error_fields(json!({"branding": {"primary_color": "red"}})), vec!["branding.primary_color"]);
    assert_eq!(error_fields(json!({"features": {"Bad Name": true}})), vec!["features.Bad Name"]);
    assert_eq!(error_fields(json!({"retention": {"audit_days": 0}})), vec!["retention.audit_days"]);
}

#[test]
fn several_errors_are_reported_together() {
    let mut fields = error_fields(json!({"password_policy": {"min_length": 3}, "sessions": {"max_per_user": 0}}));
    fields.sort();
    assert_eq!(fields, vec!["password_policy.min_length", "sessions.max_per_user"]);
}

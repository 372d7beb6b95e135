//! Tenant settings and usage (SPEC §3) on the in-memory core: the hierarchy, merge-patch
//! rules, validation naming the key, permissions, isolation, events, and cache invalidation
//! between two replicas.
#![allow(clippy::unwrap_used, clippy::panic, reason = "test helpers outside #[test] functions")]

use serde_json::json;
use std::sync::Arc;
use tessera_auth::keys::MasterKey;
use tessera_domain::Principal;
use tessera_repository::memory::{MemoryEventSink, MemoryInvalidationBus};
use tessera_services::ServiceError;
use tessera_services::tenants::TenantPatch;
use tessera_services::users::NewUserInput;
use tessera_testkit::fixtures::{self, PASSWORD};

fn fields(e: ServiceError) -> Vec<String> {
    match e {
        ServiceError::Validation(v) => v.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_new_tenant_inherits_everything() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let p = &f.admin_principal;
    assert_eq!(s.settings.overrides(p, f.tenant.id).await.unwrap(), json!({}));
    let eff = s.settings.effective(p, f.tenant.id).await.unwrap();
    assert_eq!(eff.settings["password_policy"]["min_length"], 12);
    assert_eq!(eff.settings["quotas"]["max_users"], 1000);
    assert_eq!(eff.sources["password_policy.min_length"], "platform");
    assert_eq!(eff.sources["quotas.max_users"], "plan");
    assert!(eff.sources.values().all(|s| *s != "tenant"));
}

#[tokio::test]
async fn patch_overrides_and_null_restores_the_inherited_value() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let (p, id) = (&f.admin_principal, f.tenant.id);
    let after = s
        .settings
        .patch(p, id, json!({"password_policy": {"min_length": 16}, "features": {"beta": true}, "branding": {"primary_color": "#112233"}}))
        .await
        .unwrap();
    assert_eq!(
        after,
        json!({"password_policy": {"min_length": 16}, "features": {"beta": true}, "branding": {"primary_color": "#112233"}})
    );
    let eff = s.settings.effective(p, id).await.unwrap();
    assert_eq!(eff.settings["password_policy"]["min_length"], 16);
    assert_eq!(eff.sources["password_policy.min_length"], "tenant");
    assert_eq!(eff.sources["features.beta"], "tenant");
    let after = s
        .settings
        .patch(p, id, json!({"password_policy": {"min_length": null}, "features": {"beta": null}}))
        .await
        .unwrap();
    assert_eq!(after, json!({"branding": {"primary_color": "#112233"}}));
    let eff = s.settings.effective(p, id).await.unwrap();
    assert_eq!(eff.settings["password_policy"]["min_length"], 12);
    assert_eq!(eff.sources["password_policy.min_length"], "platform");
    assert!(!eff.sources.contains_key("features.beta"));
}

#[tokio::test]
async fn invalid_patches_are_422_naming_the_key_and_change_nothing() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let (p, id) = (&f.admin_principal, f.tenant.id);
    let cases = [
        (json!({"nope": 1}), "nope"),
        (json!({"password_policy": {"nope": null}}), "password_policy.nope"),
        (json!({"password_policy": {"min_length": 7}}), "password_policy.min_length"),
        (json!({"password_policy": {"min_length": 64, "max_length": 32}}), "password_policy.min_length"),
        (json!({"tokens": {"access_ttl_seconds": 7200}}), "tokens.access_ttl_seconds"),
        (json!({"mfa": {"required_roles": ["wizard"]}}), "mfa.required_roles"),
        (json!({"rate_limits": {"per_role_per_minute": {"wizard": 10}}}), "rate_limits.per_role_per_minute.wizard"),
        (json!({"sessions": {"max_per_user": "many"}}), "sessions.max_per_user"),
    ];
    for (patch, field) in cases {
        let err = s.settings.patch(p, id, patch.clone()).await.unwrap_err();
        assert_eq!(fields(err), vec![field.to_owned()], "{patch}");
    }
    assert_eq!(fields(s.settings.patch(p, id, json!([1])).await.unwrap_err()), vec!["body"]);
    assert_eq!(s.settings.overrides(p, id).await.unwrap(), json!({}), "nothing was stored");
}

#[tokio::test]
async fn plan_changes_show_in_effective_settings() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let root = fixtures::super_admin(&s).await;
    let patch = TenantPatch { name: None, plan: Some("enterprise".into()) };
    s.tenants.patch(&root, f.tenant.id, patch).await.unwrap();
    let eff = s.settings.effective(&f.admin_principal, f.tenant.id).await.unwrap();
    assert!(eff.settings["quotas"]["monthly_requests"].is_null());
    assert_eq!(eff.sources["quotas.monthly_requests"], "plan");
    let usage = s.usage.usage(&f.admin_principal, f.tenant.id).await.unwrap();
    assert_eq!(usage.max_users.limit, None, "the cache was invalidated by the plan change");
}

#[tokio::test]
async fn only_the_tenants_admin_or_a_super_admin_and_never_another_tenant() {
    let s = fixtures::in_memory().await;
    let a = fixtures::register_tenant(&s, "tenant-a").await;
    let b = fixtures::register_tenant(&s, "tenant-b").await;
    let p = &a.admin_principal;
    assert!(matches!(s.settings.overrides(p, b.tenant.id).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.settings.patch(p, b.tenant.id, json!({})).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.settings.effective(p, b.tenant.id).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.usage.usage(p, b.tenant.id).await, Err(ServiceError::NotFound)));
    let viewer = {
        let input = NewUserInput {
            email: "v@tenant-a.test".into(),
            full_name: "V".into(),
            role: "viewer".into(),
            password: PASSWORD.into(),
            require_password_change: false,
        };
        s.users.create(p, input).await.unwrap();
        let t = fixtures::login(&s, "v@tenant-a.test", "tenant-a").await;
        s.auth.authenticate(&t.access_token, None).await.unwrap()
    };
    assert!(matches!(s.settings.overrides(&viewer, a.tenant.id).await, Err(ServiceError::Forbidden { .. })));
    let root = fixtures::super_admin(&s).await;
    s.settings.patch(&root, b.tenant.id, json!({"retention": {"audit_days": 30}})).await.unwrap();
}

#[tokio::test]
async fn settings_changes_are_recorded_as_domain_events() {
    let (s, events) = fixtures::in_memory_with_events().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    s.settings.patch(&f.admin_principal, f.tenant.id, json!({"password_policy": {"history": 3}})).await.unwrap();
    let recorded = events.events();
    let e = recorded.iter().find(|e| e.kind == "tenant.settings_updated").unwrap();
    assert_eq!(e.tenant_id, f.tenant.id);
    assert_eq!(e.actor, Some(f.admin.id));
    assert_eq!(e.data, json!({"keys": ["password_policy.history"]}));
    assert!(recorded.iter().any(|e| e.kind == "tenant.created"));
}

#[tokio::test]
async fn login_and_user_creation_read_the_effective_policy() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let p = &f.admin_principal;
    s.settings
        .patch(p, f.tenant.id, json!({"tokens": {"access_ttl_seconds": 120}, "password_policy": {"min_length": 30}}))
        .await
        .unwrap();
    let tokens = fixtures::login(&s, "admin@acme.test", "acme").await;
    assert_eq!(tokens.expires_in, 120);
    let input = NewUserInput {
        email: "x@acme.test".into(),
        full_name: "X".into(),
        role: "viewer".into(),
        password: PASSWORD.into(),
        require_password_change: false,
    };
    assert_eq!(fields(s.users.create(p, input).await.unwrap_err()), vec!["password"], "28 chars < 30");
}

async fn replica(
    repos: &tessera_domain::ports::Repositories,
    bus: &Arc<MemoryInvalidationBus>,
    master: &str,
) -> tessera_services::Services {
    let master = MasterKey::from_base64(master).unwrap();
    fixtures::build(repos.clone(), bus.clone(), Arc::new(MemoryEventSink::new(10)), master).await
}

#[tokio::test]
async fn a_change_on_one_replica_applies_on_the_other() {
    let repos = tessera_repository::memory::repositories();
    let bus = Arc::new(MemoryInvalidationBus::new());
    let master = MasterKey::generate().unwrap().to_base64();
    let one = replica(&repos, &bus, &master).await;
    let two = replica(&repos, &bus, &master).await;
    let f = fixtures::register_tenant(&one, "acme").await;
    // Warm replica two's cache, then change the setting through replica one.
    assert_eq!(fixtures::login(&two, "admin@acme.test", "acme").await.expires_in, 900);
    one.settings.patch(&f.admin_principal, f.tenant.id, json!({"tokens": {"access_ttl_seconds": 300}})).await.unwrap();
    assert_eq!(fixtures::login(&two, "admin@acme.test", "acme").await.expires_in, 300);
    // Suspension on replica one refuses the token on replica two.
    let root: Principal = fixtures::super_admin(&one).await;
    one.tenants.suspend(&root, f.tenant.id).await.unwrap();
    assert!(matches!(two.auth.authenticate(&f.tokens.access_token, None).await, Err(ServiceError::TenantSuspended)));
}

#[tokio::test]
async fn usage_counts_requests_users_and_flushes_in_batches() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let other = fixtures::register_tenant(&s, "other").await;
    for _ in 0..5 {
        s.usage.record_request(f.tenant.id);
    }
    s.usage.record_request(other.tenant.id);
    let u = s.usage.usage(&f.admin_principal, f.tenant.id).await.unwrap();
    assert_eq!(u.monthly_requests.used, 5, "pending counts are included before a flush");
    assert_eq!(u.monthly_requests.limit, Some(1_000_000));
    assert_eq!(u.max_users.used, 1);
    assert_eq!(u.max_users.limit, Some(1000));
    assert!(u.from < u.to);
    assert_eq!(s.usage.flush().await.unwrap(), 2, "one entry per tenant and month");
    assert_eq!(s.usage.flush().await.unwrap(), 0);
    s.usage.record_request(f.tenant.id);
    let u = s.usage.usage(&f.admin_principal, f.tenant.id).await.unwrap();
    assert_eq!(u.monthly_requests.used, 6, "stored plus pending");
}

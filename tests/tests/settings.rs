//! Tenant settings and usage over HTTP (SPEC §3), on SQLite and PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "e2e scenarios are tests; the macro hides #[test] from clippy"
)]

use serde_json::json;
use tessera_e2e::{StatusCode, assert_problem, e2e};

e2e!(settings_hierarchy_and_merge_patch, |app| {
    let (tenant, _, admin) = app.register("acme").await;
    let base = format!("/api/v1/tenants/{tenant}/settings");
    let r = app.get(&base, &admin).await;
    assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!({})));

    let patch = json!({"password_policy": {"min_length": 14}, "cors_origins": ["https://app.acme.test"]});
    let r = app.send("PATCH", &base, Some(&admin), Some(patch.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, patch);

    let r = app.get(&format!("{base}/effective"), &admin).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["settings"]["password_policy"]["min_length"], 14);
    assert_eq!(r.body["settings"]["password_policy"]["max_length"], 128);
    assert_eq!(r.body["sources"]["password_policy.min_length"], "tenant");
    assert_eq!(r.body["sources"]["password_policy.max_length"], "platform");
    assert_eq!(r.body["sources"]["quotas.monthly_requests"], "plan");
    assert_eq!(r.body["sources"]["cors_origins"], "tenant");

    let r = app.send("PATCH", &base, Some(&admin), Some(json!({"password_policy": {"min_length": null}}))).await;
    assert_eq!(r.body, json!({"cors_origins": ["https://app.acme.test"]}));
    let r = app.get(&format!("{base}/effective"), &admin).await;
    assert_eq!(r.body["settings"]["password_policy"]["min_length"], 12);
    assert_eq!(r.body["sources"]["password_policy.min_length"], "platform");

    for (patch, field) in [
        (json!({"password_policy": {"min_length": 4}}), "password_policy.min_length"),
        (json!({"tokens": {"access_ttl_seconds": 999_999}}), "tokens.access_ttl_seconds"),
        (json!({"password_policy": {"unknown": 1}}), "password_policy.unknown"),
        (json!({"mfa": {"required_roles": ["nobody"]}}), "mfa.required_roles"),
    ] {
        let r = app.send("PATCH", &base, Some(&admin), Some(patch)).await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field);
    }
    let r = app.get(&base, &admin).await;
    assert_eq!(r.body, json!({"cors_origins": ["https://app.acme.test"]}), "failed patches stored nothing");
});

e2e!(settings_and_usage_are_tenant_scoped, |app| {
    let (a, _, a_token) = app.register("tenant-a").await;
    let (b, _, b_token) = app.register("tenant-b").await;
    for path in [
        format!("/api/v1/tenants/{b}/settings"),
        format!("/api/v1/tenants/{b}/settings/effective"),
        format!("/api/v1/tenants/{b}/usage"),
    ] {
        assert_problem(&app.get(&path, &a_token).await, 404, "not_found");
    }
    let r = app.send("PATCH", &format!("/api/v1/tenants/{b}/settings"), Some(&a_token), Some(json!({}))).await;
    assert_problem(&r, 404, "not_found");
    let (_, viewer) = app.add_user(&a_token, "v@tenant-a.test", "viewer", "tenant-a").await;
    let r = app.get(&format!("/api/v1/tenants/{a}/settings"), &viewer).await;
    assert_problem(&r, 403, "forbidden");

    let r = app.get(&format!("/api/v1/tenants/{b}/usage"), &b_token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["quotas"]["max_users"], json!({"used": 1, "limit": 1000}));
    assert_eq!(r.body["quotas"]["monthly_requests"]["limit"], 1_000_000);
    assert!(r.body["quotas"]["monthly_requests"]["used"].as_u64().unwrap() >= 1, "this request counts");
    assert!(r.body["period"]["from"].as_str().unwrap().ends_with("-01T00:00:00Z"));
    assert_eq!(r.body["quotas"]["storage_bytes"]["limit"], 1_073_741_824u64);
});

//! SPEC §4: every route tried with tenant A's token against tenant B's ids answers 404 and
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "e2e scenarios are tests; the macro hides #[test] from clippy"
)]
//! shows no data of B; on SQLite and on PostgreSQL (where RLS also enforces it).

use serde_json::json;
use tessera_e2e::{StatusCode, assert_problem, e2e};

e2e!(tenant_a_cannot_reach_tenant_b, |app| {
    let (_, _, a_token) = app.register("tenant-a").await;
    let (b_tenant, b_admin, b_token) = app.register("tenant-b").await;
    let (b_user, _) = app.add_user(&b_token, "victim@tenant-b.test", "viewer", "tenant-b").await;
    let patch_user = json!({"full_name": "Pwned"});
    let probes: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        ("GET", format!("/api/v1/tenants/{b_tenant}"), None),
        ("PATCH", format!("/api/v1/tenants/{b_tenant}"), Some(json!({"name": "Pwned"}))),
        ("DELETE", format!("/api/v1/tenants/{b_tenant}"), None),
        ("POST", format!("/api/v1/tenants/{b_tenant}/suspend"), None),
        ("POST", format!("/api/v1/tenants/{b_tenant}/activate"), None),
        ("GET", format!("/api/v1/users/{b_user}"), None),
        ("GET", format!("/api/v1/users/{b_admin}"), None),
        ("PATCH", format!("/api/v1/users/{b_user}"), Some(patch_user)),
        ("PUT", format!("/api/v1/users/{b_user}/role"), Some(json!({"role": "admin"}))),
        ("POST", format!("/api/v1/users/{b_user}/disable"), None),
        ("POST", format!("/api/v1/users/{b_user}/enable"), None),
        ("DELETE", format!("/api/v1/users/{b_user}"), None),
    ];
    for (method, path, body) in probes {
        let r = app.send(method, &path, Some(&a_token), body).await;
        assert_problem(&r, 404, "not_found");
        assert!(!r.body.to_string().contains("tenant-b"), "{method} {path} leaked data: {}", r.body);
    }
    // A's list shows only A's users.
    let r = app.get("/api/v1/users", &a_token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert!(!r.body.to_string().contains("tenant-b"));
    // B's data is untouched.
    let r = app.get(&format!("/api/v1/users/{b_user}"), &b_token).await;
    assert_eq!(r.body["full_name"], "Some One");
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["role"], "viewer");
    // Naming B in X-Tenant-Id with A's token is refused.
    let resp = app
        .client
        .get(format!("{}/api/v1/users", app.base))
        .bearer_auth(&a_token)
        .header("X-Tenant-Id", &b_tenant)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
});

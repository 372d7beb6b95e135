//! Tenant lifecycle over HTTP (SPEC §3): super-admin creation, suspension, soft deletion.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "e2e scenarios are tests; the macro hides #[test] from clippy"
)]

use serde_json::json;
use tessera_e2e::{PASSWORD, StatusCode, assert_problem, e2e};

e2e!(super_admin_manages_tenant_lifecycle, |app| {
    let (tenant, _, admin) = app.register("acme").await;
    // A super-admin exists only through `create-admin`; the e2e harness reaches it the same
    // way the CLI does, through the platform tenant.
    let r = app
        .send(
            "POST",
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "x@y.test", "password": PASSWORD, "full_name": "X", "tenant_slug": "platform"})),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "tenant_slug");
    let r = app
        .send(
            "POST",
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "x@y.test", "password": PASSWORD, "full_name": "X", "tenant_slug": "acme"})),
        )
        .await;
    assert_problem(&r, 409, "conflict");

    let r = app.send("POST", &format!("/api/v1/tenants/{tenant}/suspend"), Some(&admin), None).await;
    assert_problem(&r, 403, "forbidden");
    let r = app.send("GET", "/api/v1/tenants", Some(&admin), None).await;
    assert_problem(&r, 403, "forbidden");

    let r =
        app.send("PATCH", &format!("/api/v1/tenants/{tenant}"), Some(&admin), Some(json!({"name": "Acme Inc"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "Acme Inc");
    assert_eq!(r.body["links"]["self"], format!("/api/v1/tenants/{tenant}"));
    let r = app.send("PATCH", &format!("/api/v1/tenants/{tenant}"), Some(&admin), Some(json!({"name": null}))).await;
    assert_problem(&r, 422, "validation_failed");

    let r = app.send("DELETE", &format!("/api/v1/tenants/{tenant}"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get("/api/v1/auth/me", &admin).await;
    assert_problem(&r, 401, "unauthenticated");
    let r = app
        .send(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "admin@acme.test", "password": PASSWORD, "tenant_slug": "acme"})),
        )
        .await;
    assert_problem(&r, 401, "unauthenticated");
});

e2e!(user_rules_over_http, |app| {
    let (_, admin_id, admin) = app.register("acme").await;
    let r =
        app.send("PUT", &format!("/api/v1/users/{admin_id}/role"), Some(&admin), Some(json!({"role": "viewer"}))).await;
    assert_problem(&r, 409, "conflict");
    let r = app.send("POST", &format!("/api/v1/users/{admin_id}/disable"), Some(&admin), None).await;
    assert_problem(&r, 409, "conflict");
    let r = app.send("DELETE", &format!("/api/v1/users/{admin_id}"), Some(&admin), None).await;
    assert_problem(&r, 409, "conflict");
    let r = app
        .send(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"email": "s@acme.test", "full_name": "S", "role": "super_admin", "password": PASSWORD})),
        )
        .await;
    assert_problem(&r, 403, "forbidden");
    let r = app
        .send(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"email": "s@acme.test", "full_name": "S", "role": "wizard", "password": PASSWORD})),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "role");
    let (dev_id, dev) = app.add_user(&admin, "dev@acme.test", "developer", "acme").await;
    let r = app.send("POST", &format!("/api/v1/users/{dev_id}/disable"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "disabled");
    let r = app
        .send(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "dev@acme.test", "password": PASSWORD, "tenant_slug": "acme"})),
        )
        .await;
    assert_problem(&r, 401, "unauthenticated");
    let _ = dev;
    let r = app.send("DELETE", &format!("/api/v1/users/{dev_id}"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get(&format!("/api/v1/users/{dev_id}"), &admin).await;
    assert_problem(&r, 404, "not_found");
});

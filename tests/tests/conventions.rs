//! SPEC §2 conventions over real HTTP: problems, request ids, security headers, limits,
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "e2e scenarios are tests; the macro hides #[test] from clippy"
)]
//! pagination links, health and the OpenAPI document.

use serde_json::json;
use tessera_e2e::{StatusCode, assert_problem, e2e};

e2e!(problems_and_headers, |app| {
    let r = app.send("GET", "/api/v1/nowhere", None, None).await;
    assert_problem(&r, 404, "not_found");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("content-security-policy"), Some("default-src 'none'"));

    let r = app.send("DELETE", "/api/v1/auth/login", None, None).await;
    assert_problem(&r, 405, "method_not_allowed");

    let r = app.send("GET", "/api/v1/users", None, None).await;
    assert_problem(&r, 401, "unauthenticated");
    let r = app.get("/api/v1/users", "not-a-token").await;
    assert_problem(&r, 401, "unauthenticated");

    let r = app.send("POST", "/api/v1/auth/login", None, Some(json!({"email": "a@b.test", "password": "x"}))).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "tenant_slug");

    let r = app
        .send(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "a@b.test", "password": "x", "tenant_slug": "x", "extra": 1})),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "extra");

    let resp = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("content-type", "application/json")
        .header("x-request-id", "client-id.42")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.headers()["x-request-id"], "client-id.42");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "malformed_request");
    assert_eq!(body["request_id"], "client-id.42");

    let big = "x".repeat(1024 * 1024 + 10);
    let resp = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("content-type", "application/json")
        .body(format!("{{\"email\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let r = app.send("GET", "/health/live", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.send("GET", "/health/ready", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["components"]["database"], "ok");
    assert_eq!(r.body["components"]["migrations"], "ok");
    if app.backend == tessera_e2e::Backend::Postgres && std::env::var("TESSERA_TEST_REDIS_URL").is_ok() {
        assert_eq!(r.body["components"]["redis"], "ok", "Redis is checked when configured");
    }

    let r = app.send("GET", "/openapi.json", None, None).await;
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/api/v1/auth/login", "/api/v1/users/{id}", "/api/v1/tenants/{id}/suspend", "/.well-known/jwks.json"] {
        assert!(r.body["paths"].get(path).is_some(), "{path} documented");
    }
    let resp = app.client.get(format!("{}/docs/", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
});

e2e!(pagination_links_walk_every_page, |app| {
    let (_, _, admin) = app.register("acme").await;
    for i in 0..4 {
        app.send(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"email": format!("u{i}@acme.test"), "full_name": "U", "role": "viewer", "password": tessera_e2e::PASSWORD})),
        )
        .await;
    }
    let mut next = Some("/api/v1/users?limit=2".to_owned());
    let mut seen = Vec::new();
    while let Some(path) = next {
        let r = app.get(&path, &admin).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for u in r.body["items"].as_array().unwrap() {
            seen.push(u["email"].as_str().unwrap().to_owned());
        }
        next = r.body["links"]["next"].as_str().map(str::to_owned);
        assert_eq!(r.body["next_cursor"].is_null(), next.is_none());
    }
    assert_eq!(seen.len(), 5);
    let r = app.get("/api/v1/users?cursor=garbage", &admin).await;
    assert_problem(&r, 422, "validation_failed");
    let r = app.get("/api/v1/users?limit=abc", &admin).await;
    assert_problem(&r, 422, "validation_failed");
});

//! Refresh, logout and sessions over HTTP (SPEC §6.2–§6.3), on SQLite and PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "e2e scenarios are tests; the macro hides #[test] from clippy"
)]

use serde_json::json;
use tessera_e2e::{PASSWORD, StatusCode, assert_problem, e2e};

e2e!(refresh_logout_and_sessions, |app| {
    app.register("acme").await;
    let login = app
        .send(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "admin@acme.test", "password": PASSWORD, "tenant_slug": "acme"})),
        )
        .await;
    let refresh = login.body["refresh_token"].as_str().unwrap().to_owned();

    let r = app.send("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["token_type"], "Bearer");
    let access = r.body["access_token"].as_str().unwrap().to_owned();
    let refresh2 = r.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh, refresh2);

    // The old token again, within the grace window: 401, nothing revoked.
    let r = app.send("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh}))).await;
    assert_problem(&r, 401, "unauthenticated");
    assert_eq!(app.get("/api/v1/auth/me", &access).await.status, StatusCode::OK);

    let r = app.get("/api/v1/auth/sessions", &access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "register's login and this one");
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    let other = items.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();

    let r = app.send("DELETE", &format!("/api/v1/auth/sessions/{other}"), Some(&access), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/auth/sessions", &access).await.body["items"].as_array().unwrap().len(), 1);

    let r = app.send("POST", "/api/v1/auth/logout", Some(&access), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_problem(&app.get("/api/v1/auth/me", &access).await, 401, "unauthenticated");
    let r = app.send("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh2}))).await;
    assert_problem(&r, 401, "unauthenticated");
});

e2e!(admins_see_and_revoke_a_users_sessions, |app| {
    let (_, _, admin) = app.register("acme").await;
    let (vid, viewer) = app.add_user(&admin, "v@acme.test", "viewer", "acme").await;
    let r = app.get(&format!("/api/v1/users/{vid}/sessions"), &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_problem(&app.get(&format!("/api/v1/users/{vid}/sessions"), &viewer).await, 403, "forbidden");
    let r = app.send("DELETE", &format!("/api/v1/users/{vid}/sessions"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_problem(&app.get("/api/v1/auth/me", &viewer).await, 401, "unauthenticated");
    // Another tenant's user: 404.
    let (_, _, other) = app.register("other").await;
    assert_problem(&app.get(&format!("/api/v1/users/{vid}/sessions"), &other).await, 404, "not_found");
});

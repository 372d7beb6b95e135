//! Invitations, password lifecycle and lockouts over HTTP (SPEC §5, §6.5), both backends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "e2e scenarios are tests; the macro hides #[test] from clippy"
)]

use serde_json::json;
use tessera_e2e::{PASSWORD, StatusCode, assert_problem, e2e};

const NEW_PASSWORD: &str = "a completely different passphrase";

e2e!(invitation_flow, |app| {
    let (_, _, admin) = app.register("acme").await;
    let r = app
        .send("POST", "/api/v1/invitations", Some(&admin), Some(json!({"email": "dev@acme.test", "role": "developer"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.header("location"), Some(format!("/api/v1/invitations/{id}").as_str()));
    assert_eq!(r.body["status"], "pending");
    let token = r.body["token"].as_str().unwrap().to_owned();
    let r = app.get(&format!("/api/v1/invitations/{id}"), &admin).await;
    assert!(r.body.get("token").is_none(), "the token shows only once");
    let r = app
        .send("POST", "/api/v1/invitations", Some(&admin), Some(json!({"email": "dev@acme.test", "role": "viewer"})))
        .await;
    assert_problem(&r, 409, "conflict");

    let body = json!({"email": "dev@acme.test", "password": PASSWORD, "full_name": "Dev", "tenant_slug": "acme", "invitation_token": token});
    let r = app.send("POST", "/api/v1/auth/register", None, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["user"]["role"], "developer");
    let r = app.send("POST", "/api/v1/auth/register", None, Some(body)).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "invitation_token");
    let r = app.get(&format!("/api/v1/invitations/{id}"), &admin).await;
    assert_eq!(r.body["status"], "accepted");
    let r = app.get("/api/v1/invitations", &admin).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);

    let r = app
        .send("POST", "/api/v1/invitations", Some(&admin), Some(json!({"email": "x@acme.test", "role": "viewer"})))
        .await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = app.send("DELETE", &format!("/api/v1/invitations/{id}"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/invitations/{id}"), &admin).await.body["status"], "revoked");
});

e2e!(password_change_forgot_and_reset, |app| {
    let (_, _, admin) = app.register("acme").await;
    let body = json!({"current_password": "wrong", "new_password": NEW_PASSWORD});
    let r = app.send("POST", "/api/v1/auth/password/change", Some(&admin), Some(body)).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "current_password");
    let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let r = app.send("POST", "/api/v1/auth/password/change", Some(&admin), Some(body)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    app.wait_for_mail("Your password was changed").await;

    for email in ["admin@acme.test", "nobody@acme.test"] {
        let r = app
            .send("POST", "/api/v1/auth/password/forgot", None, Some(json!({"email": email, "tenant_slug": "acme"})))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        assert!(r.body.is_null(), "no body");
    }
    let mail = app.wait_for_mail("Reset your password").await;
    let token = mail.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let reset = |password: &str| json!({"token": token, "new_password": password});
    let third = "yet another long passphrase";
    let r = app.send("POST", "/api/v1/auth/password/reset", None, Some(reset(PASSWORD))).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "new_password", "the first password is in the history");
    let r = app.send("POST", "/api/v1/auth/password/reset", None, Some(reset(third))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = app.send("POST", "/api/v1/auth/password/reset", None, Some(reset(third))).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "token");
    assert_problem(&app.get("/api/v1/auth/me", &admin).await, 401, "unauthenticated");
    let body = json!({"email": "admin@acme.test", "password": third, "tenant_slug": "acme"});
    assert_eq!(app.send("POST", "/api/v1/auth/login", None, Some(body)).await.status, StatusCode::OK);
});

e2e!(lockout_answers_429_alike_and_admins_unlock, |app| {
    let (_, _, admin) = app.register("acme").await;
    let (vid, _) = app.add_user(&admin, "v@acme.test", "viewer", "acme").await;
    let mut answers = Vec::new();
    for email in ["v@acme.test", "ghost@acme.test"] {
        for _ in 0..5 {
            let body = json!({"email": email, "password": "wrong password!", "tenant_slug": "acme"});
            assert_problem(&app.send("POST", "/api/v1/auth/login", None, Some(body)).await, 401, "unauthenticated");
        }
        let body = json!({"email": email, "password": PASSWORD, "tenant_slug": "acme"});
        let r = app.send("POST", "/api/v1/auth/login", None, Some(body)).await;
        assert_problem(&r, 429, "rate_limited");
        let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry));
        answers.push((r.body["title"].clone(), r.body["detail"].clone()));
    }
    assert_eq!(answers[0], answers[1], "existing and unknown accounts get the same answer");
    assert_eq!(app.get(&format!("/api/v1/users/{vid}"), &admin).await.body["status"], "locked");
    let r = app.send("POST", &format!("/api/v1/users/{vid}/unlock"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "active");
    app.login("v@acme.test", "acme").await;
});

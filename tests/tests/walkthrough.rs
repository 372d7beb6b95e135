//! The README walkthrough, step by step, on both backends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "e2e scenarios are tests; the macro hides #[test] from clippy"
)]

use serde_json::json;
use tessera_e2e::{PASSWORD, StatusCode, assert_problem, e2e};

e2e!(readme_walkthrough, |app| {
    let r = app
        .send(
            "POST",
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "ada@acme.test", "password": PASSWORD, "full_name": "Ada", "tenant_slug": "acme", "tenant_name": "Acme"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let tenant_id = r.body["tenant"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r.header("location"), Some(format!("/api/v1/tenants/{tenant_id}").as_str()));
    assert_eq!(r.body["user"]["role"], "admin");
    assert!(r.body["user"].get("password").is_none() && r.body["user"].get("password_hash").is_none());

    let r = app
        .send(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "ada@acme.test", "password": PASSWORD, "tenant_slug": "acme"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert!(r.body["refresh_token"].is_string());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let admin = r.body["access_token"].as_str().unwrap().to_owned();

    let (viewer_id, viewer) = app.add_user(&admin, "vic@acme.test", "viewer", "acme").await;
    let r = app.get("/api/v1/users", &viewer).await;
    assert_problem(&r, 403, "forbidden");
    assert!(r.body["detail"].as_str().unwrap().contains("users:read"));

    let r = app.get("/api/v1/users", &admin).await;
    assert_eq!(r.status, StatusCode::OK);
    let emails: Vec<&str> = r.body["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, vec!["ada@acme.test", "vic@acme.test"]);
    assert!(r.body["next_cursor"].is_null());
    assert!(r.body["links"]["self"].is_string());

    let r = app.get("/api/v1/auth/me", &viewer).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user"]["id"], viewer_id.as_str());
    assert_eq!(r.body["role"], "viewer");
    assert_eq!(r.body["permissions"], json!(["data:read", "analytics:read"]));
    assert!(r.body["session_id"].is_string());
});

e2e!(jwks_verifies_issued_tokens, |app| {
    let (_, _, token) = app.register("acme").await;
    let r = app.send("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let kid = {
        let header = token.split('.').next().unwrap();
        let json = base64_url_decode(header);
        json["kid"].as_str().unwrap().to_owned()
    };
    let keys = r.body["keys"].as_array().unwrap();
    assert!(keys.iter().any(|k| k["kid"] == kid.as_str() && k["kty"] == "OKP" && k["use"] == "sig"));
});

fn base64_url_decode(s: &str) -> serde_json::Value {
    // Tiny decoder for the test only: the header is plain base64url JSON.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    serde_json::from_slice(&out).unwrap()
}

e2e!(access_tokens_verify_with_stock_jsonwebtoken_and_the_published_jwks, |app| {
    let (tenant, user, token) = app.register("acme").await;
    let jwks = app.send("GET", "/.well-known/jwks.json", None, None).await.body;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let jwk = set.find(header.kid.as_deref().unwrap()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&["http://tessera.test"]);
    validation.set_audience(&["tessera"]);
    validation.leeway = 30;
    let data = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap();
    assert_eq!(data.claims["sub"], user.as_str());
    assert_eq!(data.claims["tid"], tenant.as_str());
    for claim in ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "tid", "role", "sid", "amr"] {
        assert!(data.claims.get(claim).is_some(), "claim {claim}");
    }
    // The algorithm is pinned: the same token checked as another algorithm fails.
    let wrong = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &key, &wrong).is_err());
});

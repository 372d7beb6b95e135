//! Login and token scenarios (SPEC §6.1–§6.2) on the in-memory core.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use tessera_auth::jwt::AccessClaims;
use tessera_services::ServiceError;
use tessera_services::auth::LoginInput;
use tessera_testkit::fixtures::{self, PASSWORD};

fn login_input(email: &str, password: &str, slug: &str) -> LoginInput {
    LoginInput { email: email.into(), password: password.into(), tenant_slug: slug.into(), ip: None, user_agent: None }
}

fn claims_of(token: &str) -> AccessClaims {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn every_login_failure_is_the_same_unauthenticated() {
    let s = fixtures::in_memory().await;
    fixtures::register_tenant(&s, "acme").await;
    let cases = [
        login_input("admin@acme.test", "wrong password here", "acme"),
        login_input("nobody@acme.test", PASSWORD, "acme"),
        login_input("admin@acme.test", PASSWORD, "other-tenant"),
        login_input("admin@acme.test", PASSWORD, "Not A Slug"),
        login_input("not an email", PASSWORD, "acme"),
    ];
    for case in cases {
        assert!(matches!(s.auth.login(case).await, Err(ServiceError::Unauthenticated)));
    }
}

#[tokio::test]
async fn login_issues_spec_claims_and_an_opaque_refresh_token() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let claims = claims_of(&f.tokens.access_token);
    assert_eq!(claims.sub, f.admin.id.to_string());
    assert_eq!(claims.tid, f.tenant.id.to_string());
    assert_eq!(claims.role, "admin");
    assert_eq!(claims.amr, vec!["pwd".to_string()]);
    assert_eq!(claims.aud, "tessera");
    assert_eq!(claims.exp - claims.iat, 900);
    assert!(claims.sid.is_some());
    assert_eq!(f.tokens.expires_in, 900);
    assert_eq!(f.tokens.refresh_token.len(), 79, "rt_ + tenant hex + _ + 43 random chars");
    let header = token_header(&f.tokens.access_token);
    assert_eq!(header["alg"], "EdDSA");
    assert!(header["kid"].is_string());
}

fn token_header(token: &str) -> serde_json::Value {
    use base64::Engine;
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
}

#[tokio::test]
async fn garbage_and_tampered_tokens_are_unauthenticated() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    assert!(matches!(s.auth.authenticate("garbage", None).await, Err(ServiceError::Unauthenticated)));
    let mut parts: Vec<String> = f.tokens.access_token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert!(matches!(s.auth.authenticate(&parts.join("."), None).await, Err(ServiceError::Unauthenticated)));
}

#[tokio::test]
async fn tokens_of_another_deployment_are_refused() {
    let a = fixtures::in_memory().await;
    let b = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&a, "acme").await;
    assert!(matches!(b.auth.authenticate(&f.tokens.access_token, None).await, Err(ServiceError::Unauthenticated)));
}

#[tokio::test]
async fn me_reports_user_tenant_and_permissions() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let me = s.auth.me(&f.admin_principal).await.unwrap();
    assert_eq!(me.user.id, f.admin.id);
    assert_eq!(me.tenant.id, f.tenant.id);
    assert_eq!(me.principal.permissions_list().len(), 17);
    assert!(me.user.last_login_at.is_some());
}

#[tokio::test]
async fn jwks_publishes_the_signing_key() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let jwks = s.auth.jwks().unwrap();
    let kid = token_header(&f.tokens.access_token)["kid"].clone();
    let keys = jwks["keys"].as_array().unwrap();
    assert!(keys.iter().any(|k| k["kid"] == kid && k["alg"] == "EdDSA" && k["use"] == "sig"));
}

#[tokio::test]
async fn a_rotation_on_one_replica_is_picked_up_by_the_other_and_old_tokens_keep_working() {
    use std::sync::Arc;
    use tessera_auth::keys::MasterKey;
    use tessera_repository::memory::{MemoryEventSink, MemoryInvalidationBus};
    let repos = tessera_repository::memory::repositories();
    let bus = Arc::new(MemoryInvalidationBus::new());
    let master = MasterKey::generate().unwrap().to_base64();
    let one = fixtures::build(
        repos.clone(),
        bus.clone(),
        Arc::new(MemoryEventSink::new(10)),
        MasterKey::from_base64(&master).unwrap(),
    )
    .await;
    let two = fixtures::build(
        repos.clone(),
        bus.clone(),
        Arc::new(MemoryEventSink::new(10)),
        MasterKey::from_base64(&master).unwrap(),
    )
    .await;
    let f = fixtures::register_tenant(&one, "acme").await;
    let old_kid = token_header(&f.tokens.access_token)["kid"].clone();
    let new_kid = one.rotate_keys(tessera_domain::signing::SigningAlgorithm::ES256).await.unwrap();
    let fresh = fixtures::login(&one, "admin@acme.test", "acme").await;
    assert_eq!(token_header(&fresh.access_token)["kid"], new_kid.as_str());
    assert_eq!(token_header(&fresh.access_token)["alg"], "ES256");
    assert!(two.auth.authenticate(&fresh.access_token, None).await.is_err(), "replica two has not reloaded yet");
    two.reload_keys().await.unwrap();
    assert!(two.auth.authenticate(&fresh.access_token, None).await.is_ok());
    assert!(two.auth.authenticate(&f.tokens.access_token, None).await.is_ok(), "the retired key still verifies");
    let jwks = two.auth.jwks().unwrap();
    let kids: Vec<_> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].clone()).collect();
    assert!(kids.contains(&old_kid) && kids.contains(&serde_json::json!(new_kid)));
}

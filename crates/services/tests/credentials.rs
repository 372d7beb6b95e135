//! Invitations, the password lifecycle and login lockouts (SPEC §5, §6.5) on the in-memory
//! core.
#![allow(clippy::unwrap_used, clippy::panic, reason = "test helpers outside #[test] functions")]

use serde_json::json;
use tessera_services::ServiceError;
use tessera_services::auth::LoginInput;
use tessera_services::tenants::RegisterInput;
use tessera_testkit::fixtures::{self, PASSWORD};

const NEW_PASSWORD: &str = "a completely different passphrase";

fn fields(e: ServiceError) -> Vec<String> {
    match e {
        ServiceError::Validation(v) => v.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn login(email: &str, password: &str) -> LoginInput {
    LoginInput {
        email: email.into(),
        password: password.into(),
        tenant_slug: "acme".into(),
        ip: None,
        user_agent: None,
    }
}

fn register(email: &str, token: Option<String>) -> RegisterInput {
    RegisterInput {
        email: email.into(),
        password: PASSWORD.into(),
        full_name: "Invited".into(),
        tenant_slug: "acme".into(),
        tenant_name: None,
        invitation_token: token,
    }
}

#[tokio::test]
async fn an_invitation_registers_its_email_once_with_its_role() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let issued = s.invitations.create(&f.admin_principal, "New@Acme.test", "developer").await.unwrap();
    assert_eq!(issued.invitation.email.as_str(), "new@acme.test");
    let err = s.tenants.register(register("other@acme.test", Some(issued.token.clone()))).await.unwrap_err();
    assert_eq!(fields(err), vec!["invitation_token"], "another email");
    let (user, tenant) = s.tenants.register(register("new@acme.test", Some(issued.token.clone()))).await.unwrap();
    assert_eq!((user.role.as_str(), tenant.id), ("developer", f.tenant.id));
    let err = s.tenants.register(register("new@acme.test", Some(issued.token.clone()))).await.unwrap_err();
    assert_eq!(fields(err), vec!["invitation_token"], "used");
    let now = chrono::Utc::now();
    let status = s.invitations.get(&f.admin_principal, issued.invitation.id).await.unwrap().status(now);
    assert_eq!(status.as_str(), "accepted");
}

#[tokio::test]
async fn invitation_rules() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let p = &f.admin_principal;
    s.invitations.create(p, "x@acme.test", "viewer").await.unwrap();
    assert!(matches!(s.invitations.create(p, "x@acme.test", "viewer").await, Err(ServiceError::Conflict(_))));
    assert!(matches!(s.invitations.create(p, "admin@acme.test", "viewer").await, Err(ServiceError::Conflict(_))));
    assert_eq!(fields(s.invitations.create(p, "y@acme.test", "wizard").await.unwrap_err()), vec!["role"]);
    assert!(matches!(
        s.invitations.create(p, "y@acme.test", "super_admin").await,
        Err(ServiceError::ForbiddenAction(_))
    ));
    let revoked = s.invitations.create(p, "z@acme.test", "viewer").await.unwrap();
    s.invitations.revoke(p, revoked.invitation.id).await.unwrap();
    let err = s.tenants.register(register("z@acme.test", Some(revoked.token))).await.unwrap_err();
    assert_eq!(fields(err), vec!["invitation_token"]);
    // Another tenant's token for the same email does not open this tenant.
    let other = fixtures::register_tenant(&s, "other").await;
    let foreign = s.invitations.create(&other.admin_principal, "q@acme.test", "viewer").await.unwrap();
    assert_eq!(
        fields(s.tenants.register(register("q@acme.test", Some(foreign.token))).await.unwrap_err()),
        vec!["invitation_token"]
    );
    assert!(matches!(
        s.invitations.get(&other.admin_principal, revoked.invitation.id).await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn change_password_checks_the_current_one_and_keeps_only_this_session() {
    let (s, mail) = fixtures::in_memory_with_mail().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let other = fixtures::login(&s, "admin@acme.test", "acme").await;
    let p = &f.admin_principal;
    assert_eq!(fields(s.passwords.change(p, "wrong", NEW_PASSWORD).await.unwrap_err()), vec!["current_password"]);
    assert_eq!(fields(s.passwords.change(p, PASSWORD, "short").await.unwrap_err()), vec!["new_password"]);
    assert_eq!(fields(s.passwords.change(p, PASSWORD, PASSWORD).await.unwrap_err()), vec!["new_password"], "history");
    s.passwords.change(p, PASSWORD, NEW_PASSWORD).await.unwrap();
    assert!(s.auth.authenticate(&f.tokens.access_token, None).await.is_ok(), "the changing session stays");
    assert!(s.auth.authenticate(&other.access_token, None).await.is_err(), "other sessions are revoked");
    assert!(s.auth.login(login("admin@acme.test", NEW_PASSWORD)).await.is_ok());
    assert!(mail.sent().iter().any(|m| m.subject == "Your password was changed"));
}

#[tokio::test]
async fn policy_rejects_breached_weak_and_containing_passwords() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let p = &f.admin_principal;
    s.settings.patch(p, f.tenant.id, json!({"password_policy": {"min_length": 8, "min_strength": 3}})).await.unwrap();
    for bad in ["password1234", "admin-of-acme-123", "acmeacmeacme!!"] {
        let named = fields(s.passwords.change(p, PASSWORD, bad).await.unwrap_err());
        assert!(!named.is_empty() && named.iter().all(|f| f == "new_password"), "{bad}: {named:?}");
    }
}

async fn reset_token(mail: &fixtures::RecordingMailer) -> String {
    for _ in 0..100 {
        if let Some(m) = mail.sent().iter().rev().find(|m| m.subject == "Reset your password") {
            let token = m.text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap();
            return token.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no reset mail");
}

#[tokio::test]
async fn forgot_and_reset_work_once_and_revoke_every_session() {
    let (s, mail) = fixtures::in_memory_with_mail().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    s.passwords.forgot("nobody@acme.test", "acme");
    s.passwords.forgot("admin@acme.test", "acme");
    let token = reset_token(&mail).await;
    assert_eq!(
        mail.sent().iter().filter(|m| m.subject == "Reset your password").count(),
        1,
        "unknown accounts get no mail"
    );
    assert_eq!(fields(s.passwords.reset(&token, "short").await.unwrap_err()), vec!["new_password"]);
    s.passwords.reset(&token, NEW_PASSWORD).await.unwrap();
    assert_eq!(fields(s.passwords.reset(&token, NEW_PASSWORD).await.unwrap_err()), vec!["token"], "single use");
    assert_eq!(fields(s.passwords.reset("garbage", NEW_PASSWORD).await.unwrap_err()), vec!["token"]);
    assert!(s.auth.authenticate(&f.tokens.access_token, None).await.is_err());
    assert!(s.auth.login(login("admin@acme.test", NEW_PASSWORD)).await.is_ok());
}

#[tokio::test]
async fn five_failures_lock_existing_and_unknown_accounts_alike() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    for email in ["admin@acme.test", "ghost@acme.test"] {
        for _ in 0..5 {
            assert!(matches!(s.auth.login(login(email, "wrong password!")).await, Err(ServiceError::Unauthenticated)));
        }
        let err = s.auth.login(login(email, PASSWORD)).await.unwrap_err();
        let ServiceError::RateLimited { retry_after } = err else { panic!("{email}: expected 429, got {err:?}") };
        assert!(retry_after.as_secs() > 0 && retry_after.as_secs() <= 60, "{email}");
    }
    let user = s.users.get(&f.admin_principal, f.admin.id).await.unwrap();
    assert_eq!(user.status.as_str(), "locked");
    s.users.unlock(&f.admin_principal, f.admin.id).await.unwrap();
    assert!(s.auth.login(login("admin@acme.test", PASSWORD)).await.is_ok());
    assert_eq!(s.users.get(&f.admin_principal, f.admin.id).await.unwrap().status.as_str(), "active");
}

#[tokio::test]
async fn a_password_past_its_maximum_age_must_be_changed() {
    let clock = std::sync::Arc::new(fixtures::ManualClock::new());
    let (s, _) = fixtures::in_memory_with_clock(clock.clone()).await;
    let f = fixtures::register_tenant(&s, "acme").await;
    s.settings.patch(&f.admin_principal, f.tenant.id, json!({"password_policy": {"max_age_days": 30}})).await.unwrap();
    clock.advance(chrono::Duration::days(29));
    fixtures::login(&s, "admin@acme.test", "acme").await;
    assert!(!s.users.get(&f.admin_principal, f.admin.id).await.unwrap().require_password_change);
    clock.advance(chrono::Duration::days(2));
    let t = fixtures::login(&s, "admin@acme.test", "acme").await;
    let p = s.auth.authenticate(&t.access_token, None).await.unwrap();
    assert!(s.users.get(&p, f.admin.id).await.unwrap().require_password_change);
    s.passwords.change(&p, PASSWORD, NEW_PASSWORD).await.unwrap();
    assert!(!s.users.get(&p, f.admin.id).await.unwrap().require_password_change, "a change clears it");
}

#[tokio::test]
async fn per_ip_and_per_ip_email_throttles_answer_429_for_any_account() {
    let s = fixtures::in_memory().await;
    fixtures::register_tenant(&s, "acme").await;
    let from = |email: &str, ip: &str| LoginInput {
        email: email.into(),
        password: "wrong password!".into(),
        tenant_slug: "acme".into(),
        ip: Some(ip.into()),
        user_agent: None,
    };
    // (IP, email): 10 per minute, whether or not the account or tenant exists. An unknown
    // tenant has no lockout key, so only this limit can refuse the 11th attempt.
    for i in 0..11 {
        let mut input = from("ghost@acme.test", "10.0.0.1");
        input.tenant_slug = "no-such-tenant".into();
        let limited = matches!(s.auth.login(input).await, Err(ServiceError::RateLimited { .. }));
        assert_eq!(limited, i >= 10, "attempt {}", i + 1);
    }
    // Per IP: 30 per minute. 20 emails × 2 attempts stay under the per-(IP, email) limit
    // (10), the lockout (5) and the stuffing signal (more than 20 accounts), so only the
    // per-IP limit can refuse the 31st attempt and those after it.
    for i in 0..40 {
        let result = s.auth.login(from(&format!("u{}@acme.test", i % 20), "10.0.0.2")).await;
        let limited = matches!(result, Err(ServiceError::RateLimited { .. }));
        assert_eq!(limited, i >= 30, "attempt {}", i + 1);
    }
    // Another IP is unaffected.
    assert!(matches!(s.auth.login(from("admin@acme.test", "10.0.0.3")).await, Err(ServiceError::Unauthenticated)));
}

#[tokio::test]
async fn many_accounts_from_one_ip_are_flagged_as_credential_stuffing() {
    let (s, events) = fixtures::in_memory_with_events().await;
    fixtures::register_tenant(&s, "acme").await;
    for i in 0..21 {
        let input = LoginInput {
            email: format!("victim{i}@acme.test"),
            password: "leaked password".into(),
            tenant_slug: "acme".into(),
            ip: Some("10.9.9.9".into()),
            user_agent: None,
        };
        let _ = s.auth.login(input).await;
    }
    assert!(events.events().iter().any(|e| e.kind == "auth.credential_stuffing_suspected"));
}

//! Refresh rotation, reuse detection, sessions and revocation (SPEC §6.2–§6.3) on the
//! in-memory core.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use serde_json::json;
use std::sync::Arc;
use tessera_domain::Principal;
use tessera_services::ServiceError;
use tessera_services::users::NewUserInput;
use tessera_testkit::fixtures::{self, PASSWORD};

async fn principal(s: &tessera_services::Services, token: &str) -> Principal {
    s.auth.authenticate(token, None).await.unwrap()
}

#[tokio::test]
async fn refresh_rotates_and_keeps_the_session_and_amr() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let first = principal(&s, &f.tokens.access_token).await;
    let pair = s.auth.refresh(&f.tokens.refresh_token).await.unwrap();
    assert_ne!(pair.refresh_token, f.tokens.refresh_token);
    assert!(pair.refresh_token.starts_with("rt_"));
    let second = principal(&s, &pair.access_token).await;
    assert_eq!(second.session_id, first.session_id);
    let again = s.auth.refresh(&pair.refresh_token).await.unwrap();
    principal(&s, &again.access_token).await;
}

#[tokio::test]
async fn reuse_within_grace_is_401_without_revoking() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let pair = s.auth.refresh(&f.tokens.refresh_token).await.unwrap();
    assert!(matches!(s.auth.refresh(&f.tokens.refresh_token).await, Err(ServiceError::Unauthenticated)));
    // The winner's pair keeps working.
    principal(&s, &pair.access_token).await;
    s.auth.refresh(&pair.refresh_token).await.unwrap();
}

#[tokio::test]
async fn twenty_concurrent_refreshes_have_one_winner_whose_pair_keeps_working() {
    let s = Arc::new(fixtures::in_memory().await);
    let f = fixtures::register_tenant(&s, "acme").await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let s = s.clone();
            let t = f.tokens.refresh_token.clone();
            tokio::spawn(async move { s.auth.refresh(&t).await })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        if let Ok(pair) = t.await.unwrap() {
            winners.push(pair);
        }
    }
    assert_eq!(winners.len(), 1);
    principal(&s, &winners[0].access_token).await;
    s.auth.refresh(&winners[0].refresh_token).await.unwrap();
}

#[tokio::test]
async fn garbage_refresh_tokens_are_401() {
    let s = fixtures::in_memory().await;
    fixtures::register_tenant(&s, "acme").await;
    for t in ["", "nope", "rt_00000000000000000000000000000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"] {
        assert!(matches!(s.auth.refresh(t).await, Err(ServiceError::Unauthenticated)), "{t}");
    }
}

#[tokio::test]
async fn logout_revokes_access_and_refresh_tokens() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let p = principal(&s, &f.tokens.access_token).await;
    s.auth.logout(&p).await.unwrap();
    assert!(matches!(s.auth.authenticate(&f.tokens.access_token, None).await, Err(ServiceError::Unauthenticated)));
    assert!(matches!(s.auth.refresh(&f.tokens.refresh_token).await, Err(ServiceError::Unauthenticated)));
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_one_or_all_but_current() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let second = fixtures::login(&s, "admin@acme.test", "acme").await;
    let third = fixtures::login(&s, "admin@acme.test", "acme").await;
    let me = principal(&s, &third.access_token).await;
    let listed = s.sessions.list_mine(&me).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(Some(listed[0].id), me.session_id, "newest first");
    let second_sid = principal(&s, &second.access_token).await.session_id.unwrap();
    s.sessions.revoke_mine(&me, second_sid).await.unwrap();
    assert!(s.auth.authenticate(&second.access_token, None).await.is_err());
    s.sessions.revoke_others(&me).await.unwrap();
    assert!(s.auth.authenticate(&f.tokens.access_token, None).await.is_err());
    assert_eq!(s.sessions.list_mine(&me).await.unwrap().len(), 1);
    principal(&s, &third.access_token).await;
}

#[tokio::test]
async fn another_users_session_is_not_found() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let input = NewUserInput {
        email: "v@acme.test".into(),
        full_name: "V".into(),
        role: "viewer".into(),
        password: PASSWORD.into(),
        require_password_change: false,
    };
    s.users.create(&f.admin_principal, input).await.unwrap();
    let v = principal(&s, &fixtures::login(&s, "v@acme.test", "acme").await.access_token).await;
    let admin_sid = f.admin_principal.session_id.unwrap();
    assert!(matches!(s.sessions.revoke_mine(&v, admin_sid).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.sessions.list_for_user(&v, f.admin.id).await, Err(ServiceError::Forbidden { .. })));
    assert_eq!(s.sessions.list_for_user(&f.admin_principal, v.user_id).await.unwrap().len(), 1);
    s.sessions.revoke_for_user(&f.admin_principal, v.user_id).await.unwrap();
    assert!(s.sessions.list_for_user(&f.admin_principal, v.user_id).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_per_user_session_limit_evicts_the_oldest() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    s.settings.patch(&f.admin_principal, f.tenant.id, json!({"sessions": {"max_per_user": 2}})).await.unwrap();
    let second = fixtures::login(&s, "admin@acme.test", "acme").await;
    let third = fixtures::login(&s, "admin@acme.test", "acme").await;
    assert!(s.auth.authenticate(&f.tokens.access_token, None).await.is_err(), "the oldest was evicted");
    principal(&s, &second.access_token).await;
    principal(&s, &third.access_token).await;
}

#[tokio::test]
async fn disabling_a_user_or_changing_their_role_revokes_their_sessions() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    for (email, change) in [("a@acme.test", "role"), ("b@acme.test", "disable")] {
        let input = NewUserInput {
            email: email.into(),
            full_name: "U".into(),
            role: "developer".into(),
            password: PASSWORD.into(),
            require_password_change: false,
        };
        let u = s.users.create(&f.admin_principal, input).await.unwrap();
        let t = fixtures::login(&s, email, "acme").await;
        principal(&s, &t.access_token).await;
        match change {
            "role" => drop(s.users.set_role(&f.admin_principal, u.id, "viewer").await.unwrap()),
            _ => drop(s.users.disable(&f.admin_principal, u.id).await.unwrap()),
        }
        assert!(s.auth.authenticate(&t.access_token, None).await.is_err(), "{change}");
        assert!(s.auth.refresh(&t.refresh_token).await.is_err(), "{change}");
    }
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_session_and_is_recorded() {
    let clock = Arc::new(fixtures::ManualClock::new());
    let (s, events) = fixtures::in_memory_with_clock(clock.clone()).await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let pair = s.auth.refresh(&f.tokens.refresh_token).await.unwrap();
    clock.advance(chrono::Duration::seconds(6));
    assert!(matches!(s.auth.refresh(&f.tokens.refresh_token).await, Err(ServiceError::Unauthenticated)));
    assert!(s.auth.authenticate(&pair.access_token, None).await.is_err(), "the family's access token is refused");
    assert!(s.auth.refresh(&pair.refresh_token).await.is_err(), "the family's refresh token is dead");
    let reuse = events.events().into_iter().find(|e| e.kind == "auth.refresh_reuse").unwrap();
    assert_eq!(reuse.actor, Some(f.admin.id));
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    let clock = Arc::new(fixtures::ManualClock::new());
    let (s, _) = fixtures::in_memory_with_clock(clock.clone()).await;
    let f = fixtures::register_tenant(&s, "acme").await;
    s.settings
        .patch(
            &f.admin_principal,
            f.tenant.id,
            json!({"sessions": {"idle_timeout_minutes": 10, "absolute_timeout_hours": 1}}),
        )
        .await
        .unwrap();
    let t = fixtures::login(&s, "admin@acme.test", "acme").await;
    clock.advance(chrono::Duration::minutes(9));
    let t = s.auth.refresh(&t.refresh_token).await.unwrap();
    clock.advance(chrono::Duration::minutes(11));
    assert!(s.auth.refresh(&t.refresh_token).await.is_err(), "idle for 11 minutes");
    let mut t = fixtures::login(&s, "admin@acme.test", "acme").await;
    for _ in 0..6 {
        clock.advance(chrono::Duration::minutes(9));
        t = s.auth.refresh(&t.refresh_token).await.unwrap();
    }
    clock.advance(chrono::Duration::minutes(7));
    assert!(s.auth.refresh(&t.refresh_token).await.is_err(), "past the absolute lifetime of 1 h");
}

//! `SessionRepository`: a session and its first refresh token are stored together, in
//! their tenant only, and go when their user goes.

use super::sample::{add_user, provision, session};
use super::{assert_conflict, assert_not_found};
use tessera_domain::ports::{AdminGuard, Repositories};
use tessera_domain::session::Session;
use tessera_domain::{SessionId, UserId};
use uuid::Uuid;

/// A `max_live` that evicts nothing in these cases.
pub const NO_LIMIT: u32 = 1000;

pub async fn create_then_get(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, refresh) = session(&admin);
    assert_eq!(r.sessions.create(t.id, &s, &refresh, NO_LIMIT).await.unwrap(), []);
    assert_eq!(r.sessions.get(t.id, s.id).await.unwrap(), s);
    // Optional fields and an empty amr list round-trip too.
    let (mut bare, refresh) = session(&admin);
    (bare.ip, bare.user_agent, bare.amr, bare.revoked_at) = (None, None, Vec::new(), Some(bare.created_at));
    r.sessions.create(t.id, &bare, &refresh, NO_LIMIT).await.unwrap();
    assert_eq!(r.sessions.get(t.id, bare.id).await.unwrap(), bare);
}

pub async fn unknown_session_is_not_found(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    assert_not_found(r.sessions.get(t.id, SessionId(Uuid::now_v7())).await);
}

pub async fn other_tenants_session_is_not_found(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, b_admin) = provision(r, "tenant-b").await;
    let (s, refresh) = session(&b_admin);
    r.sessions.create(b.id, &s, &refresh, NO_LIMIT).await.unwrap();
    assert_not_found(r.sessions.get(a.id, s.id).await);
    assert_eq!(r.sessions.get(b.id, s.id).await.unwrap(), s);
}

pub async fn create_for_a_user_outside_the_tenant_is_not_found(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (_, b_admin) = provision(r, "tenant-b").await;
    // A session in tenant A naming tenant B's user.
    let (s, refresh) = session(&b_admin);
    let s = Session { tenant_id: a.id, ..s };
    let refresh = tessera_domain::session::RefreshTokenRecord { tenant_id: a.id, ..refresh };
    assert_not_found(r.sessions.create(a.id, &s, &refresh, NO_LIMIT).await);
    assert_not_found(r.sessions.get(a.id, s.id).await);
    // A user that does not exist at all.
    let ghost = tessera_domain::User { id: UserId(Uuid::now_v7()), tenant_id: a.id, ..b_admin };
    let (s, refresh) = session(&ghost);
    assert_not_found(r.sessions.create(a.id, &s, &refresh, NO_LIMIT).await);
}

pub async fn duplicate_token_hash_conflicts(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (first, refresh) = session(&admin);
    r.sessions.create(t.id, &first, &refresh, NO_LIMIT).await.unwrap();
    let (second, mut again) = session(&admin);
    again.token_hash.clone_from(&refresh.token_hash);
    assert_conflict(r.sessions.create(t.id, &second, &again, NO_LIMIT).await, "token_hash");
    // The session row went back out with its token.
    assert_not_found(r.sessions.get(t.id, second.id).await);
}

pub async fn refresh_token_must_belong_to_the_session(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, _) = session(&admin);
    let (_, foreign) = session(&admin);
    assert!(r.sessions.create(t.id, &s, &foreign, NO_LIMIT).await.is_err());
    assert_not_found(r.sessions.get(t.id, s.id).await);
}

pub async fn deleting_the_user_removes_its_sessions(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let dev = add_user(r, t.id, "dev@acme.test", "developer").await;
    let (kept, kept_refresh) = session(&admin);
    let (gone, gone_refresh) = session(&dev);
    r.sessions.create(t.id, &kept, &kept_refresh, NO_LIMIT).await.unwrap();
    r.sessions.create(t.id, &gone, &gone_refresh, NO_LIMIT).await.unwrap();
    r.users.delete(t.id, dev.id, AdminGuard::KeepOne).await.unwrap();
    assert_not_found(r.sessions.get(t.id, gone.id).await);
    assert_eq!(r.sessions.get(t.id, kept.id).await.unwrap(), kept);
    // Its refresh token went too: the hash is free for a new session.
    let (fresh, mut refresh) = session(&admin);
    refresh.token_hash = gone_refresh.token_hash;
    r.sessions.create(t.id, &fresh, &refresh, NO_LIMIT).await.unwrap();
}

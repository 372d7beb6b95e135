//! `SessionRepository::revoke` and `revoke_all_for_user`: a revoked session and its whole
//! refresh-token family are dead at once, in the session's tenant only.

use super::assert_not_found;
use super::refresh_rotation::rotate;
use super::sample::{add_user, now, provision, replacement, session_at};
use chrono::Duration;
use tessera_domain::ports::{RefreshOutcome, Repositories};
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::{SessionId, TenantId, User};
use uuid::Uuid;

async fn login(r: &Repositories, user: &User, minutes: i64) -> (Session, RefreshTokenRecord) {
    let (s, refresh) = session_at(user, now() + Duration::minutes(minutes));
    r.sessions.create(user.tenant_id, &s, &refresh, 1000).await.unwrap();
    (s, refresh)
}

/// Presents `hash` under `tenant` half an hour from now, within the idle timeout.
async fn present(r: &Repositories, tenant: TenantId, hash: &str) -> RefreshOutcome {
    let at = now() + Duration::minutes(30);
    rotate(r, tenant, hash, &replacement(tenant, at), at).await
}

pub async fn revoke_is_idempotent(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, _) = login(r, &admin, 0).await;
    let first = s.created_at + Duration::minutes(1);
    r.sessions.revoke(t.id, s.id, first).await.unwrap();
    assert_eq!(r.sessions.get(t.id, s.id).await.unwrap(), Session { revoked_at: Some(first), ..s.clone() });
    // Again, later: fine, and the first revocation time stays.
    r.sessions.revoke(t.id, s.id, first + Duration::minutes(1)).await.unwrap();
    assert_eq!(r.sessions.get(t.id, s.id).await.unwrap().revoked_at, Some(first));
    assert_eq!(r.sessions.list_live(t.id, admin.id, first).await.unwrap(), []);
}

pub async fn revoke_in_another_tenant_is_not_found(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, b_admin) = provision(r, "tenant-b").await;
    let (s, refresh) = login(r, &b_admin, 0).await;
    assert_not_found(r.sessions.revoke(a.id, s.id, now()).await);
    assert_not_found(r.sessions.revoke(a.id, SessionId(Uuid::now_v7()), now()).await);
    assert_eq!(r.sessions.get(b.id, s.id).await.unwrap().revoked_at, None);
    assert!(matches!(present(r, b.id, &refresh.token_hash).await, RefreshOutcome::Rotated(_)));
}

/// Revocation kills the refresh family: the current token and a replacement alike.
pub async fn revoked_sessions_refresh_tokens_are_invalid(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, refresh) = login(r, &admin, 0).await;
    let at = s.created_at + Duration::minutes(1);
    let next = replacement(t.id, at);
    assert!(matches!(rotate(r, t.id, &refresh.token_hash, &next, at).await, RefreshOutcome::Rotated(_)));
    r.sessions.revoke(t.id, s.id, at + Duration::seconds(1)).await.unwrap();
    assert_eq!(present(r, t.id, &next.token_hash).await, RefreshOutcome::Invalid);
    // The used one is not "reuse" any more either: the session is gone.
    assert_eq!(present(r, t.id, &refresh.token_hash).await, RefreshOutcome::Invalid);
}

pub async fn revoke_all_for_user_keeps_keep_and_touches_no_one_else(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let dev = add_user(r, t.id, "dev@acme.test", "developer").await;
    let (other, other_admin) = provision(r, "other").await;
    let mut own = Vec::new();
    for minutes in 0..4 {
        own.push(login(r, &admin, minutes).await);
    }
    let already = now() + Duration::minutes(4);
    r.sessions.revoke(t.id, own[3].0.id, already).await.unwrap();
    let (devs, devs_refresh) = login(r, &dev, 0).await;
    let (others, others_refresh) = login(r, &other_admin, 0).await;

    let at = now() + Duration::minutes(5);
    let keep = own[1].0.id;
    let mut revoked = r.sessions.revoke_all_for_user(t.id, admin.id, Some(keep), at).await.unwrap();
    revoked.sort();
    let mut expected = vec![own[0].0.id, own[2].0.id];
    expected.sort();
    assert_eq!(revoked, expected, "only the live sessions but `keep`");
    assert_eq!(r.sessions.get(t.id, own[0].0.id).await.unwrap().revoked_at, Some(at));
    assert_eq!(r.sessions.get(t.id, own[3].0.id).await.unwrap().revoked_at, Some(already));
    let live: Vec<SessionId> = r.sessions.list_live(t.id, admin.id, at).await.unwrap().iter().map(|s| s.id).collect();
    assert_eq!(live, [keep]);
    assert_eq!(present(r, t.id, &own[0].1.token_hash).await, RefreshOutcome::Invalid);
    assert_eq!(present(r, t.id, &own[2].1.token_hash).await, RefreshOutcome::Invalid);
    assert!(matches!(present(r, t.id, &own[1].1.token_hash).await, RefreshOutcome::Rotated(_)));

    // Nobody else lost a session.
    assert_eq!(r.sessions.get(t.id, devs.id).await.unwrap().revoked_at, None);
    assert_eq!(r.sessions.get(other.id, others.id).await.unwrap().revoked_at, None);
    assert!(matches!(present(r, t.id, &devs_refresh.token_hash).await, RefreshOutcome::Rotated(_)));
    assert!(matches!(present(r, other.id, &others_refresh.token_hash).await, RefreshOutcome::Rotated(_)));

    // Without `keep`, the last one goes too; then there is nothing left to revoke.
    assert_eq!(r.sessions.revoke_all_for_user(t.id, admin.id, None, at).await.unwrap(), [keep]);
    assert_eq!(r.sessions.revoke_all_for_user(t.id, admin.id, None, at).await.unwrap(), []);
}

pub async fn revoke_all_for_user_in_another_tenant_revokes_nothing(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, b_admin) = provision(r, "tenant-b").await;
    let (s, _) = login(r, &b_admin, 0).await;
    let at = now() + Duration::minutes(1);
    assert_eq!(r.sessions.revoke_all_for_user(a.id, b_admin.id, None, at).await.unwrap(), []);
    assert_eq!(r.sessions.get(b.id, s.id).await.unwrap().revoked_at, None);
}

//! `SessionRepository::rotate_refresh` (SPEC §6.2): a fresh token rotates once; presented
//! again within the grace it changes nothing; later it revokes the session; anything not
//! usable (unknown, expired, revoked, idle, another tenant's) is `Invalid`.

use super::assert_conflict;
use super::sample::{now, provision, replacement, session_at, token_hash};
use chrono::{DateTime, Duration, Utc};
use tessera_domain::TenantId;
use tessera_domain::User;
use tessera_domain::ports::{RefreshOutcome, Repositories};
use tessera_domain::session::{RefreshTokenRecord, Session};

/// The reuse grace of these cases (the service's default is 5 s too).
pub const GRACE: Duration = Duration::seconds(5);
/// The idle timeout of these cases.
pub const IDLE: Duration = Duration::hours(1);

/// Rotates `hash` at `at` with [`GRACE`] and [`IDLE`]; a storage error fails the case.
pub async fn rotate(
    r: &Repositories,
    tenant: TenantId,
    hash: &str,
    next: &RefreshTokenRecord,
    at: DateTime<Utc>,
) -> RefreshOutcome {
    r.sessions.rotate_refresh(tenant, hash, next, at, GRACE, IDLE).await.unwrap()
}

async fn login(r: &Repositories, user: &User) -> (Session, RefreshTokenRecord) {
    let (s, refresh) = session_at(user, now());
    r.sessions.create(user.tenant_id, &s, &refresh, 1000).await.unwrap();
    (s, refresh)
}

#[track_caller]
fn rotated(outcome: RefreshOutcome) -> Session {
    match outcome {
        RefreshOutcome::Rotated(session) => session,
        other => panic!("expected Rotated, got {other:?}"),
    }
}

pub async fn rotation_updates_last_seen_and_the_replacement_rotates_next(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, refresh) = login(r, &admin).await;
    let at = s.created_at + Duration::minutes(10);
    let next = replacement(t.id, at);
    let session = rotated(rotate(r, t.id, &refresh.token_hash, &next, at).await);
    assert_eq!(session, Session { last_seen_at: at, ..s.clone() });
    assert_eq!(r.sessions.get(t.id, s.id).await.unwrap(), session);

    // The replacement belongs to the same session (it named none) and rotates in turn.
    let later = at + Duration::minutes(50);
    let after = replacement(t.id, later);
    let session = rotated(rotate(r, t.id, &next.token_hash, &after, later).await);
    assert_eq!((session.id, session.user_id, session.last_seen_at), (s.id, admin.id, later));
    // Idle is measured from the last rotation: 1 h 50 min after login is fine.
    let last = later + Duration::minutes(59);
    rotated(rotate(r, t.id, &after.token_hash, &replacement(t.id, last), last).await);
}

/// The replacement joins the rotated token's session even when it names another one.
pub async fn the_replacement_joins_the_rotated_tokens_session(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, refresh) = login(r, &admin).await;
    let (other, _) = login(r, &admin).await;
    let at = s.created_at + Duration::minutes(1);
    let next = RefreshTokenRecord { session_id: other.id, ..replacement(t.id, at) };
    rotated(rotate(r, t.id, &refresh.token_hash, &next, at).await);
    r.sessions.revoke(t.id, s.id, at).await.unwrap();
    // Revoking the first session killed the replacement: it was that session's.
    assert_eq!(rotate(r, t.id, &next.token_hash, &replacement(t.id, at), at).await, RefreshOutcome::Invalid);
}

pub async fn reuse_within_grace_changes_nothing(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, refresh) = login(r, &admin).await;
    let at = s.created_at + Duration::minutes(1);
    let next = replacement(t.id, at);
    rotated(rotate(r, t.id, &refresh.token_hash, &next, at).await);
    for late in [Duration::zero(), Duration::seconds(1), GRACE] {
        let loser = replacement(t.id, at + late);
        let outcome = rotate(r, t.id, &refresh.token_hash, &loser, at + late).await;
        assert_eq!(outcome, RefreshOutcome::ReusedWithinGrace, "{late}");
        // The loser's replacement was not stored.
        let outcome = rotate(r, t.id, &loser.token_hash, &replacement(t.id, at), at + late).await;
        assert_eq!(outcome, RefreshOutcome::Invalid);
    }
    assert_eq!(r.sessions.get(t.id, s.id).await.unwrap().revoked_at, None);
    let later = at + GRACE + Duration::seconds(1);
    rotated(rotate(r, t.id, &next.token_hash, &replacement(t.id, later), later).await);
}

pub async fn reuse_after_grace_revokes_the_session(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, refresh) = login(r, &admin).await;
    let at = s.created_at + Duration::minutes(1);
    let next = replacement(t.id, at);
    rotated(rotate(r, t.id, &refresh.token_hash, &next, at).await);
    let late = at + GRACE + Duration::microseconds(1);
    let outcome = rotate(r, t.id, &refresh.token_hash, &replacement(t.id, late), late).await;
    assert_eq!(outcome, RefreshOutcome::ReuseDetected { session_id: s.id, user_id: admin.id });
    assert_eq!(r.sessions.get(t.id, s.id).await.unwrap().revoked_at, Some(late));
    assert_eq!(rotate(r, t.id, &next.token_hash, &replacement(t.id, late), late).await, RefreshOutcome::Invalid);
    // Reported once: the session is gone now, so the stolen token is merely invalid.
    assert_eq!(rotate(r, t.id, &refresh.token_hash, &replacement(t.id, late), late).await, RefreshOutcome::Invalid);
}

pub async fn unknown_token_is_invalid(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    login(r, &admin).await;
    let at = now();
    assert_eq!(rotate(r, t.id, &token_hash(), &replacement(t.id, at), at).await, RefreshOutcome::Invalid);
}

pub async fn expired_token_is_invalid(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, refresh) = session_at(&admin, now());
    let refresh = RefreshTokenRecord { expires_at: s.created_at + Duration::minutes(5), ..refresh };
    r.sessions.create(t.id, &s, &refresh, 1000).await.unwrap();
    let at = refresh.expires_at;
    assert_eq!(rotate(r, t.id, &refresh.token_hash, &replacement(t.id, at), at).await, RefreshOutcome::Invalid);
    // A moment earlier it was fine: the token, not the session, had expired.
    let before = at - Duration::microseconds(1);
    rotated(rotate(r, t.id, &refresh.token_hash, &replacement(t.id, before), before).await);
}

pub async fn session_past_expiry_is_invalid(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, refresh) = session_at(&admin, now());
    let s = Session { expires_at: s.created_at + Duration::minutes(5), ..s };
    r.sessions.create(t.id, &s, &refresh, 1000).await.unwrap();
    let at = s.expires_at + Duration::seconds(1);
    assert_eq!(rotate(r, t.id, &refresh.token_hash, &replacement(t.id, at), at).await, RefreshOutcome::Invalid);
    assert_eq!(r.sessions.get(t.id, s.id).await.unwrap(), s, "an invalid presentation changes nothing");
}

pub async fn idle_session_is_invalid(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, refresh) = login(r, &admin).await;
    let at = s.last_seen_at + IDLE + Duration::seconds(1);
    assert_eq!(rotate(r, t.id, &refresh.token_hash, &replacement(t.id, at), at).await, RefreshOutcome::Invalid);
    // Exactly the idle timeout is still fine.
    let at = s.last_seen_at + IDLE;
    rotated(rotate(r, t.id, &refresh.token_hash, &replacement(t.id, at), at).await);
}

pub async fn another_tenants_token_is_invalid(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, b_admin) = provision(r, "tenant-b").await;
    let (s, refresh) = login(r, &b_admin).await;
    let at = s.created_at + Duration::minutes(1);
    assert_eq!(rotate(r, a.id, &refresh.token_hash, &replacement(a.id, at), at).await, RefreshOutcome::Invalid);
    // Untouched in its own tenant.
    assert_eq!(r.sessions.get(b.id, s.id).await.unwrap(), s);
    rotated(rotate(r, b.id, &refresh.token_hash, &replacement(b.id, at), at).await);
}

/// A replacement whose hash is taken fails the rotation as a whole: the token stays unused.
pub async fn a_failed_rotation_leaves_the_token_unused(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (s, refresh) = login(r, &admin).await;
    let (_, other) = login(r, &admin).await;
    let at = s.created_at + Duration::minutes(1);
    let clash = RefreshTokenRecord { token_hash: other.token_hash.clone(), ..replacement(t.id, at) };
    assert_conflict(r.sessions.rotate_refresh(t.id, &refresh.token_hash, &clash, at, GRACE, IDLE).await, "token_hash");
    assert_eq!(r.sessions.get(t.id, s.id).await.unwrap().last_seen_at, s.last_seen_at);
    let later = at + Duration::minutes(1);
    rotated(rotate(r, t.id, &refresh.token_hash, &replacement(t.id, later), later).await);
}

/// A replacement claiming another tenant is a caller bug, refused before anything is read.
pub async fn a_replacement_of_another_tenant_is_refused(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (other, _) = provision(r, "other").await;
    let (s, refresh) = login(r, &admin).await;
    let at = s.created_at + Duration::minutes(1);
    let foreign = replacement(other.id, at);
    let result = r.sessions.rotate_refresh(t.id, &refresh.token_hash, &foreign, at, GRACE, IDLE).await;
    assert_conflict(result, "tenant_mismatch");
    rotated(rotate(r, t.id, &refresh.token_hash, &replacement(t.id, at), at).await);
}

/// Runs `rounds` races, each on a fresh session: `attempts` concurrent rotations of its one
/// token, each with its own replacement, at one instant, released together. Exactly one
/// is `Rotated`, every other `ReusedWithinGrace`; the winner's replacement then rotates,
/// no loser's does, and the session is still live. Run it on a multi-threaded runtime.
pub async fn concurrent_rotations_rotate_once(r: &Repositories, rounds: usize, attempts: usize) {
    let (t, admin) = provision(r, "rotation-race").await;
    for round in 0..rounds {
        let (s, refresh) = login(r, &admin).await;
        warm_up(r, t.id, &admin, attempts).await;
        let at = s.created_at + Duration::seconds(1);
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(attempts));
        let tasks: Vec<_> = (0..attempts)
            .map(|_| {
                let (sessions, start, hash) = (r.sessions.clone(), start.clone(), refresh.token_hash.clone());
                let next = replacement(t.id, at);
                tokio::spawn(async move {
                    start.wait().await;
                    let outcome = sessions.rotate_refresh(t.id, &hash, &next, at, GRACE, IDLE).await;
                    (next, outcome)
                })
            })
            .collect();
        let (mut winners, mut losers) = (Vec::new(), Vec::new());
        for task in tasks {
            let (next, outcome) = task.await.expect("the rotation task ran");
            match outcome.expect("a concurrent rotation failed") {
                RefreshOutcome::Rotated(session) => winners.push((next, session)),
                RefreshOutcome::ReusedWithinGrace => losers.push(next),
                other => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!((winners.len(), losers.len()), (1, attempts - 1), "round {round}: exactly one rotation wins");
        let (next, session) = winners.remove(0);
        assert_eq!(session, Session { last_seen_at: at, ..s.clone() });
        let later = at + GRACE;
        for loser in losers {
            assert_eq!(
                rotate(r, t.id, &loser.token_hash, &replacement(t.id, later), later).await,
                RefreshOutcome::Invalid
            );
        }
        rotated(rotate(r, t.id, &next.token_hash, &replacement(t.id, later), later).await);
        assert_eq!(r.sessions.get(t.id, s.id).await.unwrap().revoked_at, None, "round {round}");
    }
}

/// Opens the pool's connections first, so the racers race each other rather than queue
/// behind connection set-up.
pub async fn warm_up(r: &Repositories, tenant: TenantId, user: &User, attempts: usize) {
    let tasks: Vec<_> = (0..attempts)
        .map(|_| {
            let (sessions, user) = (r.sessions.clone(), user.id);
            tokio::spawn(async move { sessions.list_live(tenant, user, now()).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("the warm-up task ran").expect("warm-up read");
    }
}

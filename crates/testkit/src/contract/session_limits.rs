//! `SessionRepository::create` with its per-user limit, and `list_live`: a login evicts the
//! user's oldest live sessions (revoked and expired ones do not count) in the same
//! transaction, and only that user's.

use super::assert_conflict;
use super::refresh_rotation::rotate;
use super::sample::{add_user, now, provision, replacement, session_at};
use chrono::{DateTime, Duration, Utc};
use tessera_domain::ports::{RefreshOutcome, Repositories};
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::{SessionId, User};

/// Stores sessions of `user` created at `at + offsets[i]` minutes, none evicting (a high limit).
async fn sessions_at(
    r: &Repositories,
    user: &User,
    at: DateTime<Utc>,
    offsets: &[i64],
) -> Vec<(Session, RefreshTokenRecord)> {
    let mut stored = Vec::new();
    for offset in offsets {
        let (s, refresh) = session_at(user, at + Duration::minutes(*offset));
        assert_eq!(r.sessions.create(user.tenant_id, &s, &refresh, 1000).await.unwrap(), []);
        stored.push((s, refresh));
    }
    stored
}

fn ids(sessions: &[Session]) -> Vec<SessionId> {
    sessions.iter().map(|s| s.id).collect()
}

pub async fn eviction_keeps_max_live_and_evicts_the_oldest_first(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let t0 = now();
    // Ids ascend in creation order of the values, but created_at says otherwise: the
    // second session is the oldest, the first the newest.
    let stored = sessions_at(r, &admin, t0, &[3, 1, 2]).await;
    let (newest, oldest, middle) = (&stored[0].0, &stored[1].0, &stored[2].0);

    let (fourth, fourth_refresh) = session_at(&admin, t0 + Duration::minutes(4));
    assert_eq!(r.sessions.create(t.id, &fourth, &fourth_refresh, 3).await.unwrap(), [oldest.id]);
    let evicted = r.sessions.get(t.id, oldest.id).await.unwrap();
    assert_eq!(evicted.revoked_at, Some(fourth.created_at), "evicted at the new session's creation");
    let live = r.sessions.list_live(t.id, admin.id, fourth.created_at).await.unwrap();
    assert_eq!(ids(&live), [fourth.id, newest.id, middle.id]);

    // A lower limit evicts several, oldest first.
    let (fifth, fifth_refresh) = session_at(&admin, t0 + Duration::minutes(5));
    assert_eq!(r.sessions.create(t.id, &fifth, &fifth_refresh, 2).await.unwrap(), [middle.id, newest.id]);
    let live = r.sessions.list_live(t.id, admin.id, fifth.created_at).await.unwrap();
    assert_eq!(ids(&live), [fifth.id, fourth.id]);

    // An evicted session's refresh token is dead.
    let at = fifth.created_at + Duration::seconds(1);
    assert_eq!(rotate(r, t.id, &stored[1].1.token_hash, &replacement(t.id, at), at).await, RefreshOutcome::Invalid);
}

pub async fn max_live_counts_only_live_sessions(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let t0 = now();
    let stored = sessions_at(r, &admin, t0, &[0, 1]).await;
    let (revoked, live) = (&stored[0].0, &stored[1].0);
    r.sessions.revoke(t.id, revoked.id, t0 + Duration::minutes(2)).await.unwrap();
    // Expires exactly when the next login happens: not live then.
    let next_login = t0 + Duration::minutes(10);
    let (expiring, refresh) = session_at(&admin, t0 + Duration::minutes(3));
    let expiring = Session { expires_at: next_login, ..expiring };
    assert_eq!(r.sessions.create(t.id, &expiring, &refresh, 1000).await.unwrap(), []);
    let (expired, refresh) = session_at(&admin, t0 - Duration::days(40));
    assert_eq!(r.sessions.create(t.id, &expired, &refresh, 1000).await.unwrap(), []);

    let (s, refresh) = session_at(&admin, next_login);
    assert_eq!(r.sessions.create(t.id, &s, &refresh, 2).await.unwrap(), []);
    let listed = r.sessions.list_live(t.id, admin.id, next_login).await.unwrap();
    assert_eq!(ids(&listed), [s.id, live.id]);
    // The expired ones stay as they were: expired, not revoked.
    assert_eq!(r.sessions.get(t.id, expired.id).await.unwrap().revoked_at, None);
    assert_eq!(r.sessions.get(t.id, expiring.id).await.unwrap().revoked_at, None);
    // One more login at the limit of 2 evicts the one live older session.
    let (again, refresh) = session_at(&admin, next_login + Duration::minutes(1));
    assert_eq!(r.sessions.create(t.id, &again, &refresh, 2).await.unwrap(), [live.id]);
}

pub async fn eviction_touches_no_other_user_or_tenant(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let dev = add_user(r, t.id, "dev@acme.test", "developer").await;
    let (other_tenant, other_admin) = provision(r, "other").await;
    let t0 = now();
    let own = sessions_at(r, &admin, t0, &[0]).await;
    let devs = sessions_at(r, &dev, t0, &[-2, -1]).await;
    let others = sessions_at(r, &other_admin, t0, &[-2, -1]).await;

    let (s, refresh) = session_at(&admin, t0 + Duration::minutes(1));
    assert_eq!(r.sessions.create(t.id, &s, &refresh, 1).await.unwrap(), [own[0].0.id]);
    let at = s.created_at;
    assert_eq!(r.sessions.list_live(t.id, dev.id, at).await.unwrap().len(), devs.len());
    assert_eq!(r.sessions.list_live(other_tenant.id, other_admin.id, at).await.unwrap().len(), others.len());
}

/// A login that fails (here: a token hash already taken) evicts nothing.
pub async fn a_failed_create_evicts_nothing(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let t0 = now();
    let stored = sessions_at(r, &admin, t0, &[0]).await;
    let (s, mut refresh) = session_at(&admin, t0 + Duration::minutes(1));
    refresh.token_hash.clone_from(&stored[0].1.token_hash);
    assert_conflict(r.sessions.create(t.id, &s, &refresh, 1).await, "token_hash");
    let live = r.sessions.list_live(t.id, admin.id, s.created_at).await.unwrap();
    assert_eq!(ids(&live), [stored[0].0.id]);
    let at = s.created_at;
    let outcome = rotate(r, t.id, &stored[0].1.token_hash, &replacement(t.id, at), at).await;
    assert!(matches!(outcome, RefreshOutcome::Rotated(_)), "{outcome:?}");
}

pub async fn list_live_is_newest_first_without_revoked_or_expired(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let t0 = now();
    let stored = sessions_at(r, &admin, t0, &[2, 0, 3, 1]).await;
    let sessions: Vec<&Session> = stored.iter().map(|(s, _)| s).collect();
    r.sessions.revoke(t.id, sessions[2].id, t0 + Duration::minutes(4)).await.unwrap();
    let listed = r.sessions.list_live(t.id, admin.id, t0 + Duration::minutes(5)).await.unwrap();
    assert_eq!(ids(&listed), [sessions[0].id, sessions[3].id, sessions[1].id]);
    // Sessions are listed whole, as stored.
    assert_eq!(&listed[0], sessions[0]);
    // At the expiry of the oldest, it is no longer live; after all expired, none is.
    let listed = r.sessions.list_live(t.id, admin.id, sessions[1].expires_at).await.unwrap();
    assert_eq!(ids(&listed), [sessions[0].id, sessions[3].id]);
    assert_eq!(r.sessions.list_live(t.id, admin.id, t0 + Duration::days(31)).await.unwrap(), []);
    // Nothing is live for a user without sessions.
    let dev = add_user(r, t.id, "dev@acme.test", "developer").await;
    assert_eq!(r.sessions.list_live(t.id, dev.id, t0).await.unwrap(), []);
}

pub async fn list_live_is_tenant_scoped(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, b_admin) = provision(r, "tenant-b").await;
    let t0 = now();
    sessions_at(r, &b_admin, t0, &[0, 1]).await;
    let at = t0 + Duration::minutes(2);
    assert_eq!(r.sessions.list_live(a.id, b_admin.id, at).await.unwrap(), []);
    assert_eq!(r.sessions.list_live(b.id, b_admin.id, at).await.unwrap().len(), 2);
}

/// Runs `rounds` races, each for a fresh user: `attempts` concurrent logins with
/// `max_live`, released together. None fails; exactly `max_live` sessions are live at the
/// end; every other one was evicted exactly once and is revoked. Run it on a
/// multi-threaded runtime.
pub async fn concurrent_logins_keep_max_live(r: &Repositories, rounds: usize, attempts: usize, max_live: u32) {
    let (t, admin) = provision(r, "login-race").await;
    for round in 0..rounds {
        let user = add_user(r, t.id, &format!("user{round}@login-race.test"), "viewer").await;
        super::refresh_rotation::warm_up(r, t.id, &admin, attempts).await;
        let t0 = now();
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(attempts));
        let tasks: Vec<_> = (0..attempts)
            .map(|i| {
                let (s, refresh) = session_at(&user, t0 + Duration::microseconds(i as i64));
                let (sessions, start) = (r.sessions.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    sessions.create(t.id, &s, &refresh, max_live).await.map(|evicted| (s.id, evicted))
                })
            })
            .collect();
        let (mut created, mut evicted) = (Vec::new(), Vec::new());
        for task in tasks {
            let (id, gone) = task.await.expect("the login task ran").expect("a concurrent login failed");
            created.push(id);
            evicted.extend(gone);
        }
        let at = t0 + Duration::seconds(1);
        let live = ids(&r.sessions.list_live(t.id, user.id, at).await.unwrap());
        assert_eq!(live.len(), max_live as usize, "round {round}: {live:?}");
        let mut accounted: Vec<SessionId> = live.iter().chain(&evicted).copied().collect();
        accounted.sort();
        created.sort();
        assert_eq!(accounted, created, "round {round}: each session is live or was evicted once");
        for id in evicted {
            assert!(r.sessions.get(t.id, id).await.unwrap().revoked_at.is_some(), "round {round}");
        }
    }
}

/// Runs `rounds` mixes of every session write on one user at once — rotations of each of
/// its tokens, logins with `max_live` 2, one session's revocation and a revoke-all that
/// keeps one — released together. Every write takes its locks in the same order (user,
/// sessions by id, tokens), so none fails (PostgreSQL would abort one of a deadlocked
/// pair), and no more than 2 sessions are live at the end. Run it on a multi-threaded
/// runtime.
pub async fn mixed_session_writes_do_not_deadlock(r: &Repositories, rounds: usize) {
    use super::refresh_rotation::{GRACE, IDLE, warm_up};
    let (t, admin) = provision(r, "mixed-race").await;
    for round in 0..rounds {
        let user = add_user(r, t.id, &format!("user{round}@mixed-race.test"), "viewer").await;
        let t0 = now();
        let stored = sessions_at(r, &user, t0, &[0, 1, 2]).await;
        warm_up(r, t.id, &admin, 8).await;
        let at = t0 + Duration::minutes(5);
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let mut tasks = Vec::new();
        for (_, refresh) in &stored {
            let (sessions, start, hash) = (r.sessions.clone(), start.clone(), refresh.token_hash.clone());
            let next = replacement(t.id, at);
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                sessions.rotate_refresh(t.id, &hash, &next, at, GRACE, IDLE).await.map(drop)
            }));
        }
        for i in 0..3 {
            let (s, refresh) = session_at(&user, at + Duration::microseconds(i));
            let (sessions, start) = (r.sessions.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                sessions.create(t.id, &s, &refresh, 2).await.map(drop)
            }));
        }
        let (sessions, gate, revoked) = (r.sessions.clone(), start.clone(), stored[1].0.id);
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            sessions.revoke(t.id, revoked, at).await
        }));
        let (sessions, gate, keep, user_id) = (r.sessions.clone(), start.clone(), stored[2].0.id, user.id);
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            sessions.revoke_all_for_user(t.id, user_id, Some(keep), at).await.map(drop)
        }));
        for task in tasks {
            task.await
                .expect("the task ran")
                .unwrap_or_else(|e| panic!("round {round}: a session write failed: {e:?}"));
        }
        let live = r.sessions.list_live(t.id, user.id, at + Duration::seconds(1)).await.unwrap();
        assert!(live.len() <= 2, "round {round}: {} live", live.len());
    }
}

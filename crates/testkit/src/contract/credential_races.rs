//! Credentials under concurrency: every race below is released at once by a barrier after
//! the pool's connections are opened, repeated over `rounds` fresh tenants (a lost race is
//! timing-dependent). Run them on a multi-threaded runtime.
//!
//! - `attempts` accepts of one invitation, each with its own user: exactly one user created;
//! - `attempts` consumptions of one reset: exactly one succeeds;
//! - consumptions of `attempts` different resets of one user: exactly one succeeds (the
//!   others were voided by it), and none fails otherwise (no deadlock);
//! - `attempts` invitations of one email: exactly one stored;
//! - `attempts` password changes of one user: all succeed, the history stays `keep` long.

use super::sample::{add_user, invitation, now, provision, reset, user};
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use tessera_domain::ports::Repositories;
use tessera_domain::{PageRequest, RepoError, TenantId};
use tokio::sync::Barrier;

/// Opens the pool's connections first, so the race is between the writes rather than
/// behind connection set-up.
async fn warm_up(r: &Repositories, tenant: TenantId, attempts: usize) {
    let reads: Vec<_> = (0..attempts)
        .map(|_| {
            let users = r.users.clone();
            tokio::spawn(async move { users.count(tenant).await })
        })
        .collect();
    for read in reads {
        read.await.expect("the warm-up task ran").expect("warm-up read");
    }
}

/// Runs `race(i)` for `i` in `0..attempts`, all released together; returns the results in
/// `i` order.
async fn race<T, F>(attempts: usize, race: impl Fn(usize) -> F) -> Vec<Result<T, RepoError>>
where
    T: Send + 'static,
    F: Future<Output = Result<T, RepoError>> + Send + 'static,
{
    let start = Arc::new(Barrier::new(attempts));
    let tasks: Vec<_> = (0..attempts)
        .map(|i| {
            let (start, run) = (start.clone(), race(i));
            tokio::spawn(async move {
                start.wait().await;
                run.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(attempts);
    for task in tasks {
        results.push(task.await.expect("the racing task ran"));
    }
    results
}

/// Exactly one `Ok`, every other result `NotFound` (anything else fails the test).
fn one_winner<T: std::fmt::Debug>(results: Vec<Result<T, RepoError>>, what: &str) -> T {
    let mut winners = Vec::new();
    for result in results {
        match result {
            Ok(value) => winners.push(value),
            Err(RepoError::NotFound) => {}
            Err(other) => panic!("{what}: a racing call failed with {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{what}: exactly one must win, got {winners:?}");
    winners.remove(0)
}

pub async fn concurrent_accepts_create_one_user(r: &Repositories, rounds: usize, attempts: usize) {
    for round in 0..rounds {
        let (t, admin) = provision(r, &format!("accept-{round}")).await;
        let inv = invitation(t.id, "ann@example.com", "developer", admin.id, now());
        r.invitations.insert(t.id, &inv).await.unwrap();
        warm_up(r, t.id, attempts).await;
        let results = race(attempts, |_| {
            let (invitations, token) = (r.invitations.clone(), inv.token_hash.clone());
            let candidate = user(t.id, "ann@example.com", "viewer");
            async move { invitations.accept(t.id, &token, &candidate, now()).await }
        })
        .await;
        let winner = one_winner(results, "accept");
        assert_eq!(r.users.count(t.id).await.unwrap(), 2);
        assert_eq!(r.users.get(t.id, winner.id).await.unwrap(), winner);
        assert!(r.invitations.get(t.id, inv.id).await.unwrap().accepted_at.is_some());
    }
}

pub async fn concurrent_consumes_use_a_reset_once(r: &Repositories, rounds: usize, attempts: usize) {
    for round in 0..rounds {
        let (t, _) = provision(r, &format!("consume-{round}")).await;
        let u = add_user(r, t.id, "ann@example.com", "viewer").await;
        let rst = reset(&u, now());
        r.credentials.create_reset(t.id, &rst).await.unwrap();
        warm_up(r, t.id, attempts).await;
        let results = race(attempts, |_| {
            let (credentials, token) = (r.credentials.clone(), rst.token_hash.clone());
            async move { credentials.consume_reset(t.id, &token, now()).await }
        })
        .await;
        assert_eq!(one_winner(results, "consume one reset"), u.id);
    }
}

pub async fn concurrent_consumes_of_a_users_resets_use_one(r: &Repositories, rounds: usize, attempts: usize) {
    for round in 0..rounds {
        let (t, _) = provision(r, &format!("void-{round}")).await;
        let u = add_user(r, t.id, "ann@example.com", "viewer").await;
        let at = now();
        let mut tokens = Vec::new();
        for _ in 0..attempts {
            let rst = reset(&u, at);
            r.credentials.create_reset(t.id, &rst).await.unwrap();
            tokens.push(rst.token_hash);
        }
        warm_up(r, t.id, attempts).await;
        let results = race(attempts, |i| {
            let (credentials, token) = (r.credentials.clone(), tokens[i].clone());
            async move { credentials.consume_reset(t.id, &token, now()).await }
        })
        .await;
        assert_eq!(one_winner(results, "consume a user's resets"), u.id);
    }
}

pub async fn concurrent_invitations_of_one_email_store_one(r: &Repositories, rounds: usize, attempts: usize) {
    for round in 0..rounds {
        let (t, admin) = provision(r, &format!("invite-{round}")).await;
        warm_up(r, t.id, attempts).await;
        let results = race(attempts, |_| {
            let invitations = r.invitations.clone();
            let inv = invitation(t.id, "ann@example.com", "viewer", admin.id, now());
            async move { invitations.insert(t.id, &inv).await.map(|()| inv.id) }
        })
        .await;
        let mut stored = Vec::new();
        for result in results {
            match result {
                Ok(id) => stored.push(id),
                Err(RepoError::Conflict(name)) if name == "invitation" => {}
                Err(other) => panic!("a racing invitation failed with {other:?}"),
            }
        }
        assert_eq!(stored.len(), 1, "exactly one invitation must be stored");
        let listed: Vec<_> =
            r.invitations.list(t.id, PageRequest::default()).await.unwrap().items.iter().map(|i| i.id).collect();
        assert_eq!(listed, stored);
    }
}

pub async fn concurrent_password_changes_keep_the_history_consistent(r: &Repositories, rounds: usize, attempts: usize) {
    const KEEP: u32 = 3;
    for round in 0..rounds {
        let (t, _) = provision(r, &format!("change-{round}")).await;
        let u = add_user(r, t.id, "ann@example.com", "viewer").await;
        warm_up(r, t.id, attempts).await;
        let hashes: Vec<String> = (0..attempts).map(|i| format!("$argon2id$v=19$new{i}")).collect();
        let results = race(attempts, |i| {
            let (credentials, hash) = (r.credentials.clone(), hashes[i].clone());
            async move { credentials.change_password(t.id, u.id, &hash, KEEP, now()).await }
        })
        .await;
        for result in results {
            result.expect("every password change succeeds");
        }
        let current = r.users.get(t.id, u.id).await.unwrap().password_hash;
        let history = r.credentials.password_history(t.id, u.id, 100).await.unwrap();
        assert_eq!(history.len(), KEEP as usize);
        // Distinct hashes, none of them the current one: each change pushed what it replaced.
        let distinct: BTreeSet<&String> = history.iter().collect();
        assert_eq!(distinct.len(), history.len(), "{history:?}");
        assert!(!history.contains(&current) && hashes.contains(&current));
    }
}

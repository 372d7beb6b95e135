//! The last-admin guard under concurrency: demotions of a tenant's two admins racing each
//! other must still leave exactly one active admin.

use super::sample::{add_user, provision};
use std::sync::Arc;
use tessera_domain::ports::{AdminGuard, Repositories};
use tessera_domain::{PageRequest, RepoError, RoleName, User};
use tokio::sync::Barrier;

/// Runs `rounds` races, each in a fresh tenant with two admins: `attempts` concurrent
/// demotions alternating between them, released together. Checks that at least one was
/// refused with `Conflict("last_admin")`, that nothing else failed, and that exactly one
/// active admin remains. A lost race is timing-dependent, so more rounds catch a broken
/// guard more reliably. Run it on a multi-threaded runtime.
pub async fn concurrent_demotions_keep_one_admin(r: &Repositories, rounds: usize, attempts: usize) {
    for round in 0..rounds {
        race_once(r, &format!("race-{round}"), attempts).await;
    }
}

async fn race_once(r: &Repositories, slug: &str, attempts: usize) {
    let (t, first) = provision(r, slug).await;
    let second = add_user(r, t.id, &format!("second@{slug}.test"), RoleName::ADMIN).await;
    // Open the pool's connections first, so the demotions race each other rather than
    // queue behind connection set-up.
    let warm_up: Vec<_> = (0..attempts)
        .map(|_| {
            let users = r.users.clone();
            tokio::spawn(async move { users.count(t.id).await })
        })
        .collect();
    for task in warm_up {
        task.await.expect("the warm-up task ran").expect("warm-up read");
    }

    let start = Arc::new(Barrier::new(attempts));
    let tasks: Vec<_> = (0..attempts)
        .map(|i| {
            let (users, start) = (r.users.clone(), start.clone());
            let target = if i % 2 == 0 { &first } else { &second };
            let demoted = User { role: RoleName::viewer(), ..target.clone() };
            tokio::spawn(async move {
                start.wait().await;
                users.update(t.id, &demoted, AdminGuard::KeepOne).await
            })
        })
        .collect();

    let mut refused = 0;
    for task in tasks {
        match task.await.expect("the demotion task ran") {
            Ok(()) => {}
            Err(RepoError::Conflict(name)) if name == "last_admin" => refused += 1,
            Err(other) => panic!("a concurrent demotion failed: {other:?}"),
        }
    }
    let users = r.users.list(t.id, PageRequest::default()).await.unwrap().items;
    let admins = users.iter().filter(|u| u.is_active_admin()).count();
    assert_eq!(admins, 1, "exactly one active admin must remain in {slug}");
    assert!(refused >= 1, "demoting the remaining admin must have been refused in {slug}");
}

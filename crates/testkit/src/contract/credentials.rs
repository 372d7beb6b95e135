//! `CredentialRepository`: single-use password resets (expiry by the clock handed in, the
//! user's other resets voided), password changes with their history, tenant isolation.

use super::sample::{PASSWORD_HASH, add_user, now, provision, reset, token_hash};
use super::{assert_conflict, assert_not_found};
use chrono::Duration;
use tessera_domain::credentials::PasswordReset;
use tessera_domain::ports::{AdminGuard, Repositories};
use tessera_domain::{User, UserId};
use uuid::Uuid;

fn hash(i: usize) -> String {
    format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${i:08}")
}

pub async fn find_reset_does_not_use_it_and_consume_does_once(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let u = add_user(r, t.id, "ann@acme.test", "viewer").await;
    let at = now();
    let rst = reset(&u, at);
    r.credentials.create_reset(t.id, &rst).await.unwrap();
    for _ in 0..2 {
        assert_eq!(r.credentials.find_reset(t.id, &rst.token_hash, at).await.unwrap(), u.id);
    }
    assert_eq!(r.credentials.consume_reset(t.id, &rst.token_hash, at).await.unwrap(), u.id);
    assert_not_found(r.credentials.find_reset(t.id, &rst.token_hash, at).await);
    assert_not_found(r.credentials.consume_reset(t.id, &rst.token_hash, at).await);
    assert_not_found(r.credentials.consume_reset(t.id, &token_hash(), at).await);
}

pub async fn consume_voids_the_users_other_resets_only(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let ann = add_user(r, t.id, "ann@acme.test", "viewer").await;
    let bob = add_user(r, t.id, "bob@acme.test", "viewer").await;
    let at = now();
    let (first, second) = (reset(&ann, at), reset(&ann, at + Duration::minutes(1)));
    let bobs = reset(&bob, at);
    for rst in [&first, &second, &bobs] {
        r.credentials.create_reset(t.id, rst).await.unwrap();
    }
    let later = at + Duration::minutes(2);
    assert_eq!(r.credentials.consume_reset(t.id, &second.token_hash, later).await.unwrap(), ann.id);
    assert_not_found(r.credentials.find_reset(t.id, &first.token_hash, later).await);
    assert_not_found(r.credentials.consume_reset(t.id, &first.token_hash, later).await);
    assert_eq!(r.credentials.consume_reset(t.id, &bobs.token_hash, later).await.unwrap(), bob.id);
}

/// A reset is usable strictly before `expires_at`; consuming an expired one changes nothing
/// (the user's other resets stay usable).
pub async fn an_expired_reset_is_not_usable(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let u = add_user(r, t.id, "ann@acme.test", "viewer").await;
    let at = now();
    let (old, fresh) = (reset(&u, at - Duration::minutes(20)), reset(&u, at));
    r.credentials.create_reset(t.id, &old).await.unwrap();
    r.credentials.create_reset(t.id, &fresh).await.unwrap();
    let expiry = old.expires_at;
    assert_eq!(
        r.credentials.find_reset(t.id, &old.token_hash, expiry - Duration::microseconds(1)).await.unwrap(),
        u.id
    );
    assert_not_found(r.credentials.find_reset(t.id, &old.token_hash, expiry).await);
    assert_not_found(r.credentials.consume_reset(t.id, &old.token_hash, expiry).await);
    assert_eq!(r.credentials.consume_reset(t.id, &fresh.token_hash, expiry).await.unwrap(), u.id);
    // A stored reset that is already used is not usable either.
    let used = PasswordReset { used_at: Some(at), ..reset(&u, at) };
    r.credentials.create_reset(t.id, &used).await.unwrap();
    assert_not_found(r.credentials.find_reset(t.id, &used.token_hash, at).await);
}

pub async fn create_reset_conflicts_and_unknown_users(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, b_admin) = provision(r, "tenant-b").await;
    let ann = add_user(r, a.id, "ann@a.test", "viewer").await;
    let at = now();
    let rst = reset(&ann, at);
    r.credentials.create_reset(a.id, &rst).await.unwrap();
    let same_id = PasswordReset { token_hash: token_hash(), ..rst.clone() };
    assert_conflict(r.credentials.create_reset(a.id, &same_id).await, "id");
    let same_hash = PasswordReset { id: Uuid::now_v7(), ..rst.clone() };
    assert_conflict(r.credentials.create_reset(a.id, &same_hash).await, "token_hash");
    // A user of another tenant, named under this tenant's scope: no such user here.
    let foreign = PasswordReset { tenant_id: a.id, ..reset(&b_admin, at) };
    assert_not_found(r.credentials.create_reset(a.id, &foreign).await);
    let ghost = PasswordReset { user_id: UserId(Uuid::now_v7()), ..reset(&ann, at) };
    assert_not_found(r.credentials.create_reset(a.id, &ghost).await);
    // A reset claiming another tenant than the scope is refused before anything is written.
    let mismatched = reset(&b_admin, at);
    assert_conflict(r.credentials.create_reset(a.id, &mismatched).await, "tenant_mismatch");
    assert_not_found(r.credentials.find_reset(b.id, &mismatched.token_hash, at).await);
    assert_not_found(r.credentials.find_reset(a.id, &foreign.token_hash, at).await);
}

pub async fn other_tenants_resets_and_passwords_are_out_of_reach(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, _) = provision(r, "tenant-b").await;
    let victim = add_user(r, b.id, "victim@b.test", "viewer").await;
    let at = now();
    let rst = reset(&victim, at);
    r.credentials.create_reset(b.id, &rst).await.unwrap();
    r.credentials.change_password(b.id, victim.id, &hash(1), 5, at).await.unwrap();

    assert_not_found(r.credentials.find_reset(a.id, &rst.token_hash, at).await);
    assert_not_found(r.credentials.consume_reset(a.id, &rst.token_hash, at).await);
    assert_not_found(r.credentials.change_password(a.id, victim.id, &hash(2), 5, at).await);
    assert!(r.credentials.password_history(a.id, victim.id, 5).await.unwrap().is_empty());

    assert_eq!(r.users.get(b.id, victim.id).await.unwrap().password_hash, hash(1));
    assert_eq!(r.credentials.password_history(b.id, victim.id, 5).await.unwrap(), [PASSWORD_HASH]);
    assert_eq!(r.credentials.consume_reset(b.id, &rst.token_hash, at).await.unwrap(), victim.id);
}

pub async fn change_password_sets_the_password_and_pushes_the_old_one(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let mut u = super::sample::user(t.id, "ann@acme.test", "viewer");
    u.require_password_change = true;
    r.users.insert(t.id, &u).await.unwrap();
    let at = now() + Duration::minutes(3);
    assert!(r.credentials.password_history(t.id, u.id, 5).await.unwrap().is_empty());
    r.credentials.change_password(t.id, u.id, &hash(1), 5, at).await.unwrap();
    let expected = User {
        password_hash: hash(1),
        password_changed_at: at,
        require_password_change: false,
        updated_at: at,
        ..u.clone()
    };
    assert_eq!(r.users.get(t.id, u.id).await.unwrap(), expected);
    assert_eq!(r.credentials.password_history(t.id, u.id, 5).await.unwrap(), [PASSWORD_HASH]);
    assert_not_found(r.credentials.change_password(t.id, UserId(Uuid::now_v7()), &hash(2), 5, at).await);
    assert!(r.credentials.password_history(t.id, UserId(Uuid::now_v7()), 5).await.unwrap().is_empty());
}

/// Newest first; `keep` bounds what is stored, `n` what is read; the order is the order of
/// the changes even when they carry the same time.
pub async fn history_is_newest_first_and_trimmed_to_keep(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let u = add_user(r, t.id, "ann@acme.test", "viewer").await;
    let at = now();
    for i in 1..=6 {
        r.credentials.change_password(t.id, u.id, &hash(i), 3, at).await.unwrap();
    }
    // Pushed: PASSWORD_HASH, hash(1) … hash(5); kept: the three newest.
    let newest = [hash(5), hash(4), hash(3)];
    assert_eq!(r.credentials.password_history(t.id, u.id, 10).await.unwrap(), newest);
    assert_eq!(r.credentials.password_history(t.id, u.id, 2).await.unwrap(), newest[..2]);
    assert!(r.credentials.password_history(t.id, u.id, 0).await.unwrap().is_empty());
    // A larger `keep` keeps more from now on.
    r.credentials.change_password(t.id, u.id, &hash(7), 5, at).await.unwrap();
    let expected = [hash(6), hash(5), hash(4), hash(3)];
    assert_eq!(r.credentials.password_history(t.id, u.id, 10).await.unwrap(), expected);
    // `keep` 0: no history at all.
    r.credentials.change_password(t.id, u.id, &hash(8), 0, at).await.unwrap();
    assert!(r.credentials.password_history(t.id, u.id, 10).await.unwrap().is_empty());
    r.credentials.change_password(t.id, u.id, &hash(9), 2, at + Duration::seconds(1)).await.unwrap();
    assert_eq!(r.credentials.password_history(t.id, u.id, 10).await.unwrap(), [hash(8)]);
    assert_eq!(r.users.get(t.id, u.id).await.unwrap().password_hash, hash(9));
}

pub async fn history_is_per_user(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let u = add_user(r, t.id, "ann@acme.test", "viewer").await;
    let at = now();
    r.credentials.change_password(t.id, u.id, &hash(1), 5, at).await.unwrap();
    r.credentials.change_password(t.id, admin.id, &hash(2), 1, at).await.unwrap();
    r.credentials.change_password(t.id, admin.id, &hash(3), 1, at).await.unwrap();
    assert_eq!(r.credentials.password_history(t.id, u.id, 5).await.unwrap(), [PASSWORD_HASH]);
    assert_eq!(r.credentials.password_history(t.id, admin.id, 5).await.unwrap(), [hash(2)]);
}

/// `ON DELETE CASCADE`: a deleted user's resets and history go with it, and a new user with
/// the same email starts clean.
pub async fn deleting_the_user_removes_its_resets_and_history(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let u = add_user(r, t.id, "ann@acme.test", "viewer").await;
    let at = now();
    let rst = reset(&u, at);
    r.credentials.create_reset(t.id, &rst).await.unwrap();
    r.credentials.change_password(t.id, u.id, &hash(1), 5, at).await.unwrap();
    r.users.delete(t.id, u.id, AdminGuard::KeepOne).await.unwrap();
    assert_not_found(r.credentials.find_reset(t.id, &rst.token_hash, at).await);
    assert_not_found(r.credentials.consume_reset(t.id, &rst.token_hash, at).await);
    assert!(r.credentials.password_history(t.id, u.id, 5).await.unwrap().is_empty());
    let again = add_user(r, t.id, "ann@acme.test", "viewer").await;
    assert!(r.credentials.password_history(t.id, again.id, 5).await.unwrap().is_empty());
    // The token hash is free again once its reset is gone.
    r.credentials.create_reset(t.id, &PasswordReset { id: Uuid::now_v7(), ..reset(&again, at) }).await.unwrap();
    let reused = PasswordReset { token_hash: rst.token_hash.clone(), ..reset(&again, at) };
    r.credentials.create_reset(t.id, &reused).await.unwrap();
    assert_eq!(r.credentials.consume_reset(t.id, &rst.token_hash, at).await.unwrap(), again.id);
}

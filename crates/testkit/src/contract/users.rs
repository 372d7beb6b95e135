//! `UserRepository`: uniqueness, look-ups, paging, updates, deletes, and tenant isolation.

use super::sample::{add_user, email, provision, user};
use super::{assert_conflict, assert_not_found};
use chrono::Duration;
use tessera_domain::ports::{AdminGuard, Repositories};
use tessera_domain::{PageRequest, RepoError, RoleName, TenantId, User, UserId, UserStatus};
use uuid::Uuid;

pub async fn insert_then_get(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let mut u = user(t.id, "dev@acme.test", "developer");
    u.mfa_enabled = true;
    u.require_password_change = true;
    u.last_login_at = Some(u.created_at + Duration::seconds(1));
    r.users.insert(t.id, &u).await.unwrap();
    assert_eq!(r.users.get(t.id, u.id).await.unwrap(), u);
    assert_eq!(r.users.count(t.id).await.unwrap(), 2);
}

pub async fn find_by_email_ignores_case(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let u = add_user(r, t.id, "Ann.Smith@Example.COM", "viewer").await;
    assert_eq!(u.email.as_str(), "ann.smith@example.com");
    assert_eq!(r.users.find_by_email(t.id, &email("ANN.SMITH@example.com")).await.unwrap(), Some(u));
    assert_eq!(r.users.find_by_email(t.id, &email("nobody@example.com")).await.unwrap(), None);
}

pub async fn email_is_unique_per_tenant_only(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, _) = provision(r, "tenant-b").await;
    add_user(r, a.id, "ann@example.com", "viewer").await;
    let twin = user(a.id, "ANN@example.com", "viewer");
    assert_conflict(r.users.insert(a.id, &twin).await, "email");
    assert_not_found(r.users.get(a.id, twin.id).await);
    // Another tenant may hold the same address.
    add_user(r, b.id, "ann@example.com", "viewer").await;
    assert_eq!(r.users.count(a.id).await.unwrap(), 2);
    assert_eq!(r.users.count(b.id).await.unwrap(), 2);
}

pub async fn duplicate_id_conflicts(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let clone = User { email: email("other@acme.test"), ..admin.clone() };
    assert_conflict(r.users.insert(t.id, &clone).await, "id");
    assert_eq!(r.users.get(t.id, admin.id).await.unwrap(), admin);
}

pub async fn insert_refuses_a_user_of_another_tenant(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, _) = provision(r, "tenant-b").await;
    let u = user(b.id, "ann@example.com", "viewer");
    assert!(matches!(r.users.insert(a.id, &u).await, Err(RepoError::Conflict(_))));
    assert_not_found(r.users.get(a.id, u.id).await);
    assert_not_found(r.users.get(b.id, u.id).await);
}

pub async fn insert_into_an_unknown_tenant_is_not_found(r: &Repositories) {
    let ghost = TenantId(Uuid::now_v7());
    assert_not_found(r.users.insert(ghost, &user(ghost, "ann@example.com", "viewer")).await);
    assert_eq!(r.users.count(ghost).await.unwrap(), 0);
}

pub async fn list_pages_with_a_cursor(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (other, _) = provision(r, "other").await;
    let mut expected = vec![admin];
    for i in 0..4 {
        expected.push(add_user(r, t.id, &format!("user{i}@acme.test"), "viewer").await);
        add_user(r, other.id, &format!("user{i}@other.test"), "viewer").await;
    }
    expected.sort_by_key(|u| u.id);

    let first = r.users.list(t.id, PageRequest::new(Some(2), None)).await.unwrap();
    assert_eq!(first.items, expected[0..2]);
    assert_eq!(first.next_after, Some(expected[1].id.as_uuid()));
    let second = r.users.list(t.id, PageRequest::new(Some(2), first.next_after)).await.unwrap();
    assert_eq!(second.items, expected[2..4]);
    let last = r.users.list(t.id, PageRequest::new(Some(2), second.next_after)).await.unwrap();
    assert_eq!(last.items, expected[4..]);
    assert_eq!(last.next_after, None);
    let all = r.users.list(t.id, PageRequest::default()).await.unwrap();
    assert_eq!((all.items, all.next_after), (expected, None));
}

pub async fn update_writes_the_mutable_fields(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let u = add_user(r, t.id, "dev@acme.test", "developer").await;
    let changed = User {
        email: email("Renamed@Acme.test"),
        full_name: "Renamed Dev".to_owned(),
        role: RoleName::new("analyst"),
        status: UserStatus::Locked,
        mfa_enabled: true,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA".to_owned(),
        require_password_change: true,
        password_changed_at: u.updated_at + Duration::seconds(20),
        updated_at: u.updated_at + Duration::minutes(1),
        last_login_at: Some(u.updated_at + Duration::seconds(30)),
        ..u.clone()
    };
    r.users.update(t.id, &changed, AdminGuard::KeepOne).await.unwrap();
    assert_eq!(r.users.get(t.id, u.id).await.unwrap(), changed);
    assert_eq!(r.users.find_by_email(t.id, &email("renamed@acme.test")).await.unwrap(), Some(changed));
    assert_eq!(r.users.find_by_email(t.id, &u.email).await.unwrap(), None);
}

pub async fn update_to_a_taken_email_conflicts(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let u = add_user(r, t.id, "dev@acme.test", "developer").await;
    let taken = User { email: admin.email.clone(), full_name: "changed".to_owned(), ..u.clone() };
    assert_conflict(r.users.update(t.id, &taken, AdminGuard::None).await, "email");
    assert_eq!(r.users.get(t.id, u.id).await.unwrap(), u);
}

pub async fn update_and_delete_of_unknown_users_are_not_found(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let ghost = user(t.id, "ghost@acme.test", "viewer");
    assert_not_found(r.users.get(t.id, ghost.id).await);
    assert_not_found(r.users.update(t.id, &ghost, AdminGuard::KeepOne).await);
    assert_not_found(r.users.update(t.id, &ghost, AdminGuard::None).await);
    assert_not_found(r.users.delete(t.id, ghost.id, AdminGuard::KeepOne).await);
    assert_not_found(r.users.delete(t.id, ghost.id, AdminGuard::None).await);
}

pub async fn delete_removes_the_user(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let u = add_user(r, t.id, "dev@acme.test", "developer").await;
    r.users.delete(t.id, u.id, AdminGuard::KeepOne).await.unwrap();
    assert_not_found(r.users.get(t.id, u.id).await);
    assert_eq!(r.users.find_by_email(t.id, &u.email).await.unwrap(), None);
    assert_eq!(r.users.count(t.id).await.unwrap(), 1);
    assert_not_found(r.users.delete(t.id, u.id, AdminGuard::None).await);
    // The address is free again.
    add_user(r, t.id, "dev@acme.test", "developer").await;
}

pub async fn count_counts_only_the_tenant(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, _) = provision(r, "tenant-b").await;
    for i in 0..3 {
        add_user(r, a.id, &format!("u{i}@a.test"), "viewer").await;
    }
    assert_eq!(r.users.count(a.id).await.unwrap(), 4);
    assert_eq!(r.users.count(b.id).await.unwrap(), 1);
    assert_eq!(r.users.count(TenantId(Uuid::now_v7())).await.unwrap(), 0);
}

pub async fn other_tenants_users_are_invisible(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, b_admin) = provision(r, "tenant-b").await;
    let victim = add_user(r, b.id, "victim@b.test", "viewer").await;

    assert_not_found(r.users.get(a.id, victim.id).await);
    assert_eq!(r.users.find_by_email(a.id, &victim.email).await.unwrap(), None);
    let listed: Vec<UserId> =
        r.users.list(a.id, PageRequest::default()).await.unwrap().items.iter().map(|u| u.id).collect();
    assert!(!listed.contains(&victim.id) && !listed.contains(&b_admin.id));
    // Even when handed the other tenant's entity as it is.
    let hijacked = User { full_name: "pwned".to_owned(), role: RoleName::admin(), ..victim.clone() };
    assert_not_found(r.users.update(a.id, &hijacked, AdminGuard::None).await);
    let moved = User { tenant_id: a.id, ..hijacked };
    assert_not_found(r.users.update(a.id, &moved, AdminGuard::None).await);
    assert_not_found(r.users.delete(a.id, victim.id, AdminGuard::None).await);
    assert_not_found(r.users.delete(a.id, b_admin.id, AdminGuard::None).await);

    assert_eq!(r.users.get(b.id, victim.id).await.unwrap(), victim);
    assert_eq!(r.users.get(b.id, b_admin.id).await.unwrap(), b_admin);
    assert_eq!(r.users.count(b.id).await.unwrap(), 2);
}

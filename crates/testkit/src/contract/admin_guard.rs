//! `AdminGuard::KeepOne`: a write may not leave a tenant that had an active admin with
//! none; a refused write changes nothing.

use super::sample::{add_user, provision};
use super::{assert_conflict, assert_not_found};
use tessera_domain::ports::{AdminGuard, Repositories};
use tessera_domain::{PageRequest, RoleName, TenantId, User, UserStatus};

async fn active_admins(r: &Repositories, tenant: TenantId) -> usize {
    let page = r.users.list(tenant, PageRequest::new(Some(200), None)).await.unwrap();
    page.items.iter().filter(|u| u.is_active_admin()).count()
}

fn demoted(u: &User) -> User {
    User { role: RoleName::viewer(), ..u.clone() }
}

fn with_status(u: &User, status: UserStatus) -> User {
    User { status, ..u.clone() }
}

pub async fn last_admin_cannot_be_demoted(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    add_user(r, t.id, "viewer@acme.test", "viewer").await;
    assert_conflict(r.users.update(t.id, &demoted(&admin), AdminGuard::KeepOne).await, "last_admin");
    assert_eq!(r.users.get(t.id, admin.id).await.unwrap(), admin);
    // A write that keeps the admin an admin is fine.
    let renamed = User { full_name: "Still Admin".to_owned(), ..admin.clone() };
    r.users.update(t.id, &renamed, AdminGuard::KeepOne).await.unwrap();
    assert_eq!(active_admins(r, t.id).await, 1);
}

pub async fn last_admin_cannot_be_disabled(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    for status in [UserStatus::Disabled, UserStatus::Locked] {
        assert_conflict(r.users.update(t.id, &with_status(&admin, status), AdminGuard::KeepOne).await, "last_admin");
    }
    assert_eq!(r.users.get(t.id, admin.id).await.unwrap(), admin);
}

pub async fn last_admin_cannot_be_deleted(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    assert_conflict(r.users.delete(t.id, admin.id, AdminGuard::KeepOne).await, "last_admin");
    assert_eq!(r.users.get(t.id, admin.id).await.unwrap(), admin);
    assert_eq!(r.users.count(t.id).await.unwrap(), 1);
}

pub async fn super_admin_counts_as_an_admin(r: &Repositories) {
    let (t, admin) = provision(r, "platform").await;
    let root = add_user(r, t.id, "root@platform.test", RoleName::SUPER_ADMIN).await;
    // The admin may go: the super_admin remains.
    r.users.update(t.id, &demoted(&admin), AdminGuard::KeepOne).await.unwrap();
    assert_conflict(r.users.update(t.id, &demoted(&root), AdminGuard::KeepOne).await, "last_admin");
    assert_conflict(r.users.delete(t.id, root.id, AdminGuard::KeepOne).await, "last_admin");
    assert_eq!(active_admins(r, t.id).await, 1);
}

pub async fn another_active_admin_allows_removal(r: &Repositories) {
    let (t, first) = provision(r, "acme").await;
    let second = add_user(r, t.id, "second@acme.test", RoleName::ADMIN).await;
    let third = add_user(r, t.id, "third@acme.test", RoleName::ADMIN).await;
    r.users.update(t.id, &demoted(&first), AdminGuard::KeepOne).await.unwrap();
    r.users.update(t.id, &with_status(&second, UserStatus::Disabled), AdminGuard::KeepOne).await.unwrap();
    assert_conflict(r.users.delete(t.id, third.id, AdminGuard::KeepOne).await, "last_admin");
    // Re-enable the second admin, then the third may be deleted.
    r.users.update(t.id, &second, AdminGuard::KeepOne).await.unwrap();
    r.users.delete(t.id, third.id, AdminGuard::KeepOne).await.unwrap();
    assert_not_found(r.users.get(t.id, third.id).await);
    assert_eq!(active_admins(r, t.id).await, 1);
}

pub async fn inactive_admins_do_not_count(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let mut locked = super::sample::user(t.id, "locked@acme.test", RoleName::ADMIN);
    locked.status = UserStatus::Locked;
    r.users.insert(t.id, &locked).await.unwrap();
    assert_conflict(r.users.update(t.id, &demoted(&admin), AdminGuard::KeepOne).await, "last_admin");
    assert_conflict(r.users.delete(t.id, admin.id, AdminGuard::KeepOne).await, "last_admin");
    // Another tenant's admins do not count either.
    provision(r, "other").await;
    assert_conflict(r.users.delete(t.id, admin.id, AdminGuard::KeepOne).await, "last_admin");
}

pub async fn guard_none_allows_removing_the_last_admin(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    r.users.update(t.id, &demoted(&admin), AdminGuard::None).await.unwrap();
    assert_eq!(active_admins(r, t.id).await, 0);
    let (u, second) = provision(r, "second").await;
    r.users.delete(u.id, second.id, AdminGuard::None).await.unwrap();
    assert_eq!(r.users.count(u.id).await.unwrap(), 0);
}

pub async fn writes_to_non_admins_pass_the_guard(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let viewer = add_user(r, t.id, "viewer@acme.test", "viewer").await;
    r.users.update(t.id, &with_status(&viewer, UserStatus::Disabled), AdminGuard::KeepOne).await.unwrap();
    r.users.delete(t.id, viewer.id, AdminGuard::KeepOne).await.unwrap();
    // A tenant that has no active admin left is not blocked by the guard either.
    r.users.update(t.id, &demoted(&admin), AdminGuard::None).await.unwrap();
    let dev = add_user(r, t.id, "dev@acme.test", "developer").await;
    r.users.update(t.id, &demoted(&dev), AdminGuard::KeepOne).await.unwrap();
    r.users.delete(t.id, dev.id, AdminGuard::KeepOne).await.unwrap();
    // And promoting someone is always allowed.
    let promoted = User { role: RoleName::admin(), ..demoted(&admin) };
    r.users.update(t.id, &promoted, AdminGuard::KeepOne).await.unwrap();
    assert_eq!(active_admins(r, t.id).await, 1);
}

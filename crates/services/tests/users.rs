//! User and role scenarios (SPEC §5) on the in-memory core.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use tessera_domain::{Permission, Principal, UserId, UserStatus};
use tessera_services::users::{NewUserInput, UserPatch};
use tessera_services::{ServiceError, Services};
use tessera_testkit::fixtures::{self, PASSWORD, TenantFixture};

fn new_user(email: &str, role: &str) -> NewUserInput {
    NewUserInput {
        email: email.into(),
        full_name: "Some One".into(),
        role: role.into(),
        password: PASSWORD.into(),
        require_password_change: false,
    }
}

async fn principal_of(s: &Services, email: &str, slug: &str) -> Principal {
    let t = fixtures::login(s, email, slug).await;
    s.auth.authenticate(&t.access_token, None).await.unwrap()
}

async fn with_user(s: &Services, f: &TenantFixture, email: &str, role: &str) -> (UserId, Principal) {
    let u = s.users.create(&f.admin_principal, new_user(email, role)).await.unwrap();
    (u.id, principal_of(s, email, f.tenant.slug.as_str()).await)
}

#[tokio::test]
async fn admin_creates_lists_reads_patches_users() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let p = &f.admin_principal;
    let u = s.users.create(p, new_user("Dev@Acme.test", "developer")).await.unwrap();
    assert_eq!(u.email.as_str(), "dev@acme.test");
    assert_eq!(u.status, UserStatus::Active);
    let page = s.users.list(p, tessera_domain::PageRequest::new(Some(1), None)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let next = s.users.list(p, tessera_domain::PageRequest::new(Some(1), page.next_after)).await.unwrap();
    assert_eq!(next.items[0].id, u.id);
    assert_eq!(next.next_after, None);
    let patched = s
        .users
        .patch(p, u.id, UserPatch { full_name: Some("Renamed".into()), email: Some("new@acme.test".into()) })
        .await
        .unwrap();
    assert_eq!(patched.full_name, "Renamed");
    assert_eq!(s.users.get(p, u.id).await.unwrap().email.as_str(), "new@acme.test");
}

#[tokio::test]
async fn duplicate_email_is_conflict_case_insensitively() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    s.users.create(&f.admin_principal, new_user("x@acme.test", "viewer")).await.unwrap();
    let err = s.users.create(&f.admin_principal, new_user("X@ACME.test", "viewer")).await.unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(_)));
}

#[tokio::test]
async fn viewer_is_forbidden_naming_the_permission() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let (viewer_id, viewer) = with_user(&s, &f, "v@acme.test", "viewer").await;
    let err = s.users.list(&viewer, Default::default()).await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden { missing: Permission::UsersRead }));
    let err = s.users.create(&viewer, new_user("y@acme.test", "viewer")).await.unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden { missing: Permission::UsersWrite }));
    assert_eq!(s.users.get(&viewer, viewer_id).await.unwrap().id, viewer_id, "a user reads themself");
    assert!(matches!(s.users.get(&viewer, f.admin.id).await, Err(ServiceError::Forbidden { .. })));
}

#[tokio::test]
async fn nobody_grants_more_than_they_hold() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    // A custom-permission holder with users:write but not e.g. roles:manage cannot exist yet
    // (custom roles come later), so the subset rule is shown with super_admin and unknown roles.
    let err = s.users.create(&f.admin_principal, new_user("s@acme.test", "super_admin")).await.unwrap_err();
    assert!(matches!(err, ServiceError::ForbiddenAction(_)), "super_admin named by an admin is 403");
    let err = s.users.create(&f.admin_principal, new_user("s@acme.test", "wizard")).await.unwrap_err();
    assert!(matches!(&err, ServiceError::Validation(v) if v[0].field == "role"));
    let (dev_id, _) = with_user(&s, &f, "d@acme.test", "developer").await;
    let err = s.users.set_role(&f.admin_principal, dev_id, "super_admin").await.unwrap_err();
    assert!(matches!(err, ServiceError::ForbiddenAction(_)));
}

#[tokio::test]
async fn last_admin_cannot_be_demoted_disabled_or_deleted() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let root = fixtures::super_admin(&s).await;
    let acting = Principal { tenant_id: f.tenant.id, ..root };
    let admin = f.admin.id;
    assert!(matches!(s.users.set_role(&acting, admin, "viewer").await, Err(ServiceError::Conflict(_))));
    assert!(matches!(s.users.disable(&acting, admin).await, Err(ServiceError::Conflict(_))));
    assert!(matches!(s.users.delete(&acting, admin).await, Err(ServiceError::Conflict(_))));
    // With a second admin the first may go.
    s.users.create(&f.admin_principal, new_user("second@acme.test", "admin")).await.unwrap();
    assert_eq!(s.users.set_role(&acting, admin, "viewer").await.unwrap().role.as_str(), "viewer");
}

#[tokio::test]
async fn users_cannot_disable_or_delete_themselves() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    s.users.create(&f.admin_principal, new_user("second@acme.test", "admin")).await.unwrap();
    let p = &f.admin_principal;
    assert!(matches!(s.users.disable(p, f.admin.id).await, Err(ServiceError::Conflict(_))));
    assert!(matches!(s.users.delete(p, f.admin.id).await, Err(ServiceError::Conflict(_))));
}

#[tokio::test]
async fn disable_blocks_login_and_enable_restores_it() {
    let s = fixtures::in_memory().await;
    let f = fixtures::register_tenant(&s, "acme").await;
    let (id, _) = with_user(&s, &f, "v@acme.test", "viewer").await;
    s.users.disable(&f.admin_principal, id).await.unwrap();
    let login = tessera_services::auth::LoginInput {
        email: "v@acme.test".into(),
        password: PASSWORD.into(),
        tenant_slug: "acme".into(),
        ip: None,
        user_agent: None,
    };
    assert!(matches!(s.auth.login(login.clone()).await, Err(ServiceError::Unauthenticated)));
    s.users.enable(&f.admin_principal, id).await.unwrap();
    assert!(s.auth.login(login).await.is_ok());
}

#[tokio::test]
async fn another_tenants_users_are_not_found() {
    let s = fixtures::in_memory().await;
    let a = fixtures::register_tenant(&s, "tenant-a").await;
    let b = fixtures::register_tenant(&s, "tenant-b").await;
    let p = &a.admin_principal;
    let id = b.admin.id;
    assert!(matches!(s.users.get(p, id).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.users.patch(p, id, UserPatch::default()).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.users.set_role(p, id, "viewer").await, Err(ServiceError::NotFound)));
    assert!(matches!(s.users.disable(p, id).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.users.enable(p, id).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.users.delete(p, id).await, Err(ServiceError::NotFound)));
    let listed = s.users.list(p, Default::default()).await.unwrap();
    assert!(listed.items.iter().all(|u| u.tenant_id == a.tenant.id));
}

#[tokio::test]
async fn super_admin_acts_inside_a_tenant_with_x_tenant_id_only() {
    let s = fixtures::in_memory().await;
    let a = fixtures::register_tenant(&s, "acme").await;
    let root_tokens = {
        fixtures::super_admin(&s).await;
        fixtures::login(&s, "root@platform.test", "platform").await
    };
    let acting = s.auth.authenticate(&root_tokens.access_token, Some(a.tenant.id)).await.unwrap();
    assert_eq!(acting.tenant_id, a.tenant.id);
    assert_eq!(s.users.list(&acting, Default::default()).await.unwrap().items.len(), 1);
    let err = s.auth.authenticate(&a.tokens.access_token, Some(acting.home_tenant_id)).await.unwrap_err();
    assert!(matches!(err, ServiceError::ForbiddenAction(_)), "a tenant admin cannot switch tenants");
}

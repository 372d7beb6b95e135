//! Tenant scenarios (SPEC §3) on the in-memory core.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use tessera_domain::{PageRequest, TenantId, TenantStatus};
use tessera_services::ServiceError;
use tessera_services::tenants::{AdminInput, NewTenantInput, RegisterInput, TenantPatch};
use tessera_testkit::fixtures::{self, PASSWORD};

fn register_input(slug: &str) -> RegisterInput {
    RegisterInput {
        email: format!("a@{slug}.test"),
        password: PASSWORD.into(),
        full_name: "A".into(),
        tenant_slug: slug.into(),
        tenant_name: None,
        invitation_token: None,
    }
}

fn field_of(e: &ServiceError) -> Vec<String> {
    match e {
        ServiceError::Validation(v) => v.iter().map(|f| f.field.clone()).collect(),
        _ => vec![],
    }
}

#[tokio::test]
async fn register_creates_tenant_with_admin() {
    let s = fixtures::in_memory().await;
    let (user, tenant) = s.tenants.register(register_input("acme")).await.unwrap();
    assert_eq!(user.role.as_str(), "admin");
    assert_eq!(user.tenant_id, tenant.id);
    assert_eq!(tenant.status, TenantStatus::Active);
    assert_eq!(tenant.plan.as_str(), "standard");
    assert_eq!(tenant.name, "acme");
}

#[tokio::test]
async fn reserved_slug_is_422_even_when_taken() {
    let s = fixtures::in_memory().await;
    fixtures::super_admin(&s).await;
    for slug in ["platform", "admin", "api", "www", "system", "root"] {
        let err = s.tenants.register(register_input(slug)).await.unwrap_err();
        assert_eq!(field_of(&err), vec!["tenant_slug"], "{slug}");
    }
}

#[tokio::test]
async fn existing_slug_is_conflict_and_invitation_token_is_422() {
    let s = fixtures::in_memory().await;
    s.tenants.register(register_input("acme")).await.unwrap();
    let mut again = register_input("acme");
    again.email = "b@acme.test".into();
    assert!(matches!(s.tenants.register(again.clone()).await, Err(ServiceError::Conflict(_))));
    again.invitation_token = Some("nope".into());
    let err = s.tenants.register(again).await.unwrap_err();
    assert_eq!(field_of(&err), vec!["invitation_token"]);
}

#[tokio::test]
async fn register_validates_every_field_at_once() {
    let s = fixtures::in_memory().await;
    let mut input = register_input("good-slug");
    input.email = "not-an-email".into();
    input.password = "short".into();
    input.full_name = "  ".into();
    let err = s.tenants.register(input).await.unwrap_err();
    let mut fields = field_of(&err);
    fields.sort();
    assert_eq!(fields, vec!["email", "full_name", "password"]);
    assert!(s.tenants.register(register_input("good-slug")).await.is_ok(), "nothing was left behind");
}

#[tokio::test]
async fn only_super_admin_creates_and_lists_tenants() {
    let s = fixtures::in_memory().await;
    let acme = fixtures::register_tenant(&s, "acme").await;
    let input = NewTenantInput {
        slug: "beta".into(),
        name: "Beta".into(),
        plan: Some("premium".into()),
        admin: AdminInput { email: "boss@beta.test".into(), password: PASSWORD.into(), full_name: "Boss".into() },
    };
    assert!(matches!(
        s.tenants.create(&acme.admin_principal, input.clone()).await,
        Err(ServiceError::ForbiddenAction(_))
    ));
    assert!(s.tenants.list(&acme.admin_principal, PageRequest::default()).await.is_err());
    let root = fixtures::super_admin(&s).await;
    let beta = s.tenants.create(&root, input).await.unwrap();
    assert_eq!(beta.plan.as_str(), "premium");
    fixtures::login(&s, "boss@beta.test", "beta").await;
    let all = s.tenants.list(&root, PageRequest::default()).await.unwrap();
    assert_eq!(all.items.len(), 3, "platform, acme, beta");
}

#[tokio::test]
async fn create_names_nested_admin_fields_and_plan() {
    let s = fixtures::in_memory().await;
    let root = fixtures::super_admin(&s).await;
    let input = NewTenantInput {
        slug: "Bad Slug".into(),
        name: "X".into(),
        plan: Some("gold".into()),
        admin: AdminInput { email: "x".into(), password: PASSWORD.into(), full_name: "B".into() },
    };
    let err = s.tenants.create(&root, input).await.unwrap_err();
    let mut fields = field_of(&err);
    fields.sort();
    assert_eq!(fields, vec!["plan", "slug"]);
}

#[tokio::test]
async fn another_tenants_id_is_not_found_for_every_action() {
    let s = fixtures::in_memory().await;
    let a = fixtures::register_tenant(&s, "tenant-a").await;
    let b = fixtures::register_tenant(&s, "tenant-b").await;
    let p = &a.admin_principal;
    let id = b.tenant.id;
    assert!(matches!(s.tenants.get(p, id).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.tenants.patch(p, id, TenantPatch::default()).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.tenants.delete(p, id).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.tenants.suspend(p, id).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.tenants.activate(p, id).await, Err(ServiceError::NotFound)));
    assert!(matches!(s.tenants.get(p, TenantId(uuid::Uuid::now_v7())).await, Err(ServiceError::NotFound)));
}

#[tokio::test]
async fn admin_renames_but_cannot_change_plan_or_suspend() {
    let s = fixtures::in_memory().await;
    let a = fixtures::register_tenant(&s, "acme").await;
    let p = &a.admin_principal;
    let renamed =
        s.tenants.patch(p, a.tenant.id, TenantPatch { name: Some("Acme Inc".into()), plan: None }).await.unwrap();
    assert_eq!(renamed.name, "Acme Inc");
    let plan = TenantPatch { name: None, plan: Some("enterprise".into()) };
    assert!(matches!(s.tenants.patch(p, a.tenant.id, plan).await, Err(ServiceError::ForbiddenAction(_))));
    assert!(matches!(s.tenants.suspend(p, a.tenant.id).await, Err(ServiceError::ForbiddenAction(_))));
}

#[tokio::test]
async fn suspension_blocks_tokens_and_logins_until_activation() {
    let s = fixtures::in_memory().await;
    let a = fixtures::register_tenant(&s, "acme").await;
    let root = fixtures::super_admin(&s).await;
    s.tenants.suspend(&root, a.tenant.id).await.unwrap();
    assert!(matches!(s.auth.authenticate(&a.tokens.access_token, None).await, Err(ServiceError::TenantSuspended)));
    let login = tessera_services::auth::LoginInput {
        email: "admin@acme.test".into(),
        password: "wrong password, checked after suspension".into(),
        tenant_slug: "acme".into(),
        ip: None,
        user_agent: None,
    };
    assert!(matches!(s.auth.login(login).await, Err(ServiceError::TenantSuspended)));
    s.tenants.activate(&root, a.tenant.id).await.unwrap();
    assert!(s.auth.authenticate(&a.tokens.access_token, None).await.is_ok(), "tokens work again");
}

#[tokio::test]
async fn deletion_is_soft_and_makes_tokens_unauthenticated() {
    let s = fixtures::in_memory().await;
    let a = fixtures::register_tenant(&s, "acme").await;
    s.tenants.delete(&a.admin_principal, a.tenant.id).await.unwrap();
    assert!(matches!(s.auth.authenticate(&a.tokens.access_token, None).await, Err(ServiceError::Unauthenticated)));
    let root = fixtures::super_admin(&s).await;
    let t = s.tenants.get(&root, a.tenant.id).await.unwrap();
    assert_eq!(t.status, TenantStatus::Deleted);
    assert!(t.deleted_at.is_some());
    assert!(
        matches!(s.tenants.register(register_input("acme")).await, Err(ServiceError::Conflict(_))),
        "slug stays taken"
    );
    s.tenants.activate(&root, a.tenant.id).await.unwrap();
    fixtures::login(&s, "admin@acme.test", "acme").await;
}

#[tokio::test]
async fn platform_tenant_cannot_be_suspended() {
    let s = fixtures::in_memory().await;
    let root = fixtures::super_admin(&s).await;
    assert!(matches!(s.tenants.suspend(&root, root.tenant_id).await, Err(ServiceError::Conflict(_))));
}

#[tokio::test]
async fn create_admin_is_idempotent() {
    let s = fixtures::in_memory().await;
    let first = s.tenants.ensure_platform_admin("root@platform.test", PASSWORD, "Root").await.unwrap();
    let again = s.tenants.ensure_platform_admin("ROOT@platform.test", PASSWORD, "Root").await.unwrap();
    assert_eq!(first.id, again.id);
    let second = s.tenants.ensure_platform_admin("two@platform.test", PASSWORD, "Two").await.unwrap();
    assert_eq!(second.role.as_str(), "super_admin");
}

//! `TenantRepository`: atomic provisioning, slug uniqueness, look-ups, paging, updates.

use super::sample::{provision, tenant, user};
use super::{assert_conflict, assert_not_found};
use chrono::Duration;
use tessera_domain::ports::Repositories;
use tessera_domain::{PageRequest, Plan, RepoError, RoleName, Slug, TenantId, TenantStatus};
use uuid::Uuid;

pub async fn provision_then_get_and_find_by_slug(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    assert_eq!(r.tenants.get(t.id).await.unwrap(), t);
    assert_eq!(r.tenants.find_by_slug(&t.slug).await.unwrap(), Some(t.clone()));
    assert_eq!(r.users.get(t.id, admin.id).await.unwrap(), admin);
    assert_eq!(r.users.count(t.id).await.unwrap(), 1);
}

pub async fn provision_with_a_taken_slug_conflicts(r: &Repositories) {
    let (first, _) = provision(r, "acme").await;
    let second = tenant("acme");
    let admin = user(second.id, "root@acme.test", RoleName::ADMIN);
    assert_conflict(r.tenants.provision(&second, &admin).await, "slug");
    assert_not_found(r.tenants.get(second.id).await);
    assert_not_found(r.users.get(second.id, admin.id).await);
    assert_eq!(r.tenants.find_by_slug(&first.slug).await.unwrap(), Some(first));
}

pub async fn provision_rolls_back_when_the_admin_insert_fails(r: &Repositories) {
    let (_, existing) = provision(r, "first").await;
    let t = tenant("second");
    // The tenant row goes in first; the admin then collides on its primary key.
    let clashing = tessera_domain::User { tenant_id: t.id, ..existing.clone() };
    assert_conflict(r.tenants.provision(&t, &clashing).await, "id");
    assert_not_found(r.tenants.get(t.id).await);
    assert_eq!(r.tenants.find_by_slug(&t.slug).await.unwrap(), None);
    assert_eq!(r.users.count(t.id).await.unwrap(), 0);
    assert_eq!(r.tenants.list(PageRequest::default()).await.unwrap().items.len(), 1);
    // Nothing was left behind: the same tenant provisions cleanly afterwards.
    let admin = user(t.id, "admin@second.test", RoleName::ADMIN);
    r.tenants.provision(&t, &admin).await.unwrap();
    assert_eq!(r.users.get(t.id, admin.id).await.unwrap(), admin);
}

pub async fn provision_refuses_an_admin_of_another_tenant(r: &Repositories) {
    let t = tenant("acme");
    let stray = user(TenantId(Uuid::now_v7()), "admin@acme.test", RoleName::ADMIN);
    assert!(matches!(r.tenants.provision(&t, &stray).await, Err(RepoError::Conflict(_))));
    assert_not_found(r.tenants.get(t.id).await);
    assert_eq!(r.tenants.find_by_slug(&t.slug).await.unwrap(), None);
}

pub async fn unknown_tenant_is_not_found(r: &Repositories) {
    provision(r, "acme").await;
    assert_not_found(r.tenants.get(TenantId(Uuid::now_v7())).await);
    let unknown = Slug::parse_any("nobody-here").unwrap();
    assert_eq!(r.tenants.find_by_slug(&unknown).await.unwrap(), None);
}

pub async fn list_pages_in_id_order(r: &Repositories) {
    assert!(r.tenants.list(PageRequest::default()).await.unwrap().items.is_empty());
    let mut tenants = Vec::new();
    for slug in ["t-one", "t-two", "t-three", "t-four", "t-five"] {
        tenants.push(provision(r, slug).await.0);
    }
    // Deleted tenants are listed too.
    let deleted = tessera_domain::Tenant {
        status: TenantStatus::Deleted,
        deleted_at: Some(tenants[2].updated_at),
        ..tenants[2].clone()
    };
    r.tenants.update(&deleted).await.unwrap();
    tenants[2] = deleted;
    tenants.sort_by_key(|t| t.id);

    let first = r.tenants.list(PageRequest::new(Some(2), None)).await.unwrap();
    assert_eq!(first.items, tenants[0..2]);
    assert_eq!(first.next_after, Some(tenants[1].id.as_uuid()));
    let second = r.tenants.list(PageRequest::new(Some(2), first.next_after)).await.unwrap();
    assert_eq!(second.items, tenants[2..4]);
    let last = r.tenants.list(PageRequest::new(Some(2), second.next_after)).await.unwrap();
    assert_eq!(last.items, tenants[4..]);
    assert_eq!(last.next_after, None);
    // An exact fit has no next page; the cursor is exclusive.
    let all = r.tenants.list(PageRequest::new(Some(5), None)).await.unwrap();
    assert_eq!((all.items.len(), all.next_after), (5, None));
    let after_last = r.tenants.list(PageRequest::new(None, Some(tenants[4].id.as_uuid()))).await.unwrap();
    assert!(after_last.items.is_empty());
}

pub async fn update_writes_the_mutable_fields(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let mut changed = t.clone();
    changed.name = "Acme Corporation".to_owned();
    changed.status = TenantStatus::Suspended;
    changed.plan = Plan::Enterprise;
    changed.updated_at = t.updated_at + Duration::minutes(5);
    changed.deleted_at = Some(t.updated_at + Duration::minutes(6));
    // Neither the slug nor the creation time is mutable.
    changed.slug = Slug::parse_any("renamed").unwrap();
    changed.created_at = t.created_at - Duration::days(1);
    r.tenants.update(&changed).await.unwrap();

    let stored = r.tenants.get(t.id).await.unwrap();
    assert_eq!(stored, tessera_domain::Tenant { slug: t.slug.clone(), created_at: t.created_at, ..changed });
    assert_eq!(r.tenants.find_by_slug(&t.slug).await.unwrap(), Some(stored));
}

pub async fn update_of_an_unknown_tenant_is_not_found(r: &Repositories) {
    assert_not_found(r.tenants.update(&tenant("ghost")).await);
    assert_not_found(r.tenants.get(tenant("ghost").id).await);
}

//! `TenantRepository::settings` / `set_settings`: the overrides document of a tenant,
//! `{}` by default, replaced whole, independent of the tenant's other fields.

use super::sample::{provision, tenant};
use super::{assert_conflict, assert_not_found};
use chrono::Duration;
use serde_json::json;
use tessera_domain::ports::Repositories;
use tessera_domain::{Tenant, TenantStatus};

fn nested() -> serde_json::Value {
    json!({
        "password_policy": { "min_length": 12, "require_classes": true, "max_age_days": null },
        "rate_limits": { "per_role_per_minute": { "viewer": 30, "admin": 1000 } },
        "cors_origins": ["https://app.example.test", "https://ünïcode.example.test"],
        "features": { "beta": true, "legacy": false },
        "branding": { "display_name": "Acme \"Corp\"", "primary_color": "#ff0066" },
        "ratio": 0.25
    })
}

pub async fn settings_default_to_an_empty_object(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), json!({}));
}

pub async fn set_then_get_round_trips_a_nested_object(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    r.tenants.set_settings(t.id, &nested()).await.unwrap();
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), nested());
    // A write replaces the document; it does not merge into it.
    let smaller = json!({ "features": { "beta": false } });
    r.tenants.set_settings(t.id, &smaller).await.unwrap();
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), smaller);
    r.tenants.set_settings(t.id, &json!({})).await.unwrap();
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), json!({}));
}

pub async fn settings_are_per_tenant(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, _) = provision(r, "tenant-b").await;
    r.tenants.set_settings(a.id, &nested()).await.unwrap();
    assert_eq!(r.tenants.settings(b.id).await.unwrap(), json!({}));
}

pub async fn settings_of_an_unknown_tenant_are_not_found(r: &Repositories) {
    provision(r, "acme").await;
    let ghost = tenant("ghost");
    assert_not_found(r.tenants.settings(ghost.id).await);
    assert_not_found(r.tenants.set_settings(ghost.id, &nested()).await);
    assert_not_found(r.tenants.get(ghost.id).await);
}

pub async fn set_settings_refuses_what_is_not_an_object(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    r.tenants.set_settings(t.id, &nested()).await.unwrap();
    for bad in [json!([1, 2]), json!(null), json!("{}"), json!(7)] {
        assert_conflict(r.tenants.set_settings(t.id, &bad).await, "settings");
    }
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), nested());
}

/// `set_settings` writes the settings and `updated_at`, nothing else.
pub async fn set_settings_bumps_updated_at_and_keeps_the_rest(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let renamed = Tenant {
        name: "Acme Corporation".to_owned(),
        status: TenantStatus::Suspended,
        updated_at: t.updated_at - Duration::days(1),
        ..t.clone()
    };
    r.tenants.update(&renamed).await.unwrap();
    r.tenants.set_settings(t.id, &nested()).await.unwrap();

    let stored = r.tenants.get(t.id).await.unwrap();
    assert!(
        stored.updated_at > renamed.updated_at,
        "updated_at {} not bumped past {}",
        stored.updated_at,
        renamed.updated_at
    );
    assert_eq!(stored, Tenant { updated_at: stored.updated_at, ..renamed });
}

/// `update` writes the tenant's fields and leaves the settings alone.
pub async fn update_keeps_the_settings(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    r.tenants.set_settings(t.id, &nested()).await.unwrap();
    let current = r.tenants.get(t.id).await.unwrap();
    let changed = Tenant {
        name: "Acme Corporation".to_owned(),
        status: TenantStatus::Suspended,
        updated_at: current.updated_at + Duration::minutes(1),
        ..current
    };
    r.tenants.update(&changed).await.unwrap();
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), nested());
    assert_eq!(r.tenants.get(t.id).await.unwrap(), changed);
}

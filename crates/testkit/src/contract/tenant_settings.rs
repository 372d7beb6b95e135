//! `TenantRepository::settings` / `set_settings`: the overrides document of a tenant,
//! `{}` by default, replaced whole (a compare-and-set against the document the caller
//! read), independent of the tenant's other fields.

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
    r.tenants.set_settings(t.id, &json!({}), &nested()).await.unwrap();
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), nested());
    // A write replaces the document; it does not merge into it.
    let smaller = json!({ "features": { "beta": false } });
    r.tenants.set_settings(t.id, &nested(), &smaller).await.unwrap();
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), smaller);
    r.tenants.set_settings(t.id, &smaller, &json!({})).await.unwrap();
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), json!({}));
}

/// A write whose expectation is stale (someone wrote in between) changes nothing.
pub async fn set_settings_with_a_stale_expectation_conflicts(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    let before = r.tenants.get(t.id).await.unwrap();
    // Never written: the stored document is `{}`, not what this caller expects.
    assert_conflict(r.tenants.set_settings(t.id, &nested(), &json!({"a": 1})).await, "settings_changed");
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), json!({}));
    assert_eq!(r.tenants.get(t.id).await.unwrap(), before);

    // Two writers read `{}`; the first wins, the second must re-read.
    let first = json!({ "features": { "beta": true } });
    let second = json!({ "branding": { "display_name": "Acme" } });
    r.tenants.set_settings(t.id, &json!({}), &first).await.unwrap();
    assert_conflict(r.tenants.set_settings(t.id, &json!({}), &second).await, "settings_changed");
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), first);
    let merged = json!({ "features": { "beta": true }, "branding": { "display_name": "Acme" } });
    r.tenants.set_settings(t.id, &first, &merged).await.unwrap();
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), merged);
    // A sub-document is not the document.
    assert_conflict(r.tenants.set_settings(t.id, &first, &json!({})).await, "settings_changed");
}

/// The expectation is compared as a JSON value: key order does not matter, values do
/// (`1` and `1.0`, `true` and `"true"` differ).
pub async fn set_settings_compares_json_values_not_text(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    r.tenants.set_settings(t.id, &json!({}), &nested()).await.unwrap();
    let reordered: serde_json::Value = serde_json::from_str(
        r##"{ "ratio": 0.25, "features": { "legacy": false, "beta": true },
              "branding": { "primary_color": "#ff0066", "display_name": "Acme \"Corp\"" },
              "cors_origins": ["https://app.example.test", "https://ünïcode.example.test"],
              "rate_limits": { "per_role_per_minute": { "admin": 1000, "viewer": 30 } },
              "password_policy": { "max_age_days": null, "require_classes": true, "min_length": 12 } }"##,
    )
    .unwrap();
    let mut other_number = nested();
    other_number["password_policy"]["min_length"] = json!(12.0);
    let mut other_order = nested();
    other_order["cors_origins"] = json!(["https://ünïcode.example.test", "https://app.example.test"]);
    for stale in [other_number, other_order] {
        assert_conflict(r.tenants.set_settings(t.id, &stale, &json!({})).await, "settings_changed");
    }
    r.tenants.set_settings(t.id, &reordered, &json!({ "ratio": 1 })).await.unwrap();
    assert_eq!(r.tenants.settings(t.id).await.unwrap(), json!({ "ratio": 1 }));
}

pub async fn settings_are_per_tenant(r: &Repositories) {
    let (a, _) = provision(r, "tenant-a").await;
    let (b, _) = provision(r, "tenant-b").await;
    r.tenants.set_settings(a.id, &json!({}), &nested()).await.unwrap();
    assert_eq!(r.tenants.settings(b.id).await.unwrap(), json!({}));
}

pub async fn settings_of_an_unknown_tenant_are_not_found(r: &Repositories) {
    provision(r, "acme").await;
    let ghost = tenant("ghost");
    assert_not_found(r.tenants.settings(ghost.id).await);
    assert_not_found(r.tenants.set_settings(ghost.id, &json!({}), &nested()).await);
    assert_not_found(r.tenants.get(ghost.id).await);
}

pub async fn set_settings_refuses_what_is_not_an_object(r: &Repositories) {
    let (t, _) = provision(r, "acme").await;
    r.tenants.set_settings(t.id, &json!({}), &nested()).await.unwrap();
    for bad in [json!([1, 2]), json!(null), json!("{}"), json!(7)] {
        assert_conflict(r.tenants.set_settings(t.id, &nested(), &bad).await, "settings");
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
    r.tenants.set_settings(t.id, &json!({}), &nested()).await.unwrap();

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
    r.tenants.set_settings(t.id, &json!({}), &nested()).await.unwrap();
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

/// `writers` concurrent read–merge–compare-and-set loops on one tenant, each adding its own
/// feature flag and retrying on `settings_changed`: every flag is there at the end (none
/// was lost to a concurrent write), and nothing failed otherwise. Run it on a
/// multi-threaded runtime.
pub async fn concurrent_merges_lose_no_key(r: &Repositories, writers: usize) {
    let (t, _) = provision(r, "settings-race").await;
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(writers));
    let tasks: Vec<_> = (0..writers)
        .map(|i| {
            let (tenants, start) = (r.tenants.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let mut conflicts = 0;
                loop {
                    let read = tenants.settings(t.id).await?;
                    let mut merged = read.clone();
                    merged["features"][format!("flag{i}")] = json!(true);
                    match tenants.set_settings(t.id, &read, &merged).await {
                        Err(tessera_domain::RepoError::Conflict(name)) if name == "settings_changed" => conflicts += 1,
                        other => return other.map(|()| conflicts),
                    }
                }
            })
        })
        .collect();
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.expect("the writer task ran").expect("a concurrent merge failed");
    }
    let features = r.tenants.settings(t.id).await.unwrap()["features"].clone();
    let expected: serde_json::Map<String, serde_json::Value> =
        (0..writers).map(|i| (format!("flag{i}"), json!(true))).collect();
    assert_eq!(features, serde_json::Value::Object(expected), "after {conflicts} retried conflicts");
}

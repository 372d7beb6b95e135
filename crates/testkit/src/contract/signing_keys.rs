//! `SigningKeyRepository`: platform-wide keys, unique by kid, listed newest first, retired
//! all but one at a time after a rotation.

use super::assert_conflict;
use super::sample::{now, signing_key};
use chrono::Duration;
use tessera_domain::ports::Repositories;
use tessera_domain::signing::SigningAlgorithm;

pub async fn list_is_empty_at_first(r: &Repositories) {
    assert!(r.signing_keys.list().await.unwrap().is_empty());
}

pub async fn insert_then_list_newest_first(r: &Repositories) {
    let at = now();
    let mut oldest = signing_key("k-2024", at - Duration::days(60));
    oldest.retired_at = Some(at - Duration::days(30));
    oldest.algorithm = SigningAlgorithm::RS256;
    let newest = signing_key("k-2026", at);
    let middle = signing_key("k-2025", at - Duration::days(30) + Duration::microseconds(1));
    for key in [&middle, &oldest, &newest] {
        r.signing_keys.insert(key).await.unwrap();
    }
    assert_eq!(r.signing_keys.list().await.unwrap(), vec![newest, middle, oldest]);
}

pub async fn duplicate_kid_conflicts(r: &Repositories) {
    let first = signing_key("k1", now());
    r.signing_keys.insert(&first).await.unwrap();
    let mut again = signing_key("k1", now() + Duration::seconds(1));
    again.public_key = vec![7; 32];
    assert_conflict(r.signing_keys.insert(&again).await, "kid");
    assert_eq!(r.signing_keys.list().await.unwrap(), vec![first]);
}

pub async fn retire_all_except_retires_the_others_once(r: &Repositories) {
    let at = now();
    let mut old = signing_key("k-old", at - Duration::days(60));
    old.retired_at = Some(at - Duration::days(30));
    let previous = signing_key("k-previous", at - Duration::days(1));
    let other = signing_key("k-other", at - Duration::hours(1));
    let current = signing_key("k-current", at);
    for key in [&old, &previous, &other, &current] {
        r.signing_keys.insert(key).await.unwrap();
    }
    let retire_at = at + Duration::seconds(1);
    assert_eq!(r.signing_keys.retire_all_except("k-current", retire_at).await.unwrap(), 2);
    let retired = |k: &tessera_domain::signing::StoredSigningKey| {
        let mut k = k.clone();
        k.retired_at = Some(retire_at);
        k
    };
    // An already retired key keeps its retirement time; the kept key stays in use.
    assert_eq!(r.signing_keys.list().await.unwrap(), vec![current.clone(), retired(&other), retired(&previous), old]);
    assert_eq!(r.signing_keys.retire_all_except("k-current", retire_at + Duration::seconds(1)).await.unwrap(), 0);
    assert_eq!(r.signing_keys.list().await.unwrap()[0], current);
}

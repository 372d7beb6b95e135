//! `SigningKeyRepository`: platform-wide keys, unique by kid, listed newest first.

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

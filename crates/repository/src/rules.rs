//! Rules every adapter applies the same way: the scope check on entities handed in, the
//! names of the conflicts a port reports, and the cursor convention of list ports.

use std::collections::BTreeMap;
use tessera_domain::ports::RequestCount;
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::{RepoError, TenantId};
use uuid::Uuid;

/// `Conflict` names reported by the adapters (the ports document the first four).
pub(crate) mod conflict {
    pub const SLUG: &str = "slug";
    pub const EMAIL: &str = "email";
    pub const LAST_ADMIN: &str = "last_admin";
    pub const KID: &str = "kid";
    /// A primary key that already exists.
    pub const ID: &str = "id";
    pub const TOKEN_HASH: &str = "token_hash";
    /// An entity whose `tenant_id` differs from the scope argument of the call.
    pub const TENANT_MISMATCH: &str = "tenant_mismatch";
    /// A refresh token that does not belong to the session stored with it.
    pub const SESSION_MISMATCH: &str = "session_mismatch";
    /// Setting overrides that are not a JSON object.
    pub const SETTINGS: &str = "settings";
    /// A usage period that is not `YYYY-MM`.
    pub const PERIOD: &str = "period";
}

pub(crate) fn conflict(name: &str) -> RepoError {
    RepoError::Conflict(name.to_owned())
}

/// The scope argument is authoritative: an entity claiming another tenant is a caller bug,
/// refused before anything is written.
pub(crate) fn ensure_in_scope(scope: TenantId, owner: TenantId) -> Result<(), RepoError> {
    if scope == owner { Ok(()) } else { Err(conflict(conflict::TENANT_MISMATCH)) }
}

/// The exclusive lower bound of a page. Ids are UUIDv7, never nil, so the nil UUID is
/// "before everything" and one SQL statement serves first and later pages alike.
pub(crate) fn cursor(after: Option<Uuid>) -> Uuid {
    after.unwrap_or(Uuid::nil())
}

/// How many rows a list fetches: one more than the page, to learn whether another exists.
pub(crate) fn overfetch(limit: u32) -> usize {
    limit as usize + 1
}

/// A new session and its first refresh token: both in scope, the token bound to the session.
pub(crate) fn check_new_session(
    tenant: TenantId,
    session: &Session,
    refresh: &RefreshTokenRecord,
) -> Result<(), RepoError> {
    ensure_in_scope(tenant, session.tenant_id)?;
    ensure_in_scope(tenant, refresh.tenant_id)?;
    if refresh.session_id != session.id || refresh.user_id != session.user_id {
        return Err(conflict(conflict::SESSION_MISMATCH));
    }
    Ok(())
}

/// Setting overrides are a JSON object (`{}` when there are none); anything else handed to
/// `set_settings` is a caller bug, refused before anything is written.
pub(crate) fn check_settings(overrides: &serde_json::Value) -> Result<(), RepoError> {
    if overrides.is_object() { Ok(()) } else { Err(conflict(conflict::SETTINGS)) }
}

/// The most a usage counter holds. Counts are `u64` in the port and `BIGINT` in SQL: a
/// counter (and each count added to it) saturates here rather than failing, so a flush can
/// never get stuck on a counter that cannot grow anyway (9.2 × 10¹⁸ requests).
pub(crate) const MAX_COUNT: u64 = i64::MAX as u64;

/// `YYYY-MM` with a month from 01 to 12.
pub(crate) fn check_period(period: &str) -> Result<(), RepoError> {
    let valid = match period.as_bytes() {
        &[y1, y2, y3, y4, b'-', m1, m2] => {
            [y1, y2, y3, y4, m1, m2].iter().all(u8::is_ascii_digit)
                && (1..=12).contains(&((m1 - b'0') * 10 + (m2 - b'0')))
        }
        _ => false,
    };
    if valid { Ok(()) } else { Err(conflict(conflict::PERIOD)) }
}

/// A usage batch checked and summed per `(tenant, period)` — in key order, so concurrent
/// flushes (several replicas) lock the counters they share in the same order — each sum
/// saturated at [`MAX_COUNT`].
pub(crate) fn sum_batch(batch: &[RequestCount]) -> Result<BTreeMap<(TenantId, &str), u64>, RepoError> {
    let mut sums = BTreeMap::new();
    for entry in batch {
        check_period(&entry.period)?;
        let sum: &mut u64 = sums.entry((entry.tenant_id, entry.period.as_str())).or_default();
        *sum = add_count(*sum, entry.count);
    }
    Ok(sums)
}

/// A counter after adding `count`, saturated at [`MAX_COUNT`].
pub(crate) fn add_count(stored: u64, count: u64) -> u64 {
    stored.saturating_add(count).min(MAX_COUNT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_year_dash_month() {
        for ok in ["2026-01", "2026-12", "0001-09"] {
            assert!(check_period(ok).is_ok(), "{ok}");
        }
        for bad in ["2026-13", "2026-00", "2026-1", "2026/01", "26-01", "2026-011", "", "２０２６-01", "2026-0a"] {
            assert!(check_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn batches_are_summed_per_key_and_saturate() {
        let t = TenantId(Uuid::now_v7());
        let entry = |period: &str, count| RequestCount { tenant_id: t, period: period.to_owned(), count };
        let batch = [entry("2026-01", 2), entry("2026-02", 1), entry("2026-01", 3)];
        let sums = sum_batch(&batch).unwrap();
        assert_eq!(sums.get(&(t, "2026-01")), Some(&5));
        assert_eq!(sums.get(&(t, "2026-02")), Some(&1));
        let batch = [entry("2026-01", u64::MAX), entry("2026-01", 1)];
        let sums = sum_batch(&batch).unwrap();
        assert_eq!(sums.get(&(t, "2026-01")), Some(&MAX_COUNT));
        assert!(sum_batch(&[entry("2026-01", 1), entry("bad", 1)]).is_err());
        assert_eq!(add_count(MAX_COUNT - 1, 5), MAX_COUNT);
        assert_eq!(add_count(1, 2), 3);
    }

    #[test]
    fn settings_must_be_an_object() {
        assert!(check_settings(&serde_json::json!({})).is_ok());
        assert!(check_settings(&serde_json::json!({"a": {"b": 1}})).is_ok());
        for bad in [serde_json::json!([]), serde_json::json!(null), serde_json::json!("{}")] {
            assert!(check_settings(&bad).is_err(), "{bad}");
        }
    }
}

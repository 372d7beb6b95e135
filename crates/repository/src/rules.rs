//! Rules every adapter applies the same way: the scope check on entities handed in, the
//! names of the conflicts a port reports, the cursor convention of list ports, and the
//! session rules (which sessions are live, which a new login evicts, what presenting a
//! refresh token means), and the invitation rules (which conflict a new one reports, what
//! revoking does).

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;
use tessera_domain::ports::RequestCount;
use tessera_domain::session::{RefreshTokenRecord, Session};
use tessera_domain::{RepoError, SessionId, TenantId};
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
    /// A compare-and-set of the setting overrides whose expectation no longer holds.
    pub const SETTINGS_CHANGED: &str = "settings_changed";
    /// A usage period that is not `YYYY-MM`.
    pub const PERIOD: &str = "period";
    /// A pending invitation for the same email in the tenant.
    pub const INVITATION: &str = "invitation";
    /// Revoking an invitation that was accepted.
    pub const ACCEPTED: &str = "accepted";
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

/// Whether the stored overrides still are what the caller read (`set_settings` is a
/// compare-and-set). Compared as parsed JSON values, never as text: key order and
/// whitespace do not matter, while `1` and `1.0` are different numbers.
pub(crate) fn check_settings_unchanged(
    stored: &serde_json::Value,
    expected: &serde_json::Value,
) -> Result<(), RepoError> {
    if stored == expected { Ok(()) } else { Err(conflict(conflict::SETTINGS_CHANGED)) }
}

/// The conflict a new invitation reports, if any: a user already registered with its email
/// first (`email`), then a pending invitation for it (`invitation`).
pub(crate) fn check_new_invitation(registered: bool, invited: bool) -> Result<(), RepoError> {
    if registered {
        Err(conflict(conflict::EMAIL))
    } else if invited {
        Err(conflict(conflict::INVITATION))
    } else {
        Ok(())
    }
}

/// What revoking a stored invitation does: `Ok(true)` when `revoked_at` is to be written,
/// `Ok(false)` when it is revoked already (the first revocation's time stays), and
/// `Conflict("accepted")` when it was accepted. An expired one can still be revoked.
pub(crate) fn check_revocable(
    accepted_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
) -> Result<bool, RepoError> {
    match (accepted_at, revoked_at) {
        (Some(_), _) => Err(conflict(conflict::ACCEPTED)),
        (None, Some(_)) => Ok(false),
        (None, None) => Ok(true),
    }
}

/// A live session: not revoked and not past `expires_at` at `at`.
pub(crate) fn is_live(revoked_at: Option<DateTime<Utc>>, expires_at: DateTime<Utc>, at: DateTime<Utc>) -> bool {
    revoked_at.is_none() && expires_at > at
}

/// The sessions a new login evicts: given the user's other live sessions as `(created_at,
/// id)`, the oldest ones (by creation time, then id) beyond what `max_live` leaves room for
/// next to the new session. A new session that is not live itself takes no room. With
/// `max_live` 0 every other session goes: the new one is stored as given regardless.
/// Returned oldest first.
pub(crate) fn evictions(mut live: Vec<(DateTime<Utc>, SessionId)>, new_is_live: bool, max_live: u32) -> Vec<SessionId> {
    let room = (max_live as usize).saturating_sub(usize::from(new_is_live));
    live.sort_unstable();
    let evict = live.len().saturating_sub(room);
    live.into_iter().take(evict).map(|(_, id)| id).collect()
}

/// What a presented refresh token is, by the stored state alone (SPEC §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presented {
    /// Unknown, expired, revoked, or its session revoked, expired or idle too long.
    Invalid,
    /// Used, but at most the grace period ago: a client race, nothing changes.
    ReusedWithinGrace,
    /// Used before the grace period: theft suspected, the session goes.
    ReuseDetected,
    /// Never used: rotate it.
    Fresh,
}

/// The state of a stored refresh token that the classification looks at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenState {
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Classifies a presented token of `session` at `now`. Validity comes first, so a token of
/// a revoked session is `Invalid` (never a second `ReuseDetected`), and reuse is judged
/// only on a session that is still usable.
pub(crate) fn classify(
    token: TokenState,
    session: &Session,
    now: DateTime<Utc>,
    grace: Duration,
    idle_timeout: Duration,
) -> Presented {
    let usable = token.expires_at > now
        && token.revoked_at.is_none()
        && is_live(session.revoked_at, session.expires_at, now)
        && now - session.last_seen_at <= idle_timeout;
    match token.used_at {
        _ if !usable => Presented::Invalid,
        None => Presented::Fresh,
        // A use "in the future" (clocks of replicas apart) is within the grace too.
        Some(used) if now - used <= grace => Presented::ReusedWithinGrace,
        Some(_) => Presented::ReuseDetected,
    }
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

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn settings_compare_as_json_values() {
        let stored: serde_json::Value = serde_json::from_str(r#"{"b": [1, 2], "a": {"y": 1, "x": 2.5}}"#).unwrap();
        let same = serde_json::json!({"a": {"x": 2.5, "y": 1}, "b": [1, 2]});
        assert!(check_settings_unchanged(&stored, &same).is_ok());
        for other in [serde_json::json!({}), serde_json::json!({"a": {"x": 2.5, "y": 1.0}, "b": [1, 2]})] {
            assert!(
                matches!(check_settings_unchanged(&stored, &other), Err(RepoError::Conflict(c)) if c == "settings_changed")
            );
        }
    }

    #[test]
    fn evictions_take_the_oldest_beyond_the_room_left() {
        let ids: Vec<SessionId> = (0..4).map(|i| SessionId(Uuid::from_u128(10 - i))).collect();
        // Created in index order; ids descend, so creation time (not id) decides.
        let live: Vec<_> = ids.iter().enumerate().map(|(i, id)| (at(i as i64), *id)).collect();
        assert_eq!(evictions(live.clone(), true, 3), ids[..2]);
        assert_eq!(evictions(live.clone(), true, 5), []);
        assert_eq!(evictions(live.clone(), true, 1), ids);
        assert_eq!(evictions(live.clone(), true, 0), ids);
        assert_eq!(evictions(live.clone(), false, 3), ids[..1]);
        // Equal creation times: the id breaks the tie.
        let tied = vec![(at(0), ids[0]), (at(0), ids[3])];
        assert_eq!(evictions(tied, true, 2), [ids[3]]);
    }

    #[test]
    fn presented_tokens_are_classified_validity_first() {
        let now = at(1000);
        let (grace, idle) = (Duration::seconds(5), Duration::seconds(600));
        let session = Session {
            id: SessionId(Uuid::from_u128(1)),
            tenant_id: TenantId(Uuid::from_u128(2)),
            user_id: tessera_domain::UserId(Uuid::from_u128(3)),
            created_at: at(0),
            last_seen_at: at(500),
            expires_at: at(2000),
            ip: None,
            user_agent: None,
            amr: Vec::new(),
            revoked_at: None,
        };
        let fresh = TokenState { expires_at: at(1500), used_at: None, revoked_at: None };
        let check = |token: TokenState, session: &Session| classify(token, session, now, grace, idle);
        assert_eq!(check(fresh, &session), Presented::Fresh);
        assert_eq!(check(TokenState { used_at: Some(at(995)), ..fresh }, &session), Presented::ReusedWithinGrace);
        assert_eq!(check(TokenState { used_at: Some(at(1003)), ..fresh }, &session), Presented::ReusedWithinGrace);
        assert_eq!(check(TokenState { used_at: Some(at(994)), ..fresh }, &session), Presented::ReuseDetected);
        let invalid = [
            (TokenState { expires_at: now, ..fresh }, session.clone()),
            (TokenState { revoked_at: Some(at(900)), ..fresh }, session.clone()),
            (fresh, Session { revoked_at: Some(at(900)), ..session.clone() }),
            (fresh, Session { expires_at: now, ..session.clone() }),
            (fresh, Session { last_seen_at: at(399), ..session.clone() }),
            // A used token of a revoked session is not reported as reuse again.
            (TokenState { used_at: Some(at(100)), ..fresh }, Session { revoked_at: Some(at(900)), ..session.clone() }),
        ];
        for (token, session) in invalid {
            assert_eq!(check(token, &session), Presented::Invalid, "{token:?} {session:?}");
        }
        // Idle exactly the timeout is still fine.
        assert_eq!(check(fresh, &Session { last_seen_at: at(400), ..session.clone() }), Presented::Fresh);
    }

    #[test]
    fn invitation_rules() {
        assert!(check_new_invitation(false, false).is_ok());
        assert!(matches!(check_new_invitation(true, true), Err(RepoError::Conflict(c)) if c == "email"));
        assert!(matches!(check_new_invitation(false, true), Err(RepoError::Conflict(c)) if c == "invitation"));
        assert!(check_revocable(None, None).unwrap());
        assert!(!check_revocable(None, Some(at(1))).unwrap());
        for accepted in [(Some(at(1)), None), (Some(at(1)), Some(at(2)))] {
            assert!(matches!(check_revocable(accepted.0, accepted.1), Err(RepoError::Conflict(c)) if c == "accepted"));
        }
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

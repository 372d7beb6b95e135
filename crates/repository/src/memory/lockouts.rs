//! [`MemoryLockoutStore`]: progressive login lockouts (SPEC §6.5) for a single process.
//!
//! The rules, shared with the Redis adapter so that both answer alike:
//!
//! - Failures count within a [`FAILURE_WINDOW`] opened by the first failure of a streak: once
//!   the window is over, the count starts again from zero (failures older than the window no
//!   longer count).
//! - Reaching the threshold locks the key for `base × 2^(lockouts so far)` capped at `max`,
//!   resets the failure count and counts one more lockout. The lockout count is remembered
//!   for [`LOCKOUT_MEMORY`] after the latest lockout; after a quiet day the next lock is
//!   `base` again.
//! - A threshold of 0 is taken as 1. Failures recorded while the key is locked count too
//!   (the service normally answers 429 without recording them).
//! - `reset` forgets everything about the key.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tessera_domain::RepoError;
use tessera_domain::credentials::{LockoutKey, LockoutStore};

/// How long failures keep counting after the first failure of a streak.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// How long the number of lockouts is remembered after the latest lockout (what the
/// doubling starts from).
pub const LOCKOUT_MEMORY: Duration = Duration::from_secs(24 * 60 * 60);

/// The default bound on tracked keys of [`MemoryLockoutStore`].
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// Sweeps never run on fewer entries than this (amortisation floor).
const MIN_SWEEP: usize = 1024;

/// [`LockoutStore`] for one process (a single replica, tests, development).
///
/// Memory is bounded: an entry whose lock, failure window and lockout memory are all over is
/// dead and removed when read, and every entry is swept for dead ones once the map has grown
/// to twice its size after the previous sweep (amortised O(1) per write). If live entries
/// still reach the cap (`max_entries`, default [`DEFAULT_MAX_ENTRIES`]), the tenth of them
/// that matter least — unlocked before locked, then the soonest to expire — is evicted, so
/// a flood of distinct emails can cost some keys their failure counts but never unbounded
/// memory. (Per-IP throttles, SPEC §7, cover such floods.)
///
/// One `std::sync::Mutex` guards the map; it is never held across an `.await`.
pub struct MemoryLockoutStore {
    state: Mutex<State>,
    max_entries: usize,
}

struct State {
    entries: HashMap<LockoutKey, Entry>,
    /// The size at which the next sweep runs.
    sweep_at: usize,
}

/// What is known about one key. Instants that are not set are `MIN_UTC` (long over).
#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    /// Failures count until then.
    window_end: DateTime<Utc>,
    locked_until: DateTime<Utc>,
    lockouts: u32,
    /// The lockout count is remembered until then.
    lockouts_end: DateTime<Utc>,
}

impl Entry {
    const EMPTY: Self = Self {
        failures: 0,
        window_end: DateTime::<Utc>::MIN_UTC,
        locked_until: DateTime::<Utc>::MIN_UTC,
        lockouts: 0,
        lockouts_end: DateTime::<Utc>::MIN_UTC,
    };

    /// When nothing about the entry matters any more.
    fn expires_at(&self) -> DateTime<Utc> {
        self.window_end.max(self.locked_until).max(self.lockouts_end)
    }

    fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at() > now
    }

    fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until > now
    }

    /// Applies one failure at `now`; the lock's duration when it locks.
    fn record_failure(
        &mut self,
        now: DateTime<Utc>,
        threshold: u32,
        base: Duration,
        max: Duration,
    ) -> Option<Duration> {
        if self.window_end <= now {
            self.failures = 0;
            self.window_end = after(now, FAILURE_WINDOW);
        }
        if self.lockouts_end <= now {
            self.lockouts = 0;
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures < threshold.max(1) {
            return None;
        }
        let duration = lock_duration(base, max, self.lockouts);
        self.failures = 0;
        self.window_end = DateTime::<Utc>::MIN_UTC;
        self.locked_until = after(now, duration);
        self.lockouts = self.lockouts.saturating_add(1);
        self.lockouts_end = after(now, LOCKOUT_MEMORY);
        Some(duration)
    }
}

/// `base × 2^lockouts`, capped at `max` (`max` also caps `base` itself).
pub(crate) fn lock_duration(base: Duration, max: Duration, lockouts: u32) -> Duration {
    2u32.checked_pow(lockouts).and_then(|factor| base.checked_mul(factor)).map_or(max, |d| d.min(max))
}

/// `now + duration`, saturating at the end of time.
fn after(now: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(duration)
        .ok()
        .and_then(|delta| now.checked_add_signed(delta))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Default for MemoryLockoutStore {
    fn default() -> Self {
        Self::with_max_entries(DEFAULT_MAX_ENTRIES)
    }
}

impl MemoryLockoutStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store tracking at most `max_entries` keys (at least 1).
    pub fn with_max_entries(max_entries: usize) -> Self {
        let max_entries = max_entries.max(1);
        let state = State { entries: HashMap::new(), sweep_at: MIN_SWEEP.min(max_entries) };
        Self { state: Mutex::new(state), max_entries }
    }

    /// How many keys are tracked (dead ones included until they are pruned).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // Every change to an entry is a plain assignment of whole values, so a poisoned lock
    // still guards a consistent map and is safe to reuse.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Makes room for one more key at `now`: sweeps dead entries when due, then evicts if
    /// the live ones fill the cap.
    fn make_room(&mut self, now: DateTime<Utc>, max_entries: usize) {
        if self.entries.len() >= self.sweep_at {
            self.entries.retain(|_, entry| entry.is_live(now));
            self.sweep_at = self.entries.len().saturating_mul(2).max(MIN_SWEEP).min(max_entries);
        }
        if self.entries.len() >= max_entries {
            self.evict(now, (max_entries / 10).max(1));
        }
    }

    /// Removes the `count` entries that matter least: unlocked before locked, then the
    /// soonest to expire.
    fn evict(&mut self, now: DateTime<Utc>, count: usize) {
        let mut ranked: Vec<_> =
            self.entries.iter().map(|(key, entry)| (entry.is_locked(now), entry.expires_at(), key.clone())).collect();
        let count = count.min(ranked.len());
        if count < ranked.len() {
            ranked.select_nth_unstable_by(count, |a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        }
        for (_, _, key) in ranked.into_iter().take(count) {
            self.entries.remove(&key);
        }
    }
}

#[async_trait]
impl LockoutStore for MemoryLockoutStore {
    async fn locked_for(&self, key: &LockoutKey, now: DateTime<Utc>) -> Result<Option<Duration>, RepoError> {
        let mut state = self.lock();
        let Some(entry) = state.entries.get(key).copied() else {
            return Ok(None);
        };
        if !entry.is_live(now) {
            state.entries.remove(key);
            return Ok(None);
        }
        Ok((entry.locked_until - now).to_std().ok().filter(|left| !left.is_zero()))
    }

    async fn record_failure(
        &self,
        key: &LockoutKey,
        now: DateTime<Utc>,
        threshold: u32,
        base: Duration,
        max: Duration,
    ) -> Result<Option<Duration>, RepoError> {
        let mut state = self.lock();
        if !state.entries.contains_key(key) {
            state.make_room(now, self.max_entries);
        }
        let entry = state.entries.entry(key.clone()).or_insert(Entry::EMPTY);
        Ok(entry.record_failure(now, threshold, base, max))
    }

    async fn reset(&self, key: &LockoutKey) -> Result<(), RepoError> {
        self.lock().entries.remove(key);
        Ok(())
    }
}

impl std::fmt::Debug for MemoryLockoutStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLockoutStore")
            .field("entries", &self.len())
            .field("max_entries", &self.max_entries)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::TenantId;
    use uuid::Uuid;

    const BASE: Duration = Duration::from_secs(60);
    const MAX: Duration = Duration::from_secs(3600);

    fn key(n: usize) -> LockoutKey {
        LockoutKey { tenant: TenantId(Uuid::nil()), email: format!("user{n}@example.com") }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn lock_duration_doubles_and_caps() {
        let got: Vec<_> = (0..8).map(|n| lock_duration(BASE, MAX, n).as_secs()).collect();
        assert_eq!(got, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(lock_duration(BASE, MAX, 40), MAX);
        assert_eq!(lock_duration(Duration::from_secs(7200), MAX, 0), MAX);
        assert_eq!(lock_duration(Duration::MAX, Duration::MAX, 3), Duration::MAX);
    }

    #[tokio::test]
    async fn dead_entries_are_pruned_on_read() {
        let store = MemoryLockoutStore::new();
        store.record_failure(&key(0), t0(), 5, BASE, MAX).await.unwrap();
        assert_eq!(store.len(), 1);
        assert_eq!(store.locked_for(&key(0), t0()).await.unwrap(), None);
        assert_eq!(store.len(), 1, "its failure window is still open");
        let later = t0() + TimeDelta::from_std(FAILURE_WINDOW).unwrap();
        assert_eq!(store.locked_for(&key(0), later).await.unwrap(), None);
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn sweeps_remove_dead_entries_as_the_map_grows() {
        let store = MemoryLockoutStore::new();
        for n in 0..MIN_SWEEP {
            store.record_failure(&key(n), t0(), 5, BASE, MAX).await.unwrap();
        }
        assert_eq!(store.len(), MIN_SWEEP);
        // An hour later every earlier window is over: the next new key triggers a sweep.
        let later = t0() + TimeDelta::hours(1);
        store.record_failure(&key(MIN_SWEEP), later, 5, BASE, MAX).await.unwrap();
        assert_eq!(store.len(), 1);
    }

    #[tokio::test]
    async fn the_cap_evicts_unlocked_keys_before_locked_ones() {
        let store = MemoryLockoutStore::with_max_entries(20);
        // Key 0 is locked; keys 1..20 have one live failure each.
        for _ in 0..5 {
            store.record_failure(&key(0), t0(), 5, BASE, MAX).await.unwrap();
        }
        for n in 1..20 {
            store.record_failure(&key(n), t0(), 5, BASE, MAX).await.unwrap();
        }
        assert_eq!(store.len(), 20);
        for n in 20..200 {
            store.record_failure(&key(n), t0(), 5, BASE, MAX).await.unwrap();
            assert!(store.len() <= 20, "{} entries", store.len());
        }
        assert_eq!(store.locked_for(&key(0), t0()).await.unwrap(), Some(BASE));
        assert_eq!(store.locked_for(&key(199), t0()).await.unwrap(), None);
        assert!(store.lock().entries.contains_key(&key(199)), "the newest key is tracked");
    }

    #[tokio::test]
    async fn a_zero_threshold_locks_at_the_first_failure() {
        let store = MemoryLockoutStore::new();
        assert_eq!(store.record_failure(&key(0), t0(), 0, BASE, MAX).await.unwrap(), Some(BASE));
    }
}

//! [`MemoryAttemptCounter`]: fixed-window attempt counters (SPEC §6.5/§7) for a single process.
//!
//! The rules, shared with the Redis adapter so that both answer alike: time is cut into
//! fixed windows of `window` (at least 1 ms) aligned on the Unix epoch, the window of `now`
//! being `now_ms / window_ms`. `hit` counts within the current window of its key and, when
//! the count now exceeds `limit`, answers the time left until that window ends; `distinct`
//! adds a member to the current window's set of its key and answers the set's size. A
//! counter or set of an earlier window (or of another window length) no longer counts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tessera_domain::RepoError;
use tessera_domain::credentials::AttemptCounter;

/// The default bound of [`MemoryAttemptCounter`]: tracked keys plus stored set members.
pub const DEFAULT_MAX_ATTEMPT_ENTRIES: usize = 100_000;

/// Sweeps never run on fewer entries than this (amortisation floor).
const MIN_SWEEP: usize = 1024;

/// Window lengths are clamped to 2^52 ms (over 140 000 years): window ends never overflow.
const MAX_WINDOW_MILLIS: i64 = 1 << 52;

/// The fixed window of an instant, shared by the adapters (and the contract tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptWindow {
    /// The window's length in milliseconds, clamped to 1 ms ..= 2^52 ms.
    pub millis: i64,
    /// `now / millis` (rounded down): which window of that length `now` is in.
    pub index: i64,
    /// When the window ends, in Unix milliseconds (exclusive).
    pub end: i64,
    /// The instant, in Unix milliseconds.
    pub now: i64,
}

impl AttemptWindow {
    /// The window of length `window` that holds `now`.
    pub fn of(window: Duration, now: DateTime<Utc>) -> Self {
        let millis = i64::try_from(window.as_millis()).unwrap_or(i64::MAX).clamp(1, MAX_WINDOW_MILLIS);
        let now = now.timestamp_millis();
        let index = now.div_euclid(millis);
        Self { millis, index, end: index.saturating_add(1).saturating_mul(millis), now }
    }

    /// How long until the window ends (at least 1 ms, at most the window).
    pub fn remaining(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.end.saturating_sub(self.now)).unwrap_or(0))
    }
}

/// [`AttemptCounter`] for one process (a single replica, tests, development).
///
/// Memory is bounded: every tracked key and every stored set member is one unit. Entries of
/// finished windows are swept once the units have doubled since the previous sweep
/// (amortised O(1) per write); if live units still reach the cap (`max_entries`, default
/// [`DEFAULT_MAX_ATTEMPT_ENTRIES`]), the entries whose windows end soonest are evicted until
/// a tenth of the cap is free — a flood can cost some keys their counts, never unbounded
/// memory.
///
/// One `std::sync::Mutex` guards the map; it is never held across an `.await`.
pub struct MemoryAttemptCounter {
    state: Mutex<State>,
    max_entries: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Hits,
    Distinct,
}

struct State {
    entries: HashMap<(Kind, String), Entry>,
    /// Entries plus stored members.
    units: usize,
    /// The number of units at which the next sweep runs.
    sweep_at: usize,
}

struct Entry {
    window_millis: i64,
    index: i64,
    end: i64,
    hits: u64,
    members: HashSet<String>,
}

impl Default for MemoryAttemptCounter {
    fn default() -> Self {
        Self::with_max_entries(DEFAULT_MAX_ATTEMPT_ENTRIES)
    }
}

impl MemoryAttemptCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A counter holding at most about `max_entries` keys plus set members (at least 1).
    pub fn with_max_entries(max_entries: usize) -> Self {
        let max_entries = max_entries.max(1);
        let state = State { entries: HashMap::new(), units: 0, sweep_at: MIN_SWEEP.min(max_entries) };
        Self { state: Mutex::new(state), max_entries }
    }

    /// Tracked keys plus stored set members (finished windows included until swept).
    pub fn len(&self) -> usize {
        self.lock().units
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // Every change keeps the map and the unit count consistent before anything can panic,
    // so a poisoned lock is safe to reuse.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// The entry of `key` for `window`, emptied when it belongs to another window; makes
    /// room first.
    fn entry(&mut self, kind: Kind, key: &str, window: AttemptWindow, max_entries: usize) -> &mut Entry {
        self.make_room(window.now, max_entries);
        let map_key = (kind, key.to_owned());
        if !self.entries.contains_key(&map_key) {
            self.units += 1;
        }
        let entry = self.entries.entry(map_key).or_insert_with(|| Entry {
            window_millis: window.millis,
            index: window.index,
            end: window.end,
            hits: 0,
            members: HashSet::new(),
        });
        if entry.window_millis != window.millis || entry.index != window.index {
            self.units -= entry.members.len();
            *entry = Entry {
                window_millis: window.millis,
                index: window.index,
                end: window.end,
                hits: 0,
                members: HashSet::new(),
            };
        }
        entry
    }

    fn make_room(&mut self, now: i64, max_entries: usize) {
        if self.units >= self.sweep_at {
            self.entries.retain(|_, entry| entry.end > now);
            self.recount();
            self.sweep_at = self.units.saturating_mul(2).max(MIN_SWEEP).min(max_entries);
        }
        if self.units >= max_entries {
            let target = max_entries - (max_entries / 10).max(1);
            let mut ranked: Vec<_> = self.entries.iter().map(|(key, entry)| (entry.end, key.clone())).collect();
            ranked.sort_unstable_by_key(|(end, _)| *end);
            for (_, key) in ranked {
                if self.units <= target {
                    break;
                }
                if let Some(entry) = self.entries.remove(&key) {
                    self.units -= 1 + entry.members.len();
                }
            }
        }
    }

    fn recount(&mut self) {
        self.units = self.entries.values().map(|entry| 1 + entry.members.len()).sum();
    }
}

#[async_trait]
impl AttemptCounter for MemoryAttemptCounter {
    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, RepoError> {
        let window = AttemptWindow::of(window, now);
        let mut state = self.lock();
        let entry = state.entry(Kind::Hits, key, window, self.max_entries);
        entry.hits = entry.hits.saturating_add(1);
        Ok((entry.hits > u64::from(limit)).then(|| window.remaining()))
    }

    async fn distinct(&self, key: &str, member: &str, window: Duration, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let window = AttemptWindow::of(window, now);
        let mut state = self.lock();
        let entry = state.entry(Kind::Distinct, key, window, self.max_entries);
        let added = entry.members.insert(member.to_owned());
        let size = entry.members.len() as u64;
        if added {
            state.units += 1;
        }
        Ok(size)
    }
}

impl std::fmt::Debug for MemoryAttemptCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryAttemptCounter")
            .field("units", &self.len())
            .field("max_entries", &self.max_entries)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn windows_are_aligned_on_the_epoch() {
        let window = AttemptWindow::of(MINUTE, t0() + chrono::TimeDelta::milliseconds(1500));
        assert_eq!(window.index, 1_700_000_000 / 60);
        assert_eq!(window.end, (1_700_000_000 / 60 + 1) * 60_000);
        assert!(window.remaining() <= MINUTE);
        assert_eq!(AttemptWindow::of(Duration::ZERO, t0()).remaining(), Duration::from_millis(1));
        assert_eq!(AttemptWindow::of(Duration::MAX, t0()).millis, MAX_WINDOW_MILLIS);
    }

    #[tokio::test]
    async fn finished_windows_are_swept_as_the_map_grows() {
        let counter = MemoryAttemptCounter::new();
        for n in 0..MIN_SWEEP {
            counter.hit(&format!("k{n}"), 5, MINUTE, t0()).await.unwrap();
        }
        assert_eq!(counter.len(), MIN_SWEEP);
        let later = t0() + chrono::TimeDelta::hours(1);
        counter.hit("new", 5, MINUTE, later).await.unwrap();
        assert_eq!(counter.len(), 1);
    }

    #[tokio::test]
    async fn keys_and_members_stay_under_the_cap() {
        let counter = MemoryAttemptCounter::with_max_entries(50);
        for n in 0..500 {
            counter.hit(&format!("k{n}"), 5, MINUTE, t0()).await.unwrap();
            counter.distinct("ip", &format!("m{n}"), MINUTE, t0()).await.unwrap();
            assert!(counter.len() <= 51, "{} units", counter.len());
        }
        // A new window empties a set: its members stop counting.
        let counter = MemoryAttemptCounter::new();
        for n in 0..10 {
            counter.distinct("ip", &format!("m{n}"), MINUTE, t0()).await.unwrap();
        }
        assert_eq!(counter.len(), 11);
        let later = t0() + chrono::TimeDelta::minutes(1);
        assert_eq!(counter.distinct("ip", "m0", MINUTE, later).await.unwrap(), 1);
        assert_eq!(counter.len(), 2);
    }
}

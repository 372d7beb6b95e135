//! [`RedisLockoutStore`]: progressive login lockouts (SPEC §6.5) shared by every replica.
//!
//! One hash per (tenant, email) at `tessera:{tenant_id}:lockout:{sha256 hex of the email}`
//! (tenant prefix per SPEC §4; the email is hashed so no personal data sits in Redis), with
//! the fields `failures`, `window_end`, `locked_until`, `lockouts` and `lockouts_end`; the
//! instants are absolute unix milliseconds of the callers' `now`, so the logic follows the
//! time the service passes in (and tests can drive it). The rules are those of the memory
//! adapter ([`crate::memory::MemoryLockoutStore`]): failures count within
//! [`FAILURE_WINDOW`](crate::memory::FAILURE_WINDOW) of the first of a streak, the lockout
//! count is remembered for [`LOCKOUT_MEMORY`](crate::memory::LOCKOUT_MEMORY) after the latest
//! lockout. The key's TTL only collects garbage: it is set to outlive every instant stored.
//!
//! - `record_failure` is one Lua script (`EVALSHA`, falling back to `EVAL` when the server
//!   answers `NOSCRIPT`, e.g. after a restart or `SCRIPT FLUSH`): one round trip, atomic.
//! - `locked_for` is one `HGET` of `locked_until`.
//! - `reset` is one `DEL`.

use super::connection::SharedConnection;
use ::redis::{Client, ErrorKind, ServerErrorKind};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;
use tessera_domain::RepoError;
use tessera_domain::credentials::{LockoutKey, LockoutStore};

use crate::memory::{FAILURE_WINDOW, LOCKOUT_MEMORY};

/// Counts one failure. KEYS[1]: the lockout hash. ARGV: now, threshold, base, max, failure
/// window, lockout memory — all integers, times in milliseconds. Returns the lock's duration
/// in milliseconds, or nil when the failure does not lock.
const RECORD_FAILURE: &str = r"
local now = tonumber(ARGV[1])
local threshold = math.max(tonumber(ARGV[2]), 1)
local base = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'failures', 'window_end', 'locked_until', 'lockouts', 'lockouts_end')
local failures = tonumber(state[1]) or 0
local window_end = tonumber(state[2]) or 0
local locked_until = tonumber(state[3]) or 0
local lockouts = tonumber(state[4]) or 0
local lockouts_end = tonumber(state[5]) or 0
if window_end <= now then
  failures = 0
  window_end = now + tonumber(ARGV[5])
end
if lockouts_end <= now then
  lockouts = 0
end
failures = failures + 1
local duration = false
if failures >= threshold then
  duration = base
  local doublings = 0
  while doublings < lockouts and duration < max do
    duration = duration * 2
    doublings = doublings + 1
  end
  duration = math.min(duration, max)
  failures = 0
  window_end = 0
  locked_until = now + duration
  lockouts = lockouts + 1
  lockouts_end = now + tonumber(ARGV[6])
end
local function int(n) return string.format('%d', n) end
redis.call('HSET', KEYS[1], 'failures', int(failures), 'window_end', int(window_end),
  'locked_until', int(locked_until), 'lockouts', int(lockouts), 'lockouts_end', int(lockouts_end))
redis.call('PEXPIRE', KEYS[1], int(math.max(window_end, locked_until, lockouts_end) - now))
return duration
";

/// Durations are clamped to 2^52 ms (over 140 000 years) so that every sum the script
/// computes stays an exact integer in Lua's doubles.
const MAX_MILLIS: u64 = 1 << 52;

/// [`LockoutStore`] over Redis: the state lives in Redis, so every replica sees the same
/// failures and locks.
///
/// Commands go over one shared multiplexed connection, replaced after a connection failure
/// and retried once on the new one. A retried `record_failure` whose first reply was lost
/// may count that failure twice: lockouts err on the strict side.
pub struct RedisLockoutStore {
    connection: SharedConnection,
    /// The SHA1 of [`RECORD_FAILURE`], as `SCRIPT LOAD` answered it.
    script_sha: String,
}

impl RedisLockoutStore {
    /// Opens the store on `url` (`redis://[user:password@]host[:port][/db]`) and loads the
    /// script.
    ///
    /// # Errors
    /// `Unavailable` when the URL is invalid or Redis does not answer `PING` and `SCRIPT LOAD`.
    #[tracing::instrument(skip_all)]
    pub async fn connect(url: &str) -> Result<Self, RepoError> {
        let client = Client::open(url).map_err(RepoError::unavailable)?;
        let connection = SharedConnection::new(client, "lockout store command");
        let (_, mut redis) = connection.get().await.map_err(RepoError::unavailable)?;
        ::redis::cmd("PING").query_async::<String>(&mut redis).await.map_err(RepoError::unavailable)?;
        let script_sha = ::redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(RECORD_FAILURE)
            .query_async::<String>(&mut redis)
            .await
            .map_err(RepoError::unavailable)?;
        Ok(Self { connection, script_sha })
    }

    /// The Redis key holding `key`'s state: `tessera:{tenant_id}:lockout:{sha256 hex of the
    /// email}`.
    pub fn redis_key(key: &LockoutKey) -> String {
        format!("tessera:{}:lockout:{}", key.tenant, super::sha256_hex(key.email.as_bytes()))
    }
}

#[async_trait]
impl LockoutStore for RedisLockoutStore {
    #[tracing::instrument(skip_all)]
    async fn locked_for(&self, key: &LockoutKey, now: DateTime<Utc>) -> Result<Option<Duration>, RepoError> {
        let redis_key = Self::redis_key(key);
        let locked_until = self
            .connection
            .run(|mut redis| {
                let redis_key = &redis_key;
                async move {
                    ::redis::cmd("HGET").arg(redis_key).arg("locked_until").query_async::<Option<i64>>(&mut redis).await
                }
            })
            .await
            .map_err(RepoError::unavailable)?;
        let left = locked_until.map(|until| until.saturating_sub(now.timestamp_millis()));
        Ok(left.and_then(|ms| u64::try_from(ms).ok()).filter(|ms| *ms > 0).map(Duration::from_millis))
    }

    #[tracing::instrument(skip_all)]
    async fn record_failure(
        &self,
        key: &LockoutKey,
        now: DateTime<Utc>,
        threshold: u32,
        base: Duration,
        max: Duration,
    ) -> Result<Option<Duration>, RepoError> {
        let redis_key = Self::redis_key(key);
        let args = [
            now.timestamp_millis().to_string(),
            threshold.to_string(),
            millis(base).to_string(),
            millis(max).to_string(),
            millis(FAILURE_WINDOW).to_string(),
            millis(LOCKOUT_MEMORY).to_string(),
        ];
        let locked_ms = self
            .connection
            .run(|mut redis| {
                let (redis_key, args) = (&redis_key, &args);
                async move {
                    let mut evalsha = ::redis::cmd("EVALSHA");
                    evalsha.arg(&self.script_sha).arg(1).arg(redis_key).arg(args);
                    match evalsha.query_async::<Option<i64>>(&mut redis).await {
                        Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                            tracing::debug!("lockout script not cached by Redis; sending it");
                            ::redis::cmd("EVAL")
                                .arg(RECORD_FAILURE)
                                .arg(1)
                                .arg(redis_key)
                                .arg(args)
                                .query_async::<Option<i64>>(&mut redis)
                                .await
                        }
                        result => result,
                    }
                }
            })
            .await
            .map_err(RepoError::unavailable)?;
        Ok(locked_ms.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))))
    }

    #[tracing::instrument(skip_all)]
    async fn reset(&self, key: &LockoutKey) -> Result<(), RepoError> {
        let redis_key = Self::redis_key(key);
        self.connection
            .run(|mut redis| {
                let redis_key = &redis_key;
                async move { ::redis::cmd("DEL").arg(redis_key).query_async::<i64>(&mut redis).await.map(drop) }
            })
            .await
            .map_err(RepoError::unavailable)
    }
}

impl std::fmt::Debug for RedisLockoutStore {
    // The client is left out: its connection info holds the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLockoutStore").finish_non_exhaustive()
    }
}

/// `duration` in whole milliseconds, clamped to [`MAX_MILLIS`].
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).min(MAX_MILLIS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::TenantId;
    use uuid::Uuid;

    #[test]
    fn sha256_matches_the_reference_vectors() {
        let cases: [(&[u8], &str); 3] = [
            (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(crate::redis::sha256_hex(input), expected);
        }
    }

    #[test]
    fn sha256_pads_every_boundary_length() {
        // `printf 'a%.0s' $(seq n) | sha256sum`: lengths around the one- and two-block limits.
        let cases = [
            (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
            (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
            (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
            (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
            (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
            (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
        ];
        for (len, expected) in cases {
            assert_eq!(crate::redis::sha256_hex(&vec![b'a'; len]), expected, "length {len}");
        }
    }

    #[test]
    fn keys_are_tenant_prefixed_and_hash_the_email() {
        let tenant = TenantId(Uuid::new_v4());
        let key = LockoutKey { tenant, email: "Alice@Example.com".to_owned() };
        assert_eq!(
            RedisLockoutStore::redis_key(&key),
            format!("tessera:{tenant}:lockout:f8db6f2f05fc7ed9e7dfaf6f7496304a402ee8311d95f6fdb25b1fea0578e5c6")
        );
    }

    #[test]
    fn millis_clamp_what_lua_cannot_count_exactly() {
        assert_eq!(millis(Duration::from_secs(60)), 60_000);
        assert_eq!(millis(Duration::from_micros(1500)), 1);
        assert_eq!(millis(Duration::MAX), MAX_MILLIS);
    }
}

//! [`RedisAttemptCounter`]: fixed-window attempt counters (SPEC §6.5/§7) shared by every
//! replica.
//!
//! The windows are those of the memory adapter ([`AttemptWindow`]): aligned on the Unix
//! epoch, the window of `now` being `now_ms / window_ms`. Each window of each key is its
//! own Redis key, named after the window's length and index and expiring (`PEXPIREAT`) when
//! the window ends:
//!
//! - `hit`: a counter at `tessera:attempts:{key}:{window_ms}:{index}` — one Lua script,
//!   `INCR` + `PEXPIREAT`: one round trip, atomic.
//! - `distinct`: a set at `tessera:distinct:{key}:{window_ms}:{index}` of the SHA-256 hex
//!   of the members (so no email sits in Redis) — one Lua script, `SADD` + `PEXPIREAT` +
//!   `SCARD`.
//!
//! Callers pass keys that already start with the tenant id or the IP (SPEC §4). Scripts go
//! by `EVALSHA`, falling back to `EVAL` when the server answers `NOSCRIPT` (after a restart
//! or `SCRIPT FLUSH`). Expiry follows the callers' `now`: it is meant to be the real time.

use super::connection::SharedConnection;
use ::redis::{Client, ErrorKind, ServerErrorKind};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;
use tessera_domain::RepoError;
use tessera_domain::credentials::AttemptCounter;

use crate::memory::AttemptWindow;

/// Counts one attempt. KEYS[1]: the window's counter. ARGV[1]: the window's end in Unix
/// milliseconds. Returns the count.
const HIT: &str = r"
local count = redis.call('INCR', KEYS[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return count
";

/// Adds a member. KEYS[1]: the window's set. ARGV[1]: the member, ARGV[2]: the window's end
/// in Unix milliseconds. Returns the set's size.
const DISTINCT: &str = r"
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return redis.call('SCARD', KEYS[1])
";

/// A Lua script and its SHA1, as `SCRIPT LOAD` answered it.
struct Script {
    source: &'static str,
    sha: String,
}

/// [`AttemptCounter`] over Redis: the counts live in Redis, so every replica sees the same.
///
/// Commands go over one shared multiplexed connection, replaced after a connection failure
/// and retried once on the new one. A retried `hit` whose first reply was lost may count
/// that attempt twice: throttles err on the strict side (`distinct` is idempotent).
pub struct RedisAttemptCounter {
    connection: SharedConnection,
    hit: Script,
    distinct: Script,
}

impl RedisAttemptCounter {
    /// Opens the counter on `url` (`redis://[user:password@]host[:port][/db]`) and loads the
    /// scripts.
    ///
    /// # Errors
    /// `Unavailable` when the URL is invalid or Redis does not answer `PING` and `SCRIPT LOAD`.
    #[tracing::instrument(skip_all)]
    pub async fn connect(url: &str) -> Result<Self, RepoError> {
        let client = Client::open(url).map_err(RepoError::unavailable)?;
        let connection = SharedConnection::new(client, "attempt counter command");
        let (_, mut redis) = connection.get().await.map_err(RepoError::unavailable)?;
        ::redis::cmd("PING").query_async::<String>(&mut redis).await.map_err(RepoError::unavailable)?;
        let mut load = async |source: &'static str| {
            let sha = ::redis::cmd("SCRIPT")
                .arg("LOAD")
                .arg(source)
                .query_async::<String>(&mut redis)
                .await
                .map_err(RepoError::unavailable)?;
            Ok::<_, RepoError>(Script { source, sha })
        };
        let hit = load(HIT).await?;
        let distinct = load(DISTINCT).await?;
        Ok(Self { connection, hit, distinct })
    }

    /// The Redis key counting `key`'s attempts in `window`:
    /// `tessera:attempts:{key}:{window_ms}:{index}`.
    pub fn hits_key(key: &str, window: &AttemptWindow) -> String {
        format!("tessera:attempts:{key}:{}:{}", window.millis, window.index)
    }

    /// The Redis key of `key`'s set in `window`: `tessera:distinct:{key}:{window_ms}:{index}`.
    pub fn distinct_key(key: &str, window: &AttemptWindow) -> String {
        format!("tessera:distinct:{key}:{}:{}", window.millis, window.index)
    }

    /// What the set stores for `member`: its SHA-256 in hex.
    pub fn hashed_member(member: &str) -> String {
        super::sha256_hex(member.as_bytes())
    }

    /// Runs `script` on one key (`EVALSHA`, `EVAL` on `NOSCRIPT`).
    async fn eval(&self, script: &Script, redis_key: &str, args: &[String]) -> Result<i64, RepoError> {
        self.connection
            .run(|mut redis| async move {
                let mut evalsha = ::redis::cmd("EVALSHA");
                evalsha.arg(&script.sha).arg(1).arg(redis_key).arg(args);
                match evalsha.query_async::<i64>(&mut redis).await {
                    Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                        tracing::debug!("attempt counter script not cached by Redis; sending it");
                        ::redis::cmd("EVAL")
                            .arg(script.source)
                            .arg(1)
                            .arg(redis_key)
                            .arg(args)
                            .query_async::<i64>(&mut redis)
                            .await
                    }
                    result => result,
                }
            })
            .await
            .map_err(RepoError::unavailable)
    }
}

#[async_trait]
impl AttemptCounter for RedisAttemptCounter {
    #[tracing::instrument(skip_all)]
    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, RepoError> {
        let window = AttemptWindow::of(window, now);
        let count = self.eval(&self.hit, &Self::hits_key(key, &window), &[window.end.to_string()]).await?;
        Ok((count > i64::from(limit)).then(|| window.remaining()))
    }

    #[tracing::instrument(skip_all)]
    async fn distinct(&self, key: &str, member: &str, window: Duration, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let window = AttemptWindow::of(window, now);
        let args = [Self::hashed_member(member), window.end.to_string()];
        let size = self.eval(&self.distinct, &Self::distinct_key(key, &window), &args).await?;
        Ok(u64::try_from(size).unwrap_or(0))
    }
}

impl std::fmt::Debug for RedisAttemptCounter {
    // The client is left out: its connection info holds the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAttemptCounter").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_window_and_members_are_hashed() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let window = AttemptWindow::of(Duration::from_secs(60), now);
        assert_eq!(RedisAttemptCounter::hits_key("1.2.3.4", &window), "tessera:attempts:1.2.3.4:60000:28333333");
        assert_eq!(RedisAttemptCounter::distinct_key("1.2.3.4", &window), "tessera:distinct:1.2.3.4:60000:28333333");
        assert_eq!(
            RedisAttemptCounter::hashed_member("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

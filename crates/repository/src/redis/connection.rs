//! [`SharedConnection`]: one multiplexed Redis connection shared by every call of an adapter,
//! replaced after a connection failure, with the failed call retried once on the new one.

use ::redis::aio::MultiplexedConnection;
use ::redis::{Client, RedisError, RedisResult};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// One multiplexed connection shared by every call. Each connection gets a generation so
/// that a task reporting a failure drops only the connection it used, never a fresh
/// replacement.
///
/// Not `Debug`: the client's connection info holds the password.
pub(super) struct SharedConnection {
    client: Client,
    /// What a call is, for the reconnect warning (e.g. "lockout store command").
    what: &'static str,
    slot: Mutex<Option<(u64, MultiplexedConnection)>>,
    generations: AtomicU64,
}

impl SharedConnection {
    /// A connection on `client`, opened at the first call. `what` names a call in the
    /// warning logged on a reconnect (never the URL).
    pub(super) fn new(client: Client, what: &'static str) -> Self {
        Self { client, what, slot: Mutex::new(None), generations: AtomicU64::new(0) }
    }

    /// The client the connections are opened on.
    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    /// Runs `op`, and on a connection failure runs it once more on a new connection. A retry
    /// after a lost reply may repeat the command: callers' commands must tolerate that.
    pub(super) async fn run<T, F, Fut>(&self, op: F) -> RedisResult<T>
    where
        F: Fn(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let (generation, connection) = self.get().await?;
        match op(connection).await {
            Err(e) if is_connection_failure(&e) => {
                tracing::warn!(error = %e, "{} failed; reconnecting", self.what);
                self.discard(generation);
                let (_, connection) = self.get().await?;
                op(connection).await
            }
            result => result,
        }
    }

    /// The current connection and its generation, opening one when there is none.
    pub(super) async fn get(&self) -> RedisResult<(u64, MultiplexedConnection)> {
        let current = self.lock().clone();
        if let Some(current) = current {
            return Ok(current);
        }
        let fresh = self.client.get_multiplexed_async_connection().await?;
        // Another task may have reconnected meanwhile: keep the first one, drop ours.
        let mut slot = self.lock();
        let entry = slot.get_or_insert_with(|| {
            let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
            (generation, fresh)
        });
        Ok(entry.clone())
    }

    fn discard(&self, generation: u64) {
        let mut slot = self.lock();
        if slot.as_ref().is_some_and(|(current, _)| *current == generation) {
            *slot = None;
        }
    }

    // The slot holds a whole value or nothing, so a poisoned lock is safe to reuse.
    fn lock(&self) -> MutexGuard<'_, Option<(u64, MultiplexedConnection)>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn is_connection_failure(e: &RedisError) -> bool {
    e.is_connection_dropped() || e.is_io_error() || e.is_unrecoverable_error() || e.is_timeout()
}

//! [`RedisInvalidationBus`]: the publishing side and the wire format. The subscribing side
//! (one background task per bus) lives in `listener`.
//!
//! Wire format: the payload is the JSON of [`Invalidation`] (internally tagged by `kind`), so
//! new variants travel without changes here. The channel is chosen from that JSON: a variant
//! with a `tenant_id` field goes to `tessera:{tenant_id}:invalidate`, any other to
//! `tessera:global:invalidate`. Subscribers listen to the pattern `tessera:*:invalidate` and
//! trust the payload, not the channel.

use super::listener::{Handlers, Listener};
use ::redis::aio::MultiplexedConnection;
use ::redis::{Client, RedisError, RedisResult};
use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tessera_domain::RepoError;
use tessera_domain::ports::{Invalidation, InvalidationBus, InvalidationHandler};
use tokio::sync::OnceCell;

/// The pattern every replica subscribes to.
pub(super) const CHANNEL_PATTERN: &str = "tessera:*:invalidate";
const GLOBAL_CHANNEL: &str = "tessera:global:invalidate";

/// [`InvalidationBus`] over Redis pub/sub.
///
/// Publishing uses one shared multiplexed connection, replaced after a connection failure.
/// The first `subscribe` starts one listener task with its own pub/sub connection; later
/// handlers join it. The listener resubscribes after a connection loss (backoff 100 ms
/// doubling to 5 s) and then calls every handler with [`Invalidation::All`], since messages
/// may have been missed meanwhile. Dropping the bus stops the listener.
pub struct RedisInvalidationBus {
    publisher: Publisher,
    handlers: Handlers,
    listener: OnceCell<Listener>,
}

impl RedisInvalidationBus {
    /// Opens the bus on `url` (`redis://[user:password@]host[:port][/db]`).
    ///
    /// # Errors
    /// `Unavailable` when the URL is invalid or Redis does not answer `PING`.
    #[tracing::instrument(skip_all)]
    pub async fn connect(url: &str) -> Result<Self, RepoError> {
        let client = Client::open(url).map_err(RepoError::unavailable)?;
        let publisher = Publisher::new(client);
        let (_, mut connection) = publisher.connection().await.map_err(RepoError::unavailable)?;
        ::redis::cmd("PING").query_async::<String>(&mut connection).await.map_err(RepoError::unavailable)?;
        Ok(Self { publisher, handlers: Handlers::default(), listener: OnceCell::new() })
    }
}

#[async_trait]
impl InvalidationBus for RedisInvalidationBus {
    #[tracing::instrument(skip_all, fields(channel))]
    async fn publish(&self, event: &Invalidation) -> Result<(), RepoError> {
        let (channel, payload) = encode(event).map_err(RepoError::unavailable)?;
        tracing::Span::current().record("channel", channel.as_str());
        self.publisher.publish(&channel, &payload).await.map_err(RepoError::unavailable)
    }

    #[tracing::instrument(skip_all)]
    async fn subscribe(&self, handler: InvalidationHandler) -> Result<(), RepoError> {
        // Concurrent first subscribers all wait for the one listener to be subscribed.
        self.listener.get_or_try_init(|| Listener::start(self.publisher.client.clone(), self.handlers.clone())).await?;
        self.handlers.add(handler);
        Ok(())
    }
}

impl std::fmt::Debug for RedisInvalidationBus {
    // The client is left out: its connection info holds the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisInvalidationBus").field("listening", &self.listener.initialized()).finish_non_exhaustive()
    }
}

/// The shared publishing connection. Each connection gets a generation so that a task
/// reporting a failure drops only the connection it used, never a fresh replacement.
struct Publisher {
    client: Client,
    slot: Mutex<Option<(u64, MultiplexedConnection)>>,
    generations: AtomicU64,
}

impl Publisher {
    fn new(client: Client) -> Self {
        Self { client, slot: Mutex::new(None), generations: AtomicU64::new(0) }
    }

    /// Publishes, and on a connection failure retries once on a new connection. A retry
    /// after a lost reply may deliver the message twice, which an invalidation tolerates.
    async fn publish(&self, channel: &str, payload: &str) -> RedisResult<()> {
        let (generation, mut connection) = self.connection().await?;
        match publish_on(&mut connection, channel, payload).await {
            Err(e) if is_connection_failure(&e) => {
                tracing::warn!(error = %e, "invalidation publish failed; reconnecting");
                self.discard(generation);
                let (_, mut connection) = self.connection().await?;
                publish_on(&mut connection, channel, payload).await
            }
            result => result,
        }
    }

    async fn connection(&self) -> RedisResult<(u64, MultiplexedConnection)> {
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

async fn publish_on(connection: &mut MultiplexedConnection, channel: &str, payload: &str) -> RedisResult<()> {
    ::redis::cmd("PUBLISH").arg(channel).arg(payload).query_async::<i64>(connection).await.map(drop)
}

fn is_connection_failure(e: &RedisError) -> bool {
    e.is_connection_dropped() || e.is_io_error() || e.is_unrecoverable_error() || e.is_timeout()
}

/// The channel and payload of `event` (see the module doc).
pub(super) fn encode(event: &Invalidation) -> serde_json::Result<(String, String)> {
    let json = serde_json::to_value(event)?;
    let channel = match json.get("tenant_id").and_then(serde_json::Value::as_str) {
        Some(tenant_id) => format!("tessera:{tenant_id}:invalidate"),
        None => GLOBAL_CHANNEL.to_owned(),
    };
    Ok((channel, json.to_string()))
}

pub(super) fn decode(payload: &[u8]) -> serde_json::Result<Invalidation> {
    serde_json::from_slice(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::TenantId;
    use uuid::Uuid;

    #[test]
    fn tenant_events_go_to_the_tenant_channel() {
        let tenant_id = TenantId(Uuid::new_v4());
        let (channel, payload) = encode(&Invalidation::Tenant { tenant_id }).unwrap();
        assert_eq!(channel, format!("tessera:{tenant_id}:invalidate"));
        let json: serde_json::Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(json, serde_json::json!({ "kind": "tenant", "tenant_id": tenant_id.to_string() }));
    }

    #[test]
    fn session_and_user_events_go_to_their_tenant_channel_and_round_trip() {
        let tenant_id = TenantId(Uuid::new_v4());
        let session_id = tessera_domain::SessionId(Uuid::new_v4());
        let user_id = tessera_domain::UserId(Uuid::new_v4());
        let cases = [
            (
                Invalidation::Session { tenant_id, session_id },
                serde_json::json!({ "kind": "session", "tenant_id": tenant_id.to_string(), "session_id": session_id.to_string() }),
            ),
            (
                Invalidation::User { tenant_id, user_id },
                serde_json::json!({ "kind": "user", "tenant_id": tenant_id.to_string(), "user_id": user_id.to_string() }),
            ),
        ];
        for (event, wire) in cases {
            let (channel, payload) = encode(&event).unwrap();
            assert_eq!(channel, format!("tessera:{tenant_id}:invalidate"));
            assert_eq!(serde_json::from_str::<serde_json::Value>(&payload).unwrap(), wire);
            assert_eq!(decode(payload.as_bytes()).unwrap(), event);
        }
    }

    #[test]
    fn all_goes_to_the_global_channel() {
        let (channel, payload) = encode(&Invalidation::All).unwrap();
        assert_eq!(channel, GLOBAL_CHANNEL);
        assert_eq!(payload, r#"{"kind":"all"}"#);
    }

    #[test]
    fn every_channel_matches_the_pattern() {
        let prefix = CHANNEL_PATTERN.split('*').next().unwrap();
        let suffix = CHANNEL_PATTERN.rsplit('*').next().unwrap();
        let tenant = Invalidation::Tenant { tenant_id: TenantId(Uuid::new_v4()) };
        for event in [tenant, Invalidation::All] {
            let (channel, _) = encode(&event).unwrap();
            assert!(channel.starts_with(prefix) && channel.ends_with(suffix), "{channel}");
        }
    }

    #[test]
    fn payloads_round_trip() {
        let tenant = Invalidation::Tenant { tenant_id: TenantId(Uuid::new_v4()) };
        for event in [tenant, Invalidation::All] {
            let (_, payload) = encode(&event).unwrap();
            assert_eq!(decode(payload.as_bytes()).unwrap(), event);
        }
    }

    #[test]
    fn undecodable_payloads_are_errors() {
        for payload in [&b"not json"[..], br#"{"kind":"unknown"}"#, br#"{"kind":"tenant"}"#] {
            assert!(decode(payload).is_err());
        }
    }
}

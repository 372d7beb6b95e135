//! [`RedisInvalidationBus`]: the publishing side and the wire format. The subscribing side
//! (one background task per bus) lives in `listener`.
//!
//! Wire format: the payload is the JSON of [`Invalidation`] (internally tagged by `kind`), so
//! new variants travel without changes here. The channel is chosen from that JSON: a variant
//! with a `tenant_id` field goes to `tessera:{tenant_id}:invalidate`, any other to
//! `tessera:global:invalidate`. Subscribers listen to the pattern `tessera:*:invalidate` and
//! trust the payload, not the channel.

use super::connection::SharedConnection;
use super::listener::{Handlers, Listener};
use ::redis::aio::MultiplexedConnection;
use ::redis::{Client, RedisResult};
use async_trait::async_trait;
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
    /// The publishing connection. A publish retried after a lost reply may deliver the
    /// message twice, which an invalidation tolerates.
    publisher: SharedConnection,
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
        let publisher = SharedConnection::new(client, "invalidation publish");
        let (_, mut connection) = publisher.get().await.map_err(RepoError::unavailable)?;
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
        let (channel, payload) = (channel.as_str(), payload.as_str());
        self.publisher.run(|connection| publish_on(connection, channel, payload)).await.map_err(RepoError::unavailable)
    }

    #[tracing::instrument(skip_all)]
    async fn subscribe(&self, handler: InvalidationHandler) -> Result<(), RepoError> {
        // Concurrent first subscribers all wait for the one listener to be subscribed.
        self.listener
            .get_or_try_init(|| Listener::start(self.publisher.client().clone(), self.handlers.clone()))
            .await?;
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

async fn publish_on(mut connection: MultiplexedConnection, channel: &str, payload: &str) -> RedisResult<()> {
    ::redis::cmd("PUBLISH").arg(channel).arg(payload).query_async::<i64>(&mut connection).await.map(drop)
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

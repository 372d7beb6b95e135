//! The subscribing side of `RedisInvalidationBus`: one task per bus that holds a dedicated
//! pub/sub connection on `tessera:*:invalidate` and calls the bus's handlers.
//!
//! A lost connection is noticed when the message stream ends or a periodic `PING` fails (a
//! silently dead peer ends nothing). The task then resubscribes with backoff and calls every
//! handler with [`Invalidation::All`]: messages published meanwhile are gone.

use super::invalidation::{CHANNEL_PATTERN, decode};
use ::redis::Client;
use ::redis::aio::PubSub;
use futures_util::StreamExt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tessera_domain::RepoError;
use tessera_domain::ports::{Invalidation, InvalidationHandler};
use tokio::task::AbortHandle;
use tokio::time::{Instant, timeout};
use tracing::Instrument;

const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Bounds connecting plus `PSUBSCRIBE` (the pub/sub connect has no timeout of its own).
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(5);
const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(30);
const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The handlers of one bus, shared with its listener task. Copy-on-write: dispatch clones an
/// `Arc` under the lock and calls the handlers after releasing it.
#[derive(Clone, Default)]
pub(super) struct Handlers(Arc<RwLock<Arc<Vec<InvalidationHandler>>>>);

impl Handlers {
    pub(super) fn add(&self, handler: InvalidationHandler) {
        // A poisoned lock still holds a whole list: the only write is one `Arc` swap.
        let mut handlers = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = Vec::clone(&handlers);
        next.push(handler);
        *handlers = Arc::new(next);
    }

    fn dispatch(&self, event: &Invalidation) {
        let handlers = Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner));
        for handler in handlers.iter() {
            handler(event.clone());
        }
    }
}

/// The running listener task; dropping this aborts it (and with it the connection).
pub(super) struct Listener {
    task: AbortHandle,
}

impl Listener {
    /// Subscribes, then spawns the task that keeps the subscription alive.
    ///
    /// # Errors
    /// `Unavailable` when the first subscription fails; nothing is left running then.
    pub(super) async fn start(client: Client, handlers: Handlers) -> Result<Self, RepoError> {
        let pubsub = subscribe(&client).await?;
        let span = tracing::info_span!("invalidation_listener");
        let task = tokio::spawn(listen(client, pubsub, handlers).instrument(span));
        Ok(Self { task: task.abort_handle() })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn listen(client: Client, first: PubSub, handlers: Handlers) {
    let mut pubsub = first;
    loop {
        receive_until_lost(pubsub, &handlers).await;
        pubsub = resubscribe(&client).await;
        handlers.dispatch(&Invalidation::All);
    }
}

/// Dispatches messages until the connection is lost.
async fn receive_until_lost(pubsub: PubSub, handlers: &Handlers) {
    let (mut sink, mut messages) = pubsub.split();
    let mut health_check = tokio::time::interval_at(Instant::now() + HEALTH_CHECK_INTERVAL, HEALTH_CHECK_INTERVAL);
    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(message) => dispatch_message(&message, handlers),
                None => {
                    tracing::warn!("invalidation subscription lost; resubscribing");
                    return;
                }
            },
            _ = health_check.tick() => {
                match timeout(HEALTH_CHECK_TIMEOUT, sink.ping::<::redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "invalidation subscription failed its health check; resubscribing");
                        return;
                    }
                    Err(_) => {
                        tracing::warn!("invalidation subscription health check timed out; resubscribing");
                        return;
                    }
                }
            }
        }
    }
}

fn dispatch_message(message: &::redis::Msg, handlers: &Handlers) {
    match decode(message.get_payload_bytes()) {
        Ok(event) => handlers.dispatch(&event),
        Err(e) => tracing::warn!(
            channel = message.get_channel_name(),
            error = %e,
            "skipping an undecodable invalidation message"
        ),
    }
}

/// Retries until subscribed again, waiting 100 ms before the first attempt and doubling the
/// wait after each failure, up to 5 s.
async fn resubscribe(client: &Client) -> PubSub {
    let mut backoff = INITIAL_BACKOFF;
    loop {
        tokio::time::sleep(backoff).await;
        match subscribe(client).await {
            Ok(pubsub) => {
                tracing::info!("invalidation subscription restored");
                return pubsub;
            }
            Err(e) => {
                backoff = (backoff * 2).min(MAX_BACKOFF);
                tracing::warn!(
                    error = %e,
                    retry_in_ms = backoff.as_millis(),
                    "invalidation resubscribe failed"
                );
            }
        }
    }
}

async fn subscribe(client: &Client) -> Result<PubSub, RepoError> {
    let attempt = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.psubscribe(CHANNEL_PATTERN).await?;
        Ok::<_, ::redis::RedisError>(pubsub)
    };
    match timeout(SUBSCRIBE_TIMEOUT, attempt).await {
        Ok(result) => result.map_err(RepoError::unavailable),
        Err(elapsed) => Err(RepoError::unavailable(elapsed)),
    }
}

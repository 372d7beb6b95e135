//! Revocation on the hot path (SPEC §6.2): whether an access token's session is still live,
//! answered from a per-replica cache. Revocations drop entries here at once and on every
//! other replica through the `InvalidationBus` (Redis pub/sub), so a revoked token is
//! refused everywhere within about a second; a TTL bounds staleness if a message is lost
//! without the bus noticing.

use crate::{ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tessera_domain::ports::{Invalidation, InvalidationHandler, SessionRepository};
use tessera_domain::{RepoError, SessionId, TenantId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    user_id: UserId,
    /// `None` when the session is revoked or unknown.
    live_until: Option<DateTime<Utc>>,
}

struct Entry {
    state: State,
    loaded: Instant,
}

#[derive(Clone)]
pub struct SessionCache {
    entries: Arc<RwLock<HashMap<(TenantId, SessionId), Entry>>>,
    generation: Arc<AtomicU64>,
    ttl: Duration,
}

fn poisoned() -> ServiceError {
    ServiceError::Internal("session cache lock poisoned".into())
}

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self { entries: Arc::default(), generation: Arc::default(), ttl }
    }

    /// True when the session exists in `tenant`, belongs to `user`, is not revoked and has
    /// not passed its absolute lifetime at `now`.
    pub async fn is_live(
        &self,
        repo: &dyn SessionRepository,
        tenant: TenantId,
        user: UserId,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> ServiceResult<bool> {
        let key = (tenant, id);
        let cached = self
            .entries
            .read()
            .map_err(|_| poisoned())?
            .get(&key)
            .filter(|e| e.loaded.elapsed() < self.ttl)
            .map(|e| e.state);
        let state = match cached {
            Some(s) => s,
            None => {
                let generation = self.generation.load(Ordering::Acquire);
                let state = match repo.get(tenant, id).await {
                    Ok(s) => State {
                        user_id: s.user_id,
                        live_until: if s.revoked_at.is_some() { None } else { Some(s.expires_at) },
                    },
                    Err(RepoError::NotFound) => State { user_id: user, live_until: None },
                    Err(e) => return Err(e.into()),
                };
                let mut entries = self.entries.write().map_err(|_| poisoned())?;
                if self.generation.load(Ordering::Acquire) == generation {
                    entries.insert(key, Entry { state, loaded: Instant::now() });
                }
                state
            }
        };
        Ok(state.user_id == user && state.live_until.is_some_and(|until| until > now))
    }

    pub fn invalidate(&self, event: &Invalidation) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let Ok(mut entries) = self.entries.write() else { return };
        match event {
            Invalidation::Session { tenant_id, session_id } => {
                entries.remove(&(*tenant_id, *session_id));
            }
            Invalidation::User { tenant_id, user_id } => {
                entries.retain(|(t, _), e| !(t == tenant_id && e.state.user_id == *user_id));
            }
            Invalidation::Tenant { .. } => {}
            Invalidation::All => entries.clear(),
        }
    }

    pub fn handler(&self) -> InvalidationHandler {
        let cache = self.clone();
        Arc::new(move |event| cache.invalidate(&event))
    }
}

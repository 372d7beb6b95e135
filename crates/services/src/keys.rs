//! The live set of signing keys: loaded from storage (so every replica shares them),
//! created on first start, rotated by `tessera keys rotate`, and reloaded periodically so a
//! rotation made elsewhere is picked up. Retired keys keep verifying (and stay in the JWKS)
//! until every token they signed has expired.

use crate::{ServiceError, ServiceResult};
use std::sync::{Arc, RwLock};
use tessera_auth::keys::{KeyRing, MasterKey, generate_signing_key};
use tessera_domain::ports::{Clock, SigningKeyRepository};
use tessera_domain::signing::SigningAlgorithm;

#[derive(Clone)]
pub struct SigningKeys {
    ring: Arc<RwLock<Arc<KeyRing>>>,
    master: Arc<MasterKey>,
    store: Arc<dyn SigningKeyRepository>,
    clock: Arc<dyn Clock>,
    /// The longest any token may live: a retired key is dropped once this has passed.
    max_token_lifetime: chrono::Duration,
}

fn poisoned() -> ServiceError {
    ServiceError::Internal("key ring lock poisoned".into())
}

impl SigningKeys {
    /// Loads the stored keys. With none, creates a first key of `algorithm`; when the
    /// configured algorithm changed, rotates to a key of it.
    ///
    /// # Errors
    /// Storage failures, or keys the master key cannot open (wrong master key).
    pub async fn load_or_create(
        store: Arc<dyn SigningKeyRepository>,
        master: MasterKey,
        algorithm: SigningAlgorithm,
        clock: Arc<dyn Clock>,
        max_token_lifetime: chrono::Duration,
    ) -> ServiceResult<Self> {
        let stored = store.list().await?;
        let ring = if stored.is_empty() {
            // Two replicas starting on a fresh database may both get here: both keys stay
            // active, the newest signs and both verify.
            let key = generate_signing_key(algorithm, &master, clock.now()).map_err(ServiceError::internal)?;
            store.insert(&key).await?;
            tracing::warn!(kid = %key.kid, alg = algorithm.as_str(), "created a signing key");
            KeyRing::from_stored(&store.list().await?, &master).map_err(ServiceError::internal)?
        } else {
            KeyRing::from_stored_at(&stored, &master, clock.now(), max_token_lifetime)
                .map_err(ServiceError::internal)?
        };
        let keys = Self {
            ring: Arc::new(RwLock::new(Arc::new(ring))),
            master: Arc::new(master),
            store,
            clock,
            max_token_lifetime,
        };
        if !stored.is_empty() && !stored.iter().any(|k| k.retired_at.is_none() && k.algorithm == algorithm) {
            keys.rotate(algorithm).await?;
        }
        Ok(keys)
    }

    /// The current key ring (cheap: an `Arc` clone).
    pub fn ring(&self) -> ServiceResult<Arc<KeyRing>> {
        self.ring.read().map(|r| Arc::clone(&r)).map_err(|_| poisoned())
    }

    /// A new key of `algorithm` signs from now on; the previous ones are retired (they keep
    /// verifying until their tokens expire). Returns the new key's id.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn rotate(&self, algorithm: SigningAlgorithm) -> ServiceResult<String> {
        let now = self.clock.now();
        let key = generate_signing_key(algorithm, &self.master, now).map_err(ServiceError::internal)?;
        self.store.insert(&key).await?;
        let retired = self.store.retire_all_except(&key.kid, now).await?;
        tracing::warn!(kid = %key.kid, alg = algorithm.as_str(), retired, "rotated the signing key");
        self.reload().await?;
        Ok(key.kid)
    }

    /// Re-reads the stored keys (a rotation by another replica or by `tessera keys rotate`).
    ///
    /// # Errors
    /// Storage failures or unreadable keys; the previous ring stays in use.
    pub async fn reload(&self) -> ServiceResult<()> {
        let stored = self.store.list().await?;
        let ring = KeyRing::from_stored_at(&stored, &self.master, self.clock.now(), self.max_token_lifetime)
            .map_err(ServiceError::internal)?;
        *self.ring.write().map_err(|_| poisoned())? = Arc::new(ring);
        Ok(())
    }
}

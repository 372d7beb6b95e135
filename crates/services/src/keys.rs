//! The live set of signing keys: loaded from storage (so every replica shares them),
//! created on first start, reloadable so a rotation made elsewhere is picked up.

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
}

impl SigningKeys {
    /// Loads the stored keys, creating a first key of `algorithm` when there is none.
    ///
    /// # Errors
    /// Storage failures, or keys the master key cannot open (wrong master key).
    pub async fn load_or_create(
        store: Arc<dyn SigningKeyRepository>,
        master: MasterKey,
        algorithm: SigningAlgorithm,
        clock: &dyn Clock,
    ) -> ServiceResult<Self> {
        let mut stored = store.list().await?;
        if !stored.iter().any(|k| k.retired_at.is_none() && k.algorithm == algorithm) {
            let key = generate_signing_key(algorithm, &master, clock.now()).map_err(ServiceError::internal)?;
            store.insert(&key).await?;
            tracing::info!(kid = %key.kid, alg = algorithm.as_str(), "created a signing key");
            stored = store.list().await?;
        }
        let ring = KeyRing::from_stored(&stored, &master).map_err(ServiceError::internal)?;
        Ok(Self { ring: Arc::new(RwLock::new(Arc::new(ring))), master: Arc::new(master), store })
    }

    /// The current key ring (cheap: an `Arc` clone).
    pub fn ring(&self) -> ServiceResult<Arc<KeyRing>> {
        self.ring.read().map(|r| Arc::clone(&r)).map_err(|_| ServiceError::Internal("key ring lock poisoned".into()))
    }

    /// Re-reads the stored keys (a rotation by another replica or by `tessera keys rotate`).
    ///
    /// # Errors
    /// Storage failures or unreadable keys; the previous ring stays in use.
    pub async fn reload(&self) -> ServiceResult<()> {
        let stored = self.store.list().await?;
        let ring = KeyRing::from_stored(&stored, &self.master).map_err(ServiceError::internal)?;
        let mut guard = self.ring.write().map_err(|_| ServiceError::Internal("key ring lock poisoned".into()))?;
        *guard = Arc::new(ring);
        Ok(())
    }
}

//! Argon2id off the async executor: a blocking-pool task behind a semaphore sized to the
//! cores, so a login flood queues instead of starving other requests or allocating
//! 19 MiB per concurrent hash without bound.

use crate::{ServiceError, ServiceResult};
use std::sync::Arc;
use tessera_auth::password::{Argon2Params, PasswordCheck, PasswordHasher};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordWorker {
    hasher: PasswordHasher,
    permits: Arc<Semaphore>,
}

impl PasswordWorker {
    /// # Errors
    /// Invalid Argon2 parameters.
    pub fn new(params: Argon2Params, max_concurrent: usize) -> ServiceResult<Self> {
        let hasher = PasswordHasher::new(params).map_err(ServiceError::internal)?;
        Ok(Self { hasher, permits: Arc::new(Semaphore::new(max_concurrent.max(1))) })
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&PasswordHasher) -> T + Send + 'static) -> ServiceResult<T> {
        let _permit = self.permits.acquire().await.map_err(ServiceError::internal)?;
        let hasher = self.hasher.clone();
        tokio::task::spawn_blocking(move || f(&hasher)).await.map_err(ServiceError::internal)
    }

    pub async fn hash(&self, password: String) -> ServiceResult<String> {
        self.run(move |h| h.hash(&password)).await?.map_err(ServiceError::internal)
    }

    pub async fn verify(&self, password: String, phc: String) -> ServiceResult<PasswordCheck> {
        self.run(move |h| h.verify(&password, &phc)).await
    }

    /// True when `password` matches one of `hashes` (password history).
    pub async fn matches_any(&self, password: String, hashes: Vec<String>) -> ServiceResult<bool> {
        self.run(move |h| hashes.iter().any(|phc| matches!(h.verify(&password, phc), PasswordCheck::Valid { .. })))
            .await
    }

    /// Spends the time of one verification, for unknown accounts (no timing oracle).
    pub async fn dummy_verify(&self, password: String) -> ServiceResult<()> {
        self.run(move |h| h.dummy_verify(&password)).await
    }
}

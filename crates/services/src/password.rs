//! Argon2id off the async executor, on a fixed pool of dedicated threads (one per core by
//! default). A login flood queues instead of starving other requests, and since only these
//! threads ever hash, at most one 19 MiB Argon2 buffer per thread is live and reused by the
//! allocator: memory stays bounded (a blocking pool that grows threads would leave a buffer
//! in every thread's allocator arena).

use crate::{ServiceError, ServiceResult};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use tessera_auth::password::{Argon2Params, PasswordCheck, PasswordHasher};

type Job = Box<dyn FnOnce(&PasswordHasher) + Send>;

#[derive(Clone)]
pub struct PasswordWorker {
    jobs: Arc<Mutex<Sender<Job>>>,
}

impl PasswordWorker {
    /// Starts `threads` hashing threads; they stop when the last clone is dropped.
    ///
    /// # Errors
    /// Invalid Argon2 parameters, or threads that cannot be started.
    pub fn new(params: Argon2Params, threads: usize) -> ServiceResult<Self> {
        let hasher = PasswordHasher::new(params).map_err(ServiceError::internal)?;
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let (rx, hasher) = (Arc::clone(&rx), hasher.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&hasher),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(ServiceError::internal)?;
        }
        Ok(Self { jobs: Arc::new(Mutex::new(tx)) })
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&PasswordHasher) -> T + Send + 'static) -> ServiceResult<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |h| {
            let _ = done.send(f(h));
        });
        self.jobs
            .lock()
            .map_err(|_| ServiceError::Internal("password worker lock poisoned".into()))?
            .send(job)
            .map_err(|_| ServiceError::Internal("password workers stopped".into()))?;
        result.await.map_err(ServiceError::internal)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2Params {
        Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 }
    }

    #[tokio::test]
    async fn hashes_and_verifies_on_the_pool() {
        let w = PasswordWorker::new(cheap(), 2).unwrap();
        let phc = w.hash("a long enough secret".into()).await.unwrap();
        assert!(matches!(
            w.verify("a long enough secret".into(), phc.clone()).await.unwrap(),
            PasswordCheck::Valid { .. }
        ));
        assert!(matches!(w.verify("wrong".into(), phc.clone()).await.unwrap(), PasswordCheck::Invalid));
        assert!(w.matches_any("a long enough secret".into(), vec!["junk".into(), phc]).await.unwrap());
    }

    #[tokio::test]
    async fn a_burst_queues_and_every_job_completes() {
        let w = PasswordWorker::new(cheap(), 2).unwrap();
        let jobs: Vec<_> = (0..16)
            .map(|i| {
                let w = w.clone();
                tokio::spawn(async move { w.hash(format!("password number {i}")).await })
            })
            .collect();
        for j in jobs {
            assert!(j.await.unwrap().is_ok());
        }
    }

    #[tokio::test]
    async fn only_the_pools_threads_hash() {
        let w = PasswordWorker::new(cheap(), 2).unwrap();
        let names: Vec<String> =
            futures_names(&w).await.into_iter().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        assert!(names.iter().all(|n| n.starts_with("argon2-")), "{names:?}");
        assert!(names.len() <= 2);
    }

    async fn futures_names(w: &PasswordWorker) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..8 {
            out.push(w.run(|_| std::thread::current().name().unwrap_or_default().to_owned()).await.unwrap());
        }
        out
    }
}

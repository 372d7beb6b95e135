//! The in-process invalidation bus: one replica, so "every replica" is this process and a
//! publish is a direct call of every subscribed handler.

use async_trait::async_trait;
use std::sync::{Arc, PoisonError, RwLock};
use tessera_domain::RepoError;
use tessera_domain::ports::{Invalidation, InvalidationBus, InvalidationHandler};

/// [`InvalidationBus`] for a single process. `publish` calls the handlers synchronously, in
/// subscription order, on the publishing task; handlers must not block.
#[derive(Default)]
pub struct MemoryInvalidationBus {
    // Copy-on-write: a publish clones the `Arc`, never the list, and calls the handlers after
    // the lock is released, so a handler may itself subscribe or publish.
    handlers: RwLock<Arc<Vec<InvalidationHandler>>>,
}

impl MemoryInvalidationBus {
    pub fn new() -> Self {
        Self::default()
    }

    fn snapshot(&self) -> Arc<Vec<InvalidationHandler>> {
        Arc::clone(&self.handlers.read().unwrap_or_else(PoisonError::into_inner))
    }
}

#[async_trait]
impl InvalidationBus for MemoryInvalidationBus {
    async fn publish(&self, event: &Invalidation) -> Result<(), RepoError> {
        for handler in self.snapshot().iter() {
            handler(event.clone());
        }
        Ok(())
    }

    async fn subscribe(&self, handler: InvalidationHandler) -> Result<(), RepoError> {
        // A poisoned lock still holds a whole list: the only write is one `Arc` swap.
        let mut handlers = self.handlers.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = Vec::clone(&handlers);
        next.push(handler);
        *handlers = Arc::new(next);
        Ok(())
    }
}

impl std::fmt::Debug for MemoryInvalidationBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryInvalidationBus").field("handlers", &self.snapshot().len()).finish()
    }
}

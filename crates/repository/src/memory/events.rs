//! The in-process event sink production uses until the audit log exists: every domain
//! event is logged (kind, tenant and actor at info; the data payload, which may name
//! people, only at debug) and the most recent ones are kept for tests and diagnostics.

use async_trait::async_trait;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use tessera_domain::RepoError;
use tessera_domain::ports::{DomainEvent, EventSink};

/// Keeps the last `capacity` events in memory (oldest dropped first) and logs each one.
pub struct MemoryEventSink {
    capacity: usize,
    events: Mutex<VecDeque<DomainEvent>>,
}

impl MemoryEventSink {
    /// A sink that remembers the `capacity` most recent events (0: log only, keep none).
    pub fn new(capacity: usize) -> Self {
        Self { capacity, events: Mutex::new(VecDeque::with_capacity(capacity.min(1024))) }
    }

    /// A snapshot of the kept events, oldest first.
    pub fn events(&self) -> Vec<DomainEvent> {
        self.lock().iter().cloned().collect()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    // Recovered rather than reported: every critical section is a single push/pop or a
    // clone, so a panic elsewhere cannot leave the queue half-changed.
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<DomainEvent>> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for MemoryEventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryEventSink").field("capacity", &self.capacity).field("kept", &self.lock().len()).finish()
    }
}

#[async_trait]
impl EventSink for MemoryEventSink {
    async fn record(&self, event: DomainEvent) -> Result<(), RepoError> {
        tracing::info!(
            event_id = %event.id,
            kind = %event.kind,
            tenant_id = %event.tenant_id,
            actor = event.actor.map(tracing::field::display),
            "domain event"
        );
        tracing::debug!(event_id = %event.id, data = %event.data, "domain event data");
        if self.capacity == 0 {
            return Ok(());
        }
        let mut events = self.lock();
        while events.len() >= self.capacity {
            events.pop_front();
        }
        events.push_back(event);
        Ok(())
    }
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;

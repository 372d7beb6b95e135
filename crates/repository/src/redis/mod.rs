//! Redis adapters (feature "redis").
//!
//! - [`RedisInvalidationBus`]: cross-replica cache invalidation over pub/sub, on channels
//!   prefixed with the tenant id (`tessera:{tenant_id}:invalidate`, SPEC §4), with
//!   `tessera:global:invalidate` for events that are not tenant-scoped.
//!
//! Paths to the `redis` crate are written `::redis::…`: this module shares its name.

mod attempts;
mod connection;
mod invalidation;
mod listener;
mod lockouts;

pub use attempts::RedisAttemptCounter;
pub use invalidation::RedisInvalidationBus;
pub use lockouts::RedisLockoutStore;

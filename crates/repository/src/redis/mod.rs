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

/// Lower-case hex SHA-256 (the `sha2` crate): keys and set members are named after emails
/// without storing them.
pub(crate) fn sha256_hex(input: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(input).iter().map(|b| format!("{b:02x}")).collect()
}

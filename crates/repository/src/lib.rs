//! Storage adapters for the ports of `tessera-domain`.
//!
//! - [`memory`]: always built; first-class adapters over one in-process state, with the same
//!   semantics as SQL (uniqueness, atomic provisioning, the last-admin guard).
//! - `sea` (feature "sea"): sea-orm over SQLite and PostgreSQL with hand-written SQL; on
//!   PostgreSQL every tenant-owned statement also runs under row-level security.
//!
//! Both adapters share the rules in `rules`, so a contract case that passes on one backend
//! means the same thing on the other.

pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;
mod rules;
#[cfg(feature = "sea")]
pub mod sea;

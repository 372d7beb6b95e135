//! `tessera-auth`: credentials and tokens as pure functions and small types.
//!
//! Owns Argon2id password hashing ([`password`]), the master key and token signing keys
//! ([`keys`]), access-token JWTs and the JWKS ([`jwt`], [`keys::KeyRing`]) and opaque secrets
//! such as refresh tokens ([`opaque`]). Everything here is synchronous and free of I/O apart
//! from reading OS randomness; callers run the CPU-heavy parts (Argon2) on a blocking pool.

pub mod error;
pub mod jwt;
pub mod keys;
pub mod opaque;
pub mod password;
pub mod password_policy;

pub use error::AuthError;

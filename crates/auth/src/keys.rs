//! Key material: the master key that seals secrets at rest ([`MasterKey`]), creation of token
//! signing keys in their stored form ([`generate_signing_key`]) and the in-memory ring of
//! signing and verification keys built from storage ([`KeyRing`], with the JWKS).
//!
//! Algorithms: EdDSA (Ed25519) and ES256 (P-256) are implemented; RS256 answers
//! [`crate::AuthError::UnsupportedAlgorithm`] for now.

mod master;
mod material;
mod ring;

pub use master::MasterKey;
pub use material::generate_signing_key;
pub use ring::KeyRing;

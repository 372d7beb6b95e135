//! Key material: the master key that seals secrets at rest ([`MasterKey`]), creation of token
//! signing keys in their stored form ([`generate_signing_key`]) and the in-memory ring of
//! signing and verification keys built from storage ([`KeyRing`], with the JWKS).
//!
//! Algorithms: EdDSA (Ed25519), ES256 (P-256) and RS256 (RSA 2048, PKCS#1 v1.5).

mod master;
mod material;
mod ring;
mod rs256;

pub use master::MasterKey;
pub use material::generate_signing_key;
pub use ring::KeyRing;

/// Keys shared by the tests of the whole crate: RSA generation is slow in debug builds, so one
/// RS256 key (with the master key that seals it) is made once per test binary.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::sync::OnceLock;

    use chrono::Utc;
    use tessera_domain::signing::{SigningAlgorithm, StoredSigningKey};

    use super::{MasterKey, generate_signing_key};

    /// The shared RS256 key (unretired, `created_at` = first use) and its master key.
    pub(crate) fn rsa_key() -> &'static (MasterKey, StoredSigningKey) {
        static KEY: OnceLock<(MasterKey, StoredSigningKey)> = OnceLock::new();
        KEY.get_or_init(|| {
            let master = MasterKey::generate().unwrap();
            let key = generate_signing_key(SigningAlgorithm::RS256, &master, Utc::now()).unwrap();
            (master, key)
        })
    }
}

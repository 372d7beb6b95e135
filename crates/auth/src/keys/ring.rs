//! The key ring: every stored signing key as a verification key by `kid`, the newest
//! unretired one also as the signing key, and the JWKS document that publishes them.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Value, json};
use tessera_domain::signing::StoredSigningKey;

use super::MasterKey;
use super::material::{VerifyingMaterial, encoding_key, verifying_material};
use crate::AuthError;

/// Signing and verification keys built from storage. Cheap to clone; `Debug` shows key ids
/// and algorithms only.
#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<Inner>,
}

struct Inner {
    signing_kid: String,
    signing_algorithm: Algorithm,
    signing: EncodingKey,
    verifying: HashMap<String, VerifyingMaterial>,
    /// Key ids in JWKS order (newest first).
    order: Vec<String>,
    jwks: Value,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<(&str, &Algorithm)> = self
            .inner
            .order
            .iter()
            .filter_map(|kid| self.inner.verifying.get(kid).map(|k| (kid.as_str(), &k.algorithm)))
            .collect();
        f.debug_struct("KeyRing")
            .field("current_kid", &self.inner.signing_kid)
            .field("keys", &keys)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Builds the ring. The signing key is the newest key (by `created_at`, ties broken by
    /// `kid`) whose `retired_at` is `None`; only its private part is unsealed. Every key
    /// verifies and is published in the JWKS, so pass exactly the keys whose tokens may still
    /// be alive.
    ///
    /// # Errors
    /// [`AuthError::KeyUnavailable`] when no key is unretired; [`AuthError::InvalidKey`] for a
    /// malformed public key, a duplicate `kid` or a private key that does not match its public
    /// key; [`AuthError::Crypto`] when the master key cannot open the signing key;
    /// [`AuthError::UnsupportedAlgorithm`] for RS256 keys.
    pub fn from_stored(keys: &[StoredSigningKey], master: &MasterKey) -> Result<Self, AuthError> {
        let signer = keys
            .iter()
            .filter(|k| k.retired_at.is_none())
            .max_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.kid.cmp(&b.kid)))
            .ok_or(AuthError::KeyUnavailable)?;

        let mut sorted: Vec<&StoredSigningKey> = keys.iter().collect();
        sorted.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.kid.cmp(&a.kid)));

        let mut verifying = HashMap::with_capacity(sorted.len());
        let mut order = Vec::with_capacity(sorted.len());
        for key in sorted {
            let material = verifying_material(key)?;
            if verifying.insert(key.kid.clone(), material).is_some() {
                return Err(AuthError::InvalidKey { kid: key.kid.clone(), reason: "duplicate kid" });
            }
            order.push(key.kid.clone());
        }
        let jwks = json!({
            "keys": order
                .iter()
                .filter_map(|kid| verifying.get(kid).map(|k| k.jwk.clone()))
                .collect::<Vec<_>>()
        });

        let signing = encoding_key(signer, master)?;
        let signing_algorithm = verifying.get(&signer.kid).map(|k| k.algorithm).ok_or(AuthError::KeyUnavailable)?;

        Ok(Self {
            inner: Arc::new(Inner {
                signing_kid: signer.kid.clone(),
                signing_algorithm,
                signing,
                verifying,
                order,
                jwks,
            }),
        })
    }

    /// The `kid` new tokens are signed with.
    #[must_use]
    pub fn current_kid(&self) -> &str {
        &self.inner.signing_kid
    }

    /// The JWKS document (`{"keys": [...]}`), one public JWK per stored key, newest first,
    /// each with `kid`, `alg` and `use: "sig"`.
    #[must_use]
    pub fn jwks(&self) -> Value {
        self.inner.jwks.clone()
    }

    pub(crate) fn signing_key(&self) -> (&str, Algorithm, &EncodingKey) {
        (&self.inner.signing_kid, self.inner.signing_algorithm, &self.inner.signing)
    }

    pub(crate) fn verifying_key(&self, kid: &str) -> Option<(Algorithm, &DecodingKey)> {
        self.inner.verifying.get(kid).map(|k| (k.algorithm, &k.decoding))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use tessera_domain::signing::SigningAlgorithm;

    use super::*;
    use crate::keys::generate_signing_key;

    #[test]
    fn newest_unretired_key_signs() {
        let m = MasterKey::generate().unwrap();
        let t0 = Utc::now();
        let old = generate_signing_key(SigningAlgorithm::EdDSA, &m, t0).unwrap();
        let mid = generate_signing_key(SigningAlgorithm::EdDSA, &m, t0 + Duration::hours(1)).unwrap();
        let mut newest_retired = generate_signing_key(SigningAlgorithm::EdDSA, &m, t0 + Duration::hours(2)).unwrap();
        newest_retired.retired_at = Some(t0 + Duration::hours(3));
        let ring = KeyRing::from_stored(&[old.clone(), newest_retired.clone(), mid.clone()], &m).unwrap();
        assert_eq!(ring.current_kid(), mid.kid);
        let kids: Vec<String> =
            ring.jwks()["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect();
        assert_eq!(kids, [newest_retired.kid, mid.kid, old.kid]);
    }

    #[test]
    fn no_usable_signing_key_is_an_error() {
        let m = MasterKey::generate().unwrap();
        assert!(matches!(KeyRing::from_stored(&[], &m), Err(AuthError::KeyUnavailable)));
        let mut key = generate_signing_key(SigningAlgorithm::EdDSA, &m, Utc::now()).unwrap();
        key.retired_at = Some(Utc::now());
        assert!(matches!(KeyRing::from_stored(&[key], &m), Err(AuthError::KeyUnavailable)));
    }

    #[test]
    fn wrong_master_key_and_duplicate_kid_are_errors() {
        let m = MasterKey::generate().unwrap();
        let key = generate_signing_key(SigningAlgorithm::EdDSA, &m, Utc::now()).unwrap();
        let other = MasterKey::generate().unwrap();
        assert!(matches!(KeyRing::from_stored(std::slice::from_ref(&key), &other), Err(AuthError::Crypto(_))));
        let mut twin = generate_signing_key(SigningAlgorithm::EdDSA, &m, Utc::now()).unwrap();
        twin.kid = key.kid.clone();
        assert!(matches!(KeyRing::from_stored(&[key, twin], &m), Err(AuthError::InvalidKey { .. })));
    }

    #[test]
    fn jwks_has_kid_alg_use_for_every_key() {
        let m = MasterKey::generate().unwrap();
        let ed = generate_signing_key(SigningAlgorithm::EdDSA, &m, Utc::now()).unwrap();
        let ec = generate_signing_key(SigningAlgorithm::ES256, &m, Utc::now() - Duration::minutes(5)).unwrap();
        let ring = KeyRing::from_stored(&[ed.clone(), ec.clone()], &m).unwrap();
        let jwks = ring.jwks();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2);
        let okp = &keys[0];
        assert_eq!(okp["kid"], ed.kid.as_str());
        assert_eq!(okp["kty"], "OKP");
        assert_eq!(okp["crv"], "Ed25519");
        assert_eq!(okp["alg"], "EdDSA");
        assert_eq!(okp["use"], "sig");
        assert_eq!(okp["x"].as_str().unwrap().len(), 43);
        let ec_jwk = &keys[1];
        assert_eq!(ec_jwk["kid"], ec.kid.as_str());
        assert_eq!(ec_jwk["kty"], "EC");
        assert_eq!(ec_jwk["crv"], "P-256");
        assert_eq!(ec_jwk["alg"], "ES256");
        assert_eq!(ec_jwk["use"], "sig");
        for k in keys {
            assert!(k.get("d").is_none(), "private part published: {k}");
        }
    }

    #[test]
    fn shared_types_are_send_sync_clone() {
        fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
        check::<KeyRing>();
        check::<MasterKey>();
        check::<crate::password::PasswordHasher>();
    }

    #[test]
    fn debug_shows_no_key_material() {
        let m = MasterKey::generate().unwrap();
        let key = generate_signing_key(SigningAlgorithm::EdDSA, &m, Utc::now()).unwrap();
        let ring = KeyRing::from_stored(std::slice::from_ref(&key), &m).unwrap();
        let debug = format!("{ring:?}");
        assert!(debug.contains(&key.kid), "{debug}");
        let x = ring.jwks()["keys"][0]["x"].as_str().unwrap().to_owned();
        assert!(!debug.contains(&x), "{debug}");
    }
}

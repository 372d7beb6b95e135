//! The key ring: every stored signing key as a verification key by `kid`, the newest
//! unretired one also as the signing key, and the JWKS document that publishes them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
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
    /// be alive (or let [`Self::from_stored_at`] drop the expired ones).
    ///
    /// # Errors
    /// [`AuthError::KeyUnavailable`] when no key is unretired; [`AuthError::InvalidKey`] for a
    /// malformed public key, a duplicate `kid` or a private key that does not match its public
    /// key; [`AuthError::Crypto`] when the master key cannot open the signing key.
    pub fn from_stored(keys: &[StoredSigningKey], master: &MasterKey) -> Result<Self, AuthError> {
        Self::build(keys.iter().collect(), master)
    }

    /// Like [`Self::from_stored`], but first drops every retired key whose
    /// `retired_at + max_token_lifetime` is before `now`: no token it signed can still be
    /// valid, so it neither verifies nor appears in the JWKS (and is not even parsed, so an
    /// expired malformed key cannot break the ring). Unretired keys are always kept; a key
    /// whose deadline overflows the calendar is kept.
    ///
    /// `max_token_lifetime` should cover the longest-lived token any key signs plus the
    /// verification leeway (e.g. 15 min + [`crate::jwt::DEFAULT_LEEWAY_SECONDS`]): a token
    /// is accepted until `exp + leeway`.
    ///
    /// # Errors
    /// As [`Self::from_stored`], for the keys that are kept.
    pub fn from_stored_at(
        keys: &[StoredSigningKey],
        master: &MasterKey,
        now: DateTime<Utc>,
        max_token_lifetime: Duration,
    ) -> Result<Self, AuthError> {
        let live = keys
            .iter()
            .filter(|k| match k.retired_at {
                None => true,
                Some(retired) => retired.checked_add_signed(max_token_lifetime).is_none_or(|deadline| deadline >= now),
            })
            .collect();
        Self::build(live, master)
    }

    fn build(keys: Vec<&StoredSigningKey>, master: &MasterKey) -> Result<Self, AuthError> {
        let signer = keys
            .iter()
            .copied()
            .filter(|k| k.retired_at.is_none())
            .max_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.kid.cmp(&b.kid)))
            .ok_or(AuthError::KeyUnavailable)?;

        let mut sorted = keys;
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
    fn rs256_jwk_has_n_e_kid_alg_use() {
        let (m, rsa) = crate::keys::fixtures::rsa_key();
        let ring = KeyRing::from_stored(std::slice::from_ref(rsa), m).unwrap();
        assert_eq!(ring.current_kid(), rsa.kid);
        let jwks = ring.jwks();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let jwk = keys[0].as_object().unwrap();
        let mut names: Vec<&str> = jwk.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["alg", "e", "kid", "kty", "n", "use"]);
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["alg"], "RS256");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], rsa.kid.as_str());
        assert_eq!(jwk["e"], "AQAB");
        // 256 bytes of modulus, no leading zero byte, unpadded base64url.
        let n = jwk["n"].as_str().unwrap();
        assert_eq!(n.len(), 342);
        assert!(n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{n}");
        assert!(!format!("{ring:?}").contains(n));
    }

    /// Keys retired at `t0 - 1 h`, `t0 - 15 min` and `t0 - 15 min - 1 s`, one current key.
    fn retired_set(m: &MasterKey, t0: DateTime<Utc>) -> Vec<StoredSigningKey> {
        let key = |created: DateTime<Utc>, retired: Option<DateTime<Utc>>| {
            let mut k = generate_signing_key(SigningAlgorithm::EdDSA, m, created).unwrap();
            k.retired_at = retired;
            k
        };
        vec![
            key(t0 - Duration::days(3), Some(t0 - Duration::hours(1))),
            key(t0 - Duration::days(2), Some(t0 - Duration::minutes(15))),
            key(t0 - Duration::days(1), Some(t0 - Duration::minutes(15) - Duration::seconds(1))),
            key(t0 - Duration::minutes(30), None),
        ]
    }

    fn jwks_kids(ring: &KeyRing) -> Vec<String> {
        ring.jwks()["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn from_stored_at_drops_keys_whose_tokens_have_all_expired() {
        let m = MasterKey::generate().unwrap();
        let t0 = Utc::now();
        let keys = retired_set(&m, t0);
        let ring = KeyRing::from_stored_at(&keys, &m, t0, Duration::minutes(15)).unwrap();
        assert_eq!(ring.current_kid(), keys[3].kid);
        // Retired exactly `lifetime` ago: its last token expires now, so it stays; one second
        // more and it goes.
        assert_eq!(jwks_kids(&ring), [keys[3].kid.clone(), keys[1].kid.clone()]);
        assert!(ring.verifying_key(&keys[1].kid).is_some());
        assert!(ring.verifying_key(&keys[0].kid).is_none());
        assert!(ring.verifying_key(&keys[2].kid).is_none());

        // A longer lifetime keeps more; from_stored keeps everything.
        let ring = KeyRing::from_stored_at(&keys, &m, t0, Duration::hours(2)).unwrap();
        assert_eq!(jwks_kids(&ring).len(), 4);
        assert_eq!(jwks_kids(&KeyRing::from_stored(&keys, &m).unwrap()).len(), 4);
        // Far in the future only the current key is left; it is never dropped.
        let ring = KeyRing::from_stored_at(&keys, &m, t0 + Duration::days(365), Duration::minutes(15)).unwrap();
        assert_eq!(jwks_kids(&ring), [keys[3].kid.clone()]);
    }

    #[test]
    fn from_stored_at_skips_expired_malformed_keys_and_keeps_overflowing_deadlines() {
        let m = MasterKey::generate().unwrap();
        let t0 = Utc::now();
        let mut keys = retired_set(&m, t0);
        keys[0].public_key.truncate(5);
        assert!(matches!(KeyRing::from_stored(&keys, &m), Err(AuthError::InvalidKey { .. })));
        assert!(KeyRing::from_stored_at(&keys, &m, t0, Duration::minutes(15)).is_ok());
        // Still alive and malformed: an error, as with from_stored.
        assert!(KeyRing::from_stored_at(&keys, &m, t0, Duration::hours(2)).is_err());

        let keys = retired_set(&m, t0);
        let ring = KeyRing::from_stored_at(&keys, &m, t0, Duration::MAX).unwrap();
        assert_eq!(jwks_kids(&ring).len(), 4);
        // Every key retired and expired: nothing can sign.
        let mut all_retired = keys;
        all_retired[3].retired_at = Some(t0 - Duration::hours(1));
        let err = KeyRing::from_stored_at(&all_retired, &m, t0, Duration::minutes(15)).unwrap_err();
        assert!(matches!(err, AuthError::KeyUnavailable));
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

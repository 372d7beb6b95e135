//! Per-algorithm key material: generating a signing key in its stored form, turning a stored
//! public key into a verification key and JWK, and unsealing a stored private key into a
//! signing key (checking that it matches the stored public part).
//!
//! Stored forms (`StoredSigningKey`): EdDSA public = the raw 32-byte Ed25519 point; ES256
//! public = the SEC1 uncompressed P-256 point (65 bytes, `04 || x || y`); RS256 public = the
//! PKCS#1 `RSAPublicKey` DER of an RSA 2048 key (see [`super::rs256`]). Private parts are
//! PKCS#8 DER sealed with the master key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Value, json};
use tessera_domain::signing::{SigningAlgorithm, StoredSigningKey};

use super::{MasterKey, rs256};
use crate::AuthError;
use crate::opaque::random_bytes;

/// A key's public half, ready to verify tokens and to be published.
pub(crate) struct VerifyingMaterial {
    pub(crate) algorithm: Algorithm,
    pub(crate) decoding: DecodingKey,
    pub(crate) jwk: Value,
}

/// Creates a signing key in its stored form: random `kid` (16 bytes, base64url), public key in
/// the algorithm's stored form (module docs), PKCS#8 private key sealed under `master`.
/// RS256 makes an RSA 2048 key, which takes a noticeable fraction of a second (more in debug
/// builds): run it off the async executor.
///
/// # Errors
/// [`AuthError::Crypto`] if the OS random source, key generation, encoding or sealing fails.
pub fn generate_signing_key(
    alg: SigningAlgorithm,
    master: &MasterKey,
    now: DateTime<Utc>,
) -> Result<StoredSigningKey, AuthError> {
    let (public_key, private_der) = match alg {
        SigningAlgorithm::EdDSA => generate_ed25519()?,
        SigningAlgorithm::ES256 => generate_p256()?,
        SigningAlgorithm::RS256 => rs256::generate()?,
    };
    Ok(StoredSigningKey {
        kid: URL_SAFE_NO_PAD.encode(random_bytes::<16>()?),
        algorithm: alg,
        public_key,
        private_key_sealed: master.seal(private_der.as_bytes())?,
        created_at: now,
        retired_at: None,
    })
}

pub(super) fn encoding_failed() -> AuthError {
    AuthError::Crypto("encoding a new private key failed".to_owned())
}

fn generate_ed25519() -> Result<(Vec<u8>, ed25519_dalek::pkcs8::SecretDocument), AuthError> {
    // Same construction as `SigningKey::generate`: an Ed25519 secret is any 32 random bytes.
    let signing = ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>()?);
    let der = signing.to_pkcs8_der().map_err(|_| encoding_failed())?;
    Ok((signing.verifying_key().to_bytes().to_vec(), der))
}

fn generate_p256() -> Result<(Vec<u8>, p256::pkcs8::SecretDocument), AuthError> {
    use p256::pkcs8::EncodePrivateKey as _;
    // Rejection sampling: the library refuses zero and values >= the group order, which a
    // uniform 32-byte string hits with probability ~2^-32.
    for _ in 0..16 {
        if let Ok(signing) = p256::ecdsa::SigningKey::from_slice(&random_bytes::<32>()?) {
            let der = signing.to_pkcs8_der().map_err(|_| encoding_failed())?;
            let public = signing.verifying_key().to_encoded_point(false);
            return Ok((public.as_bytes().to_vec(), der));
        }
    }
    Err(AuthError::Crypto("could not draw a valid P-256 scalar".to_owned()))
}

pub(super) fn invalid(key: &StoredSigningKey, reason: &'static str) -> AuthError {
    AuthError::InvalidKey { kid: key.kid.clone(), reason }
}

/// Validates a stored public key and builds its verification key and JWK.
pub(crate) fn verifying_material(key: &StoredSigningKey) -> Result<VerifyingMaterial, AuthError> {
    match key.algorithm {
        SigningAlgorithm::EdDSA => {
            let point = <[u8; 32]>::try_from(key.public_key.as_slice())
                .map_err(|_| invalid(key, "Ed25519 public key must be 32 bytes"))?;
            let verifying =
                ed25519_dalek::VerifyingKey::from_bytes(&point).map_err(|_| invalid(key, "not an Ed25519 point"))?;
            if verifying.is_weak() {
                return Err(invalid(key, "weak Ed25519 public key"));
            }
            let x = URL_SAFE_NO_PAD.encode(point);
            let decoding =
                DecodingKey::from_ed_components(&x).map_err(|_| invalid(key, "Ed25519 public key rejected"))?;
            Ok(VerifyingMaterial {
                algorithm: Algorithm::EdDSA,
                decoding,
                jwk: json!({
                    "kty": "OKP", "crv": "Ed25519", "x": x,
                    "kid": key.kid, "alg": "EdDSA", "use": "sig",
                }),
            })
        }
        SigningAlgorithm::ES256 => {
            let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&key.public_key)
                .map_err(|_| invalid(key, "not a SEC1 P-256 point"))?;
            let point = verifying.to_encoded_point(false);
            let (Some(x), Some(y)) = (point.x(), point.y()) else {
                return Err(invalid(key, "P-256 point has no affine coordinates"));
            };
            let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
            let decoding =
                DecodingKey::from_ec_components(&x, &y).map_err(|_| invalid(key, "P-256 public key rejected"))?;
            Ok(VerifyingMaterial {
                algorithm: Algorithm::ES256,
                decoding,
                jwk: json!({
                    "kty": "EC", "crv": "P-256", "x": x, "y": y,
                    "kid": key.kid, "alg": "ES256", "use": "sig",
                }),
            })
        }
        SigningAlgorithm::RS256 => rs256::verifying_material(key),
    }
}

/// Unseals a stored private key into a JWT signing key, after checking that it belongs to the
/// stored public key (a swapped or corrupted row must not sign under someone else's `kid`).
pub(crate) fn encoding_key(key: &StoredSigningKey, master: &MasterKey) -> Result<EncodingKey, AuthError> {
    let der = master.open(&key.private_key_sealed)?;
    match key.algorithm {
        SigningAlgorithm::EdDSA => {
            let signing = ed25519_dalek::SigningKey::from_pkcs8_der(&der)
                .map_err(|_| invalid(key, "sealed Ed25519 private key is not PKCS#8"))?;
            if signing.verifying_key().as_bytes().as_slice() != key.public_key.as_slice() {
                return Err(invalid(key, "private key does not match public key"));
            }
            Ok(EncodingKey::from_ed_der(&der))
        }
        SigningAlgorithm::ES256 => {
            use p256::pkcs8::DecodePrivateKey as _;
            let signing = p256::ecdsa::SigningKey::from_pkcs8_der(&der)
                .map_err(|_| invalid(key, "sealed P-256 private key is not PKCS#8"))?;
            let stored = p256::ecdsa::VerifyingKey::from_sec1_bytes(&key.public_key)
                .map_err(|_| invalid(key, "not a SEC1 P-256 point"))?;
            if *signing.verifying_key() != stored {
                return Err(invalid(key, "private key does not match public key"));
            }
            Ok(EncodingKey::from_ec_der(&der))
        }
        SigningAlgorithm::RS256 => rs256::encoding_key(key, &der),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> MasterKey {
        MasterKey::generate().unwrap()
    }

    #[test]
    fn ed25519_key_has_stored_shape() {
        let m = master();
        let now = Utc::now();
        let key = generate_signing_key(SigningAlgorithm::EdDSA, &m, now).unwrap();
        assert_eq!(key.algorithm, SigningAlgorithm::EdDSA);
        assert_eq!(key.public_key.len(), 32);
        assert_eq!(key.created_at, now);
        assert_eq!(key.retired_at, None);
        assert_eq!(key.kid.len(), 22);
        assert!(URL_SAFE_NO_PAD.decode(&key.kid).is_ok());
        let der = m.open(&key.private_key_sealed).unwrap();
        let signing = ed25519_dalek::SigningKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(signing.verifying_key().as_bytes().as_slice(), key.public_key);
        assert!(encoding_key(&key, &m).is_ok());
    }

    #[test]
    fn p256_key_has_stored_shape() {
        let m = master();
        let key = generate_signing_key(SigningAlgorithm::ES256, &m, Utc::now()).unwrap();
        assert_eq!(key.public_key.len(), 65);
        assert_eq!(key.public_key[0], 0x04);
        assert!(encoding_key(&key, &m).is_ok());
        assert!(verifying_material(&key).is_ok());
    }

    #[test]
    fn kids_are_random() {
        let m = master();
        let a = generate_signing_key(SigningAlgorithm::EdDSA, &m, Utc::now()).unwrap();
        let b = generate_signing_key(SigningAlgorithm::EdDSA, &m, Utc::now()).unwrap();
        assert_ne!(a.kid, b.kid);
        assert_ne!(a.public_key, b.public_key);
    }

    #[test]
    fn mismatched_private_key_is_rejected() {
        let m = master();
        let mut a = generate_signing_key(SigningAlgorithm::EdDSA, &m, Utc::now()).unwrap();
        let b = generate_signing_key(SigningAlgorithm::EdDSA, &m, Utc::now()).unwrap();
        a.private_key_sealed = b.private_key_sealed;
        assert!(matches!(encoding_key(&a, &m), Err(AuthError::InvalidKey { .. })));
    }

    #[test]
    fn malformed_public_keys_are_rejected() {
        let m = master();
        let mut key = generate_signing_key(SigningAlgorithm::EdDSA, &m, Utc::now()).unwrap();
        key.public_key.truncate(31);
        assert!(matches!(verifying_material(&key), Err(AuthError::InvalidKey { .. })));
        let mut key = generate_signing_key(SigningAlgorithm::ES256, &m, Utc::now()).unwrap();
        key.public_key[10] ^= 0xFF;
        assert!(verifying_material(&key).is_err());
    }
}

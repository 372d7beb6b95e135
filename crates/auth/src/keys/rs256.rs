//! RS256 key material (RSA 2048, RSASSA-PKCS1-v1_5 with SHA-256): generation, the stored
//! public form, the JWK and the unsealed signing key.
//!
//! Stored public key: **PKCS#1 `RSAPublicKey` DER** (`SEQUENCE { n, e }`, the body of a
//! `-----BEGIN RSA PUBLIC KEY-----` block; not SPKI), canonical (it must re-encode to the same
//! bytes), modulus of at least 2048 bits. Private key: PKCS#8 DER sealed with the master key,
//! like the other algorithms; jsonwebtoken signs from PKCS#1 DER, so the unsealed key is
//! re-encoded for it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use rsa::pkcs1::{DecodeRsaPublicKey as _, EncodeRsaPrivateKey as _, EncodeRsaPublicKey as _};
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, SecretDocument};
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::json;
use tessera_domain::signing::StoredSigningKey;

use super::material::{VerifyingMaterial, encoding_failed, invalid};
use crate::AuthError;
use crate::opaque::random_bytes;

/// Modulus size of generated keys (SPEC §6.2/§14: RSA 2048).
pub(super) const MODULUS_BITS: usize = 2048;

/// Stored keys with a shorter modulus are refused.
const MIN_MODULUS_BITS: usize = 2048;

/// A new RSA 2048 key (e = 65537): PKCS#1 public DER and PKCS#8 private DER.
pub(super) fn generate() -> Result<(Vec<u8>, SecretDocument), AuthError> {
    // `rsa` draws from a rand_core 0.6 RNG, whose `fill_bytes` cannot report failure (the OS
    // adapter panics). So the only fallible draw happens here: 256 bits from the OS seed a
    // ChaCha20 CSPRNG that supplies the primes.
    let mut rng = ChaCha20Rng::from_seed(random_bytes::<32>()?);
    let private = RsaPrivateKey::new(&mut rng, MODULUS_BITS)
        .map_err(|_| AuthError::Crypto("generating an RSA key failed".to_owned()))?;
    let public = private.to_public_key().to_pkcs1_der().map_err(|_| encoding_failed())?;
    let der = private.to_pkcs8_der().map_err(|_| encoding_failed())?;
    Ok((public.as_bytes().to_vec(), der))
}

/// Parses and checks the stored public key.
fn stored_public(key: &StoredSigningKey) -> Result<RsaPublicKey, AuthError> {
    let public = RsaPublicKey::from_pkcs1_der(&key.public_key)
        .map_err(|_| invalid(key, "RSA public key must be PKCS#1 RSAPublicKey DER"))?;
    let canonical = public.to_pkcs1_der().map_err(|_| invalid(key, "RSA public key cannot be re-encoded"))?;
    if canonical.as_bytes() != key.public_key.as_slice() {
        return Err(invalid(key, "RSA public key is not canonical PKCS#1 DER"));
    }
    if public.n().bits() < MIN_MODULUS_BITS {
        return Err(invalid(key, "RSA modulus shorter than 2048 bits"));
    }
    Ok(public)
}

/// The verification key and the `{"kty":"RSA","n","e",…}` JWK of a stored RS256 key.
pub(super) fn verifying_material(key: &StoredSigningKey) -> Result<VerifyingMaterial, AuthError> {
    let public = stored_public(key)?;
    let (n, e) = (public.n().to_bytes_be(), public.e().to_bytes_be());
    Ok(VerifyingMaterial {
        algorithm: Algorithm::RS256,
        decoding: DecodingKey::from_rsa_raw_components(&n, &e),
        jwk: json!({
            "kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&n), "e": URL_SAFE_NO_PAD.encode(&e),
            "kid": key.kid, "alg": "RS256", "use": "sig",
        }),
    })
}

/// The signing key from the unsealed PKCS#8 `der`, after checking it is a consistent RSA key
/// whose public half is the stored one.
pub(super) fn encoding_key(key: &StoredSigningKey, der: &[u8]) -> Result<EncodingKey, AuthError> {
    let private =
        RsaPrivateKey::from_pkcs8_der(der).map_err(|_| invalid(key, "sealed RSA private key is not PKCS#8"))?;
    private.validate().map_err(|_| invalid(key, "sealed RSA private key is inconsistent"))?;
    if private.to_public_key() != stored_public(key)? {
        return Err(invalid(key, "private key does not match public key"));
    }
    let pkcs1 =
        private.to_pkcs1_der().map_err(|_| AuthError::Crypto("encoding the RSA private key failed".to_owned()))?;
    Ok(EncodingKey::from_rsa_der(pkcs1.as_bytes()))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rsa::BigUint;
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::pkcs8::EncodePublicKey as _;
    use tessera_domain::signing::SigningAlgorithm;

    use super::*;
    use crate::keys::MasterKey;
    use crate::keys::fixtures::rsa_key;
    use crate::keys::material;

    #[test]
    fn rs256_key_has_stored_shape() {
        let (master, key) = rsa_key();
        assert_eq!(key.algorithm, SigningAlgorithm::RS256);
        assert_eq!(key.kid.len(), 22);
        assert_eq!(key.retired_at, None);
        let public = RsaPublicKey::from_pkcs1_der(&key.public_key).unwrap();
        assert_eq!(public.n().bits(), 2048);
        assert_eq!(public.e(), &BigUint::from(65_537u32));
        let der = master.open(&key.private_key_sealed).unwrap();
        let private = RsaPrivateKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(private.to_public_key(), public);
        assert!(material::encoding_key(key, master).is_ok());
        let jwk = material::verifying_material(key).unwrap().jwk;
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap(), public.n().to_bytes_be());
        assert_eq!(jwk["n"].as_str().unwrap().len(), 342);
    }

    #[test]
    fn signing_key_is_pkcs1_for_jsonwebtoken() {
        let (master, key) = rsa_key();
        let der = master.open(&key.private_key_sealed).unwrap();
        let pkcs1 = RsaPrivateKey::from_pkcs8_der(&der).unwrap().to_pkcs1_der().unwrap();
        assert!(RsaPrivateKey::from_pkcs1_der(pkcs1.as_bytes()).is_ok());
        // What jsonwebtoken is handed must be exactly that PKCS#1 document.
        let expected = EncodingKey::from_rsa_der(pkcs1.as_bytes());
        let token_a = jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::RS256), &json!({"a": 1}), &expected);
        let ours = material::encoding_key(key, master).unwrap();
        let token_b = jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::RS256), &json!({"a": 1}), &ours);
        // PKCS#1 v1.5 signatures are deterministic.
        assert_eq!(token_a.unwrap(), token_b.unwrap());
    }

    #[test]
    fn spki_truncated_and_short_public_keys_are_rejected() {
        let (_, key) = rsa_key();
        let public = RsaPublicKey::from_pkcs1_der(&key.public_key).unwrap();
        let spki = StoredSigningKey { public_key: public.to_public_key_der().unwrap().to_vec(), ..key.clone() };
        assert!(matches!(material::verifying_material(&spki), Err(AuthError::InvalidKey { .. })));
        let mut truncated = key.clone();
        truncated.public_key.pop();
        assert!(matches!(material::verifying_material(&truncated), Err(AuthError::InvalidKey { .. })));
        let mut trailing = key.clone();
        trailing.public_key.push(0);
        assert!(matches!(material::verifying_material(&trailing), Err(AuthError::InvalidKey { .. })));
        // A well-formed 1024-bit modulus (primality is irrelevant to the size check).
        let n = (BigUint::from(1u8) << 1023usize) + BigUint::from(1u8);
        let short = RsaPublicKey::new(n, BigUint::from(65_537u32)).unwrap().to_pkcs1_der().unwrap();
        let short = StoredSigningKey { public_key: short.as_bytes().to_vec(), ..key.clone() };
        assert!(matches!(material::verifying_material(&short), Err(AuthError::InvalidKey { .. })));
    }

    #[test]
    fn mismatched_or_foreign_private_key_is_rejected() {
        let (master, key) = rsa_key();
        // Same modulus, other exponent: a valid public key that the sealed private key does not match.
        let public = RsaPublicKey::from_pkcs1_der(&key.public_key).unwrap();
        let other = RsaPublicKey::new(public.n().clone(), BigUint::from(3u8)).unwrap().to_pkcs1_der().unwrap();
        let swapped = StoredSigningKey { public_key: other.as_bytes().to_vec(), ..key.clone() };
        assert!(material::verifying_material(&swapped).is_ok());
        assert!(matches!(material::encoding_key(&swapped, master), Err(AuthError::InvalidKey { .. })));
        // An Ed25519 PKCS#8 document sealed under an RS256 key.
        let ed = material::generate_signing_key(SigningAlgorithm::EdDSA, master, Utc::now()).unwrap();
        let foreign = StoredSigningKey { private_key_sealed: ed.private_key_sealed, ..key.clone() };
        assert!(matches!(material::encoding_key(&foreign, master), Err(AuthError::InvalidKey { .. })));
        let err = material::encoding_key(key, &MasterKey::generate().unwrap()).unwrap_err();
        assert!(matches!(err, AuthError::Crypto(_)));
    }
}

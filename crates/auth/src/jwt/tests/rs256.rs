//! RS256 access tokens: round trip, JWKS interoperability, algorithm pinning and a ring mixing
//! RS256 with EdDSA. All cases share one RSA key (generation is slow in debug builds).

use rsa::RsaPublicKey;
use rsa::pkcs1::{DecodeRsaPublicKey as _, EncodeRsaPublicKey as _};
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};

use super::*;
use crate::keys::fixtures::rsa_key;

fn rsa_ring() -> (KeyRing, StoredSigningKey) {
    let (master, key) = rsa_key();
    (KeyRing::from_stored(std::slice::from_ref(key), master).unwrap(), key.clone())
}

/// Signs `claims` with the ring's current key under the given header `alg` and `kid`.
fn sign_as(ring: &KeyRing, alg: Algorithm, kid: &str) -> String {
    let (_, _, key) = ring.signing_key();
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims_at(NOW), key).unwrap()
}

#[test]
fn rs256_round_trip_and_header() {
    let (ring, key) = rsa_ring();
    let claims = claims_at(NOW);
    let token = ring.sign_access_token(&claims).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
    assert_eq!(ring.verify_access_token(&token, &validation(), NOW).unwrap(), claims);
    // 2048-bit signature = 256 bytes.
    assert_eq!(URL_SAFE_NO_PAD.decode(token.split('.').nth(2).unwrap()).unwrap().len(), 256);

    let parts: Vec<&str> = token.split('.').collect();
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[100] ^= 0x01;
    assert!(rejected(&ring, &format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig)), NOW));
    let forged = b64_json(&serde_json::to_value(AccessClaims { role: "admin".to_owned(), ..claims }).unwrap());
    assert!(rejected(&ring, &format!("{}.{forged}.{}", parts[0], parts[2]), NOW));
}

#[test]
fn jwks_interoperates_with_stock_jsonwebtoken_rs256() {
    let (ring, _) = rsa_ring();
    stock_library_verifies_ring(&ring, Algorithm::RS256);
}

#[test]
fn rs256_hmac_forged_with_the_public_key_rejected() {
    let (ring, key) = rsa_ring();
    let public = RsaPublicKey::from_pkcs1_der(&key.public_key).unwrap();
    let pkcs1_pem = public.to_pkcs1_pem(LineEnding::LF).unwrap();
    let spki_pem = public.to_public_key_pem(LineEnding::LF).unwrap();
    let spki_der = public.to_public_key_der().unwrap();
    let jwk = serde_json::to_string(&ring.jwks()["keys"][0]).unwrap();
    let n = ring.jwks()["keys"][0]["n"].as_str().unwrap().to_owned();
    let secrets: [&[u8]; 6] =
        [&key.public_key, pkcs1_pem.as_bytes(), spki_pem.as_bytes(), spki_der.as_bytes(), jwk.as_bytes(), n.as_bytes()];
    for secret in secrets {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let mut header = Header::new(alg);
            header.kid = Some(key.kid.clone());
            let forged = jsonwebtoken::encode(&header, &claims_at(NOW), &EncodingKey::from_secret(secret)).unwrap();
            assert!(rejected(&ring, &forged, NOW), "{alg:?}");
        }
    }
}

#[test]
fn rs256_other_rsa_algorithms_with_the_same_key_rejected() {
    let (ring, key) = rsa_ring();
    assert!(ring.verify_access_token(&sign_as(&ring, Algorithm::RS256, &key.kid), &validation(), NOW).is_ok());
    // Genuine signatures by the same RSA key, but under another algorithm than the key's.
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
        assert!(rejected(&ring, &sign_as(&ring, alg, &key.kid), NOW), "{alg:?}");
    }
    let token = ring.sign_access_token(&claims_at(NOW)).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    for alg in ["none", "HS256", "PS256", "EdDSA"] {
        let header = b64_json(&json!({"alg": alg, "typ": "JWT", "kid": key.kid}));
        assert!(rejected(&ring, &format!("{header}.{}.{}", parts[1], parts[2]), NOW), "{alg}");
    }
}

#[test]
fn rs256_and_eddsa_keys_in_one_ring_stay_pinned() {
    let (master, rsa) = rsa_key();
    let mut old = rsa.clone();
    old.created_at = Utc::now() - Duration::days(1);
    let before = KeyRing::from_stored(std::slice::from_ref(&old), master).unwrap();
    let rs_token = before.sign_access_token(&claims_at(NOW)).unwrap();

    let ed = generate_signing_key(SigningAlgorithm::EdDSA, master, Utc::now()).unwrap();
    old.retired_at = Some(Utc::now());
    let after = KeyRing::from_stored(&[old.clone(), ed.clone()], master).unwrap();
    assert_eq!(after.current_kid(), ed.kid);
    let jwks = after.jwks();
    let algs: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert_eq!(algs, ["EdDSA", "RS256"]);

    let ed_token = after.sign_access_token(&claims_at(NOW)).unwrap();
    assert!(after.verify_access_token(&rs_token, &validation(), NOW).is_ok());
    assert!(after.verify_access_token(&ed_token, &validation(), NOW).is_ok());
    // Each key's genuine signature presented under the other key's kid.
    assert!(rejected(&after, &sign_as(&after, Algorithm::EdDSA, &old.kid), NOW));
    assert!(rejected(&after, &sign_as(&before, Algorithm::RS256, &ed.kid), NOW));
}

//! Access-token tests: round trips, every rejection rule of `verify_access_token`, rotation,
//! and interoperability of the JWKS with stock jsonwebtoken. RS256 cases live in [`rs256`].

mod rs256;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::json;
use tessera_domain::signing::{SigningAlgorithm, StoredSigningKey};

use super::*;
use crate::keys::{MasterKey, generate_signing_key};

const NOW: i64 = 1_700_000_000;
const ISS: &str = "https://id.tessera.test";
const AUD: &str = "tessera-api";

fn claims_at(now: i64) -> AccessClaims {
    AccessClaims {
        iss: ISS.to_owned(),
        sub: "0190f5c2-7c1e-7000-8000-000000000001".to_owned(),
        aud: AUD.to_owned(),
        exp: now + 900,
        iat: now,
        nbf: now,
        jti: "0190f5c2-7c1e-7000-8000-0000000000aa".to_owned(),
        tid: "0190f5c2-7c1e-7000-8000-0000000000bb".to_owned(),
        role: "member".to_owned(),
        sid: Some("0190f5c2-7c1e-7000-8000-0000000000cc".to_owned()),
        amr: vec!["pwd".to_owned()],
    }
}

fn validation() -> TokenValidation {
    TokenValidation::new(ISS, AUD)
}

fn ring_with(alg: SigningAlgorithm) -> (KeyRing, StoredSigningKey) {
    let master = MasterKey::generate().unwrap();
    let key = generate_signing_key(alg, &master, Utc::now()).unwrap();
    let ring = KeyRing::from_stored(std::slice::from_ref(&key), &master).unwrap();
    (ring, key)
}

fn ring() -> (KeyRing, StoredSigningKey) {
    ring_with(SigningAlgorithm::EdDSA)
}

fn rejected(ring: &KeyRing, token: &str, now: i64) -> bool {
    matches!(ring.verify_access_token(token, &validation(), now), Err(AuthError::InvalidToken))
}

/// Signs arbitrary JSON claims with the ring's current key (for malformed-claim cases).
fn sign_raw(ring: &KeyRing, claims: &serde_json::Value) -> String {
    let (kid, alg, key) = ring.signing_key();
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn b64_json(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

#[test]
fn eddsa_round_trip_and_header() {
    let (ring, key) = ring();
    let claims = claims_at(NOW);
    let token = ring.sign_access_token(&claims).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
    assert_eq!(ring.verify_access_token(&token, &validation(), NOW).unwrap(), claims);
}

#[test]
fn es256_round_trip() {
    let (ring, _) = ring_with(SigningAlgorithm::ES256);
    let claims = claims_at(NOW);
    let token = ring.sign_access_token(&claims).unwrap();
    assert_eq!(jsonwebtoken::decode_header(&token).unwrap().alg, Algorithm::ES256);
    assert_eq!(ring.verify_access_token(&token, &validation(), NOW).unwrap(), claims);
}

#[test]
fn optional_claims_may_be_absent() {
    let (ring, _) = ring();
    let claims = AccessClaims { sid: None, amr: vec![], ..claims_at(NOW) };
    let token = ring.sign_access_token(&claims).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(json.get("sid").is_none());
    assert_eq!(ring.verify_access_token(&token, &validation(), NOW).unwrap(), claims);
}

#[test]
fn wrong_issuer_rejected() {
    let (ring, _) = ring();
    let token =
        ring.sign_access_token(&AccessClaims { iss: "https://evil.test".to_owned(), ..claims_at(NOW) }).unwrap();
    assert!(rejected(&ring, &token, NOW));
}

#[test]
fn wrong_audience_rejected() {
    let (ring, _) = ring();
    let token = ring.sign_access_token(&AccessClaims { aud: "other-api".to_owned(), ..claims_at(NOW) }).unwrap();
    assert!(rejected(&ring, &token, NOW));
}

#[test]
fn expiry_honours_leeway() {
    let (ring, _) = ring();
    let claims = claims_at(NOW);
    let token = ring.sign_access_token(&claims).unwrap();
    let v = validation();
    assert!(ring.verify_access_token(&token, &v, claims.exp - 1).is_ok());
    assert!(ring.verify_access_token(&token, &v, claims.exp + 29).is_ok());
    assert!(rejected(&ring, &token, claims.exp + 30));
    assert!(rejected(&ring, &token, claims.exp + 31));
    assert!(rejected(&ring, &token, claims.exp + 3600));
    let strict = TokenValidation { leeway_seconds: 0, ..validation() };
    assert!(ring.verify_access_token(&token, &strict, claims.exp).is_err());
}

#[test]
fn nbf_in_future_rejected_beyond_leeway() {
    let (ring, _) = ring();
    let token = ring.sign_access_token(&AccessClaims { nbf: NOW + 120, ..claims_at(NOW) }).unwrap();
    assert!(rejected(&ring, &token, NOW));
    assert!(rejected(&ring, &token, NOW + 89));
    assert!(ring.verify_access_token(&token, &validation(), NOW + 90).is_ok());
}

#[test]
fn unknown_kid_and_missing_kid_rejected() {
    let (ring, _) = ring();
    let (other, _) = ring_with(SigningAlgorithm::EdDSA);
    let foreign = other.sign_access_token(&claims_at(NOW)).unwrap();
    assert!(rejected(&ring, &foreign, NOW));

    let (_, alg, key) = ring.signing_key();
    let no_kid = jsonwebtoken::encode(&Header::new(alg), &claims_at(NOW), key).unwrap();
    assert!(rejected(&ring, &no_kid, NOW));
}

#[test]
fn tampered_payload_and_signature_rejected() {
    let (ring, _) = ring();
    let token = ring.sign_access_token(&claims_at(NOW)).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = AccessClaims { role: "admin".to_owned(), ..claims_at(NOW) };
    let forged_payload = b64_json(&serde_json::to_value(&forged_claims).unwrap());
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert!(rejected(&ring, &forged, NOW));

    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[0] ^= 0x01;
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert!(rejected(&ring, &bad_sig, NOW));

    for garbage in ["", "a.b", "a.b.c", "a.b.c.d", &token[..token.len() - 5]] {
        assert!(rejected(&ring, garbage, NOW), "{garbage}");
    }
}

#[test]
fn alg_none_rejected() {
    let (ring, key) = ring();
    let token = ring.sign_access_token(&claims_at(NOW)).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    for alg in ["none", "None", "NONE"] {
        let header = b64_json(&json!({"alg": alg, "typ": "JWT", "kid": key.kid}));
        let unsigned = format!("{header}.{}.", parts[1]);
        assert!(rejected(&ring, &unsigned, NOW), "{alg}");
        let with_old_sig = format!("{header}.{}.{}", parts[1], parts[2]);
        assert!(rejected(&ring, &with_old_sig, NOW), "{alg}");
    }
}

#[test]
fn hs256_forged_with_public_key_rejected() {
    let (ring, key) = ring();
    let x = URL_SAFE_NO_PAD.encode(&key.public_key);
    let secrets: [&[u8]; 2] = [&key.public_key, x.as_bytes()];
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
fn header_alg_must_match_the_keys_alg() {
    let master = MasterKey::generate().unwrap();
    let ed = generate_signing_key(SigningAlgorithm::EdDSA, &master, Utc::now()).unwrap();
    let ec = generate_signing_key(SigningAlgorithm::ES256, &master, Utc::now() - Duration::hours(1)).unwrap();
    let ring = KeyRing::from_stored(&[ed.clone(), ec.clone()], &master).unwrap();
    assert_eq!(ring.current_kid(), ed.kid);
    // A genuine EdDSA signature presented under the ES256 key's kid.
    let (_, alg, key) = ring.signing_key();
    let mut header = Header::new(alg);
    header.kid = Some(ec.kid.clone());
    let token = jsonwebtoken::encode(&header, &claims_at(NOW), key).unwrap();
    assert!(rejected(&ring, &token, NOW));
}

#[test]
fn crit_header_rejected() {
    let (ring, _) = ring();
    let (kid, alg, key) = ring.signing_key();
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    header.crit = Some(vec!["exp".to_owned()]);
    let token = jsonwebtoken::encode(&header, &claims_at(NOW), key).unwrap();
    assert!(rejected(&ring, &token, NOW));
}

#[test]
fn missing_or_malformed_claims_rejected() {
    let (ring, _) = ring();
    let full = serde_json::to_value(claims_at(NOW)).unwrap();
    assert!(ring.verify_access_token(&sign_raw(&ring, &full), &validation(), NOW).is_ok());
    for claim in ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "tid", "role"] {
        let mut partial = full.clone();
        partial.as_object_mut().unwrap().remove(claim);
        assert!(rejected(&ring, &sign_raw(&ring, &partial), NOW), "{claim}");
    }
    let mut aud_array = full.clone();
    aud_array["aud"] = json!([AUD, "other"]);
    assert!(rejected(&ring, &sign_raw(&ring, &aud_array), NOW));
    let mut exp_string = full;
    exp_string["exp"] = json!("never");
    assert!(rejected(&ring, &sign_raw(&ring, &exp_string), NOW));
}

#[test]
fn retired_key_still_verifies_while_new_key_signs() {
    let master = MasterKey::generate().unwrap();
    let t0 = Utc::now() - Duration::days(1);
    let mut old = generate_signing_key(SigningAlgorithm::EdDSA, &master, t0).unwrap();
    let before = KeyRing::from_stored(std::slice::from_ref(&old), &master).unwrap();
    let old_token = before.sign_access_token(&claims_at(NOW)).unwrap();

    let new = generate_signing_key(SigningAlgorithm::EdDSA, &master, Utc::now()).unwrap();
    old.retired_at = Some(Utc::now());
    let after = KeyRing::from_stored(&[old.clone(), new.clone()], &master).unwrap();
    assert_eq!(after.current_kid(), new.kid);

    let new_token = after.sign_access_token(&claims_at(NOW)).unwrap();
    assert_eq!(jsonwebtoken::decode_header(&new_token).unwrap().kid, Some(new.kid.clone()));
    assert!(after.verify_access_token(&old_token, &validation(), NOW).is_ok());
    assert!(after.verify_access_token(&new_token, &validation(), NOW).is_ok());
    // The ring from before the rotation does not know the new key.
    assert!(rejected(&before, &new_token, NOW));
}

/// A third party holding only the published JWKS verifies our tokens with stock jsonwebtoken.
fn stock_library_verifies(alg: SigningAlgorithm, stock_alg: Algorithm) {
    let (ring, _) = ring_with(alg);
    stock_library_verifies_ring(&ring, stock_alg);
}

fn stock_library_verifies_ring(ring: &KeyRing, stock_alg: Algorithm) {
    let now = Utc::now().timestamp();
    let claims = claims_at(now);
    let token = ring.sign_access_token(&claims).unwrap();

    let jwks_json = serde_json::to_string(&ring.jwks()).unwrap();
    let set: JwkSet = serde_json::from_str(&jwks_json).unwrap();
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let jwk = set.find(&kid).unwrap();
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(stock_alg);
    v.set_audience(&[AUD]);
    v.set_issuer(&[ISS]);
    let decoded = jsonwebtoken::decode::<AccessClaims>(&token, &key, &v).unwrap();
    assert_eq!(decoded.claims, claims);
}

#[test]
fn jwks_interoperates_with_stock_jsonwebtoken_eddsa() {
    stock_library_verifies(SigningAlgorithm::EdDSA, Algorithm::EdDSA);
}

#[test]
fn jwks_interoperates_with_stock_jsonwebtoken_es256() {
    stock_library_verifies(SigningAlgorithm::ES256, Algorithm::ES256);
}

#[test]
fn token_validation_defaults_to_30s_leeway() {
    let v = TokenValidation::new("i", "a");
    assert_eq!(v.leeway_seconds, 30);
    assert_eq!(DEFAULT_LEEWAY_SECONDS, 30);
}

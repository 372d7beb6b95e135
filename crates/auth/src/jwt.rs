//! Access tokens (SPEC §6.2): the claim set, and signing and verification against a
//! [`KeyRing`] with the algorithm pinned to the key named by the token's `kid`.
//!
//! Time is always supplied by the caller (`now_unix`), so a fake clock drives expiry in tests;
//! jsonwebtoken's own clock is never consulted.

use std::collections::HashSet;

use jsonwebtoken::{Header, Validation};

use crate::AuthError;
use crate::keys::KeyRing;

/// Default clock-skew allowance for `exp` and `nbf` (SPEC §6.2).
pub const DEFAULT_LEEWAY_SECONDS: u64 = 30;

/// Claims of an access token. `amr` holds RFC 8176 values (`pwd`, `otp`, `mfa`, `hwk`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    /// Tenant id.
    pub tid: String,
    pub role: String,
    /// Session id; absent for tokens not tied to a session.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub amr: Vec<String>,
}

/// What a verifier expects of a token besides a valid signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenValidation {
    pub issuer: String,
    pub audience: String,
    /// Allowed clock skew for `exp` and `nbf`, in seconds (SPEC: 30).
    pub leeway_seconds: u64,
}

impl TokenValidation {
    /// Expects `issuer` and `audience` exactly, with [`DEFAULT_LEEWAY_SECONDS`].
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self { issuer: issuer.into(), audience: audience.into(), leeway_seconds: DEFAULT_LEEWAY_SECONDS }
    }
}

/// Registered claims that must be present before any other check (jsonwebtoken only looks
/// at these names; the remaining claims are required by `AccessClaims`' own shape).
const REQUIRED_CLAIMS: [&str; 5] = ["exp", "nbf", "iss", "aud", "sub"];

impl KeyRing {
    /// Signs `claims` with the current key. Header: `alg` of that key, `typ: "JWT"`, `kid`.
    /// The claims are signed as given; the caller sets times and identifiers.
    ///
    /// # Errors
    /// [`AuthError::Crypto`] if signing fails (not expected with a ring built by
    /// [`KeyRing::from_stored`]).
    pub fn sign_access_token(&self, claims: &AccessClaims) -> Result<String, AuthError> {
        let (kid, algorithm, key) = self.signing_key();
        let mut header = Header::new(algorithm);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, key)
            .map_err(|_| AuthError::Crypto("signing the access token failed".to_owned()))
    }

    /// Verifies an access token at time `now_unix` (seconds since the epoch).
    ///
    /// Accepts only a token whose header names a `kid` in this ring, whose `alg` equals that
    /// key's algorithm (so `none`, HMAC and any cross-algorithm token fail) and which carries
    /// no `crit` header; whose signature verifies; whose `iss` and `aud` equal `v`'s exactly
    /// (single strings); with `now < exp + leeway` and `nbf <= now + leeway`; and which
    /// carries every claim of [`AccessClaims`] except the optional `sid` and `amr`.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for every failure, without saying which check failed.
    pub fn verify_access_token(
        &self,
        token: &str,
        v: &TokenValidation,
        now_unix: i64,
    ) -> Result<AccessClaims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::InvalidToken)?;
        let kid = header.kid.as_deref().ok_or(AuthError::InvalidToken)?;
        let (algorithm, key) = self.verifying_key(kid).ok_or(AuthError::InvalidToken)?;
        if header.alg != algorithm || header.crit.is_some() {
            return Err(AuthError::InvalidToken);
        }

        let mut validation = Validation::new(algorithm);
        // exp/nbf are checked below against the caller's clock, not the system clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = true;
        validation.required_spec_claims = REQUIRED_CLAIMS.iter().map(|c| (*c).to_owned()).collect::<HashSet<_>>();
        validation.set_issuer(&[&v.issuer]);
        validation.set_audience(&[&v.audience]);

        let claims =
            jsonwebtoken::decode::<AccessClaims>(token, key, &validation).map_err(|_| AuthError::InvalidToken)?.claims;

        // jsonwebtoken checked these already; repeating them keeps the rule visible here and
        // independent of that library's set semantics.
        if claims.iss != v.issuer || claims.aud != v.audience {
            return Err(AuthError::InvalidToken);
        }
        let leeway = i64::try_from(v.leeway_seconds).unwrap_or(i64::MAX);
        if now_unix >= claims.exp.saturating_add(leeway) {
            return Err(AuthError::InvalidToken);
        }
        if claims.nbf > now_unix.saturating_add(leeway) {
            return Err(AuthError::InvalidToken);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests;

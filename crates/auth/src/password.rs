//! Password hashing: Argon2id PHC strings at configurable cost (OWASP defaults), verification
//! that reports when a stored hash should be re-encoded, and a dummy verification so that
//! unknown users take as long to reject as known ones (SPEC §6.1).
//!
//! Every call here is blocking CPU work (tens of milliseconds and `memory_kib` KiB of RAM at
//! the defaults); callers run it on a bounded blocking pool, never on the async executor.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

use crate::AuthError;

/// Length in bytes of the Argon2 output this crate writes.
const OUTPUT_LEN: usize = 32;
/// Upper bounds for both configuration and stored hashes: a PHC string asking for more is
/// treated as corrupt rather than allowed to allocate without limit.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_ITERATIONS: u32 = 64;
const MAX_PARALLELISM: u32 = 64;

/// The password used for [`PasswordHasher::dummy_verify`]'s reference hash; never a real one.
const DUMMY_PASSWORD: &str = "tessera-dummy-password-for-timing-equalisation";

/// Argon2id cost parameters. `Default` is the OWASP recommendation (m = 19 MiB, t = 2, p = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

impl Argon2Params {
    fn to_argon2(self) -> Result<Params, AuthError> {
        check_limits(self.memory_kib, self.iterations, self.parallelism)
            .map_err(|reason| AuthError::InvalidParams(reason.to_owned()))?;
        Params::new(self.memory_kib, self.iterations, self.parallelism, Some(OUTPUT_LEN))
            .map_err(|e| AuthError::InvalidParams(e.to_string()))
    }
}

fn check_limits(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<(), &'static str> {
    if !(1..=MAX_PARALLELISM).contains(&parallelism) {
        return Err("parallelism must be between 1 and 64");
    }
    if !(1..=MAX_ITERATIONS).contains(&iterations) {
        return Err("iterations must be between 1 and 64");
    }
    if memory_kib > MAX_MEMORY_KIB || memory_kib < parallelism.saturating_mul(8) {
        return Err("memory_kib must be between 8 x parallelism and 1048576 (1 GiB)");
    }
    Ok(())
}

/// Outcome of [`PasswordHasher::verify`].
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The password matches. `needs_rehash` is true when the stored hash was made with another
    /// algorithm, version or cost than the hasher's: the caller should store a fresh
    /// [`PasswordHasher::hash`] of the same password.
    Valid { needs_rehash: bool },
    /// The password does not match, or the stored hash is malformed or out of bounds.
    Invalid,
}

/// Argon2id hasher at fixed parameters. Cheap to clone (shared state behind an `Arc`).
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Argon2Params,
    argon2: Argon2<'static>,
    /// A hash of [`DUMMY_PASSWORD`] at `params`, computed once, for `dummy_verify`.
    dummy_phc: String,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("params", &self.inner.params).finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Builds a hasher; computes one hash at `params` for [`Self::dummy_verify`], so this costs
    /// as much as one [`Self::hash`].
    ///
    /// # Errors
    /// [`AuthError::InvalidParams`] when a parameter is zero, `memory_kib` is below
    /// 8 × `parallelism`, or a value exceeds the bounds (1 GiB, 64 iterations, 64 lanes);
    /// [`AuthError::Hashing`] if the reference hash cannot be computed.
    pub fn new(params: Argon2Params) -> Result<Self, AuthError> {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.to_argon2()?);
        let dummy_phc = argon2.hash_password(DUMMY_PASSWORD.as_bytes()).map_err(|_| AuthError::Hashing)?.to_string();
        Ok(Self { inner: Arc::new(Inner { params, argon2, dummy_phc }) })
    }

    /// The parameters new hashes are made with.
    #[must_use]
    pub fn params(&self) -> Argon2Params {
        self.inner.params
    }

    /// Hashes `password` with a fresh random 16-byte salt into a PHC string
    /// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    ///
    /// # Errors
    /// [`AuthError::Hashing`] if the OS random source or Argon2 fails.
    pub fn hash(&self, password: &str) -> Result<String, AuthError> {
        self.inner.argon2.hash_password(password.as_bytes()).map(|phc| phc.to_string()).map_err(|_| AuthError::Hashing)
    }

    /// Checks `password` against a stored PHC string, at the cost recorded in that string.
    /// Malformed strings, other algorithms than Argon2 and costs beyond this crate's bounds
    /// answer [`PasswordCheck::Invalid`] without hashing.
    pub fn verify(&self, password: &str, phc: &str) -> PasswordCheck {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return PasswordCheck::Invalid;
        };
        let Ok(stored) = Params::try_from(&parsed) else {
            return PasswordCheck::Invalid;
        };
        if check_limits(stored.m_cost(), stored.t_cost(), stored.p_cost()).is_err() {
            return PasswordCheck::Invalid;
        }
        // The output comparison inside `verify_password` is constant-time (phc::Output's Eq).
        if self.inner.argon2.verify_password(password.as_bytes(), &parsed).is_err() {
            return PasswordCheck::Invalid;
        }
        PasswordCheck::Valid { needs_rehash: self.needs_rehash(&parsed, &stored) }
    }

    /// Spends one verification at the current parameters and discards the result: called
    /// for unknown users so that their rejection takes as long as a wrong password.
    pub fn dummy_verify(&self, password: &str) {
        let _ = std::hint::black_box(self.verify(password, &self.inner.dummy_phc));
    }

    fn needs_rehash(&self, parsed: &PasswordHash, stored: &Params) -> bool {
        let wanted = self.inner.params;
        parsed.algorithm != ARGON2ID_IDENT
            || parsed.version != Some(u32::from(Version::V0x13))
            || stored.m_cost() != wanted.memory_kib
            || stored.t_cost() != wanted.iterations
            || stored.p_cost() != wanted.parallelism
            || parsed.hash.as_ref().map(|h| h.len()) != Some(OUTPUT_LEN)
            || !stored.keyid().is_empty()
            || !stored.data().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Argon2Params {
        Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 }
    }

    fn hasher(params: Argon2Params) -> PasswordHasher {
        PasswordHasher::new(params).unwrap()
    }

    #[test]
    fn default_params_are_owasp() {
        let p = Argon2Params::default();
        assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19_456, 2, 1));
    }

    #[test]
    fn round_trip_at_default_params() {
        let h = hasher(Argon2Params::default());
        let phc = h.hash("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(h.verify("correct horse battery staple", &phc), PasswordCheck::Valid { needs_rehash: false });
    }

    #[test]
    fn round_trip_and_wrong_password() {
        let h = hasher(fast());
        let phc = h.hash("s3cret-pässword").unwrap();
        assert_eq!(h.verify("s3cret-pässword", &phc), PasswordCheck::Valid { needs_rehash: false });
        assert_eq!(h.verify("s3cret-password", &phc), PasswordCheck::Invalid);
        assert_eq!(h.verify("", &phc), PasswordCheck::Invalid);
    }

    #[test]
    fn same_password_gets_different_salts() {
        let h = hasher(fast());
        assert_ne!(h.hash("pw").unwrap(), h.hash("pw").unwrap());
    }

    #[test]
    fn needs_rehash_when_params_change() {
        let old = hasher(fast());
        let phc = old.hash("pw").unwrap();
        let new = hasher(Argon2Params { iterations: 2, ..fast() });
        assert_eq!(new.verify("pw", &phc), PasswordCheck::Valid { needs_rehash: true });
        assert_eq!(new.verify("nope", &phc), PasswordCheck::Invalid);
    }

    #[test]
    fn needs_rehash_for_other_argon2_variant() {
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, fast().to_argon2().unwrap());
        let phc = argon2i.hash_password(b"pw").unwrap().to_string();
        assert!(phc.starts_with("$argon2i$"));
        assert_eq!(hasher(fast()).verify("pw", &phc), PasswordCheck::Valid { needs_rehash: true });
    }

    #[test]
    fn malformed_phc_is_invalid() {
        let h = hasher(fast());
        for phc in [
            "",
            "not a hash",
            "$argon2id$",
            "$argon2id$v=19$m=1024,t=1,p=1$",
            "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$",
            "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
        ] {
            assert_eq!(h.verify("pw", phc), PasswordCheck::Invalid, "{phc}");
        }
    }

    #[test]
    fn invalid_params_rejected() {
        for params in [
            Argon2Params { memory_kib: 0, ..fast() },
            Argon2Params { iterations: 0, ..fast() },
            Argon2Params { parallelism: 0, ..fast() },
            Argon2Params { memory_kib: 8, iterations: 1, parallelism: 2 },
            Argon2Params { memory_kib: u32::MAX, ..fast() },
        ] {
            assert!(matches!(PasswordHasher::new(params), Err(AuthError::InvalidParams(_))), "{params:?}");
        }
    }

    #[test]
    fn dummy_verify_runs_and_debug_shows_params_only() {
        let h = hasher(fast());
        h.dummy_verify("whatever");
        let debug = format!("{h:?}");
        assert!(debug.contains("memory_kib: 1024"), "{debug}");
        assert!(!debug.contains("argon2id$"), "{debug}");
    }

    #[test]
    fn params_deserialize_from_config_shape() {
        let p: Argon2Params = serde_json::from_str(r#"{"memory_kib":19456,"iterations":2,"parallelism":1}"#).unwrap();
        assert_eq!(p, Argon2Params::default());
    }
}

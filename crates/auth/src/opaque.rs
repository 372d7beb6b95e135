//! Opaque secrets: the refresh-token format (256 random bits, base64url), the one-way hash
//! under which such tokens are stored, and constant-time comparison of secret bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::AuthError;

/// Fills a fixed-size buffer from the OS random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| AuthError::Crypto("OS random source unavailable".to_owned()))?;
    Ok(bytes)
}

/// A new refresh token: 32 bytes from the OS random source, base64url without padding
/// (43 characters). Store only [`hash_token`] of it.
///
/// # Errors
/// [`AuthError::Crypto`] if the OS random source fails.
pub fn new_refresh_token() -> Result<String, AuthError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// Lower-case hex SHA-256 of `token`: the storage and lookup key for high-entropy opaque
/// tokens (a plain hash suffices because the input is 256 random bits, not a password).
#[must_use]
pub fn hash_token(token: &str) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut hex, byte| {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

/// Compares two byte strings in time independent of their contents (the length is not
/// secret: different lengths answer `false` at once).
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_token_is_43_chars_base64url_and_random() {
        let a = new_refresh_token().unwrap();
        let b = new_refresh_token().unwrap();
        assert_eq!(a.len(), 43);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{a}");
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn hash_token_known_vectors() {
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hash_token(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn constant_time_eq_behaves_like_eq() {
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"sama"));
        assert!(!constant_time_eq(b"same", b"same-but-longer"));
        assert!(constant_time_eq(b"", b""));
    }
}

//! The master key: 32 bytes from configuration that seal secrets at rest (signing keys'
//! private parts, TOTP secrets) with AES-256-GCM.

use aes_gcm::aead::{Aead as _, KeyInit as _};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::AuthError;
use crate::opaque::random_bytes;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// A 256-bit AES-GCM key. `Debug` never shows the bytes.
#[derive(Clone)]
pub struct MasterKey([u8; KEY_LEN]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// Parses standard (padded) base64 of exactly 32 bytes; surrounding whitespace is ignored.
    ///
    /// # Errors
    /// [`AuthError::InvalidMasterKey`] for bad base64 or any other length.
    pub fn from_base64(s: &str) -> Result<Self, AuthError> {
        let bytes = STANDARD.decode(s.trim()).map_err(|_| AuthError::InvalidMasterKey)?;
        let key = <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| AuthError::InvalidMasterKey)?;
        Ok(Self(key))
    }

    /// A new key from the OS random source.
    ///
    /// # Errors
    /// [`AuthError::Crypto`] if the OS random source fails.
    pub fn generate() -> Result<Self, AuthError> {
        Ok(Self(random_bytes::<KEY_LEN>()?))
    }

    /// Standard padded base64, the form [`Self::from_base64`] reads.
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.0.into())
    }

    /// Encrypts and authenticates `plaintext` with a fresh random 96-bit nonce.
    /// Output: `nonce (12) || ciphertext || tag (16)`.
    ///
    /// # Errors
    /// [`AuthError::Crypto`] if the OS random source or the cipher fails.
    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, AuthError> {
        let nonce = random_bytes::<NONCE_LEN>()?;
        let ciphertext = self
            .cipher()
            .encrypt(&Nonce::from(nonce), plaintext)
            .map_err(|_| AuthError::Crypto("sealing failed".to_owned()))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Reverses [`Self::seal`].
    ///
    /// # Errors
    /// [`AuthError::Crypto`] when the input is too short, was sealed under another key or was
    /// altered in any byte.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, AuthError> {
        let failed = || AuthError::Crypto("opening sealed data failed (wrong key or tampered)".to_owned());
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(failed());
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = <[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| failed())?;
        self.cipher().decrypt(&Nonce::from(nonce), ciphertext).map_err(|_| failed())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn seal_open_round_trip_and_fresh_nonce() {
        let key = MasterKey::generate().unwrap();
        let a = key.seal(b"private key bytes").unwrap();
        let b = key.seal(b"private key bytes").unwrap();
        assert_ne!(a, b, "nonce must be fresh per seal");
        assert_eq!(a.len(), NONCE_LEN + 17 + TAG_LEN);
        assert_eq!(key.open(&a).unwrap(), b"private key bytes");
        assert_eq!(key.open(&key.seal(b"").unwrap()).unwrap(), b"");
    }

    #[test]
    fn tampering_anywhere_is_detected() {
        let key = MasterKey::generate().unwrap();
        let sealed = key.seal(b"secret").unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(key.open(&bad).is_err(), "flip at byte {i} not detected");
        }
        assert!(key.open(&sealed[..sealed.len() - 1]).is_err());
        assert!(key.open(&sealed[..NONCE_LEN + TAG_LEN - 1]).is_err());
        assert!(key.open(&[]).is_err());
    }

    #[test]
    fn wrong_master_key_fails() {
        let sealed = MasterKey::generate().unwrap().seal(b"secret").unwrap();
        let other = MasterKey::generate().unwrap();
        assert!(matches!(other.open(&sealed), Err(AuthError::Crypto(_))));
    }

    #[test]
    fn base64_round_trip_with_whitespace() {
        let key = MasterKey::generate().unwrap();
        let text = format!("  {}\n", key.to_base64());
        let again = MasterKey::from_base64(&text).unwrap();
        assert_eq!(again.to_base64(), key.to_base64());
        assert_eq!(again.open(&key.seal(b"x").unwrap()).unwrap(), b"x");
    }

    #[test]
    fn from_base64_rejects_wrong_length_and_garbage() {
        for bad in
            [STANDARD.encode([7u8; 31]), STANDARD.encode([7u8; 33]), String::new(), "not base64 at all!".to_owned()]
        {
            assert!(matches!(MasterKey::from_base64(&bad), Err(AuthError::InvalidMasterKey)), "{bad:?}");
        }
    }

    #[test]
    fn debug_and_errors_hide_the_key() {
        let key = MasterKey::from_base64(&STANDARD.encode([0xAB; 32])).unwrap();
        assert_eq!(format!("{key:?}"), "MasterKey(…)");
        let secret = STANDARD.encode([0xCD; 31]);
        let err = MasterKey::from_base64(&secret).unwrap_err().to_string();
        assert!(!err.contains(&secret), "{err}");
    }

    proptest! {
        #[test]
        fn seal_open_round_trip_arbitrary(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let key = MasterKey::generate().unwrap();
            let sealed = key.seal(&data).unwrap();
            prop_assert_eq!(sealed.len(), NONCE_LEN + data.len() + TAG_LEN);
            prop_assert_eq!(key.open(&sealed).unwrap(), data);
        }
    }
}

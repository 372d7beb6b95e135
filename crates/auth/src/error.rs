//! The single error type of `tessera-auth`.
//!
//! Messages never contain secret material: no passwords, key bytes, tokens or master keys,
//! only the name of what failed (and a key id where that helps an operator).

use tessera_domain::signing::SigningAlgorithm;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A token failed verification (format, key id, algorithm, signature or claims). The
    /// cause is deliberately not reported: every rejected token looks the same to a caller.
    #[error("invalid token")]
    InvalidToken,
    /// The key ring holds no key that may sign (every stored key is retired, or none exist).
    #[error("no usable signing key")]
    KeyUnavailable,
    /// A stored signing key is malformed or does not match its sealed private part.
    #[error("invalid signing key {kid}: {reason}")]
    InvalidKey { kid: String, reason: &'static str },
    /// The algorithm is not implemented by this crate. Every [`SigningAlgorithm`] is
    /// implemented now, so nothing returns this; it stays for callers that match on it.
    #[error("unsupported signing algorithm {}", .0.as_str())]
    UnsupportedAlgorithm(SigningAlgorithm),
    /// The master key is not standard base64 of exactly 32 bytes.
    #[error("invalid master key: expected standard base64 of exactly 32 bytes")]
    InvalidMasterKey,
    /// Argon2 parameters out of the accepted range.
    #[error("invalid password hashing parameters: {0}")]
    InvalidParams(String),
    /// Computing a password hash failed (e.g. the OS random source for the salt).
    #[error("password hashing failed")]
    Hashing,
    /// A cryptographic primitive failed; the text names the operation, never the data.
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
}

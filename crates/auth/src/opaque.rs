//! Opaque secrets: random single-use tokens (256 random bits, base64url), the refresh-token
//! format that also names its tenant, the one-way hash under which such tokens are stored,
//! and constant-time comparison of secret bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::AuthError;

/// Fills a fixed-size buffer from the OS random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| AuthError::Crypto("OS random source unavailable".to_owned()))?;
    Ok(bytes)
}

/// A new opaque token: 32 bytes from the OS random source, base64url without padding
/// (43 characters). For secrets looked up without a tenant or with the tenant known from
/// elsewhere (password-reset links, invitations, other single-use tokens); refresh tokens use
/// [`new_refresh_token_for`]. Store only [`hash_token`] of it.
///
/// # Errors
/// [`AuthError::Crypto`] if the OS random source fails.
pub fn new_refresh_token() -> Result<String, AuthError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

const REFRESH_PREFIX: &str = "rt_";
const TENANT_HEX_LEN: usize = 32;
const SECRET_LEN: usize = 43;

/// A new refresh token that names its tenant:
/// `rt_{tenant as 32 lower-case hex digits}_{43 chars of unpadded base64url of 256 random bits}`
/// (79 characters). The tenant part is not secret; it lets the server pick the tenant scope
/// before the (tenant-scoped) lookup, see [`refresh_token_tenant`]. Store only
/// [`hash_token`] of the whole token.
///
/// # Errors
/// [`AuthError::Crypto`] if the OS random source fails.
pub fn new_refresh_token_for(tenant: Uuid) -> Result<String, AuthError> {
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    Ok(format!("{REFRESH_PREFIX}{}_{secret}", tenant.simple()))
}

/// The tenant named by a token of [`new_refresh_token_for`]'s shape, or `None` unless the
/// token has exactly that shape: the prefix `rt_`, 32 lower-case hex digits, `_`, and 43
/// characters of canonical unpadded base64url of 32 bytes. Says nothing about whether the
/// token exists or is live: that is the lookup of [`hash_token`] of the whole token, within
/// the returned tenant.
#[must_use]
pub fn refresh_token_tenant(token: &str) -> Option<Uuid> {
    let rest = token.strip_prefix(REFRESH_PREFIX)?;
    if rest.len() != TENANT_HEX_LEN + 1 + SECRET_LEN {
        return None;
    }
    let (hex, rest) = rest.split_at_checked(TENANT_HEX_LEN)?;
    let secret = rest.strip_prefix('_')?;
    if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    // The engine refuses characters outside the URL-safe alphabet, padding and non-zero
    // trailing bits, so exactly one spelling of each 32-byte secret is accepted.
    let mut secret_bytes = [0u8; 33];
    if URL_SAFE_NO_PAD.decode_slice(secret, &mut secret_bytes).ok()? != 32 {
        return None;
    }
    u128::from_str_radix(hex, 16).ok().map(Uuid::from_u128)
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
    fn refresh_token_for_has_its_shape_and_names_the_tenant() {
        let tenant = Uuid::parse_str("0190F5C2-7C1E-7000-8000-0000000000BB").unwrap();
        let a = new_refresh_token_for(tenant).unwrap();
        let b = new_refresh_token_for(tenant).unwrap();
        assert_eq!(a.len(), 79);
        assert!(a.starts_with("rt_0190f5c27c1e700080000000000000bb_"), "{a}");
        assert_eq!(URL_SAFE_NO_PAD.decode(&a[36..]).unwrap().len(), 32);
        assert_ne!(a, b);
        assert_ne!(hash_token(&a), hash_token(&b));
        assert_eq!(refresh_token_tenant(&a), Some(tenant));
        assert_eq!(refresh_token_tenant(&b), Some(tenant));
        assert_eq!(refresh_token_tenant(&new_refresh_token_for(Uuid::nil()).unwrap()), Some(Uuid::nil()));
        assert_eq!(refresh_token_tenant(&new_refresh_token_for(Uuid::max()).unwrap()), Some(Uuid::max()));
    }

    #[test]
    fn refresh_token_tenant_rejects_near_misses() {
        let tenant = "0190f5c27c1e700080000000000000bb";
        let secret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(refresh_token_tenant(&format!("rt_{tenant}_{secret}")), Uuid::parse_str(tenant).ok());
        let hyphenated = "0190f5c2-7c1e-7000-8000-0000000000bb";
        let bad = [
            String::new(),
            "rt_".to_owned(),
            new_refresh_token().unwrap(),
            format!("RT_{tenant}_{secret}"),
            format!("rt-{tenant}_{secret}"),
            format!("{tenant}_{secret}"),
            format!("rt_{}_{secret}", tenant.to_uppercase()),
            format!("rt_{}_{secret}", tenant.replace('b', "B")),
            format!("rt_{}g_{secret}", &tenant[..31]),
            format!("rt_+{}_{secret}", &tenant[..31]),
            format!("rt_{}_{secret}", &tenant[..31]),
            format!("rt_{tenant}0_{secret}"),
            format!("rt_{hyphenated}_{secret}"),
            format!("rt_{tenant}-{secret}"),
            format!("rt_{tenant}{secret}A"),
            format!("rt_{tenant}__{secret}"),
            format!("rt_{tenant}_{}", &secret[..42]),
            format!("rt_{tenant}_{secret}A"),
            format!("rt_{tenant}_{secret}="),
            format!("rt_{tenant}_{}=", &secret[..42]),
            format!("rt_{tenant}_{}+", &secret[..42]),
            format!("rt_{tenant}_{}/", &secret[..42]),
            format!("rt_{tenant}_{}.", &secret[..42]),
            // Non-zero trailing bits: a second spelling of the same secret.
            format!("rt_{tenant}_{}B", &secret[..42]),
            format!("rt_{tenant}_{}é", &secret[..41]),
            format!(" rt_{tenant}_{secret}"),
            format!("rt_{tenant}_{secret}\n"),
            format!("rt_{tenant}_{secret}").replace('_', "\u{ff3f}"),
        ];
        for token in &bad {
            assert_eq!(refresh_token_tenant(token), None, "{token:?}");
        }
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

    /// An independent statement of the accepted shape, for the property tests.
    fn well_formed(token: &str) -> bool {
        const CANONICAL_LAST: &[u8] = b"AEIMQUYcgkosw048";
        let b = token.as_bytes();
        b.len() == 79
            && b.starts_with(b"rt_")
            && b[3..35].iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
            && b[35] == b'_'
            && b[36..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
            && CANONICAL_LAST.contains(&b[78])
    }

    proptest::proptest! {
        #[test]
        fn refresh_token_tenant_round_trips(value in proptest::prelude::any::<u128>()) {
            let tenant = Uuid::from_u128(value);
            let token = new_refresh_token_for(tenant).unwrap();
            proptest::prop_assert!(well_formed(&token), "{}", token);
            proptest::prop_assert_eq!(refresh_token_tenant(&token), Some(tenant));
        }

        #[test]
        fn refresh_token_tenant_never_panics_on_garbage(token in "\\PC{0,100}") {
            let parsed = refresh_token_tenant(&token);
            proptest::prop_assert_eq!(parsed.is_some(), well_formed(&token));
        }

        #[test]
        fn refresh_token_tenant_agrees_with_the_shape_after_one_edit(
            value in proptest::prelude::any::<u128>(),
            at in 0usize..79,
            c in "[ -~]",
        ) {
            let token = new_refresh_token_for(Uuid::from_u128(value)).unwrap();
            let edited = format!("{}{c}{}", &token[..at], &token[at + 1..]);
            proptest::prop_assert_eq!(refresh_token_tenant(&edited).is_some(), well_formed(&edited), "{}", edited);
        }

        #[test]
        fn refresh_token_tenant_agrees_with_the_shape_on_near_misses(
            token in "(rt|RT|r)?[_-]?[0-9a-fA-Fg]{31,33}[_-]?[A-Za-z0-9_=+/-]{41,44}",
        ) {
            let parsed = refresh_token_tenant(&token);
            proptest::prop_assert_eq!(parsed.is_some(), well_formed(&token), "{}", token);
            if let Some(tenant) = parsed {
                proptest::prop_assert_eq!(&token[3..35], tenant.simple().to_string());
            }
        }
    }
}

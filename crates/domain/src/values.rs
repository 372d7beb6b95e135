//! Validated value objects built at the edge (`try_from` the client's string).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Slugs that can never be registered (SPEC §1).
pub const RESERVED_SLUGS: [&str; 6] = ["platform", "admin", "api", "www", "system", "root"];

/// The reserved tenant that holds the super-admins.
pub const PLATFORM_SLUG: &str = "platform";

/// A tenant slug: 3–63 chars of `[a-z0-9-]`, no leading or trailing hyphen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slug(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("must be 3 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'")]
    Format,
    #[error("is reserved")]
    Reserved,
}

impl Slug {
    /// Parses a slug a client may register (reserved slugs refused).
    pub fn parse_registrable(s: &str) -> Result<Self, SlugError> {
        let slug = Self::parse_any(s)?;
        if RESERVED_SLUGS.contains(&slug.0.as_str()) {
            return Err(SlugError::Reserved);
        }
        Ok(slug)
    }

    /// Parses any well-formed slug, reserved ones included (for look-ups).
    pub fn parse_any(s: &str) -> Result<Self, SlugError> {
        let ok_len = (3..=63).contains(&s.len());
        let ok_chars = s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok_len || !ok_chars || s.starts_with('-') || s.ends_with('-') {
            return Err(SlugError::Format);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn platform() -> Self {
        Self(PLATFORM_SLUG.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, stored lower-cased so uniqueness is case-insensitive (SPEC §5).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a valid email address")]
pub struct EmailError;

impl Email {
    pub fn parse(s: &str) -> Result<Self, EmailError> {
        let s = s.trim();
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError)?;
        let domain_ok = !domain.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(EmailError);
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    // Emails are personal data: keep them out of debug logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(…)")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slug_rules() {
        assert!(Slug::parse_registrable("acme").is_ok());
        assert!(Slug::parse_registrable("a-1").is_ok());
        assert_eq!(Slug::parse_registrable("ab"), Err(SlugError::Format));
        assert_eq!(Slug::parse_registrable("-abc"), Err(SlugError::Format));
        assert_eq!(Slug::parse_registrable("abc-"), Err(SlugError::Format));
        assert_eq!(Slug::parse_registrable("Abc"), Err(SlugError::Format));
        assert_eq!(Slug::parse_registrable(&"a".repeat(64)), Err(SlugError::Format));
        for r in RESERVED_SLUGS {
            assert_eq!(Slug::parse_registrable(r), Err(SlugError::Reserved));
            assert!(Slug::parse_any(r).is_ok());
        }
    }

    #[test]
    fn email_is_lowercased_and_validated() {
        assert_eq!(Email::parse("Ann@Example.COM").map(|e| e.0), Ok("ann@example.com".into()));
        for bad in ["", "a", "a@", "@b.c", "a@b", "a b@c.d", "a@.b", "a@b."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parsed_slugs_round_trip(s in "[a-z0-9][a-z0-9-]{1,61}[a-z0-9]") {
            let slug = Slug::parse_any(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(slug.as_str(), s.as_str());
        }

        #[test]
        fn email_parse_never_panics_and_lowercases(s in ".{0,80}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert_eq!(e.as_str().to_lowercase(), e.as_str());
            }
        }
    }
}

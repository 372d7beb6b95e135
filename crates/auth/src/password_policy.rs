//! Password policy (SPEC §6.5): the synchronous rules of a tenant's [`PasswordPolicy`] as one
//! pure function, [`check`]; the history rule as [`matches_any_history`]; and the shipped
//! offline breached-password list, [`OfflineBreachedPasswords`].
//!
//! What the caller does, in order, for a new password:
//! 1. [`check`] with the tenant's effective policy and the user's [`PolicyContext`];
//! 2. when `policy.check_breached`, [`BreachedPasswords::is_breached`]
//!    (`tessera_domain::credentials`) and, if true, [`PolicyViolation::Breached`];
//! 3. with the `policy.history` most recent hashes, [`matches_any_history`] on a blocking
//!    pool (one Argon2 verification per hash) and, if true, [`PolicyViolation::Reused`].
//!
//! Nothing here logs, and no [`PolicyViolation`], message or `Debug` output contains the
//! password.
//!
//! [`BreachedPasswords::is_breached`]: tessera_domain::credentials::BreachedPasswords::is_breached

mod breached;
mod filter;

pub use breached::OfflineBreachedPasswords;
pub use filter::{FilterError, PasswordFilter};

use tessera_domain::settings::PasswordPolicy;

use crate::password::{PasswordCheck, PasswordHasher};

/// The highest zxcvbn score.
const MAX_SCORE: u8 = 4;
/// Containment is checked only for identifiers of at least this many characters.
const MIN_CONTAINED_LEN: usize = 3;
/// zxcvbn scores this many leading characters. Its cost grows faster than linearly with the
/// length (about 4 ms at 64 random characters, 40–120 ms at 100, in a release build); a
/// prefix practically never scores higher than the whole, so the cap errs towards "too weak".
const STRENGTH_PREFIX_CHARS: usize = 64;

/// What the policy knows about the account: the user's email and full name and the tenant's
/// name and slug. Empty strings are ignored (e.g. no full name yet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyContext<'a> {
    pub email: &'a str,
    pub full_name: &'a str,
    pub tenant_name: &'a str,
    pub tenant_slug: &'a str,
}

/// A character class that [`PasswordPolicy::require_classes`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CharClass {
    /// A lower-case letter (any script with case).
    Lower,
    /// An upper-case letter (any script with case).
    Upper,
    /// A digit (any numeric character).
    Digit,
    /// Anything that is neither a letter nor a digit: punctuation, symbols, spaces.
    Symbol,
}

/// One rule a password breaks. [`Self::message`] is a sentence that can be shown to the
/// client; neither it nor `Debug` ever contains the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyViolation {
    /// Fewer than `min` characters (Unicode scalar values).
    TooShort { min: u32 },
    /// More than `max` characters (Unicode scalar values).
    TooLong { max: u32 },
    /// `require_classes` is on and the password has no character of this class.
    MissingClass(CharClass),
    /// The zxcvbn score is below the policy's minimum.
    TooWeak { score: u8, min: u8 },
    /// Contains the account's email address or its local part.
    ContainsEmail,
    /// Contains the tenant's name or slug.
    ContainsTenantName,
    /// Matches one of the account's recent passwords (see [`matches_any_history`]).
    Reused,
    /// Appears in a list of breached passwords (see [`OfflineBreachedPasswords`]).
    Breached,
}

impl PolicyViolation {
    /// A stable snake_case name, for clients that localise.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::MissingClass(CharClass::Lower) => "missing_lowercase",
            Self::MissingClass(CharClass::Upper) => "missing_uppercase",
            Self::MissingClass(CharClass::Digit) => "missing_digit",
            Self::MissingClass(CharClass::Symbol) => "missing_symbol",
            Self::TooWeak { .. } => "too_weak",
            Self::ContainsEmail => "contains_email",
            Self::ContainsTenantName => "contains_tenant_name",
            Self::Reused => "reused",
            Self::Breached => "breached",
        }
    }

    /// A sentence for the client.
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            Self::TooShort { min } => format!("must be at least {min} characters long"),
            Self::TooLong { max } => format!("must be at most {max} characters long"),
            Self::MissingClass(CharClass::Lower) => "must contain a lower-case letter".to_owned(),
            Self::MissingClass(CharClass::Upper) => "must contain an upper-case letter".to_owned(),
            Self::MissingClass(CharClass::Digit) => "must contain a digit".to_owned(),
            Self::MissingClass(CharClass::Symbol) => "must contain a symbol".to_owned(),
            Self::TooWeak { score, min } => {
                format!("is too easy to guess (strength {score} of 4, at least {min} required)")
            }
            Self::ContainsEmail => "must not contain your email address".to_owned(),
            Self::ContainsTenantName => "must not contain the organisation's name".to_owned(),
            Self::Reused => "must not be one of your recent passwords".to_owned(),
            Self::Breached => "appears in a list of breached passwords; choose another".to_owned(),
        }
    }
}

impl std::fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "password {}", self.message())
    }
}

/// Every synchronous rule of `policy` that `password` breaks, in a fixed order (length,
/// classes, containment, strength); empty when it passes. Pure: no I/O, no logging.
///
/// - Length counts Unicode scalar values (`char`s), not bytes. A password over
///   `max_length` is reported with [`PolicyViolation::TooLong`] alone, without the other
///   (costlier) rules.
/// - Classes (when `require_classes`): see [`CharClass`].
/// - Containment, case-insensitive: the whole email; its local part, and the tenant's name
///   and slug, when at least 3 characters — each also with its non-alphanumeric characters
///   removed (`acme-corp` also rejects `…AcmeCorp…`).
/// - Strength (when `min_strength > 0`): the zxcvbn score (0–4) of the password, with the
///   context's email, local part, full name, tenant name and slug (and their words) as
///   user inputs, must reach `min_strength` (values above 4 count as 4). Only the first 64
///   characters are scored (see [`strength`]).
///
/// Cost: microseconds without the strength rule; with it, zxcvbn takes up to about 10 ms
/// (release build; the first call also builds its dictionaries), so call this where the
/// password is hashed, on the blocking pool.
#[must_use]
pub fn check(password: &str, policy: &PasswordPolicy, ctx: &PolicyContext<'_>) -> Vec<PolicyViolation> {
    let mut violations = Vec::new();
    let length = password.chars().count();
    if length > usize::try_from(policy.max_length).unwrap_or(usize::MAX) {
        violations.push(PolicyViolation::TooLong { max: policy.max_length });
        return violations;
    }
    if length < usize::try_from(policy.min_length).unwrap_or(usize::MAX) {
        violations.push(PolicyViolation::TooShort { min: policy.min_length });
    }
    if policy.require_classes {
        violations.extend(missing_classes(password).into_iter().map(PolicyViolation::MissingClass));
    }
    let lower = password.to_lowercase();
    let email = ctx.email.trim().to_lowercase();
    let local = local_part(&email);
    if (!email.is_empty() && lower.contains(&email)) || contains_identifier(&lower, local) {
        violations.push(PolicyViolation::ContainsEmail);
    }
    if contains_identifier(&lower, &ctx.tenant_name.to_lowercase())
        || contains_identifier(&lower, &ctx.tenant_slug.to_lowercase())
    {
        violations.push(PolicyViolation::ContainsTenantName);
    }
    if policy.min_strength > 0 {
        let min = policy.min_strength.min(MAX_SCORE);
        let score = strength(password, ctx);
        if score < min {
            violations.push(PolicyViolation::TooWeak { score, min });
        }
    }
    violations
}

/// True when `password` verifies against one of the stored Argon2 `hashes` (the account's
/// recent passwords, see `CredentialRepository::password_history`). Blocking: one
/// verification per hash until a match, so run it on the blocking pool.
#[must_use]
pub fn matches_any_history(password: &str, hashes: &[String], hasher: &PasswordHasher) -> bool {
    hashes.iter().any(|phc| matches!(hasher.verify(password, phc), PasswordCheck::Valid { .. }))
}

/// The zxcvbn score (0–4) of the first 64 characters of `password`, with the context as
/// user inputs.
#[must_use]
pub fn strength(password: &str, ctx: &PolicyContext<'_>) -> u8 {
    let inputs = user_inputs(ctx);
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let prefix = match password.char_indices().nth(STRENGTH_PREFIX_CHARS) {
        Some((end, _)) => password.get(..end).unwrap_or(password),
        None => password,
    };
    u8::from(zxcvbn::zxcvbn(prefix, &inputs).score())
}

/// The classes `password` lacks, in [`CharClass`] order.
fn missing_classes(password: &str) -> Vec<CharClass> {
    let (mut lower, mut upper, mut digit, mut symbol) = (false, false, false, false);
    for c in password.chars() {
        if c.is_lowercase() {
            lower = true;
        } else if c.is_uppercase() {
            upper = true;
        } else if c.is_numeric() {
            digit = true;
        } else if !c.is_alphanumeric() {
            symbol = true;
        }
    }
    [(lower, CharClass::Lower), (upper, CharClass::Upper), (digit, CharClass::Digit), (symbol, CharClass::Symbol)]
        .into_iter()
        .filter(|(present, _)| !present)
        .map(|(_, class)| class)
        .collect()
}

/// The part of a (lower-cased) email before its last `@`; the whole string without one.
fn local_part(email: &str) -> &str {
    email.rsplit_once('@').map_or(email, |(local, _)| local)
}

/// Whether the lower-cased `password` contains the lower-cased `identifier`, as given or
/// with its non-alphanumeric characters removed, each only when at least 3 characters long.
fn contains_identifier(password: &str, identifier: &str) -> bool {
    let identifier = identifier.trim();
    let long_enough = |s: &str| s.chars().count() >= MIN_CONTAINED_LEN;
    if long_enough(identifier) && password.contains(identifier) {
        return true;
    }
    let compact: String = identifier.chars().filter(|c| c.is_alphanumeric()).collect();
    long_enough(&compact) && password.contains(&compact)
}

/// zxcvbn user inputs: the email, its local part, the full name, the tenant's name and slug,
/// and the words of each (split at anything not alphanumeric), non-empty and distinct.
fn user_inputs(ctx: &PolicyContext<'_>) -> Vec<String> {
    let email = ctx.email.trim().to_lowercase();
    let local = local_part(&email).to_owned();
    let mut inputs: Vec<String> = Vec::new();
    for field in [
        email.clone(),
        local,
        ctx.full_name.to_lowercase(),
        ctx.tenant_name.to_lowercase(),
        ctx.tenant_slug.to_lowercase(),
    ] {
        let field = field.trim();
        if field.is_empty() {
            continue;
        }
        inputs.push(field.to_owned());
        let field = if field == email { local_part(field) } else { field };
        inputs.extend(field.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned));
    }
    inputs.sort();
    inputs.dedup();
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::Argon2Params;

    fn policy() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 12,
            max_length: 128,
            require_classes: false,
            min_strength: 0,
            history: 5,
            max_age_days: None,
            check_breached: true,
        }
    }

    fn ctx() -> PolicyContext<'static> {
        PolicyContext {
            email: "Jane.Doe@example.com",
            full_name: "Jane Doe",
            tenant_name: "Acme Corp",
            tenant_slug: "acme-corp",
        }
    }

    fn violations(password: &str, policy: &PasswordPolicy) -> Vec<PolicyViolation> {
        check(password, policy, &ctx())
    }

    #[test]
    fn a_good_password_passes_the_default_policy() {
        assert_eq!(violations("plum-orbit-saddle-47", &policy()), vec![]);
    }

    #[test]
    fn length_bounds() {
        let p = policy();
        assert_eq!(violations("short-pw-1", &p), vec![PolicyViolation::TooShort { min: 12 }]);
        assert_eq!(violations("exactly-12ch", &p), vec![]);
        assert_eq!(violations(&"x".repeat(128), &p), vec![]);
        assert_eq!(violations(&"x".repeat(129), &p), vec![PolicyViolation::TooLong { max: 128 }]);
        assert_eq!(violations("", &p), vec![PolicyViolation::TooShort { min: 12 }]);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let p = PasswordPolicy { min_length: 8, max_length: 10, ..policy() };
        // 7 characters, 14 bytes.
        assert_eq!(violations("ßäöüéèà", &p), vec![PolicyViolation::TooShort { min: 8 }]);
        // 8 characters, 32 bytes.
        assert_eq!(violations("🔒🗝🔑🛡🔐🧱🪪📛", &p), vec![]);
        // 10 characters, 20 bytes: at the maximum.
        assert_eq!(violations("ñññññññññÑ", &p), vec![]);
        assert_eq!(violations("ñññññññññÑñ", &p), vec![PolicyViolation::TooLong { max: 10 }]);
    }

    #[test]
    fn too_long_skips_the_other_rules() {
        let p = PasswordPolicy { require_classes: true, min_strength: 4, ..policy() };
        let long = format!("{}jane.doe", "a".repeat(200));
        assert_eq!(violations(&long, &p), vec![PolicyViolation::TooLong { max: 128 }]);
    }

    #[test]
    fn character_classes_only_when_required() {
        let off = policy();
        assert_eq!(violations("alllowercaseletters", &off), vec![]);
        let on = PasswordPolicy { require_classes: true, ..policy() };
        assert_eq!(
            violations("alllowercaseletters", &on),
            vec![
                PolicyViolation::MissingClass(CharClass::Upper),
                PolicyViolation::MissingClass(CharClass::Digit),
                PolicyViolation::MissingClass(CharClass::Symbol),
            ]
        );
        assert_eq!(
            violations("ALLUPPER123456", &on),
            vec![PolicyViolation::MissingClass(CharClass::Lower), PolicyViolation::MissingClass(CharClass::Symbol)]
        );
        assert_eq!(violations("Mixed case 42 words", &on), vec![], "a space is a symbol");
        assert_eq!(violations("Ünïcödé-Wörds-7", &on), vec![]);
        assert_eq!(violations("Plum_Orbit_Saddle!47", &on), vec![]);
        assert_eq!(violations("plumorbitsaddle47X", &on), vec![PolicyViolation::MissingClass(CharClass::Symbol)]);
    }

    #[test]
    fn containing_the_email_or_its_local_part() {
        let p = policy();
        assert_eq!(violations("xx-jane.doe@example.com-xx", &p), vec![PolicyViolation::ContainsEmail]);
        assert_eq!(violations("my-JANE.DOE-password", &p), vec![PolicyViolation::ContainsEmail]);
        assert_eq!(violations("janedoe-is-my-name", &p), vec![PolicyViolation::ContainsEmail], "separators removed");
        assert_eq!(violations("jane-and-doe-together", &p), vec![]);
        // A local part under 3 characters is not checked; the whole email still is.
        let short = PolicyContext { email: "jo@example.com", ..ctx() };
        assert_eq!(check("jo-jo-jo-jo-jo-jo", &p, &short), vec![]);
        assert_eq!(check("hi-jo@example.com!", &p, &short), vec![PolicyViolation::ContainsEmail]);
    }

    #[test]
    fn containing_the_tenant_name_or_slug() {
        let p = policy();
        assert_eq!(violations("welcome-to-acme-corp", &p), vec![PolicyViolation::ContainsTenantName]);
        assert_eq!(violations("Welcome2ACME CORP!", &p), vec![PolicyViolation::ContainsTenantName]);
        assert_eq!(violations("acmecorp-rocks-2024", &p), vec![PolicyViolation::ContainsTenantName]);
        assert_eq!(violations("acme-rocks-forever", &p), vec![]);
        // Names under 3 characters are not checked.
        let tiny = PolicyContext { tenant_name: "Xy", tenant_slug: "xy", ..ctx() };
        assert_eq!(check("xy-xy-xy-xy-xy-xy", &p, &tiny), vec![]);
        let slug_only = PolicyContext { tenant_name: "", tenant_slug: "zeta", ..ctx() };
        assert_eq!(check("my-zeta-password-1", &p, &slug_only), vec![PolicyViolation::ContainsTenantName]);
        // Empty context: nothing to contain.
        assert_eq!(check("plum-orbit-saddle-47", &p, &PolicyContext::default()), vec![]);
    }

    #[test]
    fn every_violation_at_once() {
        let p = PasswordPolicy { require_classes: true, min_strength: 3, ..policy() };
        let all = violations("acmecorp", &p);
        assert_eq!(
            all[..5],
            [
                PolicyViolation::TooShort { min: 12 },
                PolicyViolation::MissingClass(CharClass::Upper),
                PolicyViolation::MissingClass(CharClass::Digit),
                PolicyViolation::MissingClass(CharClass::Symbol),
                PolicyViolation::ContainsTenantName,
            ]
        );
        assert!(matches!(all[5..], [PolicyViolation::TooWeak { score: 0..=2, min: 3 }]), "{all:?}");
    }

    #[test]
    fn strength_thresholds() {
        let p = PasswordPolicy { min_strength: 3, ..policy() };
        let weak = violations("password1234", &p);
        assert!(matches!(weak.as_slice(), [PolicyViolation::TooWeak { score, min: 3 }] if *score < 3), "{weak:?}");
        assert_eq!(violations("velvet-quasar-thimble-orchard-92", &p), vec![]);
        let max = PasswordPolicy { min_strength: 4, ..policy() };
        assert_eq!(violations("velvet-quasar-thimble-orchard-92", &max), vec![]);
        assert_eq!(violations("Gx7#qLp2!vRz9@Tm", &max), vec![]);
        // Zero turns the rule off; above 4 counts as 4.
        assert_eq!(violations("password1234", &policy()), vec![]);
        let beyond = PasswordPolicy { min_strength: 9, ..policy() };
        assert_eq!(violations("velvet-quasar-thimble-orchard-92", &beyond), vec![]);
        assert!(matches!(violations("password1234", &beyond).as_slice(), [PolicyViolation::TooWeak { min: 4, .. }]));
    }

    #[test]
    fn strength_scores_the_first_64_characters() {
        let p = PasswordPolicy { min_strength: 3, ..policy() };
        // A strong tail after 64 weak characters does not count.
        let padded = format!("{}Gx7#qLp2!vRz9@Tm", "a".repeat(64));
        assert!(matches!(violations(&padded, &p).as_slice(), [PolicyViolation::TooWeak { .. }]));
        let strong_head = format!("velvet-quasar-thimble-orchard-92{}", "a".repeat(96));
        assert_eq!(violations(&strong_head, &p), vec![]);
        let started = std::time::Instant::now();
        let stepped: String = (0..128u32).filter_map(|i| char::from_u32(33 + (i * 7) % 90)).collect();
        assert_eq!(violations(&stepped, &p), vec![]);
        // Debug build: well under the seconds a 100-character zxcvbn run can take.
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[test]
    fn strength_uses_the_context() {
        let ctx = PolicyContext {
            email: "bartholomew.quenby@example.com",
            full_name: "Bartholomew Quenby",
            tenant_name: "Zyxwort Industries",
            tenant_slug: "zyxwort",
        };
        let password = "quenbyzyxwort";
        assert!(strength(password, &ctx) < strength(password, &PolicyContext::default()));
        assert!(user_inputs(&ctx).contains(&"quenby".to_owned()));
        assert!(user_inputs(&ctx).contains(&"bartholomew.quenby@example.com".to_owned()));
        assert!(user_inputs(&PolicyContext::default()).is_empty());
    }

    #[test]
    fn messages_are_sentences_without_the_password() {
        let password = "acme-corp-jane.doe@example.com";
        let p = PasswordPolicy { require_classes: true, min_strength: 4, min_length: 64, ..policy() };
        let mut all = violations(password, &p);
        all.extend([PolicyViolation::TooLong { max: 128 }, PolicyViolation::Reused, PolicyViolation::Breached]);
        assert!(all.len() >= 7, "{all:?}");
        for v in &all {
            for text in [v.message(), v.to_string(), format!("{v:?}"), v.code().to_owned()] {
                assert!(!text.contains(password) && !text.contains("acme") && !text.contains("jane"), "{text}");
                assert!(!text.is_empty());
            }
            assert!(v.to_string().starts_with("password "));
        }
        assert_eq!(PolicyViolation::TooShort { min: 12 }.message(), "must be at least 12 characters long");
    }

    #[test]
    fn history_matches_a_previous_hash() {
        let hasher = PasswordHasher::new(Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 }).unwrap();
        let hashes = vec![
            hasher.hash("first-old-password").unwrap(),
            hasher.hash("second-old-password").unwrap(),
            "garbage".into(),
        ];
        assert!(matches_any_history("second-old-password", &hashes, &hasher));
        assert!(matches_any_history("first-old-password", &hashes, &hasher));
        assert!(!matches_any_history("a-brand-new-password", &hashes, &hasher));
        assert!(!matches_any_history("first-old-password", &[], &hasher));
    }
}

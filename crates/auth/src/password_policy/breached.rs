//! The shipped offline adapter of [`BreachedPasswords`]: a [`PasswordFilter`] of the 100 000
//! most common passwords of a public breach corpus, compiled into the binary
//! (`crates/auth/data/breached.bin`; its source, licence and regeneration are described in
//! `crates/auth/data/README.md`).
//!
//! Breach lists are case-sensitive, so a password is looked up as typed and, when that
//! differs, lower-cased (`QWERTY123` is found through `qwerty123`). Each lookup has a
//! false-positive chance of 2^-16, so a password that is not in the list is reported
//! breached with probability at most 2 × 2^-16 ≈ 3.1 × 10⁻⁵ (about 1 in 32 768; well below
//! 1 in 10 000). A password in the list is always reported.

use async_trait::async_trait;
use tessera_domain::RepoError;
use tessera_domain::credentials::BreachedPasswords;

use super::filter::{FilterError, Header, PasswordFilter, parse_header};

/// The filter built from the list described in `crates/auth/data/README.md`.
static EMBEDDED: &[u8] = EMBEDDED_BYTES;
const EMBEDDED_BYTES: &[u8] = include_bytes!("../../data/breached.bin");
/// Its header, read at compile time: a damaged file fails the build, not the server.
const EMBEDDED_HEADER: Result<Header, &str> = parse_header(EMBEDDED_BYTES);
const _: () = assert!(EMBEDDED_HEADER.is_ok(), "crates/auth/data/breached.bin is not a valid password filter");

/// Known-breached passwords from a [`PasswordFilter`] (232 KiB for the embedded list, read in
/// place from the binary). Lookups are synchronous and take a few microseconds; the async port
/// method never fails. `Debug` shows only the list's size.
#[derive(Clone)]
pub struct OfflineBreachedPasswords {
    filter: std::sync::Arc<PasswordFilter>,
}

impl std::fmt::Debug for OfflineBreachedPasswords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineBreachedPasswords").field("entries", &self.filter.len()).finish_non_exhaustive()
    }
}

impl OfflineBreachedPasswords {
    /// The list shipped with the binary, used in place (no copy, no parsing beyond the
    /// header, which the build has already checked; a test checks its checksum). Cheap: call
    /// it wherever a list is needed.
    #[must_use]
    pub fn embedded() -> Self {
        match EMBEDDED_HEADER {
            Ok(header) => Self::from_filter(PasswordFilter::from_checked_static(header, EMBEDDED)),
            // Unreachable: the `const` assertion above refuses to compile a damaged file.
            Err(_) => Self::from_filter(PasswordFilter::default()),
        }
    }

    /// A filter in [`PasswordFilter::to_bytes`]'s format, e.g. a larger list of one's own.
    ///
    /// # Errors
    /// [`FilterError::Format`] when the bytes are not such a filter.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FilterError> {
        PasswordFilter::from_bytes(bytes).map(Self::from_filter)
    }

    #[must_use]
    pub fn from_filter(filter: PasswordFilter) -> Self {
        Self { filter: std::sync::Arc::new(filter) }
    }

    /// How many distinct passwords the list holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.filter.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.filter.is_empty()
    }

    /// The synchronous lookup behind [`BreachedPasswords::is_breached`]: the password as
    /// typed, then lower-cased when that differs.
    #[must_use]
    pub fn contains(&self, password: &str) -> bool {
        if self.filter.contains(password) {
            return true;
        }
        let lower = password.to_lowercase();
        lower != password && self.filter.contains(&lower)
    }
}

#[async_trait]
impl BreachedPasswords for OfflineBreachedPasswords {
    async fn is_breached(&self, password: &str) -> Result<bool, RepoError> {
        Ok(self.contains(password))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Enough of an executor for a future that never waits.
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
                return value;
            }
        }
    }

    fn embedded() -> OfflineBreachedPasswords {
        OfflineBreachedPasswords::embedded()
    }

    /// Twenty-one entries of the source list (`common-credentials-100k.txt`, see
    /// `data/README.md`): lines 1, 5 001, 10 001, …, 95 001 and the last, 100 000.
    const SAMPLED: [&str; 21] = [
        "123456",
        "123455",
        "blue23",
        "dumb",
        "06041982",
        "1789",
        "091083",
        "shellie",
        "260286",
        "1Arthur",
        "catering",
        "030593",
        "Omega1",
        "Marines1",
        "peacemaker",
        "vlad2011",
        "24072004",
        "hummingb",
        "03061964",
        "explor",
        "070162",
    ];

    #[test]
    fn embedded_list_holds_one_hundred_thousand_passwords() {
        let list = embedded();
        assert_eq!(list.len(), 100_000);
        // Small enough to ship: ≲ 512 KiB.
        assert!(EMBEDDED.len() < 300 * 1024, "{}", EMBEDDED.len());
        // The checksum holds, the bytes round-trip exactly, and the in-place filter is the
        // same as a checked copy.
        let checked = PasswordFilter::from_bytes(EMBEDDED).unwrap();
        assert_eq!(checked.to_bytes(), EMBEDDED);
        assert_eq!(PasswordFilter::from_static(EMBEDDED).unwrap(), checked);
        assert_eq!(*list.filter, checked);
        assert_eq!(OfflineBreachedPasswords::from_bytes(EMBEDDED).unwrap().len(), 100_000);
    }

    #[test]
    fn well_known_passwords_are_breached() {
        let list = embedded();
        for password in ["123456", "password", "qwerty123", "12345678", "iloveyou", "letmein", "dragon"] {
            assert!(list.contains(password), "{password}");
            assert!(block_on(list.is_breached(password)).unwrap(), "{password}");
        }
    }

    #[test]
    fn sampled_list_entries_are_breached() {
        let list = embedded();
        for password in SAMPLED {
            assert!(list.contains(password), "{password}");
        }
    }

    #[test]
    fn upper_case_variants_are_found_through_their_lower_case_form() {
        let list = embedded();
        assert!(list.contains("PASSWORD"));
        assert!(list.contains("Password"));
        assert!(list.contains("QWERTY123"));
        // Mixed-case entries are found as typed.
        assert!(list.contains("1Arthur"));
        assert!(list.contains("Omega1"));
    }

    #[test]
    fn random_strings_are_not_breached() {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&*+-=?@^_~";
        let mut state = 0x5eed_u64;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let list = embedded();
        let false_positives = (0..1_000)
            .filter(|_| {
                let password: String =
                    (0..20).map(|_| char::from(ALPHABET[(next() % ALPHABET.len() as u64) as usize])).collect();
                list.contains(&password)
            })
            .count();
        assert!(false_positives <= 1, "{false_positives}");
        assert!(!block_on(list.is_breached("Vq7#mTz!pL2w@Rk9-xY4")).unwrap());
    }

    #[test]
    fn debug_names_no_password() {
        let list = OfflineBreachedPasswords::from_filter(PasswordFilter::build(["hunter2-very-secret"]).unwrap());
        assert!(list.contains("hunter2-very-secret"));
        let debug = format!("{list:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        let debug = format!("{:?}", embedded());
        assert!(!debug.contains("123456") && !debug.contains("password"), "{debug}");
    }
}

//! A compact, static set of passwords: a 3-wise binary fuse filter with 16-bit fingerprints
//! (Graf & Lemire, "Binary Fuse Filters: Fast and Smaller Than Xor Filters", 2022).
//!
//! - Membership answers are never false negatives for the passwords the filter was built
//!   from; a password that was not among them is reported present with probability 2^-16
//!   (about 1 in 65 536, 1.5 × 10⁻⁵) per lookup.
//! - Size: about 1.13–1.2 × 16 bits per password (≈ 19 bits for 100 000 passwords).
//! - A password is reduced to a 64-bit key, the first 8 bytes (little-endian) of its
//!   SHA-256, then placed by the filter's seeded hash. Only fingerprints are stored: the
//!   passwords themselves cannot be read back from a filter.
//!
//! # Byte format (version 1, all integers little-endian)
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `TBFUSE16` |
//! | 8 | 4 | format version, `1` |
//! | 12 | 4 | number of distinct passwords the filter holds |
//! | 16 | 8 | seed |
//! | 24 | 4 | segment length (a power of two, 4 ..= 262 144) |
//! | 28 | 4 | segment count (≥ 1) |
//! | 32 | 2 × (segment count + 2) × segment length | fingerprints, `u16` each |
//! | end − 8 | 8 | the first 8 bytes of SHA-256 of every byte before it |

use std::borrow::Cow;

use sha2::{Digest as _, Sha256};

const MAGIC: &[u8; 8] = b"TBFUSE16";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 32;
const CHECKSUM_LEN: usize = 8;
const ARITY: u32 = 3;
const MAX_SEGMENT_LENGTH: u32 = 1 << 18;
const MIN_SEGMENT_LENGTH: u32 = 4;
/// Construction retries with a fresh seed; each attempt fails with small probability, so
/// reaching this bound means the input cannot be placed (never seen for distinct keys).
const MAX_ATTEMPTS: u32 = 100;
/// Keeps every size computation within `u32` (the fingerprint array stays below 2^32).
const MAX_ENTRIES: usize = 1 << 30;

/// Why a filter could not be built or read. Says what is wrong with the data, never what
/// the data is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The bytes are not a filter of the supported format; the text names the defect.
    #[error("invalid password filter: {0}")]
    Format(&'static str),
    /// The input holds more passwords than a filter can.
    #[error("too many passwords for one filter")]
    TooLarge,
    /// No seed placed every key (only conceivable for adversarial inputs).
    #[error("password filter construction failed")]
    Construction,
}

/// A static set of passwords with a false-positive rate of 2^-16 per lookup; see the
/// module documentation. The fingerprints stay in their little-endian byte form, so a
/// filter over `'static` bytes (the embedded list) is used in place without copying.
/// `Debug` shows only its size.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordFilter {
    header: Header,
    /// `2 × array_length` bytes: the fingerprints, `u16` little-endian.
    fingerprints: Cow<'static, [u8]>,
}

impl std::fmt::Debug for PasswordFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordFilter")
            .field("entries", &self.header.entries)
            .field("bytes", &(HEADER_LEN + self.fingerprints.len() + CHECKSUM_LEN))
            .finish_non_exhaustive()
    }
}

/// The empty filter (nothing is present, up to the 2^-16 false-positive rate).
impl Default for PasswordFilter {
    fn default() -> Self {
        let header = Header { entries: 0, seed: 0, segment_length: MIN_SEGMENT_LENGTH, segment_count: 1 };
        Self { header, fingerprints: Cow::Owned(vec![0; 2 * (ARITY * MIN_SEGMENT_LENGTH) as usize]) }
    }
}

/// The fixed-size part of the byte format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    entries: u32,
    seed: u64,
    segment_length: u32,
    segment_count: u32,
}

const fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Reads and checks the header of `bytes` (a whole filter, checksum included) and the
/// length it implies; the checksum itself is left to the caller. A `const fn`, so that
/// the embedded filter is checked at compile time.
pub(super) const fn parse_header(bytes: &[u8]) -> Result<Header, &'static str> {
    if bytes.len() < HEADER_LEN + CHECKSUM_LEN {
        return Err("truncated");
    }
    let mut i = 0;
    while i < MAGIC.len() {
        if bytes[i] != MAGIC[i] {
            return Err("not a password filter");
        }
        i += 1;
    }
    if u32_at(bytes, 8) != VERSION {
        return Err("unsupported version");
    }
    let entries = u32_at(bytes, 12);
    let seed = (u32_at(bytes, 16) as u64) | ((u32_at(bytes, 20) as u64) << 32);
    let segment_length = u32_at(bytes, 24);
    let segment_count = u32_at(bytes, 28);
    if !segment_length.is_power_of_two() || segment_length < MIN_SEGMENT_LENGTH || segment_length > MAX_SEGMENT_LENGTH {
        return Err("bad segment length");
    }
    let array_length = match segment_count.checked_add(ARITY - 1) {
        Some(segments) if segment_count >= 1 => segments.checked_mul(segment_length),
        _ => None,
    };
    let Some(array_length) = array_length else {
        return Err("bad segment count");
    };
    if bytes.len() != HEADER_LEN + 2 * array_length as usize + CHECKSUM_LEN {
        return Err("length does not match the header");
    }
    Ok(Header { entries, seed, segment_length, segment_count })
}

/// The 64-bit key of a password: the first 8 bytes of its SHA-256, little-endian.
fn password_key(password: &str) -> u64 {
    let digest = Sha256::digest(password.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// MurmurHash3's 64-bit finalizer: a bijection on `u64`, so distinct keys keep distinct hashes.
fn murmur64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn fingerprint(hash: u64) -> u16 {
    // Truncation intended: the low 16 bits of the folded hash.
    (hash ^ (hash >> 32)) as u16
}

/// Segment geometry for `n` keys, as in the reference implementation (arity 3).
fn layout(n: usize) -> (u32, u32) {
    // n ≤ 2^30: exact in f64.
    let size = n as f64;
    let segment_length = if n == 0 {
        MIN_SEGMENT_LENGTH
    } else {
        // floor(log_3.33(n) + 2.25), at least 2 (n ≥ 1), clamped to 18.
        let shift = ((size.ln() / 3.33_f64.ln() + 2.25).floor() as u32).clamp(2, 18);
        (1u32 << shift).clamp(MIN_SEGMENT_LENGTH, MAX_SEGMENT_LENGTH)
    };
    let capacity = if n <= 1 {
        0
    } else {
        let factor = f64::max(1.125, 0.875 + 0.25 * 1_000_000f64.ln() / size.ln());
        (size * factor).round() as u64
    };
    let segments = capacity.div_ceil(u64::from(segment_length)).saturating_sub(u64::from(ARITY - 1)).max(1);
    (segment_length, u32::try_from(segments).unwrap_or(u32::MAX))
}

/// The filter geometry that turns a hash into its three slots.
#[derive(Clone, Copy)]
struct Geometry {
    segment_length: u32,
    segment_length_mask: u32,
    segment_count_length: u32,
}

impl Geometry {
    fn new(segment_length: u32, segment_count: u32) -> Self {
        Self {
            segment_length,
            segment_length_mask: segment_length - 1,
            segment_count_length: segment_count * segment_length,
        }
    }

    /// The three slots of `hash`: one in each of three consecutive segments, so distinct.
    fn slots(self, hash: u64) -> [usize; 3] {
        // mulhi(hash, segment_count_length) < segment_count_length, which fits in u32.
        let h0 = ((u128::from(hash) * u128::from(self.segment_count_length)) >> 64) as u32;
        let h1 = (h0 + self.segment_length) ^ ((hash >> 18) as u32 & self.segment_length_mask);
        let h2 = (h0 + 2 * self.segment_length) ^ (hash as u32 & self.segment_length_mask);
        [h0 as usize, h1 as usize, h2 as usize]
    }
}

impl PasswordFilter {
    /// Builds a filter holding `passwords` (byte-exact; duplicates are counted once).
    ///
    /// # Errors
    /// [`FilterError::TooLarge`] beyond 2^30 distinct passwords; [`FilterError::Construction`]
    /// if no seed places every key.
    pub fn build<'a>(passwords: impl IntoIterator<Item = &'a str>) -> Result<Self, FilterError> {
        let mut keys: Vec<u64> = passwords.into_iter().map(password_key).collect();
        keys.sort_unstable();
        keys.dedup();
        Self::from_keys(&keys)
    }

    /// Builds from distinct 64-bit keys.
    fn from_keys(keys: &[u64]) -> Result<Self, FilterError> {
        if keys.len() > MAX_ENTRIES {
            return Err(FilterError::TooLarge);
        }
        let entries = u32::try_from(keys.len()).map_err(|_| FilterError::TooLarge)?;
        let (segment_length, segment_count) = layout(keys.len());
        let geometry = Geometry::new(segment_length, segment_count);
        let array_length = ((segment_count + ARITY - 1) * segment_length) as usize;

        let mut counts = vec![0u32; array_length];
        let mut xors = vec![0u64; array_length];
        let mut queue: Vec<usize> = Vec::with_capacity(array_length);
        let mut stack: Vec<(u64, usize)> = Vec::with_capacity(keys.len());
        // A fixed starting state: building the same input twice gives the same bytes.
        let mut rng = 0x726b_2b9d_438b_9d4d_u64;
        for _ in 0..MAX_ATTEMPTS {
            let seed = splitmix64(&mut rng);
            counts.fill(0);
            xors.fill(0);
            queue.clear();
            stack.clear();
            for &key in keys {
                let hash = murmur64(key.wrapping_add(seed));
                for slot in geometry.slots(hash) {
                    counts[slot] += 1;
                    xors[slot] ^= hash;
                }
            }
            queue.extend((0..array_length).filter(|&slot| counts[slot] == 1));
            // Peel: a slot used by exactly one key can be assigned last for that key.
            while let Some(slot) = queue.pop() {
                if counts[slot] != 1 {
                    continue;
                }
                let hash = xors[slot];
                stack.push((hash, slot));
                for other in geometry.slots(hash) {
                    counts[other] -= 1;
                    xors[other] ^= hash;
                    if counts[other] == 1 {
                        queue.push(other);
                    }
                }
            }
            if stack.len() != keys.len() {
                continue;
            }
            let mut fingerprints = vec![0u16; array_length];
            for &(hash, slot) in stack.iter().rev() {
                // `slot` is still 0 here and is one of the three, so this makes their XOR
                // equal the key's fingerprint.
                let [a, b, c] = geometry.slots(hash);
                fingerprints[slot] = fingerprint(hash) ^ fingerprints[a] ^ fingerprints[b] ^ fingerprints[c];
            }
            let fingerprints = fingerprints.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
            let header = Header { entries, seed, segment_length, segment_count };
            return Ok(Self { header, fingerprints: Cow::Owned(fingerprints) });
        }
        Err(FilterError::Construction)
    }

    /// True when `password` (byte-exact) is in the set, or, with probability 2^-16, when it
    /// is not.
    #[must_use]
    pub fn contains(&self, password: &str) -> bool {
        let hash = murmur64(password_key(password).wrapping_add(self.header.seed));
        let geometry = Geometry::new(self.header.segment_length, self.header.segment_count);
        let mut folded = fingerprint(hash);
        for slot in geometry.slots(hash) {
            // In bounds by construction and by `parse_header`'s length check; a miss would
            // only mean "absent".
            match self.fingerprints.get(2 * slot..2 * slot + 2) {
                Some(&[lo, hi]) => folded ^= u16::from_le_bytes([lo, hi]),
                _ => return false,
            }
        }
        folded == 0
    }

    /// How many distinct passwords the filter was built from.
    #[must_use]
    pub fn len(&self) -> usize {
        self.header.entries as usize
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.header.entries == 0
    }

    /// The filter in the byte format of the module documentation.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.fingerprints.len() + CHECKSUM_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.header.entries.to_le_bytes());
        out.extend_from_slice(&self.header.seed.to_le_bytes());
        out.extend_from_slice(&self.header.segment_length.to_le_bytes());
        out.extend_from_slice(&self.header.segment_count.to_le_bytes());
        out.extend_from_slice(&self.fingerprints);
        let checksum = Sha256::digest(&out);
        out.extend_from_slice(&checksum[..CHECKSUM_LEN]);
        out
    }

    /// Reads a filter written by [`Self::to_bytes`] (copying its fingerprints).
    ///
    /// # Errors
    /// [`FilterError::Format`] when the magic, version, geometry, length or checksum is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FilterError> {
        let header = Self::verify(bytes)?;
        Ok(Self { header, fingerprints: Cow::Owned(Self::fingerprint_bytes(bytes).to_vec()) })
    }

    /// [`Self::from_bytes`] without the copy, for bytes that live forever (`include_bytes!`).
    ///
    /// # Errors
    /// As [`Self::from_bytes`].
    pub fn from_static(bytes: &'static [u8]) -> Result<Self, FilterError> {
        let header = Self::verify(bytes)?;
        Ok(Self { header, fingerprints: Cow::Borrowed(Self::fingerprint_bytes(bytes)) })
    }

    /// A filter over `bytes` whose header `parse_header` has accepted, without the checksum
    /// pass (about 0.2 ms for the embedded list): for the compile-time-checked embedded
    /// filter, whose checksum a test verifies.
    pub(super) fn from_checked_static(header: Header, bytes: &'static [u8]) -> Self {
        Self { header, fingerprints: Cow::Borrowed(Self::fingerprint_bytes(bytes)) }
    }

    fn verify(bytes: &[u8]) -> Result<Header, FilterError> {
        let header = parse_header(bytes).map_err(FilterError::Format)?;
        let (body, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
        if Sha256::digest(body)[..CHECKSUM_LEN] != *checksum {
            return Err(FilterError::Format("checksum mismatch"));
        }
        Ok(header)
    }

    /// The fingerprint bytes of a filter whose header has been parsed (so long enough).
    fn fingerprint_bytes(bytes: &[u8]) -> &[u8] {
        bytes.get(HEADER_LEN..bytes.len().saturating_sub(CHECKSUM_LEN)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("entry-{i}")).collect()
    }

    #[test]
    fn every_member_is_found() {
        for n in [0, 1, 2, 3, 10, 100, 1_000, 20_000] {
            let words = sample(n);
            let filter = PasswordFilter::build(words.iter().map(String::as_str)).unwrap();
            assert_eq!(filter.len(), n);
            assert!(words.iter().all(|w| filter.contains(w)), "n = {n}");
        }
    }

    #[test]
    fn false_positive_rate_is_about_two_to_the_minus_sixteen() {
        let words = sample(50_000);
        let filter = PasswordFilter::build(words.iter().map(String::as_str)).unwrap();
        let false_positives = (0..200_000).filter(|i| filter.contains(&format!("absent-{i}"))).count();
        // Expected 200 000 / 65 536 ≈ 3.
        assert!(false_positives <= 15, "{false_positives}");
        // ≈ 19 bits per entry at this size.
        assert!(filter.to_bytes().len() * 8 < 50_000 * 20, "{}", filter.to_bytes().len());
    }

    #[test]
    fn duplicates_count_once_and_case_matters() {
        let filter = PasswordFilter::build(["Secret", "Secret", "other"]).unwrap();
        assert_eq!(filter.len(), 2);
        assert!(filter.contains("Secret"));
        assert!(!filter.contains("secret"));
    }

    #[test]
    fn building_is_deterministic() {
        let words = sample(1_000);
        let a = PasswordFilter::build(words.iter().map(String::as_str)).unwrap();
        let b = PasswordFilter::build(words.iter().rev().map(String::as_str)).unwrap();
        assert_eq!(a.to_bytes(), b.to_bytes());
    }

    #[test]
    fn bytes_round_trip() {
        let words = sample(5_000);
        let filter = PasswordFilter::build(words.iter().map(String::as_str)).unwrap();
        let bytes = filter.to_bytes();
        assert_eq!(&bytes[..8], b"TBFUSE16");
        let back = PasswordFilter::from_bytes(&bytes).unwrap();
        assert_eq!(back, filter);
        assert_eq!(back.to_bytes(), bytes);
        assert!(words.iter().all(|w| back.contains(w)));
        let empty = PasswordFilter::build([]).unwrap();
        assert_eq!(PasswordFilter::from_bytes(&empty.to_bytes()).unwrap(), empty);
        let default = PasswordFilter::default();
        assert!(default.is_empty());
        assert_eq!(PasswordFilter::from_bytes(&default.to_bytes()).unwrap(), default);
        let leaked: &'static [u8] = Box::leak(bytes.clone().into_boxed_slice());
        assert_eq!(PasswordFilter::from_static(leaked).unwrap(), filter);
    }

    #[test]
    fn damaged_bytes_are_rejected() {
        let filter = PasswordFilter::build(["a", "b", "c"]).unwrap();
        let bytes = filter.to_bytes();
        assert_eq!(PasswordFilter::from_bytes(&[]), Err(FilterError::Format("truncated")));
        assert_eq!(
            PasswordFilter::from_bytes(&bytes[..bytes.len() - 1]),
            Err(FilterError::Format("length does not match the header"))
        );
        let mut flipped = bytes.clone();
        flipped[HEADER_LEN + 3] ^= 0x40;
        assert_eq!(PasswordFilter::from_bytes(&flipped), Err(FilterError::Format("checksum mismatch")));

        // Well-formed checksums over bad headers.
        let reseal = |mut body: Vec<u8>| {
            body.truncate(body.len() - CHECKSUM_LEN);
            let sum = Sha256::digest(&body);
            body.extend_from_slice(&sum[..CHECKSUM_LEN]);
            body
        };
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert_eq!(PasswordFilter::from_bytes(&reseal(magic)), Err(FilterError::Format("not a password filter")));
        let mut version = bytes.clone();
        version[8] = 2;
        assert_eq!(PasswordFilter::from_bytes(&reseal(version)), Err(FilterError::Format("unsupported version")));
        let mut segment = bytes.clone();
        segment[24..28].copy_from_slice(&3u32.to_le_bytes());
        assert_eq!(PasswordFilter::from_bytes(&reseal(segment)), Err(FilterError::Format("bad segment length")));
        let mut count = bytes.clone();
        count[28..32].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(PasswordFilter::from_bytes(&reseal(count)), Err(FilterError::Format("bad segment count")));
        let mut count = bytes.clone();
        count[28..32].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(
            PasswordFilter::from_bytes(&reseal(count)),
            Err(FilterError::Format("length does not match the header"))
        );
    }

    #[test]
    fn debug_shows_no_members() {
        let filter = PasswordFilter::build(["hunter2-very-secret"]).unwrap();
        let debug = format!("{filter:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("entries: 1"), "{debug}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn members_are_always_found(words in proptest::collection::vec(".{0,24}", 0..300)) {
            let filter = PasswordFilter::build(words.iter().map(String::as_str)).unwrap();
            for w in &words {
                prop_assert!(filter.contains(w));
            }
            let back = PasswordFilter::from_bytes(&filter.to_bytes()).unwrap();
            prop_assert_eq!(back, filter);
        }
    }
}

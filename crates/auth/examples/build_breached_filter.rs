//! Builds the offline breached-password filter (`crates/auth/data/breached.bin`) from a text
//! list with one password per line, most common first. See `crates/auth/data/README.md`.
//!
//! ```text
//! cargo run -p tessera-auth --example build_breached_filter -- \
//!     LIST.txt [crates/auth/data/breached.bin] [--limit 100000]
//! ```
//!
//! Lines are taken byte-exact apart from a trailing `\r`; empty lines are skipped; only the
//! first `--limit` non-empty lines are used (all by default). The output is deterministic:
//! the same list gives the same bytes.

use std::error::Error;
use std::path::PathBuf;

use tessera_auth::password_policy::PasswordFilter;

const DEFAULT_OUTPUT: &str = "crates/auth/data/breached.bin";

fn main() -> Result<(), Box<dyn Error>> {
    let mut positional = Vec::new();
    let mut limit = usize::MAX;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--limit" {
            limit = args.next().ok_or("--limit needs a number")?.parse()?;
        } else {
            positional.push(arg);
        }
    }
    let input = positional.first().ok_or("usage: build_breached_filter LIST.txt [OUTPUT] [--limit N]")?;
    let output = PathBuf::from(positional.get(1).map_or(DEFAULT_OUTPUT, String::as_str));

    let bytes = std::fs::read(input)?;
    let text = String::from_utf8(bytes).map_err(|_| "the list is not UTF-8")?;
    let passwords: Vec<&str> = text
        .lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|l| !l.is_empty())
        .take(limit)
        .collect();

    let filter = PasswordFilter::build(passwords.iter().copied())?;
    let encoded = filter.to_bytes();
    // Never ship a filter that misses one of its own entries.
    let back = PasswordFilter::from_bytes(&encoded)?;
    if !passwords.iter().all(|p| back.contains(p)) {
        return Err("the built filter misses an entry".into());
    }
    std::fs::write(&output, &encoded)?;
    println!(
        "{} lines read, {} distinct passwords, {} bytes ({:.2} bits per password) written to {}",
        passwords.len(),
        filter.len(),
        encoded.len(),
        encoded.len() as f64 * 8.0 / filter.len().max(1) as f64,
        output.display()
    );
    Ok(())
}

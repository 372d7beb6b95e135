//! The JSON files the harness passes between steps: the seed (ids and tokens), one result
//! per measured run, RSS samples, the Argon2 timing — and the helpers that read and write them.

use anyhow::Context;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::BTreeMap;
use std::path::Path;
use uuid::Uuid;

/// What `seed` created: every tenant with its admin's access token and its users.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedFile {
    /// The password every seeded user has.
    pub password: String,
    pub tenants: Vec<SeedTenant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedTenant {
    pub id: Uuid,
    pub slug: String,
    pub admin_email: String,
    /// An access token of the tenant's admin (15 min; `tokens` renews them).
    pub admin_token: String,
    /// Every user of the tenant, the admin first.
    pub users: Vec<SeedUser>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedUser {
    pub id: Uuid,
    pub email: String,
    pub role: String,
}

impl SeedFile {
    pub fn user_count(&self) -> usize {
        self.tenants.iter().map(|t| t.users.len()).sum()
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// A process watched during a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessStats {
    pub label: String,
    pub pid: u32,
    /// Highest VmRSS seen while the measured phase ran.
    pub rss_max_kib: u64,
    pub rss_mean_kib: u64,
    /// CPU time used during the measured phase ÷ its wall time (1.0 = one core busy).
    pub cpu_cores_used: f64,
}

/// One measured run of one scenario against one server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub kind: String,
    pub backend: String,
    pub system: String,
    pub scenario: String,
    /// `closed` (fixed concurrency) or `open` (fixed arrival rate).
    pub mode: String,
    pub concurrency: usize,
    /// Requests per second asked for (open loop only).
    pub target_rate: Option<f64>,
    pub warmup_s: f64,
    /// Wall time of the measured phase.
    pub measured_s: f64,
    pub requests_ok: u64,
    pub requests_failed: u64,
    /// Failures by kind: HTTP status (`status_401`) or client error (`timeout`, `connect`, …).
    pub errors: BTreeMap<String, u64>,
    /// A few failure descriptions, for diagnosis.
    pub error_samples: Vec<String>,
    /// Successful requests per second of the measured phase.
    pub throughput: f64,
    /// Of successful requests; open loop measures from the intended start (no coordinated omission).
    pub latency_ms: Latency,
    /// Open loop: how late requests were sent after their due time (timer granularity is
    /// ~1 ms; more means every slot was busy, i.e. the server did not keep up with the rate).
    pub schedule_lag_ms: Option<Latency>,
    /// The load generator itself: CPU cores it used and how many runtime threads it had.
    pub client_cpu_cores_used: f64,
    pub client_threads: usize,
    pub processes: Vec<ProcessStats>,
}

/// One RSS reading (`rss` subcommand).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RssSample {
    pub kind: String,
    pub backend: String,
    pub system: String,
    /// e.g. `idle` (just started, seeded data present) or `idle-after-load`.
    pub label: String,
    pub pid: u32,
    pub rss_kib: u64,
}

/// The Argon2id time at the server's parameters (`argon2` subcommand): `hash_ms_*` and
/// `verify_ms_*` through the server's hasher, `compute_ms_*` the bare computation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Argon2Timing {
    pub kind: String,
    /// The backend run it was taken for (taken right before its login scenario), if any.
    #[serde(default)]
    pub backend: Option<String>,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub samples: usize,
    pub hash_ms_median: f64,
    pub hash_ms_min: f64,
    pub hash_ms_mean: f64,
    pub verify_ms_median: f64,
    /// The bare computation into reused memory (the physical bound).
    pub compute_ms_median: f64,
    pub compute_ms_min: f64,
}

pub fn read_json<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

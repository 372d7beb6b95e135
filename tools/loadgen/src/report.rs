//! `report`: gathers the per-step JSON files of one benchmark run into `results.json`,
//! computes the ratios SPEC §16 asks for, and prints them as tables.

use crate::model::{Argon2Timing, RssSample, RunResult, read_json, write_json};
use anyhow::Context;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct ReportSpec {
    pub dir: PathBuf,
    pub out: PathBuf,
    pub mode: String,
    /// CPU list the servers were pinned to (`taskset -c`), empty when not pinned.
    pub server_cpus: String,
    pub client_cpus: String,
    /// How many cores the server could use (the Argon2 bound and refresh/s per core use it).
    pub server_cores: f64,
}

#[derive(Default)]
struct Backend {
    runs: Vec<RunResult>,
    rss: Vec<RssSample>,
}

const MIB: f64 = 1024.0;

pub fn report(spec: &ReportSpec) -> anyhow::Result<String> {
    let mut backends: BTreeMap<String, Backend> = BTreeMap::new();
    let mut argon2: Vec<Argon2Timing> = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&spec.dir)
        .with_context(|| format!("reading {}", spec.dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for path in &files {
        let value: Value = read_json(path)?;
        match value.get("kind").and_then(Value::as_str) {
            Some("run") => {
                let run: RunResult = serde_json::from_value(value).with_context(|| format!("{}", path.display()))?;
                backends.entry(run.backend.clone()).or_default().runs.push(run);
            }
            Some("rss") => {
                let rss: RssSample = serde_json::from_value(value).with_context(|| format!("{}", path.display()))?;
                backends.entry(rss.backend.clone()).or_default().rss.push(rss);
            }
            Some("argon2") => {
                argon2.push(serde_json::from_value(value).with_context(|| format!("{}", path.display()))?)
            }
            _ => {}
        }
    }
    let mut out_backends = serde_json::Map::new();
    let mut text = String::new();
    for (name, backend) in &backends {
        let timing = argon2.iter().find(|a| a.backend.as_deref() == Some(name.as_str())).or_else(|| argon2.first());
        let summary = summarize(backend, timing, spec.server_cores);
        text.push_str(&runs_table(name, &backend.runs, spec.server_cores));
        text.push_str(&summary_table(name, &summary));
        out_backends.insert(name.clone(), json!({ "summary": summary, "runs": backend.runs, "rss": backend.rss }));
    }
    let results = json!({
        "kind": "bench-results",
        "generated_at": chrono::Utc::now().to_rfc3339(),
        "mode": spec.mode,
        "machine": machine(spec),
        "argon2": argon2,
        "backends": out_backends,
    });
    write_json(&spec.out, &results)?;
    for a in &argon2 {
        let _ = writeln!(
            text,
            "Argon2id ({}) m={} KiB t={} p={}: compute {:.1} ms, server hasher: hash {:.1} ms, verify {:.1} ms (medians of {}); bound = {} core(s) / compute time = {:.1} logins/s",
            a.backend.as_deref().unwrap_or("-"),
            a.memory_kib,
            a.iterations,
            a.parallelism,
            a.compute_ms_median,
            a.hash_ms_median,
            a.verify_ms_median,
            a.samples,
            spec.server_cores,
            spec.server_cores / (a.compute_ms_median / 1000.0)
        );
    }
    let _ = writeln!(text, "results: {}", spec.out.display());
    Ok(text)
}

fn find<'a>(runs: &'a [RunResult], system: &str, scenario: &str, mode: &str) -> Option<&'a RunResult> {
    runs.iter().find(|r| r.system == system && r.scenario == scenario && r.mode == mode)
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0 && a.is_finite()).then(|| a / b)
}

fn summarize(b: &Backend, argon2: Option<&Argon2Timing>, server_cores: f64) -> Value {
    let hash_s = argon2.map(|a| a.compute_ms_median / 1000.0);
    let tessera = find(&b.runs, "tessera", "read-user", "closed");
    let baseline = find(&b.runs, "baseline", "baseline-read", "closed");
    let open = find(&b.runs, "tessera", "read-user", "open");
    let login = find(&b.runs, "tessera", "login", "closed");
    let refresh = find(&b.runs, "tessera", "refresh-chain", "closed");
    let read = |r: Option<&RunResult>| {
        r.map(|r| {
            json!({
                "throughput": r.throughput, "p50_ms": r.latency_ms.p50, "p99_ms": r.latency_ms.p99,
                "concurrency": r.concurrency, "failed": r.requests_failed, "server_cpu": server_cpu(r),
                "per_cpu_second": per_cpu_second(r),
            })
        })
    };
    let both = tessera.zip(baseline);
    let bound = hash_s.filter(|h| *h > 0.0).map(|h| server_cores / h);
    let rss = |label: &str, system: &str| {
        b.rss.iter().find(|s| s.label == label && s.system == system).map(|s| s.rss_kib as f64 / MIB)
    };
    let peak = b
        .runs
        .iter()
        .filter(|r| r.system == "tessera")
        .flat_map(|r| r.processes.iter().filter(|p| p.label == "tessera").map(|p| p.rss_max_kib))
        .max()
        .map(|k| k as f64 / MIB);
    json!({
        "tessera_read": read(tessera),
        "baseline_read": read(baseline),
        "read_throughput_ratio": both.and_then(|(t, b)| ratio(t.throughput, b.throughput)),
        "read_per_cpu_second_ratio": both.and_then(|(t, b)| ratio(per_cpu_second(t)?, per_cpu_second(b)?)),
        "read_p50_ratio": both.and_then(|(t, b)| ratio(t.latency_ms.p50, b.latency_ms.p50)),
        "read_p99_ratio": both.and_then(|(t, b)| ratio(t.latency_ms.p99, b.latency_ms.p99)),
        "read_open_loop": open.map(|r| json!({
            "rate": r.target_rate, "throughput": r.throughput, "p50_ms": r.latency_ms.p50,
            "p99_ms": r.latency_ms.p99, "schedule_lag_p99_ms": r.schedule_lag_ms.as_ref().map(|l| l.p99),
        })),
        "login_per_s": login.map(|r| r.throughput),
        "login_p99_ms": login.map(|r| r.latency_ms.p99),
        "login_server_cpu": login.and_then(server_cpu),
        "argon2_compute_ms": argon2.map(|a| a.compute_ms_median),
        "argon2_compute_ms_min": argon2.map(|a| a.compute_ms_min),
        "argon2_hash_ms": argon2.map(|a| a.hash_ms_median),
        "argon2_verify_ms": argon2.map(|a| a.verify_ms_median),
        "argon2_bound_per_s": bound,
        "login_bound_ratio": login.zip(bound).and_then(|(l, b)| ratio(l.throughput, b)),
        "refresh_per_s": refresh.map(|r| r.throughput),
        "refresh_per_s_per_core": refresh.map(|r| r.throughput / server_cores.max(1.0)),
        "refresh_p99_ms": refresh.map(|r| r.latency_ms.p99),
        "refresh_server_cpu": refresh.and_then(server_cpu),
        "refresh_per_cpu_second": refresh.and_then(per_cpu_second),
        "server_cores": server_cores,
        "idle_rss_mib": rss("idle", "tessera"),
        "idle_rss_after_load_mib": rss("idle-after-load", "tessera"),
        "peak_rss_under_load_mib": peak,
        "baseline_idle_rss_mib": rss("idle", "baseline"),
    })
}

/// CPU cores the server under test used during the run.
fn server_cpu(r: &RunResult) -> Option<f64> {
    r.processes.iter().find(|p| p.label == r.system).map(|p| p.cpu_cores_used)
}

/// Successful requests per CPU-second of the server process: what a run would reach with a
/// whole core of its own, robust to other processes taking part of the core.
fn per_cpu_second(r: &RunResult) -> Option<f64> {
    server_cpu(r).filter(|c| *c > 0.05).map(|c| r.throughput / c)
}

fn runs_table(backend: &str, runs: &[RunResult], server_cores: f64) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "\n== {backend}: runs ==");
    let _ = writeln!(
        t,
        "{:<9} {:<14} {:<6} {:>5} {:>9} {:>6} {:>7} {:>7} {:>7} {:>8} {:>6} {:>7} {:>7} {:>8}",
        "system",
        "scenario",
        "mode",
        "conc",
        "ok/s",
        "failed",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "srvCPU",
        "cliCPU",
        "cliThr",
        "RSS MiB"
    );
    for r in runs {
        let server = r.processes.iter().find(|p| p.label == r.system);
        let mode = match r.target_rate {
            Some(rate) => format!("@{rate:.0}"),
            None => r.mode.clone(),
        };
        let _ = writeln!(
            t,
            "{:<9} {:<14} {:<6} {:>5} {:>9.1} {:>6} {:>7.2} {:>7.2} {:>7.2} {:>8.2} {:>6.2} {:>7.2} {:>7} {:>8.1}",
            r.system,
            r.scenario,
            mode,
            r.concurrency,
            r.throughput,
            r.requests_failed,
            r.latency_ms.p50,
            r.latency_ms.p90,
            r.latency_ms.p99,
            r.latency_ms.max,
            server.map_or(0.0, |p| p.cpu_cores_used),
            r.client_cpu_cores_used,
            r.client_threads,
            server.map_or(0.0, |p| p.rss_max_kib as f64 / MIB),
        );
        if r.mode == "closed" && server.is_some_and(|p| p.cpu_cores_used < 0.9 * server_cores) {
            let _ = writeln!(
                t,
                "          ! the server used less than 90 % of its cores: it waited (database, locks) or other processes took CPU"
            );
        }
        for (kind, n) in &r.errors {
            let _ = writeln!(t, "          ! {kind}: {n}");
        }
    }
    t
}

fn summary_table(backend: &str, s: &Value) -> String {
    let f = |key: &str| s.get(key).and_then(Value::as_f64);
    let nested = |key: &str, field: &str| s.get(key).and_then(|v| v.get(field)).and_then(Value::as_f64);
    let show = |v: Option<f64>, digits: usize| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.digits$}"));
    let mut t = String::new();
    let _ = writeln!(t, "\n== {backend}: SPEC §16 figures ==");
    let _ = writeln!(
        t,
        "authenticated read ÷ baseline (throughput): {}   [goal >= 0.70]   tessera {} req/s vs baseline {} req/s",
        show(f("read_throughput_ratio"), 2),
        show(nested("tessera_read", "throughput"), 0),
        show(nested("baseline_read", "throughput"), 0)
    );
    let _ = writeln!(
        t,
        "  per server CPU-second: tessera {} vs baseline {} = {} (robust to a shared core; excludes the database's own CPU)",
        show(nested("tessera_read", "per_cpu_second"), 0),
        show(nested("baseline_read", "per_cpu_second"), 0),
        show(f("read_per_cpu_second_ratio"), 2)
    );
    let _ = writeln!(
        t,
        "  latency tessera p50/p99 {}/{} ms, baseline p50/p99 {}/{} ms (ratios {} / {})",
        show(nested("tessera_read", "p50_ms"), 2),
        show(nested("tessera_read", "p99_ms"), 2),
        show(nested("baseline_read", "p50_ms"), 2),
        show(nested("baseline_read", "p99_ms"), 2),
        show(f("read_p50_ratio"), 2),
        show(f("read_p99_ratio"), 2)
    );
    let _ = writeln!(
        t,
        "  open loop at {} req/s: p50 {} ms, p99 {} ms   [goal p99 < 10 ms]",
        show(nested("read_open_loop", "rate"), 0),
        show(nested("read_open_loop", "p50_ms"), 2),
        show(nested("read_open_loop", "p99_ms"), 2)
    );
    let _ = writeln!(
        t,
        "login: {} /s ÷ Argon2 bound {} /s = {}   [goal >= 0.90]   p99 {} ms, server CPU {}",
        show(f("login_per_s"), 1),
        show(f("argon2_bound_per_s"), 1),
        show(f("login_bound_ratio"), 2),
        show(f("login_p99_ms"), 1),
        show(f("login_server_cpu"), 2)
    );
    let _ = writeln!(
        t,
        "refresh: {} /s = {} /s per server core ({} per server CPU-second)   [goal >= 2000/s per core, PostgreSQL]   p99 {} ms",
        show(f("refresh_per_s"), 0),
        show(f("refresh_per_s_per_core"), 0),
        show(f("refresh_per_cpu_second"), 0),
        show(f("refresh_p99_ms"), 1)
    );
    let _ = writeln!(
        t,
        "RSS: idle {} MiB [goal < 50], under load (peak) {} MiB, idle after load {} MiB; baseline idle {} MiB",
        show(f("idle_rss_mib"), 1),
        show(f("peak_rss_under_load_mib"), 1),
        show(f("idle_rss_after_load_mib"), 1),
        show(f("baseline_idle_rss_mib"), 1)
    );
    t
}

fn machine(spec: &ReportSpec) -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()));
    let cpus = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    let mem_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next()?.parse::<u64>().ok())
    });
    json!({
        "cpus": cpus,
        "cpu_model": model,
        "memory_mib": mem_kib.map(|k| k / 1024),
        "kernel": read_trimmed(Path::new("/proc/sys/kernel/osrelease")),
        "loadavg_at_report": read_trimmed(Path::new("/proc/loadavg")),
        "server_cpus": spec.server_cpus,
        "client_cpus": spec.client_cpus,
        "server_cores": spec.server_cores,
        "note": if spec.server_cpus.is_empty() {
            "not pinned: load generator, server and database share every core"
        } else {
            "server and load generator pinned to separate cores; the database server (PostgreSQL) and other processes are not pinned"
        },
    })
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}

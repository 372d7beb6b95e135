//! Drives a scenario: closed loop (a fixed number of workers, each sending its next request
//! when the previous one is answered) or open loop (requests dispatched at a fixed rate,
//! with at most `concurrency` in flight). A warm-up phase runs first and is not recorded;
//! the measured phase ends at `duration` or after `max_requests`, whichever comes first.
//! Latencies go to an HDR histogram (µs, 3 significant digits); watched processes are
//! sampled for RSS every 100 ms and for CPU time at the start and end of the measured phase.

use crate::model::{Latency, ProcessStats, RunResult};
use crate::procfs;
use crate::scenario::{Outcome, Shared, Worker};
use anyhow::Context;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How many failure descriptions a result keeps.
const ERROR_SAMPLES: usize = 5;
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub struct RunSpec {
    pub backend: String,
    pub system: String,
    pub concurrency: usize,
    /// Open loop at this many requests per second; `None` = closed loop.
    pub rate: Option<f64>,
    pub warmup: Duration,
    pub duration: Duration,
    pub max_requests: Option<u64>,
    /// Processes to sample: (label, pid).
    pub watch: Vec<(String, u32)>,
    pub client_threads: usize,
}

struct Stats {
    latency: Histogram<u64>,
    lag: Histogram<u64>,
    ok: u64,
    failed: u64,
    errors: BTreeMap<String, u64>,
    samples: Vec<String>,
    last_done: Option<Instant>,
}

impl Stats {
    fn new() -> anyhow::Result<Self> {
        let histogram = || Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).context("histogram bounds");
        Ok(Self {
            latency: histogram()?,
            lag: histogram()?,
            ok: 0,
            failed: 0,
            errors: BTreeMap::new(),
            samples: Vec::new(),
            last_done: None,
        })
    }

    fn record(&mut self, outcome: Outcome, latency: Duration, lag: Option<Duration>, done: Instant) {
        match outcome {
            Outcome::Ok => {
                self.ok += 1;
                self.latency.saturating_record(micros(latency));
            }
            Outcome::Failed(kind, detail) => {
                self.failed += 1;
                *self.errors.entry(kind).or_default() += 1;
                if self.samples.len() < ERROR_SAMPLES {
                    self.samples.push(detail);
                }
            }
        }
        if let Some(lag) = lag {
            self.lag.saturating_record(micros(lag));
        }
        self.last_done = Some(self.last_done.map_or(done, |d| d.max(done)));
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

fn percentiles(h: &Histogram<u64>) -> Latency {
    let ms = |us: u64| us as f64 / 1000.0;
    if h.is_empty() {
        return Latency::default();
    }
    Latency {
        mean: h.mean() / 1000.0,
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p99: ms(h.value_at_quantile(0.99)),
        p999: ms(h.value_at_quantile(0.999)),
        max: ms(h.max()),
    }
}

/// Shared between the workers of one run.
struct Clock {
    measure_start: Instant,
    end: Instant,
    max_requests: Option<u64>,
    issued: AtomicU64,
}

impl Clock {
    /// Whether a request starting at `t` may be sent and whether it is measured; `None` = stop.
    fn admit(&self, t: Instant) -> Option<bool> {
        if t >= self.end {
            return None;
        }
        if t < self.measure_start {
            return Some(false);
        }
        if let Some(max) = self.max_requests
            && self.issued.fetch_add(1, Ordering::Relaxed) >= max
        {
            return None;
        }
        Some(true)
    }
}

/// What the RSS sampler saw of one process.
#[derive(Default, Clone, Copy)]
struct RssSeen {
    max: u64,
    sum: u64,
    count: u64,
}

pub async fn run(shared: Arc<Shared>, spec: RunSpec) -> anyhow::Result<RunResult> {
    let concurrency = spec.concurrency.max(1);
    let mut workers = Vec::with_capacity(concurrency);
    let mut setup = JoinSet::new();
    for index in 0..concurrency {
        let shared = shared.clone();
        setup.spawn(async move { shared.worker(index).await });
    }
    while let Some(joined) = setup.join_next().await {
        workers.push(joined.context("worker set-up panicked")??);
    }

    let start = Instant::now();
    let measure_start = start + spec.warmup;
    let clock = Arc::new(Clock {
        measure_start,
        end: measure_start + spec.duration,
        max_requests: spec.max_requests,
        issued: 0.into(),
    });
    let stats = Arc::new(Mutex::new(Stats::new()?));

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample_rss(spec.watch.clone(), measure_start, stop.clone()));
    let pids: Vec<u32> = spec.watch.iter().map(|(_, pid)| *pid).collect();
    let cpu_at_start = tokio::spawn(async move {
        tokio::time::sleep_until(measure_start.into()).await;
        cpu_snapshot(&pids)
    });

    match spec.rate {
        None => closed_loop(&shared, workers, &clock, &stats).await?,
        Some(rate) => open_loop(&shared, workers, &clock, &stats, rate, concurrency).await?,
    }

    let ended = Instant::now();
    let cpu_end = cpu_snapshot(&spec.watch.iter().map(|(_, pid)| *pid).collect::<Vec<_>>());
    stop.store(true, Ordering::Relaxed);
    let rss = sampler.await.context("the RSS sampler panicked")?;
    let cpu_start = cpu_at_start.await.context("the CPU sampler panicked")?;
    let wall = ended.saturating_duration_since(measure_start).as_secs_f64().max(1e-9);

    let stats = stats.lock().map_err(|_| anyhow::anyhow!("a worker panicked while recording"))?;
    let measured = stats.last_done.map_or(0.0, |d| d.saturating_duration_since(measure_start).as_secs_f64());
    let used = |i: usize| -> f64 {
        match (cpu_start.get(i).copied().flatten(), cpu_end.get(i).copied().flatten()) {
            (Some(a), Some(b)) => (b - a) / wall,
            _ => 0.0,
        }
    };
    let processes = spec
        .watch
        .iter()
        .enumerate()
        .map(|(i, (label, pid))| {
            let seen = rss.get(i).copied().unwrap_or_default();
            ProcessStats {
                label: label.clone(),
                pid: *pid,
                rss_max_kib: seen.max,
                rss_mean_kib: seen.sum.checked_div(seen.count).unwrap_or(0),
                cpu_cores_used: used(i + 1),
            }
        })
        .collect();
    Ok(RunResult {
        kind: "run".into(),
        backend: spec.backend,
        system: spec.system,
        scenario: shared.scenario.name().into(),
        mode: if spec.rate.is_some() { "open" } else { "closed" }.into(),
        concurrency,
        target_rate: spec.rate,
        warmup_s: spec.warmup.as_secs_f64(),
        measured_s: measured,
        requests_ok: stats.ok,
        requests_failed: stats.failed,
        errors: stats.errors.clone(),
        error_samples: stats.samples.clone(),
        throughput: if measured > 0.0 { stats.ok as f64 / measured } else { 0.0 },
        latency_ms: percentiles(&stats.latency),
        schedule_lag_ms: spec.rate.map(|_| percentiles(&stats.lag)),
        client_cpu_cores_used: used(0),
        client_threads: spec.client_threads,
        processes,
    })
}

async fn closed_loop(
    shared: &Arc<Shared>,
    workers: Vec<Worker>,
    clock: &Arc<Clock>,
    stats: &Arc<Mutex<Stats>>,
) -> anyhow::Result<()> {
    let mut tasks = JoinSet::new();
    for mut worker in workers {
        let (shared, clock, stats) = (shared.clone(), clock.clone(), stats.clone());
        tasks.spawn(async move {
            loop {
                let t0 = Instant::now();
                let Some(measured) = clock.admit(t0) else { break };
                let outcome = shared.request(&mut worker).await;
                let t1 = Instant::now();
                if measured && let Ok(mut s) = stats.lock() {
                    s.record(outcome, t1 - t0, None, t1);
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("a worker panicked")?;
    }
    Ok(())
}

/// Requests are due at `start + i / rate`; a request whose slot is taken (all `concurrency`
/// workers busy) waits, and that wait shows as schedule lag (latency is from the send).
async fn open_loop(
    shared: &Arc<Shared>,
    workers: Vec<Worker>,
    clock: &Arc<Clock>,
    stats: &Arc<Mutex<Stats>>,
    rate: f64,
    concurrency: usize,
) -> anyhow::Result<()> {
    anyhow::ensure!(rate.is_finite() && rate > 0.0, "--rate must be positive");
    let slots = Arc::new(Semaphore::new(concurrency));
    let idle = Arc::new(Mutex::new(workers));
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0u64.. {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        let Some(measured) = clock.admit(due) else { break };
        tokio::time::sleep_until(due.into()).await;
        let permit = slots.clone().acquire_owned().await.context("slots closed")?;
        let worker = idle.lock().map_err(|_| anyhow::anyhow!("worker pool poisoned"))?.pop();
        let Some(mut worker) = worker else { continue };
        let (shared, stats, idle) = (shared.clone(), stats.clone(), idle.clone());
        tasks.spawn(async move {
            let sent = Instant::now();
            let outcome = shared.request(&mut worker).await;
            let done = Instant::now();
            if measured && let Ok(mut s) = stats.lock() {
                s.record(outcome, done - sent, Some(sent.saturating_duration_since(due)), done);
            }
            if let Ok(mut pool) = idle.lock() {
                pool.push(worker);
            }
            drop(permit);
        });
        while let Some(joined) = tasks.try_join_next() {
            joined.context("a request task panicked")?;
        }
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("a request task panicked")?;
    }
    Ok(())
}

/// CPU seconds of the load generator itself (index 0) and of each pid (`None` if gone).
fn cpu_snapshot(pids: &[u32]) -> Vec<Option<f64>> {
    std::iter::once(procfs::cpu_seconds(None).ok())
        .chain(pids.iter().map(|pid| procfs::cpu_seconds(Some(*pid)).ok()))
        .collect()
}

async fn sample_rss(watch: Vec<(String, u32)>, measure_start: Instant, stop: Arc<AtomicBool>) -> Vec<RssSeen> {
    let mut seen = vec![RssSeen::default(); watch.len()];
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        if Instant::now() < measure_start {
            continue;
        }
        for (slot, (_, pid)) in seen.iter_mut().zip(&watch) {
            if let Ok(kib) = procfs::rss_kib(*pid) {
                slot.max = slot.max.max(kib);
                slot.sum += kib;
                slot.count += 1;
            }
        }
    }
    seen
}

//! `tessera-loadgen`: the load generator of Tessera's benchmark harness (SPEC §16, issue 4).
//!
//! Steps, each a subcommand writing JSON that `report` gathers: `seed` (tenants × users
//! through the REST API), `tokens` (fresh admin tokens), `run` (one scenario, closed or open
//! loop, HDR latency histogram, RSS/CPU of watched processes), `argon2` (Argon2id time at
//! the server's parameters), `rss`, and the helpers `free-port`, `wait` and `rate`. Only loopback
//! targets are accepted. `scripts/bench.sh` (`make bench`, `make bench-quick`) strings them
//! together; docs/performance.md explains the method.

mod argon;
mod model;
mod procfs;
mod report;
mod runner;
mod scenario;
mod seed;
mod target;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(name = "tessera-loadgen", about = "Load generator for the Tessera benchmark (loopback targets only)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create N tenants × M users through the REST API and write their ids and tokens.
    Seed {
        #[arg(long)]
        target: String,
        #[arg(long, default_value_t = 10)]
        tenants: usize,
        /// Users per tenant, the registering admin included.
        #[arg(long, default_value_t = 10)]
        users: usize,
        /// Tenants seeded at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        #[arg(long, default_value = "Bench-passphrase-7f3c-long-enough")]
        password: String,
        #[arg(long, default_value = "bench")]
        slug_prefix: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Log every seeded admin in again and rewrite the seed with fresh access tokens.
    Tokens {
        #[arg(long)]
        target: String,
        #[arg(long)]
        seed: PathBuf,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Where to write (default: over `--seed`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run one scenario and write its result.
    Run(RunArgs),
    /// Time Argon2id hashes at the server's parameters (default: OWASP, the server default).
    Argon2 {
        #[arg(long)]
        memory_kib: Option<u32>,
        #[arg(long)]
        iterations: Option<u32>,
        #[arg(long)]
        parallelism: Option<u32>,
        #[arg(long, default_value_t = 10)]
        samples: usize,
        /// Label of the backend run this timing belongs to.
        #[arg(long)]
        backend: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Record a process's current VmRSS.
    Rss {
        #[arg(long)]
        pid: u32,
        #[arg(long)]
        backend: String,
        #[arg(long)]
        system: String,
        #[arg(long)]
        label: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Gather a directory of step results into results.json and print the tables.
    Report {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "custom")]
        mode: String,
        #[arg(long, default_value = "")]
        server_cpus: String,
        #[arg(long, default_value = "")]
        client_cpus: String,
        /// Cores the server could use (for the Argon2 bound and refresh/s per core).
        #[arg(long)]
        server_cores: f64,
    },
    /// Print a free loopback TCP port.
    FreePort,
    /// Wait until `--url` answers 2xx.
    Wait {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 60)]
        timeout_s: u64,
    },
    /// Print `fraction` × the throughput of a run result, rounded (an open-loop rate).
    Rate {
        #[arg(long)]
        result: PathBuf,
        #[arg(long, default_value_t = 0.7)]
        fraction: f64,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[arg(long)]
    target: String,
    #[arg(long)]
    seed: PathBuf,
    #[arg(long, value_enum)]
    scenario: scenario::Scenario,
    /// Label of the storage backend (`sqlite`, `postgres`).
    #[arg(long)]
    backend: String,
    /// Label of the server under load (`tessera`, `baseline`).
    #[arg(long)]
    system: String,
    /// Closed loop: workers; open loop: the most requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Open loop at this many requests per second (default: closed loop).
    #[arg(long)]
    rate: Option<f64>,
    #[arg(long, default_value_t = 2.0)]
    warmup_s: f64,
    #[arg(long, default_value_t = 10.0)]
    duration_s: f64,
    /// Stop the measured phase after this many requests (default: duration only).
    #[arg(long)]
    requests: Option<u64>,
    /// `label=pid` of a process to sample for RSS and CPU (repeatable).
    #[arg(long)]
    watch: Vec<String>,
    /// Accounts the login scenario cycles through (each logged in once before measuring).
    #[arg(long, default_value_t = 64)]
    login_pool: usize,
    /// Runtime threads of the load generator, 0 = one per CPU it may run on.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    #[arg(long)]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run(args) => {
            let threads = if args.threads == 0 {
                std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
            } else {
                args.threads
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?;
            runtime.block_on(run(args, threads))
        }
        command => {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            runtime.block_on(other(command))
        }
    }
}

async fn run(args: RunArgs, threads: usize) -> anyhow::Result<()> {
    let base = target::loopback_url(&args.target)?;
    let seed: model::SeedFile = model::read_json(&args.seed)?;
    let watch = args
        .watch
        .iter()
        .map(|w| {
            let (label, pid) = w.split_once('=').with_context(|| format!("--watch `{w}`: expected label=pid"))?;
            Ok((label.to_owned(), pid.parse::<u32>().with_context(|| format!("--watch `{w}`: pid"))?))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let client = target::client(args.concurrency.max(1))?;
    let shared = Arc::new(scenario::Shared::new(args.scenario, client, base, Arc::new(seed), args.login_pool).await?);
    let spec = runner::RunSpec {
        backend: args.backend,
        system: args.system,
        concurrency: args.concurrency,
        rate: args.rate,
        warmup: Duration::from_secs_f64(args.warmup_s.max(0.0)),
        duration: Duration::from_secs_f64(args.duration_s.max(0.001)),
        max_requests: args.requests,
        watch,
        client_threads: threads,
    };
    let result = runner::run(shared, spec).await?;
    eprintln!(
        "{:<8} {:<9} {:<14} {:<6} c={:<3} {:>9.1} ok/s  p50 {:>7.2} ms  p99 {:>7.2} ms  failed {}",
        result.backend,
        result.system,
        result.scenario,
        result.mode,
        result.concurrency,
        result.throughput,
        result.latency_ms.p50,
        result.latency_ms.p99,
        result.requests_failed
    );
    for sample in &result.error_samples {
        eprintln!("  error: {sample}");
    }
    model::write_json(&args.out, &result)
}

async fn other(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Seed { target, tenants, users, concurrency, password, slug_prefix, out } => {
            let base = target::loopback_url(&target)?;
            let started = Instant::now();
            let plan = seed::SeedPlan { tenants, users, concurrency, password, slug_prefix };
            let seeded = seed::seed(target::client(concurrency)?, base, plan).await?;
            eprintln!(
                "seeded {} tenants, {} users in {:.1} s",
                seeded.tenants.len(),
                seeded.user_count(),
                started.elapsed().as_secs_f64()
            );
            model::write_json(&out, &seeded)
        }
        Command::Tokens { target, seed, concurrency, out } => {
            let base = target::loopback_url(&target)?;
            let seeded: model::SeedFile = model::read_json(&seed)?;
            let renewed = seed::renew_tokens(target::client(concurrency)?, base, seeded, concurrency).await?;
            model::write_json(out.as_ref().unwrap_or(&seed), &renewed)
        }
        Command::Argon2 { memory_kib, iterations, parallelism, samples, backend, out } => {
            let d = tessera_auth::password::Argon2Params::default();
            let params = tessera_auth::password::Argon2Params {
                memory_kib: memory_kib.unwrap_or(d.memory_kib),
                iterations: iterations.unwrap_or(d.iterations),
                parallelism: parallelism.unwrap_or(d.parallelism),
            };
            let timing = tokio::task::spawn_blocking(move || argon::measure(params, samples, backend)).await??;
            eprintln!(
                "argon2id compute {:.1} ms; server hasher: hash {:.1} ms, verify {:.1} ms (medians)",
                timing.compute_ms_median, timing.hash_ms_median, timing.verify_ms_median
            );
            model::write_json(&out, &timing)
        }
        Command::Rss { pid, backend, system, label, out } => {
            let rss_kib = procfs::rss_kib(pid)?;
            eprintln!("{backend} {system} {label}: RSS {:.1} MiB", rss_kib as f64 / 1024.0);
            model::write_json(&out, &model::RssSample { kind: "rss".into(), backend, system, label, pid, rss_kib })
        }
        Command::Report { dir, out, mode, server_cpus, client_cpus, server_cores } => {
            let spec = report::ReportSpec { dir, out, mode, server_cpus, client_cpus, server_cores };
            print!("{}", report::report(&spec)?);
            Ok(())
        }
        Command::FreePort => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?;
            println!("{}", listener.local_addr()?.port());
            Ok(())
        }
        Command::Wait { url, timeout_s } => {
            let url = target::loopback_url(&url)?;
            let client = target::client(1)?;
            let deadline = Instant::now() + Duration::from_secs(timeout_s);
            loop {
                match client.get(url.clone()).send().await {
                    Ok(r) if r.status().is_success() => return Ok(()),
                    _ if Instant::now() >= deadline => anyhow::bail!("{url} did not answer 2xx within {timeout_s} s"),
                    _ => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }
        Command::Rate { result, fraction } => {
            let run: model::RunResult = model::read_json(&result)?;
            println!("{}", (run.throughput * fraction).round().max(1.0));
            Ok(())
        }
        Command::Run(_) => Ok(()),
    }
}

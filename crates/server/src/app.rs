//! Wiring: configuration → adapters → services → HTTP server.

use crate::config::Config;
use crate::database::{self, DatabaseCheck, MigrationsCheck};
use crate::redis_check::RedisCheck;
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tessera_auth::password::Argon2Params;
use tessera_auth::password_policy::OfflineBreachedPasswords;
use tessera_domain::credentials::{AttemptCounter, LockoutStore};
use tessera_domain::ports::InvalidationBus;
use tessera_domain::ports::{SystemClock, UuidV7Generator};
use tessera_domain::signing::SigningAlgorithm;
use tessera_repository::memory::{MemoryAttemptCounter, MemoryEventSink, MemoryInvalidationBus, MemoryLockoutStore};
use tessera_repository::redis::{RedisAttemptCounter, RedisInvalidationBus, RedisLockoutStore};
use tessera_rest::RestConfig;
use tessera_rest::health::HealthChecks;
use tessera_services::config::LoginLimits;
use tessera_services::{Core, CoreConfig, PasswordWorker, Services, SessionCache, SigningKeys, TenantCache};

/// Everything `serve` needs, built from the configuration.
pub struct Built {
    pub services: Arc<Services>,
    pub health: HealthChecks,
    pub rest: RestConfig,
}

/// # Errors
/// Invalid `[tenant_defaults]` (already refused when the configuration loads).
pub fn core_config(config: &Config) -> anyhow::Result<CoreConfig> {
    let a = &config.auth;
    Ok(CoreConfig {
        issuer: config.issuer(),
        audience: a.audience.clone(),
        platform_settings: config.platform_settings()?,
        bounds: config.settings_bounds(),
        refresh_reuse_grace: Duration::from_secs(a.refresh_reuse_grace_seconds),
        reset_link_base: config.password_reset_url(),
        login_limits: LoginLimits {
            enabled: config.rate_limit.enabled,
            per_ip_per_minute: config.rate_limit.login_per_ip_per_minute,
            per_ip_email_per_minute: config.rate_limit.login_per_ip_email_per_minute,
            per_tenant_per_minute: config.rate_limit.login_per_tenant_per_minute,
            stuffing_accounts: config.rate_limit.login_stuffing_accounts,
        },
        argon2: Argon2Params {
            memory_kib: a.argon2_memory_kib,
            iterations: a.argon2_iterations,
            parallelism: a.argon2_parallelism,
        },
        ..CoreConfig::default()
    })
}

/// Connects storage (migrating first unless disabled), loads keys, builds the services.
///
/// # Errors
/// Unreachable storage, failing migrations, an unusable master key.
pub async fn build(config: &Config) -> anyhow::Result<Built> {
    if config.database.auto_migrate {
        database::migrate_up(config).await?;
    }
    let store = database::connect_app(config).await?;
    let mut checks: Vec<(String, Arc<dyn tessera_rest::health::ComponentCheck>)> = vec![
        ("database".into(), Arc::new(DatabaseCheck(store.clone()))),
        ("migrations".into(), Arc::new(MigrationsCheck(store.clone()))),
    ];
    if let Some(url) = &config.redis.url {
        checks.push(("redis".into(), Arc::new(RedisCheck::new(url).context("configuration key `redis.url`")?)));
    }
    let services = build_services(config, store.repositories()).await?;
    let rest = RestConfig {
        max_body_bytes: config.server.max_body_bytes,
        hsts: config.is_production(),
        cors_allowed_origins: config.cors.allowed_origins.clone(),
    };
    Ok(Built { services: Arc::new(services), health: HealthChecks(checks), rest })
}

/// The core on the given repositories, with signing keys loaded (or created).
///
/// # Errors
/// Invalid Argon2 parameters, unreadable keys.
pub async fn build_services(config: &Config, repos: tessera_domain::ports::Repositories) -> anyhow::Result<Services> {
    let core_config = core_config(config)?;
    let passwords = PasswordWorker::new(core_config.argon2, core_config.max_concurrent_hashes)
        .map_err(|e| anyhow::anyhow!("configuration keys `auth.argon2_*`: {e}"))?;
    let master = crate::master_key::load(config)?;
    let algorithm = SigningAlgorithm::parse(&config.auth.signing_algorithm).unwrap_or(SigningAlgorithm::EdDSA);
    let clock: Arc<dyn tessera_domain::ports::Clock> = Arc::new(SystemClock);
    // A retired key verifies as long as any token it signed can: the longest lifetime plus the leeway.
    let max_token_lifetime = chrono::Duration::seconds(
        i64::try_from(config.auth.max_access_token_ttl_seconds)? + tessera_auth::jwt::DEFAULT_LEEWAY_SECONDS as i64,
    );
    let keys =
        SigningKeys::load_or_create(repos.signing_keys.clone(), master, algorithm, clock.clone(), max_token_lifetime)
            .await
            .map_err(|e| anyhow::anyhow!("loading signing keys: {e} (was the master key changed?)"))?;
    let bus: Arc<dyn InvalidationBus> = match &config.redis.url {
        Some(url) => Arc::new(
            RedisInvalidationBus::connect(url)
                .await
                .map_err(|e| anyhow::anyhow!("configuration key `redis.url`: {e}"))?,
        ),
        None => Arc::new(MemoryInvalidationBus::new()),
    };
    let tenant_cache = TenantCache::new(core_config.tenant_cache_ttl);
    let mailer = tessera_integrations::mailer_from(&config.mail.transport, config.data_dir(), config.smtp_settings())
        .map_err(|e| anyhow::anyhow!("configuration key `mail.transport`: {e}"))?;
    let lockouts: Arc<dyn LockoutStore> = match &config.redis.url {
        Some(url) => Arc::new(
            RedisLockoutStore::connect(url).await.map_err(|e| anyhow::anyhow!("configuration key `redis.url`: {e}"))?,
        ),
        None => Arc::new(MemoryLockoutStore::new()),
    };
    let attempts: Arc<dyn AttemptCounter> = match &config.redis.url {
        Some(url) => Arc::new(
            RedisAttemptCounter::connect(url)
                .await
                .map_err(|e| anyhow::anyhow!("configuration key `redis.url`: {e}"))?,
        ),
        None => Arc::new(MemoryAttemptCounter::new()),
    };
    let core = Core {
        repos,
        clock,
        ids: Arc::new(UuidV7Generator),
        passwords,
        config: Arc::new(core_config),
        bus,
        // Until the audit log exists (SPEC §11), domain events are logged and the latest kept.
        events: Arc::new(MemoryEventSink::new(1000)),
        tenant_cache,
        session_cache: SessionCache::new(std::time::Duration::from_secs(60)),
        mailer,
        lockouts,
        breached: Arc::new(OfflineBreachedPasswords::embedded()),
        attempts,
    };
    let services = Services::new(core, keys);
    services.subscribe_invalidations().await.map_err(|e| anyhow::anyhow!("subscribing to invalidations: {e}"))?;
    Ok(services)
}

/// Request counts reach storage at least this often (SPEC §3: `used` lags by up to 10 s).
pub const USAGE_FLUSH_INTERVAL: Duration = Duration::from_secs(5);

async fn flush_usage_every(services: Arc<Services>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = services.usage.flush().await {
            tracing::warn!(error = %e, "usage flush failed; the counts are kept for the next one");
        }
    }
}

/// A rotation made by another replica or the CLI is picked up within this (SPEC §1: 60 s).
pub const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(30);

async fn reload_keys_every(services: Arc<Services>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = services.reload_keys().await {
            tracing::warn!(error = %e, "reloading signing keys failed; the previous keys stay in use");
        }
    }
}

/// A server started in the background (tests, and `serve` through `run`).
pub struct RunningServer {
    pub addr: SocketAddr,
    pub handle: actix_web::dev::ServerHandle,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful stop: stop accepting, drain in-flight requests.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}

/// Builds everything and starts serving on the configured host and port (0 = any free port).
///
/// # Errors
/// See `build`; also a port that cannot be bound.
pub async fn spawn(config: &Config) -> anyhow::Result<RunningServer> {
    let built = build(config).await?;
    let Built { services, health, rest } = built;
    let flush_services = services.clone();
    let workers = if config.server.workers == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
    } else {
        config.server.workers
    };
    let server = actix_web::HttpServer::new(move || tessera_rest::app(services.clone(), health.clone(), rest.clone()))
        .workers(workers)
        .shutdown_timeout(config.server.shutdown_timeout_seconds)
        .bind((config.server.host.as_str(), config.server.port))
        .with_context(|| format!("binding {}:{}", config.server.host, config.server.port))?;
    let addr = server.addrs().first().copied().context("the server bound no address")?;
    let server = server.run();
    let handle = server.handle();
    let flusher = tokio::spawn(flush_usage_every(flush_services.clone(), USAGE_FLUSH_INTERVAL));
    let key_reloader = tokio::spawn(reload_keys_every(flush_services.clone(), KEY_RELOAD_INTERVAL));
    let task = tokio::spawn(async move {
        let result = server.await;
        // Stopped: nothing counted may be lost.
        flusher.abort();
        key_reloader.abort();
        if let Err(e) = flush_services.usage.flush().await {
            tracing::error!(error = %e, "final usage flush failed");
        }
        result
    });
    Ok(RunningServer { addr, handle, task })
}

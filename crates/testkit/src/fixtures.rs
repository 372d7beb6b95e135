//! Fixtures for service, frontend and end-to-end tests: the whole core on any
#![allow(clippy::expect_used, reason = "fixtures fail loudly: a broken setup is a failed test")]
//! `Repositories`, with cheap Argon2 parameters, and helpers that register tenants and log in.

use std::sync::Arc;
use tessera_auth::keys::MasterKey;
use tessera_auth::password::Argon2Params;
use tessera_auth::password_policy::OfflineBreachedPasswords;
use tessera_domain::ports::{Clock, InvalidationBus, Mailer, OutgoingMail, Repositories, SystemClock, UuidV7Generator};
use tessera_domain::signing::SigningAlgorithm;
use tessera_domain::{Principal, Tenant, User};
use tessera_repository::memory::{MemoryAttemptCounter, MemoryEventSink, MemoryInvalidationBus, MemoryLockoutStore};
use tessera_services::auth::{LoginInput, TokenPair};
use tessera_services::tenants::RegisterInput;
use tessera_services::{Core, CoreConfig, PasswordWorker, Services, SessionCache, SigningKeys, TenantCache};

/// A password every fixture user has; long enough for the default policy.
pub const PASSWORD: &str = "correct horse battery staple";

/// Core settings for tests: real Argon2id, but at parameters that take a millisecond.
pub fn fast_config() -> CoreConfig {
    CoreConfig { argon2: Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 }, ..CoreConfig::default() }
}

/// The whole core on `repos` with a fresh master key, an in-process invalidation bus and
/// an event sink the test can read.
///
/// # Panics
/// When the core cannot be built (a broken test setup).
pub async fn services_on(repos: Repositories) -> Services {
    let master = MasterKey::generate().expect("master key");
    build(repos, Arc::new(MemoryInvalidationBus::new()), Arc::new(MemoryEventSink::new(1000)), master).await
}

/// A clock tests move by hand.
pub struct ManualClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl ManualClock {
    pub fn new() -> Self {
        Self(std::sync::Mutex::new(SystemClock.now()))
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.lock().map(|t| *t).unwrap_or_else(|_| SystemClock.now())
    }
}

/// The in-memory core on a clock the test controls, and its event sink.
pub async fn in_memory_with_clock(clock: Arc<ManualClock>) -> (Services, Arc<MemoryEventSink>) {
    let events = Arc::new(MemoryEventSink::new(1000));
    let master = MasterKey::generate().expect("master key");
    let repos = tessera_repository::memory::repositories();
    let mail = Arc::new(RecordingMailer::default());
    let s = build_on(repos, Arc::new(MemoryInvalidationBus::new()), events.clone(), master, clock, mail).await;
    (s, events)
}

/// The core on explicit parts: two `Services` sharing `repos`, `bus` and `master` behave
/// like two replicas of one deployment.
///
/// # Panics
/// When the core cannot be built.
pub async fn build(
    repos: Repositories,
    bus: Arc<dyn InvalidationBus>,
    events: Arc<MemoryEventSink>,
    master: MasterKey,
) -> Services {
    build_on(repos, bus, events, master, Arc::new(SystemClock), Arc::new(RecordingMailer::default())).await
}

/// A mailer that keeps what it is given (an in-memory adapter of the `Mailer` port).
#[derive(Default)]
pub struct RecordingMailer(std::sync::Mutex<Vec<OutgoingMail>>);

impl RecordingMailer {
    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), tessera_domain::RepoError> {
        if let Ok(mut m) = self.0.lock() {
            m.push(mail.clone());
        }
        Ok(())
    }
}

/// The in-memory core and the mails it sends.
pub async fn in_memory_with_mail() -> (Services, Arc<RecordingMailer>) {
    let mail = Arc::new(RecordingMailer::default());
    let master = MasterKey::generate().expect("master key");
    let repos = tessera_repository::memory::repositories();
    let events = Arc::new(MemoryEventSink::new(1000));
    let s =
        build_on(repos, Arc::new(MemoryInvalidationBus::new()), events, master, Arc::new(SystemClock), mail.clone())
            .await;
    (s, mail)
}

/// `build` with a chosen clock.
///
/// # Panics
/// When the core cannot be built.
pub async fn build_on(
    repos: Repositories,
    bus: Arc<dyn InvalidationBus>,
    events: Arc<MemoryEventSink>,
    master: MasterKey,
    clock: Arc<dyn Clock>,
    mailer: Arc<dyn Mailer>,
) -> Services {
    let config = fast_config();
    let passwords = PasswordWorker::new(config.argon2, 4).expect("argon2 params");
    let keys = SigningKeys::load_or_create(
        repos.signing_keys.clone(),
        master,
        SigningAlgorithm::EdDSA,
        clock.clone(),
        chrono::Duration::hours(1),
    )
    .await
    .expect("signing keys");
    let tenant_cache = TenantCache::new(config.tenant_cache_ttl);
    let core = Core {
        repos,
        clock,
        ids: Arc::new(UuidV7Generator),
        passwords,
        config: Arc::new(config),
        bus,
        events,
        tenant_cache,
        session_cache: SessionCache::new(std::time::Duration::from_secs(60)),
        mailer: mailer.clone(),
        lockouts: Arc::new(MemoryLockoutStore::new()),
        breached: Arc::new(OfflineBreachedPasswords::embedded()),
        attempts: Arc::new(MemoryAttemptCounter::new()),
    };
    let services = Services::new(core, keys);
    services.subscribe_invalidations().await.expect("subscribe");
    services
}

/// `Services::in_memory()`: the core on memory adapters, for tests and embedding.
pub async fn in_memory() -> Services {
    services_on(tessera_repository::memory::repositories()).await
}

/// The in-memory core and the sink its domain events go to.
pub async fn in_memory_with_events() -> (Services, Arc<MemoryEventSink>) {
    let events = Arc::new(MemoryEventSink::new(1000));
    let master = MasterKey::generate().expect("master key");
    let s = build(
        tessera_repository::memory::repositories(),
        Arc::new(MemoryInvalidationBus::new()),
        events.clone(),
        master,
    )
    .await;
    (s, events)
}

/// A registered tenant, its admin and the admin's principal.
pub struct TenantFixture {
    pub tenant: Tenant,
    pub admin: User,
    pub admin_principal: Principal,
    pub tokens: TokenPair,
}

/// Registers `slug` with admin `admin@{slug}.test` and logs the admin in.
///
/// # Panics
/// When registration or login fails.
pub async fn register_tenant(services: &Services, slug: &str) -> TenantFixture {
    let (admin, tenant) = services
        .tenants
        .register(RegisterInput {
            email: format!("admin@{slug}.test"),
            password: PASSWORD.into(),
            full_name: format!("Admin of {slug}"),
            tenant_slug: slug.into(),
            tenant_name: Some(format!("Tenant {slug}")),
            invitation_token: None,
        })
        .await
        .expect("register");
    let tokens = login(services, &format!("admin@{slug}.test"), slug).await;
    let admin_principal = services.auth.authenticate(&tokens.access_token, None).await.expect("authenticate");
    TenantFixture { tenant, admin, admin_principal, tokens }
}

/// Logs in with the fixture password.
///
/// # Panics
/// When the login fails.
pub async fn login(services: &Services, email: &str, slug: &str) -> TokenPair {
    services
        .auth
        .login(LoginInput {
            email: email.into(),
            password: PASSWORD.into(),
            tenant_slug: slug.into(),
            ip: Some("127.0.0.1".into()),
            user_agent: Some("testkit".into()),
        })
        .await
        .expect("login")
}

/// Creates the platform tenant with a super-admin and returns the super-admin's principal.
///
/// # Panics
/// When creation or login fails.
pub async fn super_admin(services: &Services) -> Principal {
    services.tenants.ensure_platform_admin("root@platform.test", PASSWORD, "Root").await.expect("super admin");
    let tokens = login(services, "root@platform.test", "platform").await;
    services.auth.authenticate(&tokens.access_token, None).await.expect("authenticate")
}

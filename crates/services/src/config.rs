//! Settings the core needs, handed over by the composition root (no global config).

use std::time::Duration;
use tessera_auth::password::Argon2Params;
use tessera_domain::settings::{SettingsBounds, TenantSettings};

#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// `iss` of every token (SPEC §1 `auth.issuer`).
    pub issuer: String,
    /// `aud` of every token (SPEC §1 `auth.audience`).
    pub audience: String,
    /// Leeway for `exp`/`nbf` checks (SPEC §6.2: 30 s).
    pub leeway: Duration,
    pub argon2: Argon2Params,
    /// How many Argon2 computations may run at once (default: the number of cores).
    pub max_concurrent_hashes: usize,
    /// The platform defaults of every tenant's settings (configuration `[tenant_defaults]`).
    pub platform_settings: TenantSettings,
    /// Limits no tenant override may exceed.
    pub bounds: SettingsBounds,
    /// Safety net for the tenant cache: entries are reloaded after this even without an
    /// invalidation message.
    pub tenant_cache_ttl: Duration,
    /// A refresh token presented again within this long after its rotation answers 401
    /// without revoking anything (client races; SPEC §6.2).
    pub refresh_reuse_grace: Duration,
    /// The page that receives password-reset links; the token is added as `?token=`.
    pub reset_link_base: String,
    pub login_limits: LoginLimits,
}

/// Login throttles besides the per-account lockout (SPEC §6.5, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// `rate_limit.enabled`: off turns these throttles off (lockouts stay).
    pub enabled: bool,
    /// All login attempts from one IP per minute (SPEC §7: 30).
    pub per_ip_per_minute: u32,
    /// Attempts per (IP, email) per minute (SPEC §7: 10).
    pub per_ip_email_per_minute: u32,
    /// Attempts against one tenant per minute.
    pub per_tenant_per_minute: u32,
    /// Distinct accounts tried from one IP in 10 minutes before it counts as credential
    /// stuffing (event `auth.credential_stuffing_suspected`, then 429).
    pub stuffing_accounts: u32,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            per_ip_per_minute: 30,
            per_ip_email_per_minute: 10,
            per_tenant_per_minute: 600,
            stuffing_accounts: 20,
        }
    }
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            issuer: "http://127.0.0.1:8080".into(),
            audience: "tessera".into(),
            leeway: Duration::from_secs(30),
            argon2: Argon2Params::default(),
            max_concurrent_hashes: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            platform_settings: TenantSettings::default(),
            bounds: SettingsBounds { max_access_ttl_seconds: 3600, max_refresh_ttl_seconds: 30 * 24 * 3600 },
            tenant_cache_ttl: Duration::from_secs(60),
            refresh_reuse_grace: Duration::from_secs(5),
            reset_link_base: "http://127.0.0.1:8080/reset-password".into(),
            login_limits: LoginLimits::default(),
        }
    }
}

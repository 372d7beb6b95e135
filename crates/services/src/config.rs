//! Settings the core needs, handed over by the composition root (no global config).

use std::time::Duration;
use tessera_auth::password::Argon2Params;

#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// `iss` of every token (SPEC §1 `auth.issuer`).
    pub issuer: String,
    /// `aud` of every token (SPEC §1 `auth.audience`).
    pub audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Leeway for `exp`/`nbf` checks (SPEC §6.2: 30 s).
    pub leeway: Duration,
    pub argon2: Argon2Params,
    /// How many Argon2 computations may run at once (default: the number of cores).
    pub max_concurrent_hashes: usize,
    /// Minimum and maximum password length until per-tenant policies exist.
    pub password_min_length: usize,
    pub password_max_length: usize,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            issuer: "http://127.0.0.1:8080".into(),
            audience: "tessera".into(),
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(7 * 24 * 3600),
            leeway: Duration::from_secs(30),
            argon2: Argon2Params::default(),
            max_concurrent_hashes: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            password_min_length: 12,
            password_max_length: 128,
        }
    }
}

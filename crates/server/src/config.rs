//! Configuration (SPEC §1): embedded `config/default.toml` ← `{config dir}/default.toml` ←
//! `{config dir}/{env}.toml` ← `TESSERA_<SECTION>__<KEY>` variables. Unknown keys and
//! invalid values fail at start, naming the key.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrecy::SecretString;
use serde::Deserialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use tessera_domain::settings::{self, SettingsBounds, TenantSettings};

const EMBEDDED_DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Variables with the `TESSERA_` prefix that are not configuration keys.
const NOT_KEYS: [&str; 3] = ["CONFIG_DIR", "TEST_DATABASE_URL", "TEST_REDIS_URL"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub env: String,
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub metrics: MetricsConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub auth: AuthConfig,
    pub security: SecurityConfig,
    pub gateway: GatewayConfig,
    pub rate_limit: RateLimitConfig,
    pub mail: MailConfig,
    pub cors: CorsConfig,
    /// Platform defaults of every tenant's settings, laid over the built-in ones (SPEC §3).
    #[serde(default)]
    pub tenant_defaults: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// Comma-separated CIDRs whose `X-Forwarded-For` is honoured.
    #[serde(deserialize_with = "string_or_list")]
    pub trusted_proxies: Vec<String>,
    pub max_body_bytes: usize,
    pub shutdown_timeout_seconds: u64,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Bearer token for `/metrics`; unset = loopback clients only. (Metrics come with §11.)
    pub token: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Default `sqlite://{data_dir}/tessera.db?mode=rwc`.
    pub url: Option<String>,
    /// The table owner's URL for migrations (PostgreSQL); default: `url`.
    pub migration_url: Option<String>,
    /// PostgreSQL role granted DML after migrating (the role `url` logs in as).
    pub app_role: Option<String>,
    pub auto_migrate: bool,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// Unset = in-memory adapters.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Default `http://{host}:{port}`.
    pub issuer: Option<String>,
    pub audience: String,
    pub refresh_reuse_grace_seconds: u64,
    /// No tenant's access tokens live longer (`tenant_defaults.tokens` sets the default).
    pub max_access_token_ttl_seconds: u64,
    /// No tenant's refresh tokens live longer.
    pub max_refresh_token_ttl_seconds: u64,
    /// The page password-reset links point to (`?token=` is added). Default `{issuer}/reset-password`.
    pub password_reset_url: Option<String>,
    pub signing_algorithm: String,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// Base64 of 32 bytes. Unset: a development key generated once into `{data_dir}/master.key`.
    pub master_key: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    pub allow_private_upstreams: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Login attempts per IP per minute (SPEC §7).
    pub login_per_ip_per_minute: u32,
    /// Login attempts per (IP, email) per minute (SPEC §7).
    pub login_per_ip_email_per_minute: u32,
    /// Login attempts against one tenant per minute.
    pub login_per_tenant_per_minute: u32,
    /// Distinct accounts one IP may try in 10 minutes before it is throttled as credential stuffing.
    pub login_stuffing_accounts: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// `file` or `smtp`.
    pub transport: String,
    /// The sender of every mail.
    pub from: String,
    pub smtp_host: Option<String>,
    /// Default: 587 for `starttls`, 465 for `tls`, 25 for `none`.
    pub smtp_port: Option<u16>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<SecretString>,
    /// `none`, `starttls` or `tls`.
    pub smtp_tls: String,
    pub smtp_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_origins: Vec<String>,
}

fn string_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::One(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        Raw::Many(v) => v,
    })
}

/// Where configuration comes from; tests pass their own environment.
pub struct Sources {
    pub config_dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Sources {
    /// The process environment and `TESSERA_CONFIG_DIR` (default `./config`).
    pub fn from_process() -> Self {
        let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("TESSERA_")).collect();
        let config_dir = env
            .iter()
            .find(|(k, _)| k == "TESSERA_CONFIG_DIR")
            .map(|(_, v)| PathBuf::from(v))
            .unwrap_or_else(|| PathBuf::from("config"));
        Self { config_dir, env }
    }
}

impl Config {
    /// Loads and validates the configuration.
    ///
    /// # Errors
    /// Unreadable files, unknown keys, wrong types or invalid values, naming the key.
    pub fn load(sources: &Sources) -> anyhow::Result<Self> {
        let env_name = sources
            .env
            .iter()
            .find(|(k, _)| k == "TESSERA_ENV")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "development".into());
        if !env_name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-') || env_name.is_empty() {
            bail!("configuration key `env` (TESSERA_ENV): must be a name like `production`");
        }
        let mut figment = Figment::from(Toml::string(EMBEDDED_DEFAULTS));
        for file in [sources.config_dir.join("default.toml"), sources.config_dir.join(format!("{env_name}.toml"))] {
            if file.is_file() {
                figment = figment.merge(Toml::file(&file));
            }
        }
        // Variables come as an explicit list (the process's, or a test's), nested on `__`.
        let mut explicit = figment::value::Dict::new();
        for (k, v) in sources.env.iter().filter_map(|(k, v)| k.strip_prefix("TESSERA_").map(|r| (r, v))) {
            if NOT_KEYS.contains(&k) {
                continue;
            }
            insert_nested(&mut explicit, &k.to_ascii_lowercase(), v);
        }
        figment = figment.merge(Serialized::defaults(explicit));
        let mut config: Config = figment.extract().map_err(|e| anyhow::anyhow!(describe(&e)))?;
        config.env = env_name;
        config.drop_empty_values();
        config.validate()?;
        Ok(config)
    }

    /// An empty variable (`TESSERA_REDIS__URL=`) means "unset".
    fn drop_empty_values(&mut self) {
        for v in [
            &mut self.mail.smtp_host,
            &mut self.mail.smtp_username,
            &mut self.auth.password_reset_url,
            &mut self.database.url,
            &mut self.database.migration_url,
            &mut self.database.app_role,
            &mut self.redis.url,
            &mut self.auth.issuer,
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *v = None;
            }
        }
        use secrecy::ExposeSecret;
        for v in [&mut self.security.master_key, &mut self.metrics.token, &mut self.mail.smtp_password] {
            if v.as_ref().is_some_and(|s| s.expose_secret().trim().is_empty()) {
                *v = None;
            }
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        for cidr in &self.server.trusted_proxies {
            parse_cidr(cidr)
                .with_context(|| format!("configuration key `server.trusted_proxies`: invalid CIDR `{cidr}`"))?;
        }
        if self.server.max_body_bytes == 0 {
            bail!("configuration key `server.max_body_bytes`: must be positive");
        }
        if self.database.max_connections == 0 {
            bail!("configuration key `database.max_connections`: must be positive");
        }
        if !matches!(self.mail.transport.as_str(), "file" | "smtp") {
            bail!("configuration key `mail.transport`: must be `file` or `smtp`");
        }
        if self.mail.smtp_tls.parse::<tessera_integrations::SmtpTls>().is_err() {
            bail!("configuration key `mail.smtp_tls`: must be `none`, `starttls` or `tls`");
        }
        if self.mail.transport == "smtp" && self.mail.smtp_host.is_none() {
            bail!("configuration key `mail.smtp_host`: required when `mail.transport` is `smtp`");
        }
        if tessera_domain::signing::SigningAlgorithm::parse(&self.auth.signing_algorithm).is_none() {
            bail!("configuration key `auth.signing_algorithm`: must be EdDSA, RS256 or ES256");
        }
        if !(60..=86_400).contains(&self.auth.max_access_token_ttl_seconds) {
            bail!("configuration key `auth.max_access_token_ttl_seconds`: must be between 60 and 86400");
        }
        if self.auth.max_refresh_token_ttl_seconds < self.auth.max_access_token_ttl_seconds {
            bail!(
                "configuration key `auth.max_refresh_token_ttl_seconds`: must not be shorter than the access maximum"
            );
        }
        self.platform_settings()?;
        let db_ok =
            |u: &str| u.starts_with("sqlite:") || u.starts_with("postgres://") || u.starts_with("postgresql://");
        for (key, url) in
            [("database.url", &self.database.url), ("database.migration_url", &self.database.migration_url)]
        {
            if let Some(url) = url
                && !db_ok(url)
            {
                bail!("configuration key `{key}`: must be a sqlite: or postgres:// URL");
            }
        }
        if let Some(url) = &self.redis.url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            bail!("configuration key `redis.url`: must be a redis:// or rediss:// URL");
        }
        if self.is_production() {
            if self.security.master_key.is_none() {
                bail!("configuration key `security.master_key`: production refuses the generated development key");
            }
            if self.cors.allowed_origins.iter().any(|o| o == "*") {
                bail!("configuration key `cors.allowed_origins`: production refuses `*`");
            }
        }
        Ok(())
    }

    /// Bounds no tenant override may exceed.
    pub fn settings_bounds(&self) -> SettingsBounds {
        SettingsBounds {
            max_access_ttl_seconds: self.auth.max_access_token_ttl_seconds,
            max_refresh_ttl_seconds: self.auth.max_refresh_token_ttl_seconds,
        }
    }

    /// The built-in defaults with `[tenant_defaults]` laid over them, validated.
    ///
    /// # Errors
    /// Unknown keys or out-of-range values, naming `tenant_defaults.<key>`.
    pub fn platform_settings(&self) -> anyhow::Result<TenantSettings> {
        let overlay = match &self.tenant_defaults {
            serde_json::Value::Null => serde_json::json!({}),
            v => v.clone(),
        };
        let doc = settings::compose(&TenantSettings::default().to_value(), &serde_json::json!({}), &overlay);
        settings::validate(&doc, self.settings_bounds()).map_err(|errors| {
            let list: Vec<String> = errors
                .iter()
                .map(|e| format!("configuration key `tenant_defaults.{}`: {}", e.field, e.message))
                .collect();
            anyhow::anyhow!(list.join("; "))
        })
    }

    pub fn is_production(&self) -> bool {
        self.env == "production"
    }

    pub fn database_url(&self) -> String {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("tessera.db").display()))
    }

    pub fn issuer(&self) -> String {
        self.auth.issuer.clone().unwrap_or_else(|| format!("http://{}:{}", self.server.host, self.server.port))
    }

    /// The SMTP settings when `mail.transport` is `smtp` (only `from` matters for `file`).
    pub fn smtp_settings(&self) -> Option<tessera_integrations::SmtpSettings> {
        let m = &self.mail;
        let host = m.smtp_host.clone()?;
        let tls = m.smtp_tls.parse::<tessera_integrations::SmtpTls>().ok()?;
        Some(tessera_integrations::SmtpSettings {
            host,
            port: m.smtp_port.unwrap_or_else(|| tls.default_port()),
            username: m.smtp_username.clone(),
            password: m.smtp_password.clone(),
            tls,
            from: m.from.clone(),
            timeout_seconds: m.smtp_timeout_seconds,
        })
    }

    pub fn password_reset_url(&self) -> String {
        self.auth.password_reset_url.clone().unwrap_or_else(|| format!("{}/reset-password", self.issuer()))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

/// `a__b__c` → nested `{a: {b: {c: v}}}`, as `TESSERA_A__B__C` means.
/// Leaf keys whose values are secrets: always strings, never parsed as numbers, lists or
/// tables, so a type error can never quote them back.
const SECRET_LEAVES: [&str; 3] = ["master_key", "token", "smtp_password"];

fn insert_nested(dict: &mut figment::value::Dict, key: &str, value: &str) {
    match key.split_once("__") {
        None => {
            let parsed: figment::value::Value = if SECRET_LEAVES.contains(&key) {
                value.into()
            } else {
                value.parse().unwrap_or_else(|_| value.into())
            };
            dict.insert(key.to_owned(), parsed);
        }
        Some((head, rest)) => {
            let entry =
                dict.entry(head.to_owned()).or_insert_with(|| figment::value::Value::from(figment::value::Dict::new()));
            if let figment::value::Value::Dict(_, inner) = entry {
                insert_nested(inner, rest, value);
            }
        }
    }
}

/// One line per error, each naming the key (`server.port`) and what was wrong.
fn describe(e: &figment::Error) -> String {
    e.clone()
        .into_iter()
        .map(|err| {
            let key = err.path.join(".");
            if key.is_empty() {
                format!("configuration: {}", err.kind)
            } else {
                format!("configuration key `{key}`: {}", err.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Parses `addr/prefix` (or a bare address) into an address and prefix length.
pub fn parse_cidr(s: &str) -> anyhow::Result<(IpAddr, u8)> {
    let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
    let addr: IpAddr = addr.trim().parse()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = if prefix.is_empty() { max } else { prefix.trim().parse::<u8>()? };
    if prefix > max {
        bail!("prefix longer than {max}");
    }
    Ok((addr, prefix))
}

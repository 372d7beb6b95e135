//! Configuration loading (SPEC §1): layering, the fixed key names, and errors naming the key.
#![allow(clippy::unwrap_used, reason = "test helpers")]

use std::path::PathBuf;
use tessera_server::{Config, Sources};

fn load(vars: &[(&str, &str)], dir: Option<PathBuf>) -> anyhow::Result<Config> {
    let env = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let config_dir = dir.unwrap_or_else(|| PathBuf::from("/nonexistent-tessera-config"));
    Config::load(&Sources { config_dir, env })
}

#[test]
fn embedded_defaults_match_spec() {
    let c = load(&[], None).unwrap();
    assert_eq!(c.server.host, "127.0.0.1");
    assert_eq!(c.server.port, 8080);
    assert!(c.server.trusted_proxies.is_empty());
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.database_url(), "sqlite://./data/tessera.db?mode=rwc");
    assert_eq!(c.redis.url, None);
    assert_eq!(c.issuer(), "http://127.0.0.1:8080");
    assert_eq!(c.auth.audience, "tessera");
    assert_eq!(c.auth.refresh_reuse_grace_seconds, 5);
    assert!(!c.gateway.allow_private_upstreams);
    assert!(c.rate_limit.enabled);
    assert_eq!(c.mail.transport, "file");
    assert_eq!((c.auth.argon2_memory_kib, c.auth.argon2_iterations, c.auth.argon2_parallelism), (19456, 2, 1));
}

#[test]
fn every_spec_key_is_accepted_from_the_environment() {
    let c = load(
        &[
            ("TESSERA_SERVER__HOST", "0.0.0.0"),
            ("TESSERA_SERVER__PORT", "9000"),
            ("TESSERA_SERVER__TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1"),
            ("TESSERA_METRICS__TOKEN", "metrics-secret"),
            ("TESSERA_DATA_DIR", "/tmp/tessera-x"),
            ("TESSERA_DATABASE__URL", "postgres://app@db/tessera"),
            ("TESSERA_REDIS__URL", "redis://cache:6379"),
            ("TESSERA_AUTH__ISSUER", "https://id.example.com"),
            ("TESSERA_AUTH__AUDIENCE", "api"),
            ("TESSERA_AUTH__REFRESH_REUSE_GRACE_SECONDS", "9"),
            ("TESSERA_SECURITY__MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            ("TESSERA_GATEWAY__ALLOW_PRIVATE_UPSTREAMS", "true"),
            ("TESSERA_RATE_LIMIT__ENABLED", "false"),
            ("TESSERA_MAIL__TRANSPORT", "smtp"),
            ("TESSERA_MAIL__SMTP_HOST", "smtp.example.com"),
            ("TESSERA_TEST_DATABASE_URL", "ignored"),
            ("TESSERA_CONFIG_DIR", "ignored"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(c.server.host, "0.0.0.0");
    assert_eq!(c.server.port, 9000);
    assert_eq!(c.server.trusted_proxies, vec!["10.0.0.0/8", "192.168.1.1"]);
    assert_eq!(c.database_url(), "postgres://app@db/tessera");
    assert_eq!(c.redis.url.as_deref(), Some("redis://cache:6379"));
    assert_eq!(c.issuer(), "https://id.example.com");
    assert_eq!(c.auth.refresh_reuse_grace_seconds, 9);
    assert!(c.gateway.allow_private_upstreams);
    assert!(!c.rate_limit.enabled);
    assert_eq!(c.mail.transport, "smtp");
    assert_eq!(c.smtp_settings().map(|s| (s.host, s.port)), Some(("smtp.example.com".into(), 587)));
    assert_eq!(c.data_dir, PathBuf::from("/tmp/tessera-x"));
}

#[test]
fn unknown_and_invalid_keys_fail_naming_the_key() {
    let cases: [(&str, &str, &str); 7] = [
        ("TESSERA_SERVER__PORTT", "1", "portt"),
        ("TESSERA_NOPE", "1", "nope"),
        ("TESSERA_SERVER__PORT", "eighty", "server.port"),
        ("TESSERA_SERVER__TRUSTED_PROXIES", "10.0.0.0/99", "server.trusted_proxies"),
        ("TESSERA_MAIL__TRANSPORT", "pigeon", "mail.transport"),
        ("TESSERA_DATABASE__URL", "mysql://x", "database.url"),
        ("TESSERA_AUTH__SIGNING_ALGORITHM", "HS256", "auth.signing_algorithm"),
    ];
    for (key, value, named) in cases {
        let err = load(&[(key, value)], None).unwrap_err().to_string();
        assert!(err.contains(named), "{key}={value}: {err}");
    }
}

#[test]
fn files_layer_under_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("default.toml"), "[server]\nport = 7000\nhost = \"10.1.1.1\"\n").unwrap();
    std::fs::write(dir.path().join("staging.toml"), "[server]\nport = 7100\n").unwrap();
    let c = load(&[("TESSERA_ENV", "staging")], Some(dir.path().into())).unwrap();
    assert_eq!((c.server.host.as_str(), c.server.port), ("10.1.1.1", 7100));
    let c = load(&[("TESSERA_ENV", "staging"), ("TESSERA_SERVER__PORT", "7200")], Some(dir.path().into())).unwrap();
    assert_eq!(c.server.port, 7200);
    std::fs::write(dir.path().join("default.toml"), "[server]\nbogus = 1\n").unwrap();
    let err = load(&[], Some(dir.path().into())).unwrap_err().to_string();
    assert!(err.contains("bogus"), "{err}");
}

#[test]
fn production_refuses_development_keys_and_cors_star() {
    let err = load(&[("TESSERA_ENV", "production")], None).unwrap_err().to_string();
    assert!(err.contains("security.master_key"), "{err}");
    let err = load(
        &[
            ("TESSERA_ENV", "production"),
            ("TESSERA_SECURITY__MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            ("TESSERA_CORS__ALLOWED_ORIGINS", "*"),
        ],
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("cors.allowed_origins"), "{err}");
}

#[test]
fn empty_variables_mean_unset() {
    let c = load(&[("TESSERA_REDIS__URL", ""), ("TESSERA_DATABASE__URL", "")], None).unwrap();
    assert_eq!(c.redis.url, None);
    assert!(c.database_url().starts_with("sqlite://"));
}

#[test]
fn secrets_that_look_like_numbers_stay_strings_and_never_appear_in_errors() {
    let c = load(&[("TESSERA_METRICS__TOKEN", "123456789"), ("TESSERA_MAIL__SMTP_PASSWORD", "[1,2]")], None).unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(c.metrics.token.as_ref().map(|t| t.expose_secret().to_owned()), Some("123456789".into()));
    let c = load(&[("TESSERA_SECURITY__MASTER_KEY", "424242")], None).unwrap();
    let err = tessera_server::master_key::load(&c).map(|_| ()).unwrap_err().to_string();
    assert!(err.contains("security.master_key"), "{err}");
    assert!(!err.contains("424242"), "the rejected key is not echoed: {err}");
}

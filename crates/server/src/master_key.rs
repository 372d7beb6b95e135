//! The master key that seals signing keys: from configuration, or (development only) a key
//! generated once into `{data_dir}/master.key`.

use crate::config::Config;
use anyhow::Context;
use secrecy::ExposeSecret;
use tessera_auth::keys::MasterKey;

/// # Errors
/// A configured key that is not base64 of 32 bytes (naming the key), or an unreadable file.
pub fn load(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(configured) = &config.security.master_key {
        return MasterKey::from_base64(configured.expose_secret())
            .map_err(|_| anyhow::anyhow!("configuration key `security.master_key`: must be base64 of 32 bytes"));
    }
    if config.is_production() {
        anyhow::bail!("configuration key `security.master_key`: required in production");
    }
    let path = config.data_dir().join("master.key");
    if path.is_file() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let key = MasterKey::from_base64(text.trim())
            .map_err(|_| anyhow::anyhow!("{} does not hold base64 of 32 bytes", path.display()))?;
        tracing::warn!(path = %path.display(), "using the DEVELOPMENT master key; set TESSERA_SECURITY__MASTER_KEY in production");
        return Ok(key);
    }
    std::fs::create_dir_all(config.data_dir()).with_context(|| format!("creating {}", config.data_dir().display()))?;
    let key = MasterKey::generate().map_err(|e| anyhow::anyhow!("generating a master key: {e}"))?;
    write_private(&path, &key.to_base64())?;
    tracing::warn!(path = %path.display(), "generated a DEVELOPMENT master key; signing keys sealed with it are development keys");
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("creating {}", path.display()))
}

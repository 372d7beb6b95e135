//! Storage selection and migrations: SQLite by default, PostgreSQL when the URL says so.
//! On PostgreSQL, migrations run as the table owner (`database.migration_url`) and the
//! server connects as a role without ownership or BYPASSRLS, so RLS holds.

use crate::config::Config;
use anyhow::Context;
use async_trait::async_trait;
use sea_orm_migration::MigratorTrait;
use tessera_migrations::Migrator;
use tessera_repository::sea::SeaStore;
use tessera_rest::health::ComponentCheck;

/// Creates the SQLite file's folder when the URL points under the data dir.
fn prepare_sqlite(url: &str) -> anyhow::Result<()> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
    }
    Ok(())
}

/// Applies every pending migration with the owner's connection, then grants the app role.
///
/// # Errors
/// Unreachable database or a failing migration.
pub async fn migrate_up(config: &Config) -> anyhow::Result<()> {
    let url = config.database.migration_url.clone().unwrap_or_else(|| config.database_url());
    prepare_sqlite(&url)?;
    let owner = SeaStore::connect(&url, 2).await.context("connecting to the database for migrations")?;
    Migrator::up(owner.connection(), None).await.context("applying migrations")?;
    if let Some(role) = &config.database.app_role {
        tessera_migrations::grant_app_role(owner.connection(), role)
            .await
            .with_context(|| format!("granting the application role `{role}`"))?;
    }
    Ok(())
}

/// `tessera migrate down`: reverts the latest migration.
///
/// # Errors
/// Unreachable database or a failing migration.
pub async fn migrate_down(config: &Config) -> anyhow::Result<()> {
    let url = config.database.migration_url.clone().unwrap_or_else(|| config.database_url());
    let owner = SeaStore::connect(&url, 2).await.context("connecting to the database")?;
    Migrator::down(owner.connection(), Some(1)).await.context("reverting the latest migration")?;
    Ok(())
}

/// `tessera migrate status`: one line per migration.
///
/// # Errors
/// Unreachable database.
pub async fn migration_status(config: &Config) -> anyhow::Result<Vec<String>> {
    let url = config.database.migration_url.clone().unwrap_or_else(|| config.database_url());
    prepare_sqlite(&url)?;
    let owner = SeaStore::connect(&url, 2).await.context("connecting to the database")?;
    let migrations = Migrator::get_migration_with_status(owner.connection()).await?;
    Ok(migrations.iter().map(|m| format!("{}\t{}", m.name(), m.status())).collect())
}

/// Connects the application's pool; warns (refuses in production) when RLS would not bind it.
///
/// # Errors
/// Unreachable database, or in production a role that bypasses RLS.
pub async fn connect_app(config: &Config) -> anyhow::Result<SeaStore> {
    let url = config.database_url();
    prepare_sqlite(&url)?;
    let store = SeaStore::connect(&url, config.database.max_connections).await.context("connecting to the database")?;
    if store.is_postgres() {
        let isolated = tessera_migrations::check_app_role_isolated(store.connection()).await?;
        if !isolated {
            if config.is_production() {
                anyhow::bail!(
                    "configuration key `database.url`: the role owns the tables, is a superuser or has BYPASSRLS, so row-level security would not isolate tenants"
                );
            }
            tracing::warn!(
                "the database role bypasses row-level security; use a non-owner role (see docs/operations.md)"
            );
        }
    }
    Ok(store)
}

/// Database reachability for `/health/ready`.
pub struct DatabaseCheck(pub SeaStore);

#[async_trait]
impl ComponentCheck for DatabaseCheck {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Pending migrations make the server not ready.
pub struct MigrationsCheck(pub SeaStore);

#[async_trait]
impl ComponentCheck for MigrationsCheck {
    // Reads the migration table directly: the migrator's own status query would try to
    // create its table, which the application role may not do.
    async fn check(&self) -> Result<(), String> {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = self.0.connection();
        let rows = conn
            .query_all_raw(Statement::from_string(conn.get_database_backend(), "SELECT version FROM seaql_migrations"))
            .await
            .map_err(|e| e.to_string())?;
        let applied: Vec<String> = rows.iter().filter_map(|r| r.try_get::<String>("", "version").ok()).collect();
        let pending = Migrator::migrations().iter().filter(|m| !applied.iter().any(|a| a == m.name())).count();
        if pending == 0 { Ok(()) } else { Err(format!("{pending} pending migration(s)")) }
    }
}

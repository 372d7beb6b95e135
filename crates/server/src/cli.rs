//! The `tessera` command line (SPEC §1).

use crate::config::{Config, Sources};
use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "tessera", version, about = "Tessera: multi-tenant identity provider and API gateway")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server (the default).
    Serve,
    /// Apply, revert or list database migrations.
    Migrate {
        #[arg(value_enum, default_value = "up")]
        action: MigrateAction,
    },
    /// Create the platform tenant and a super-admin (runs migrations first; idempotent).
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, env = "TESSERA_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "Platform Administrator")]
        full_name: String,
    },
    /// Manage token signing keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Print the OpenAPI 3.1 document.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Create a new signing key; the old ones keep verifying until their tokens expire.
    /// Running servers pick it up within 60 s.
    Rotate {
        /// EdDSA, RS256 or ES256 (default: `auth.signing_algorithm`).
        #[arg(long)]
        algorithm: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MigrateAction {
    Up,
    Down,
    Status,
}

/// Runs one command to completion.
///
/// # Errors
/// Configuration, storage or server failures, with their cause chain.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Openapi) = cli.command {
        let doc = tessera_rest::docs::openapi_document();
        println!("{}", doc.to_pretty_json().context("rendering the OpenAPI document")?);
        return Ok(());
    }
    let config = Config::load(&Sources::from_process())?;
    crate::telemetry::init(config.is_production());
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate { action: MigrateAction::Up } => {
            crate::database::migrate_up(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Migrate { action: MigrateAction::Down } => crate::database::migrate_down(&config).await,
        Command::Migrate { action: MigrateAction::Status } => {
            for line in crate::database::migration_status(&config).await? {
                println!("{line}");
            }
            Ok(())
        }
        Command::CreateAdmin { email, password, full_name } => {
            crate::database::migrate_up(&config).await?;
            let store = crate::database::connect_app(&config).await?;
            let services = crate::app::build_services(&config, store.repositories()).await?;
            let user = services
                .tenants
                .ensure_platform_admin(&email, &password, &full_name)
                .await
                .map_err(|e| anyhow::anyhow!("creating the super-admin: {}", describe(&e)))?;
            println!("super-admin {} ({}) in tenant `platform`", user.email, user.id);
            Ok(())
        }
        Command::Keys { action: KeysAction::Rotate { algorithm } } => {
            let name = algorithm.unwrap_or_else(|| config.auth.signing_algorithm.clone());
            let algorithm = tessera_domain::signing::SigningAlgorithm::parse(&name)
                .ok_or_else(|| anyhow::anyhow!("--algorithm: must be EdDSA, RS256 or ES256"))?;
            crate::database::migrate_up(&config).await?;
            let store = crate::database::connect_app(&config).await?;
            let services = crate::app::build_services(&config, store.repositories()).await?;
            let kid = services.rotate_keys(algorithm).await.map_err(|e| anyhow::anyhow!("rotating keys: {e}"))?;
            println!("new signing key {kid} ({})", algorithm.as_str());
            Ok(())
        }
        Command::Openapi => Ok(()),
    }
}

fn describe(e: &tessera_services::ServiceError) -> String {
    match e {
        tessera_services::ServiceError::Validation(errors) => {
            errors.iter().map(|f| format!("{} {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let running = crate::app::spawn(&config).await?;
    tracing::info!(addr = %running.addr, env = %config.env, "tessera listening");
    // actix-web handles SIGTERM/SIGINT itself: it stops accepting and drains in-flight
    // requests for `server.shutdown_timeout_seconds`.
    running.task.await.context("server task")?.context("server")?;
    tracing::info!("tessera stopped");
    Ok(())
}

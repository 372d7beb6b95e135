//! PostgreSQL plumbing for `make bench`: a fresh database the benchmark owns, and the
//! application login role (no ownership, no BYPASSRLS) Tessera runs as — the same set-up as
//! the test kit's `postgres_store`. Tessera itself migrates the database as its owner and
//! grants the role (`database.migration_url` + `database.app_role`).

use anyhow::Context;
use clap::Subcommand;
use sea_orm::ConnectionTrait;

#[derive(Debug, Subcommand)]
pub enum PgAction {
    /// Create `--database` and the `--app-role` login role (if missing), grant it CONNECT,
    /// and print the owner's and the application role's URLs (two lines).
    Create {
        /// A superuser (or CREATEDB + CREATEROLE) URL, e.g. `TESSERA_TEST_DATABASE_URL`.
        #[arg(long, env = "TESSERA_TEST_DATABASE_URL")]
        admin_url: String,
        #[arg(long)]
        database: String,
        #[arg(long, default_value = "tessera_app")]
        app_role: String,
    },
    /// Drop `--database` (and every connection to it).
    Drop {
        #[arg(long, env = "TESSERA_TEST_DATABASE_URL")]
        admin_url: String,
        #[arg(long)]
        database: String,
    },
}

pub async fn run(action: PgAction) -> anyhow::Result<()> {
    match action {
        PgAction::Create { admin_url, database, app_role } => {
            check_identifier(&database)?;
            check_identifier(&app_role)?;
            check_loopback(&admin_url)?;
            let admin = crate::connect(&admin_url, 1).await?;
            exec(&admin, &format!(r#"CREATE DATABASE "{database}""#)).await?;
            exec(
                &admin,
                &format!(
                    "DO $$ BEGIN
                         CREATE ROLE {app_role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                     END $$"
                ),
            )
            .await?;
            exec(&admin, &format!(r#"GRANT CONNECT ON DATABASE "{database}" TO {app_role}"#)).await?;
            let _ = admin.close_by_ref().await;
            println!("{}", database_url(&admin_url, &database, None)?);
            println!("{}", database_url(&admin_url, &database, Some(&app_role))?);
            Ok(())
        }
        PgAction::Drop { admin_url, database } => {
            check_identifier(&database)?;
            check_loopback(&admin_url)?;
            let admin = crate::connect(&admin_url, 1).await?;
            exec(&admin, &format!(r#"DROP DATABASE IF EXISTS "{database}" WITH (FORCE)"#)).await?;
            let _ = admin.close_by_ref().await;
            Ok(())
        }
    }
}

async fn exec(db: &sea_orm::DatabaseConnection, sql: &str) -> anyhow::Result<()> {
    db.execute_unprepared(sql).await.with_context(|| format!("running `{sql}`"))?;
    Ok(())
}

/// Names are spliced into DDL: allow only plain lower-case identifiers.
fn check_identifier(name: &str) -> anyhow::Result<()> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    anyhow::ensure!(plain, "`{name}` is not a plain lower-case identifier");
    Ok(())
}

/// The benchmark only ever talks to a database on this machine.
fn check_loopback(url: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url).with_context(|| format!("{} is not a URL", crate::redact(url)))?;
    let local = match parsed.host() {
        // `postgres:` is not a special scheme to the URL parser: an IP host arrives as text.
        Some(url::Host::Domain(d)) => {
            d == "localhost"
                || d.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        // A Unix socket directory (`postgres:///db?host=/run/postgresql`) is local too.
        None => true,
    };
    anyhow::ensure!(local, "{}: only a PostgreSQL on this machine may be used", crate::redact(url));
    Ok(())
}

/// `url` with another database and, optionally, another user (and no password).
fn database_url(url: &str, database: &str, user: Option<&str>) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url).context("the admin URL is not a URL")?;
    parsed.set_path(&format!("/{database}"));
    if let Some(user) = user {
        parsed.set_username(user).map_err(|()| anyhow::anyhow!("the admin URL takes no user name"))?;
        parsed.set_password(None).map_err(|()| anyhow::anyhow!("the admin URL takes no password"))?;
    }
    Ok(parsed.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_databases_pass() {
        for ok in ["postgres://postgres@127.0.0.1:5432/postgres", "postgres://u@localhost/db", "postgres://u@[::1]/db"]
        {
            assert!(super::check_loopback(ok).is_ok(), "{ok}");
        }
        for bad in ["postgres://u@10.1.2.3/db", "postgres://u@db.example.com/db", "postgres://u@192.168.0.2:5432/x"] {
            assert!(super::check_loopback(bad).is_err(), "{bad}");
        }
    }
}

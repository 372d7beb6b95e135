//! Tessera's schema as explicit DDL per backend (never derived from entities), run by
//! sea-orm-migration: `Migrator::up(&db, None)`, `Migrator::down(&db, Some(1))`,
//! `Migrator::get_migration_with_status(&db)`.
//!
//! On PostgreSQL the tenant-owned tables get row-level security keyed on the
//! `app.current_tenant` setting; [`grant_app_role`] and [`check_app_role_isolated`] set up
//! and verify the role the application connects as.

mod m20261123_000001_core;
mod m20261123_000002_usage;
mod m20261123_000003_refresh_rotation;
mod m20261123_000004_credentials;
mod rls;
mod roles;

pub use roles::{check_app_role_isolated, grant_app_role, is_valid_role_name};
pub use sea_orm_migration::{MigrationStatus, MigratorTrait};

use sea_orm_migration::prelude::{DbErr, SchemaManager};
use sea_orm_migration::sea_orm::ConnectionTrait;
use sea_orm_migration::{MigrationTrait, async_trait::async_trait};

/// Every migration, oldest first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_core::Migration),
            Box::new(m20261123_000002_usage::Migration),
            Box::new(m20261123_000003_refresh_rotation::Migration),
            Box::new(m20261123_000004_credentials::Migration),
        ]
    }
}

/// Runs DDL statements one by one on the migration's connection.
async fn run(manager: &SchemaManager<'_>, statements: impl IntoIterator<Item = impl AsRef<str>>) -> Result<(), DbErr> {
    let connection = manager.get_connection();
    for sql in statements {
        connection.execute_unprepared(sql.as_ref()).await?;
    }
    Ok(())
}

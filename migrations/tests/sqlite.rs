//! The migrations on SQLite: up, status, down, up again. (PostgreSQL, with RLS, is covered
//! by tessera-testkit's `migrations` test, which can create throw-away databases.)

use sea_orm_migration::MigrationStatus;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};
use tessera_migrations::{Migrator, MigratorTrait, check_app_role_isolated, grant_app_role};

async fn tables(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
    let rows = db
        .query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await?;
    rows.iter()
        .map(|r| r.try_get::<String>("", "name"))
        .collect()
}

#[tokio::test]
async fn up_status_down_up() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let status = Migrator::get_migration_with_status(&db).await.unwrap();
    assert!(!status.is_empty());
    assert!(
        status
            .iter()
            .all(|m| m.status() == MigrationStatus::Applied)
    );
    assert_eq!(
        tables(&db).await.unwrap(),
        [
            "refresh_tokens",
            "seaql_migrations",
            "sessions",
            "signing_keys",
            "tenants",
            "users"
        ]
    );

    Migrator::down(&db, Some(1)).await.unwrap();
    assert_eq!(tables(&db).await.unwrap(), ["seaql_migrations"]);
    assert!(Migrator::get_pending_migrations(&db).await.unwrap().len() == 1);

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(tables(&db).await.unwrap().len(), 6);
}

#[tokio::test]
async fn role_helpers_are_no_ops_on_sqlite_but_still_validate() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    grant_app_role(&db, "tessera_app").await.unwrap();
    assert!(
        grant_app_role(&db, "Robert'); DROP TABLE users;--")
            .await
            .is_err()
    );
    assert!(check_app_role_isolated(&db).await.unwrap());
}

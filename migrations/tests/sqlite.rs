//! The migrations on SQLite: up, status, down, up again. (PostgreSQL, with RLS, is covered
//! by tessera-testkit's `migrations` test, which can create throw-away databases.)

use sea_orm_migration::MigrationStatus;
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement};
use tessera_migrations::{Migrator, MigratorTrait, check_app_role_isolated, grant_app_role};

async fn tables(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
    let rows = db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql)).await?;
    rows.iter().map(|r| r.try_get::<String>("", "name")).collect()
}

async fn columns(db: &DatabaseConnection, table: &str) -> Result<Vec<String>, DbErr> {
    let sql = "SELECT name FROM pragma_table_info($1) ORDER BY cid";
    let rows = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Sqlite, sql, [table.into()])).await?;
    rows.iter().map(|r| r.try_get::<String>("", "name")).collect()
}

/// The columns `m20261123_000003_refresh_rotation` adds to `refresh_tokens`.
const ROTATION_COLUMNS: [&str; 2] = ["revoked_at", "replaced_by"];

const ALL_TABLES: [&str; 7] =
    ["refresh_tokens", "seaql_migrations", "sessions", "signing_keys", "tenants", "usage_counters", "users"];

#[tokio::test]
async fn up_status_down_up() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let status = Migrator::get_migration_with_status(&db).await.unwrap();
    assert!(!status.is_empty());
    assert!(status.iter().all(|m| m.status() == MigrationStatus::Applied));
    assert_eq!(tables(&db).await.unwrap(), ALL_TABLES);

    assert!(columns(&db, "refresh_tokens").await.unwrap().ends_with(&ROTATION_COLUMNS.map(str::to_owned)));

    // One step down removes only the newest migration's columns, the next its table.
    Migrator::down(&db, Some(1)).await.unwrap();
    let refresh_columns = columns(&db, "refresh_tokens").await.unwrap();
    assert!(ROTATION_COLUMNS.iter().all(|c| !refresh_columns.iter().any(|found| found == c)), "{refresh_columns:?}");
    assert_eq!(tables(&db).await.unwrap(), ALL_TABLES);
    Migrator::down(&db, Some(1)).await.unwrap();
    let without_usage: Vec<&str> = ALL_TABLES.into_iter().filter(|t| *t != "usage_counters").collect();
    assert_eq!(tables(&db).await.unwrap(), without_usage);
    assert_eq!(Migrator::get_pending_migrations(&db).await.unwrap().len(), 2);

    Migrator::down(&db, None).await.unwrap();
    assert_eq!(tables(&db).await.unwrap(), ["seaql_migrations"]);
    assert_eq!(Migrator::get_pending_migrations(&db).await.unwrap().len(), status.len());

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(tables(&db).await.unwrap(), ALL_TABLES);
    assert!(columns(&db, "refresh_tokens").await.unwrap().ends_with(&ROTATION_COLUMNS.map(str::to_owned)));
}

/// Usage counters accumulate with the upsert the adapter uses (SQLite ≥ 3.24), and the
/// table's constraints hold: the tenant must exist (sqlx turns foreign keys on), the count
/// is not negative, the period looks like `YYYY-MM`.
#[tokio::test]
async fn usage_counters_upsert_and_constraints() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO tenants (id, slug, name, status, plan, created_at, updated_at) \
         VALUES (x'01', 'acme', 'Acme', 'active', 'standard', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
    )
    .await
    .unwrap();
    let upsert = "INSERT INTO usage_counters (tenant_id, period, requests, updated_at) \
                  VALUES (x'01', '2026-11', 5, '2026-11-01T00:00:00Z') \
                  ON CONFLICT (tenant_id, period) DO UPDATE SET requests = usage_counters.requests + excluded.requests";
    db.execute_unprepared(upsert).await.unwrap();
    db.execute_unprepared(upsert).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT requests FROM usage_counters"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "requests").unwrap(), 10);
    for refused in [
        // No such tenant.
        "INSERT INTO usage_counters VALUES (x'02', '2026-11', 1, '2026-11-01T00:00:00Z')",
        "INSERT INTO usage_counters VALUES (x'01', '2026-10', -1, '2026-11-01T00:00:00Z')",
        "INSERT INTO usage_counters VALUES (x'01', '2026-1', 1, '2026-11-01T00:00:00Z')",
    ] {
        assert!(db.execute_unprepared(refused).await.is_err(), "{refused}");
    }
}

#[tokio::test]
async fn role_helpers_are_no_ops_on_sqlite_but_still_validate() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    grant_app_role(&db, "tessera_app").await.unwrap();
    assert!(grant_app_role(&db, "Robert'); DROP TABLE users;--").await.is_err());
    assert!(check_app_role_isolated(&db).await.unwrap());
}

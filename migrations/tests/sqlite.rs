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

/// The tables `m20261123_000004_credentials` creates.
const CREDENTIAL_TABLES: [&str; 3] = ["invitations", "password_history", "password_resets"];

const ALL_TABLES: [&str; 10] = [
    "invitations",
    "password_history",
    "password_resets",
    "refresh_tokens",
    "seaql_migrations",
    "sessions",
    "signing_keys",
    "tenants",
    "usage_counters",
    "users",
];

fn without(tables: &[&str]) -> Vec<&'static str> {
    ALL_TABLES.into_iter().filter(|t| !tables.contains(t)).collect()
}

#[tokio::test]
async fn up_status_down_up() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let status = Migrator::get_migration_with_status(&db).await.unwrap();
    assert!(!status.is_empty());
    assert!(status.iter().all(|m| m.status() == MigrationStatus::Applied));
    assert_eq!(tables(&db).await.unwrap(), ALL_TABLES);
    assert!(columns(&db, "refresh_tokens").await.unwrap().ends_with(&ROTATION_COLUMNS.map(str::to_owned)));
    assert_eq!(columns(&db, "users").await.unwrap().last().map(String::as_str), Some("password_changed_at"));

    // One step down removes only the newest migration's tables and column, the next the
    // rotation columns, the next the usage table.
    Migrator::down(&db, Some(1)).await.unwrap();
    assert_eq!(tables(&db).await.unwrap(), without(&CREDENTIAL_TABLES));
    assert!(!columns(&db, "users").await.unwrap().iter().any(|c| c == "password_changed_at"));
    Migrator::down(&db, Some(1)).await.unwrap();
    let refresh_columns = columns(&db, "refresh_tokens").await.unwrap();
    assert!(ROTATION_COLUMNS.iter().all(|c| !refresh_columns.iter().any(|found| found == c)), "{refresh_columns:?}");
    assert_eq!(tables(&db).await.unwrap(), without(&CREDENTIAL_TABLES));
    Migrator::down(&db, Some(1)).await.unwrap();
    let mut gone = CREDENTIAL_TABLES.to_vec();
    gone.push("usage_counters");
    assert_eq!(tables(&db).await.unwrap(), without(&gone));
    assert_eq!(Migrator::get_pending_migrations(&db).await.unwrap().len(), 3);

    Migrator::down(&db, None).await.unwrap();
    assert_eq!(tables(&db).await.unwrap(), ["seaql_migrations"]);
    assert_eq!(Migrator::get_pending_migrations(&db).await.unwrap().len(), status.len());

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(tables(&db).await.unwrap(), ALL_TABLES);
    assert!(columns(&db, "refresh_tokens").await.unwrap().ends_with(&ROTATION_COLUMNS.map(str::to_owned)));
}

/// Users stored before `m20261123_000004_credentials` get `password_changed_at =
/// created_at`; down keeps them (only the column goes).
#[tokio::test]
async fn password_changed_at_is_backfilled_with_created_at() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    Migrator::down(&db, Some(1)).await.unwrap();
    db.execute_unprepared(TENANT).await.unwrap();
    for (id, created) in [("02", "2026-01-02T03:04:05.123456Z"), ("03", "2026-02-03T04:05:06Z")] {
        db.execute_unprepared(&format!(
            "INSERT INTO users (id, tenant_id, email, full_name, role, status, mfa_enabled, password_hash, \
             require_password_change, created_at, updated_at) \
             VALUES (x'{id}', x'01', '{id}@acme.test', 'U', 'admin', 'active', 0, 'h', 0, '{created}', '{created}')"
        ))
        .await
        .unwrap();
    }
    Migrator::up(&db, None).await.unwrap();
    let sql = "SELECT count(*) AS n FROM users WHERE password_changed_at = created_at AND password_changed_at <> ''";
    let row = db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap().unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 2);
    Migrator::down(&db, Some(1)).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT count(*) AS n FROM users"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 2);
}

/// The credential tables' constraints: resets and history need a user of their tenant and
/// go with it; token hashes are unique; history `seq` is positive and unique per user.
#[tokio::test]
async fn credential_tables_constraints() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    db.execute_unprepared(TENANT).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO users (id, tenant_id, email, full_name, role, status, mfa_enabled, password_hash, \
         require_password_change, created_at, updated_at, password_changed_at) \
         VALUES (x'02', x'01', 'a@acme.test', 'U', 'admin', 'active', 0, 'h', 0, '2026-11-01T00:00:00Z', \
         '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
    )
    .await
    .unwrap();
    let t = "'2026-11-01T00:00:00Z'";
    for ok in [
        format!("INSERT INTO password_resets VALUES (x'10', x'01', x'02', 'r1', {t}, {t}, NULL)"),
        format!("INSERT INTO password_history VALUES (x'01', x'02', 1, 'h0', {t})"),
        format!(
            "INSERT INTO invitations VALUES (x'20', x'01', 'b@acme.test', 'viewer', 'i1', x'02', {t}, {t}, NULL, NULL)"
        ),
    ] {
        db.execute_unprepared(&ok).await.unwrap();
    }
    for refused in [
        // No such user, or not in that tenant; a taken hash; a repeated or non-positive seq.
        format!("INSERT INTO password_resets VALUES (x'11', x'01', x'09', 'r2', {t}, {t}, NULL)"),
        format!("INSERT INTO password_resets VALUES (x'11', x'09', x'02', 'r2', {t}, {t}, NULL)"),
        format!("INSERT INTO password_resets VALUES (x'11', x'01', x'02', 'r1', {t}, {t}, NULL)"),
        format!("INSERT INTO password_history VALUES (x'01', x'02', 1, 'h1', {t})"),
        format!("INSERT INTO password_history VALUES (x'01', x'02', 0, 'h1', {t})"),
        format!(
            "INSERT INTO invitations VALUES (x'21', x'01', 'c@acme.test', 'viewer', 'i1', x'02', {t}, {t}, NULL, NULL)"
        ),
        format!(
            "INSERT INTO invitations VALUES (x'21', x'09', 'c@acme.test', 'viewer', 'i2', x'02', {t}, {t}, NULL, NULL)"
        ),
    ] {
        assert!(db.execute_unprepared(&refused).await.is_err(), "{refused}");
    }
    db.execute_unprepared("DELETE FROM users").await.unwrap();
    for table in ["password_resets", "password_history"] {
        let sql = format!("SELECT count(*) AS n FROM {table}");
        let row = db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap().unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0, "{table}");
    }
}

const TENANT: &str = "INSERT INTO tenants (id, slug, name, status, plan, created_at, updated_at) \
     VALUES (x'01', 'acme', 'Acme', 'active', 'standard', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')";

/// Usage counters accumulate with the upsert the adapter uses (SQLite ≥ 3.24), and the
/// table's constraints hold: the tenant must exist (sqlx turns foreign keys on), the count
/// is not negative, the period looks like `YYYY-MM`.
#[tokio::test]
async fn usage_counters_upsert_and_constraints() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    db.execute_unprepared(TENANT).await.unwrap();
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

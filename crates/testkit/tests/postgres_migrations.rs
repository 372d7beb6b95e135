//! The migrations on PostgreSQL: RLS forced on exactly the tenant-owned tables, down and
//! up again, the role helpers, and the default privileges on tables created later. Skipped when `TESSERA_TEST_DATABASE_URL` is unset.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use tessera_domain::ports::RequestCount;
use tessera_migrations::{MigrationStatus, Migrator, MigratorTrait, grant_app_role};
use tessera_repository::sea::SeaStore;
use tessera_testkit::contract::sample::provision;
use tessera_testkit::postgres_store;

/// Whether every migration is applied.
async fn applied(c: &sea_orm::DatabaseConnection) -> Result<bool, DbErr> {
    let status = Migrator::get_migration_with_status(c).await?;
    Ok(status.iter().all(|m| m.status() == MigrationStatus::Applied))
}

/// `(table, rls enabled, rls forced)` for the public tables, by name.
async fn tables(c: &impl ConnectionTrait) -> Result<Vec<(String, bool, bool)>, DbErr> {
    let sql = "SELECT c.relname AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname";
    let rows = c.query_all_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    rows.iter().map(|r| Ok((r.try_get("", "name")?, r.try_get("", "rls")?, r.try_get("", "forced")?))).collect()
}

#[tokio::test]
async fn rls_is_forced_on_tenant_owned_tables_and_down_drops_everything() {
    let Some(db) = postgres_store().await else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
        return;
    };
    let owner = SeaStore::connect(&db.owner_url, 1).await.unwrap();
    let conn = owner.connection();
    assert!(applied(conn).await.unwrap());
    let expected = [
        ("refresh_tokens", true, true),
        ("seaql_migrations", false, false),
        ("sessions", true, true),
        ("signing_keys", false, false),
        ("tenants", false, false),
        ("usage_counters", true, true),
        ("users", true, true),
    ];
    let found = tables(conn).await.unwrap();
    assert_eq!(found, expected.map(|(t, rls, forced)| (t.to_owned(), rls, forced)));

    // Granting twice is harmless; a name that is not a plain identifier is refused.
    grant_app_role(conn, "tessera_app").await.unwrap();
    assert!(grant_app_role(conn, "tessera_app; DROP TABLE users").await.is_err());

    Migrator::down(conn, None).await.unwrap();
    let left: Vec<String> = tables(conn).await.unwrap().into_iter().map(|(t, ..)| t).collect();
    assert_eq!(left, ["seaql_migrations"]);
    Migrator::up(conn, None).await.unwrap();
    assert!(applied(conn).await.unwrap());
    assert_eq!(tables(conn).await.unwrap().len(), expected.len());
}

/// A table a later migration creates (run by the owner after `grant_app_role`) is usable
/// by the application role through the default privileges, and under its policy.
#[tokio::test]
async fn the_app_role_can_use_usage_counters_created_after_the_grant() {
    let Some(db) = postgres_store().await else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
        return;
    };
    let owner = SeaStore::connect(&db.owner_url, 1).await.unwrap();
    // Recreate the usage migration's table (the second newest): it now postdates the grant.
    Migrator::down(owner.connection(), Some(2)).await.unwrap();
    assert!(!tables(owner.connection()).await.unwrap().iter().any(|(t, ..)| t == "usage_counters"));
    Migrator::up(owner.connection(), None).await.unwrap();

    let repos = db.store.repositories();
    let (t, _) = provision(&repos, "acme").await;
    let batch = [RequestCount { tenant_id: t.id, period: "2026-11".to_owned(), count: 3 }];
    repos.usage.add_requests(&batch).await.unwrap();
    repos.usage.add_requests(&batch).await.unwrap();
    assert_eq!(repos.usage.requests(t.id, "2026-11").await.unwrap(), 6);

    // Each privilege on its own: with a list, has_table_privilege answers "any of them".
    let privileges = "SELECT bool_and(has_table_privilege('tessera_app', 'usage_counters', p)) AS ok \
                      FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p";
    let row = owner
        .connection()
        .query_one_raw(Statement::from_string(DbBackend::Postgres, privileges))
        .await
        .unwrap()
        .unwrap();
    assert!(row.try_get::<bool>("", "ok").unwrap());
}

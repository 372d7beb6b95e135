//! The migrations on PostgreSQL: RLS forced on exactly the tenant-owned tables, down and
//! up again, the role helpers, and the default privileges on tables created later. Skipped when `TESSERA_TEST_DATABASE_URL` is unset.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TransactionTrait};
use tessera_domain::ports::RequestCount;
use tessera_migrations::{MigrationStatus, Migrator, MigratorTrait, grant_app_role};
use tessera_repository::sea::SeaStore;
use tessera_testkit::contract::sample::provision;
use tessera_testkit::{postgres_owned_database, postgres_store};

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
        ("invitations", true, true),
        ("password_history", true, true),
        ("password_resets", true, true),
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
    // Recreate the usage migration's table (the third newest): it now postdates the grant.
    Migrator::down(owner.connection(), Some(3)).await.unwrap();
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

/// The migrations as deployed: run by a role that owns the tables but is no superuser, so
/// forced row-level security applies to it. Users stored before the credentials migration
/// (in two tenants) all get `password_changed_at = created_at` — the backfill is not
/// confined to "no tenant" — the column ends up `NOT NULL`, and RLS is forced again after.
#[tokio::test]
async fn password_changed_at_is_backfilled_under_forced_rls_by_a_plain_owner() {
    let Some(db) = postgres_owned_database().await else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
        return;
    };
    let owner = SeaStore::connect(&db.owner_url, 1).await.unwrap();
    let conn = owner.connection();
    let before = Migrator::migrations().len() - 1;
    Migrator::up(conn, Some(u32::try_from(before).unwrap())).await.unwrap();
    let tenants = [uuid::Uuid::now_v7(), uuid::Uuid::now_v7()];
    for (i, tenant) in tenants.iter().enumerate() {
        let tx = conn.begin().await.unwrap();
        let insert_tenant = "INSERT INTO tenants (id, slug, name, status, plan, created_at, updated_at) \
                             VALUES ($1, $2, 'T', 'active', 'standard', now(), now())";
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            insert_tenant,
            [(*tenant).into(), format!("tenant-{i}").into()],
        ))
        .await
        .unwrap();
        let scope = "SELECT set_config('app.current_tenant', $1, true)";
        tx.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, scope, [tenant.to_string().into()]))
            .await
            .unwrap();
        let insert_user = "INSERT INTO users (id, tenant_id, email, full_name, role, status, mfa_enabled, \
                           password_hash, require_password_change, created_at, updated_at) \
                           VALUES ($1, $2, 'a@t.test', 'A', 'admin', 'active', false, 'h', false, \
                           now() - make_interval(days => $3), now())";
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            insert_user,
            [uuid::Uuid::now_v7().into(), (*tenant).into(), i32::try_from(i + 1).unwrap().into()],
        ))
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    // Without a tenant the owner sees no user: RLS is forced on it.
    let count = "SELECT count(*) AS n FROM users";
    let row = conn.query_one_raw(Statement::from_string(DbBackend::Postgres, count)).await.unwrap().unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0);

    Migrator::up(conn, None).await.unwrap();
    assert!(applied(conn).await.unwrap());
    let forced =
        tables(conn).await.unwrap().into_iter().find(|(t, ..)| t == "users").map(|(_, rls, forced)| (rls, forced));
    assert_eq!(forced, Some((true, true)));
    for tenant in tenants {
        let tx = conn.begin().await.unwrap();
        let scope = "SELECT set_config('app.current_tenant', $1, true)";
        tx.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, scope, [tenant.to_string().into()]))
            .await
            .unwrap();
        let check = "SELECT count(*) AS n, count(*) FILTER (WHERE password_changed_at = created_at) AS backfilled \
                     FROM users";
        let row = tx.query_one_raw(Statement::from_string(DbBackend::Postgres, check)).await.unwrap().unwrap();
        assert_eq!((row.try_get::<i64>("", "n").unwrap(), row.try_get::<i64>("", "backfilled").unwrap()), (1, 1));
        tx.commit().await.unwrap();
    }
    let not_null = "SELECT attnotnull FROM pg_attribute \
                    WHERE attrelid = 'users'::regclass AND attname = 'password_changed_at'";
    let row = conn.query_one_raw(Statement::from_string(DbBackend::Postgres, not_null)).await.unwrap().unwrap();
    assert!(row.try_get::<bool>("", "attnotnull").unwrap());

    // And back: down drops the column and the tables, RLS still forced on users.
    Migrator::down(conn, Some(1)).await.unwrap();
    let found: Vec<String> = tables(conn).await.unwrap().into_iter().map(|(t, ..)| t).collect();
    assert!(!found.iter().any(|t| t.starts_with("password_") || t == "invitations"), "{found:?}");
    let forced =
        tables(conn).await.unwrap().into_iter().find(|(t, ..)| t == "users").map(|(_, rls, forced)| (rls, forced));
    assert_eq!(forced, Some((true, true)));
}

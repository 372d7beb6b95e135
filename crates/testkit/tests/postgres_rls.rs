//! Row-level security on PostgreSQL, shown with queries that omit the tenant filter on
//! purpose, run as the application role. Skipped when `TESSERA_TEST_DATABASE_URL` is unset.

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement, TransactionTrait, Value,
};
use tessera_domain::TenantId;
use tessera_migrations::check_app_role_isolated;
use tessera_repository::sea::SeaStore;
use tessera_testkit::contract::sample::{add_user, provision};
use tessera_testkit::{PgTestDb, postgres_store};

async fn pg() -> Option<PgTestDb> {
    let db = postgres_store().await;
    if db.is_none() {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
    }
    db
}

fn stmt(sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

async fn set_tenant(tx: &DatabaseTransaction, tenant: TenantId) -> Result<(), DbErr> {
    tx.execute_raw(stmt(
        "SELECT set_config('app.current_tenant', $1, true)",
        [tenant.to_string().into()],
    ))
    .await?;
    Ok(())
}

/// `SELECT count(*) FROM users` — no tenant filter.
async fn count_users(c: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = c
        .query_one_raw(stmt("SELECT count(*) AS n FROM users", []))
        .await?;
    row.map_or(Ok(-1), |row| row.try_get("", "n"))
}

#[tokio::test]
async fn unfiltered_queries_see_only_the_current_tenant() {
    let Some(db) = pg().await else { return };
    let repos = db.store.repositories();
    let (a, _) = provision(&repos, "tenant-a").await;
    add_user(&repos, a.id, "one@a.test", "viewer").await;
    add_user(&repos, a.id, "two@a.test", "viewer").await;
    let (b, _) = provision(&repos, "tenant-b").await;

    // One connection, so the later "no tenant" queries run on the session that had it set.
    let app = SeaStore::connect(&db.app_url, 1).await.unwrap();
    let conn = app.connection();

    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, a.id).await.unwrap();
    assert_eq!(count_users(&tx).await.unwrap(), 3);
    let renamed = tx
        .execute_raw(stmt("UPDATE users SET full_name = 'renamed'", []))
        .await
        .unwrap();
    assert_eq!(renamed.rows_affected(), 3);
    tx.rollback().await.unwrap();

    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, b.id).await.unwrap();
    assert_eq!(count_users(&tx).await.unwrap(), 1);
    let deleted = tx
        .execute_raw(stmt("DELETE FROM sessions", []))
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 0);
    tx.commit().await.unwrap();

    // After SET LOCAL ended the setting reads '' on this session: no tenant, no rows, no error.
    assert_eq!(count_users(conn).await.unwrap(), 0);
    let tx = conn.begin().await.unwrap();
    assert_eq!(count_users(&tx).await.unwrap(), 0);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_row_for_another_tenant_is_refused_by_the_policy() {
    let Some(db) = pg().await else { return };
    let repos = db.store.repositories();
    let (a, _) = provision(&repos, "tenant-a").await;
    let (b, _) = provision(&repos, "tenant-b").await;
    let conn = db.store.connection();

    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, a.id).await.unwrap();
    let insert = "INSERT INTO users (id, tenant_id, email, full_name, role, status, mfa_enabled, password_hash, \
                  require_password_change, created_at, updated_at) \
                  VALUES ($1, $2, 'x@b.test', 'x', 'admin', 'active', false, 'h', false, now(), now())";
    let refused = tx
        .execute_raw(stmt(
            insert,
            [uuid::Uuid::now_v7().into(), b.id.as_uuid().into()],
        ))
        .await;
    let message = refused.expect_err("the policy refuses the row").to_string();
    assert!(message.contains("row-level security"), "{message}");
    tx.rollback().await.unwrap();

    // Moving one of A's rows to B is refused the same way.
    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, a.id).await.unwrap();
    let moved = tx
        .execute_raw(stmt(
            "UPDATE users SET tenant_id = $1",
            [b.id.as_uuid().into()],
        ))
        .await;
    assert!(
        moved
            .expect_err("the policy refuses the move")
            .to_string()
            .contains("row-level security")
    );
    tx.rollback().await.unwrap();

    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, b.id).await.unwrap();
    assert_eq!(count_users(&tx).await.unwrap(), 1);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_app_role_is_isolated_and_the_owner_is_not() {
    let Some(db) = pg().await else { return };
    assert!(
        check_app_role_isolated(db.store.connection())
            .await
            .unwrap()
    );
    let owner = SeaStore::connect(&db.owner_url, 1).await.unwrap();
    assert!(!check_app_role_isolated(owner.connection()).await.unwrap());

    // The app role cannot switch the policy off: it does not own the table.
    let conn = db.store.connection();
    let err = conn
        .execute_unprepared("ALTER TABLE users DISABLE ROW LEVEL SECURITY")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("owner"), "{err}");
    let err = conn
        .execute_unprepared("DROP POLICY tenant_isolation ON users")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("owner"), "{err}");
}

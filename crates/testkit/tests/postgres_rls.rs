//! Row-level security on PostgreSQL, shown with queries that omit the tenant filter on
//! purpose, run as the application role. Skipped when `TESSERA_TEST_DATABASE_URL` is unset.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement, TransactionTrait, Value};
use tessera_domain::TenantId;
use tessera_domain::ports::RequestCount;
use tessera_migrations::check_app_role_isolated;
use tessera_repository::sea::SeaStore;
use tessera_testkit::contract::sample::{add_user, invitation, now, provision, reset};
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
    tx.execute_raw(stmt("SELECT set_config('app.current_tenant', $1, true)", [tenant.to_string().into()])).await?;
    Ok(())
}

/// `SELECT count(*) FROM users` — no tenant filter.
async fn count_users(c: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = c.query_one_raw(stmt("SELECT count(*) AS n FROM users", [])).await?;
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
    let renamed = tx.execute_raw(stmt("UPDATE users SET full_name = 'renamed'", [])).await.unwrap();
    assert_eq!(renamed.rows_affected(), 3);
    tx.rollback().await.unwrap();

    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, b.id).await.unwrap();
    assert_eq!(count_users(&tx).await.unwrap(), 1);
    let deleted = tx.execute_raw(stmt("DELETE FROM sessions", [])).await.unwrap();
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
    let refused = tx.execute_raw(stmt(insert, [uuid::Uuid::now_v7().into(), b.id.as_uuid().into()])).await;
    let message = refused.expect_err("the policy refuses the row").to_string();
    assert!(message.contains("row-level security"), "{message}");
    tx.rollback().await.unwrap();

    // Moving one of A's rows to B is refused the same way.
    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, a.id).await.unwrap();
    let moved = tx.execute_raw(stmt("UPDATE users SET tenant_id = $1", [b.id.as_uuid().into()])).await;
    assert!(moved.expect_err("the policy refuses the move").to_string().contains("row-level security"));
    tx.rollback().await.unwrap();

    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, b.id).await.unwrap();
    assert_eq!(count_users(&tx).await.unwrap(), 1);
    tx.commit().await.unwrap();
}

/// `usage_counters` is under the same policy: with tenant A set, an unfiltered query sees
/// only A's counters, cannot touch B's, and cannot write a counter for B.
#[tokio::test]
async fn usage_counters_of_another_tenant_are_invisible() {
    let Some(db) = pg().await else { return };
    let repos = db.store.repositories();
    let (a, _) = provision(&repos, "tenant-a").await;
    let (b, _) = provision(&repos, "tenant-b").await;
    let entry =
        |tenant_id: TenantId, period: &str, count: u64| RequestCount { tenant_id, period: period.to_owned(), count };
    repos
        .usage
        .add_requests(&[entry(a.id, "2026-11", 5), entry(b.id, "2026-11", 7), entry(b.id, "2026-12", 9)])
        .await
        .unwrap();
    let count_counters = async |c: &DatabaseTransaction| -> (i64, i64) {
        let row = c
            .query_one_raw(stmt(
                "SELECT count(*) AS n, coalesce(sum(requests), 0)::bigint AS total FROM usage_counters",
                [],
            ))
            .await
            .unwrap()
            .unwrap();
        (row.try_get("", "n").unwrap(), row.try_get("", "total").unwrap())
    };
    let conn = db.store.connection();

    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, a.id).await.unwrap();
    assert_eq!(count_counters(&tx).await, (1, 5));
    let reset = tx.execute_raw(stmt("UPDATE usage_counters SET requests = 0", [])).await.unwrap();
    assert_eq!(reset.rows_affected(), 1);
    let forged = tx
        .execute_raw(stmt(
            "INSERT INTO usage_counters (tenant_id, period, requests, updated_at) VALUES ($1, '2027-01', 1, now())",
            [b.id.as_uuid().into()],
        ))
        .await;
    let message = forged.expect_err("the policy refuses B's counter").to_string();
    assert!(message.contains("row-level security"), "{message}");
    tx.rollback().await.unwrap();

    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, b.id).await.unwrap();
    assert_eq!(count_counters(&tx).await, (2, 16));
    tx.commit().await.unwrap();

    // No tenant set: nothing at all.
    let tx = conn.begin().await.unwrap();
    assert_eq!(count_counters(&tx).await, (0, 0));
    tx.commit().await.unwrap();

    // The rolled-back reset changed nothing; each tenant reads its own counters.
    assert_eq!(repos.usage.requests(a.id, "2026-11").await.unwrap(), 5);
    assert_eq!(repos.usage.requests(b.id, "2026-12").await.unwrap(), 9);
}

/// `invitations`, `password_resets` and `password_history` are under the same policy: with
/// tenant A set, unfiltered queries see and change only A's rows and cannot write B's.
#[tokio::test]
async fn credential_tables_of_another_tenant_are_invisible() {
    let Some(db) = pg().await else { return };
    let repos = db.store.repositories();
    let mut tenants = Vec::new();
    for slug in ["tenant-a", "tenant-b"] {
        let (t, admin) = provision(&repos, slug).await;
        repos.invitations.insert(t.id, &invitation(t.id, "new@example.com", "viewer", admin.id, now())).await.unwrap();
        repos.credentials.create_reset(t.id, &reset(&admin, now())).await.unwrap();
        repos.credentials.change_password(t.id, admin.id, "$argon2id$new", 5, now()).await.unwrap();
        tenants.push((t, admin));
    }
    let [(a, _), (b, b_admin)] = [tenants[0].clone(), tenants[1].clone()];
    let counts = async |c: &DatabaseTransaction| -> [i64; 3] {
        let mut counts = [0; 3];
        for (n, table) in counts.iter_mut().zip(["invitations", "password_resets", "password_history"]) {
            let row = c.query_one_raw(stmt(&format!("SELECT count(*) AS n FROM {table}"), [])).await.unwrap().unwrap();
            *n = row.try_get("", "n").unwrap();
        }
        counts
    };
    let conn = db.store.connection();

    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, a.id).await.unwrap();
    assert_eq!(counts(&tx).await, [1, 1, 1]);
    for sql in [
        "UPDATE invitations SET revoked_at = now()",
        "UPDATE password_resets SET used_at = now()",
        "DELETE FROM password_history",
    ] {
        assert_eq!(tx.execute_raw(stmt(sql, [])).await.unwrap().rows_affected(), 1, "{sql}");
    }
    tx.rollback().await.unwrap();

    let forged = [
        (
            "INSERT INTO invitations (id, tenant_id, email, role, token_hash, created_by, created_at, expires_at) \
             VALUES ($1, $2, 'x@example.com', 'admin', 'forged', $3, now(), now() + interval '1 day')",
            vec![uuid::Uuid::now_v7().into(), b.id.as_uuid().into(), b_admin.id.as_uuid().into()],
        ),
        (
            "INSERT INTO password_resets (id, tenant_id, user_id, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, 'forged', now(), now() + interval '1 day')",
            vec![uuid::Uuid::now_v7().into(), b.id.as_uuid().into(), b_admin.id.as_uuid().into()],
        ),
        (
            "INSERT INTO password_history (tenant_id, user_id, seq, hash, created_at) VALUES ($1, $2, 99, 'h', now())",
            vec![b.id.as_uuid().into(), b_admin.id.as_uuid().into()],
        ),
    ];
    for (sql, values) in forged {
        let tx = conn.begin().await.unwrap();
        set_tenant(&tx, a.id).await.unwrap();
        let message = tx.execute_raw(stmt(sql, values)).await.expect_err("the policy refuses B's row").to_string();
        assert!(message.contains("row-level security"), "{sql}: {message}");
        tx.rollback().await.unwrap();
    }

    // No tenant set: nothing at all; B still has its own rows, untouched.
    let tx = conn.begin().await.unwrap();
    assert_eq!(counts(&tx).await, [0, 0, 0]);
    tx.commit().await.unwrap();
    let tx = conn.begin().await.unwrap();
    set_tenant(&tx, b.id).await.unwrap();
    assert_eq!(counts(&tx).await, [1, 1, 1]);
    tx.commit().await.unwrap();
    assert_eq!(repos.credentials.password_history(b.id, b_admin.id, 5).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_app_role_is_isolated_and_the_owner_is_not() {
    let Some(db) = pg().await else { return };
    assert!(check_app_role_isolated(db.store.connection()).await.unwrap());
    let owner = SeaStore::connect(&db.owner_url, 1).await.unwrap();
    assert!(!check_app_role_isolated(owner.connection()).await.unwrap());

    // The app role cannot switch the policy off: it does not own the table.
    let conn = db.store.connection();
    let err = conn.execute_unprepared("ALTER TABLE users DISABLE ROW LEVEL SECURITY").await.unwrap_err();
    assert!(err.to_string().contains("owner"), "{err}");
    let err = conn.execute_unprepared("DROP POLICY tenant_isolation ON users").await.unwrap_err();
    assert!(err.to_string().contains("owner"), "{err}");
}

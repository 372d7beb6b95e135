//! The SQL conventions the sea adapters rely on, checked on each backend: `$n`
//! placeholders bind by number (also on sqlx-sqlite, in any order, repeated), and uuid and
//! timestamp values round-trip with their native types (SQLite: 16-byte BLOB and TEXT).

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use tessera_migrations::MigratorTrait;
use tessera_testkit::{postgres_store, sqlite_test_db};
use uuid::Uuid;

async fn placeholders_and_types(c: &DatabaseConnection) -> Result<(), DbErr> {
    let backend = c.get_database_backend();
    let sql = "SELECT $2 AS second, $1 AS first, $2 AS again";
    let row = c.query_one_raw(Statement::from_sql_and_values(backend, sql, ["a".into(), "b".into()])).await?;
    let row = row.ok_or_else(|| DbErr::RecordNotFound("a row".into()))?;
    assert_eq!(
        (
            row.try_get::<String>("", "second")?,
            row.try_get::<String>("", "first")?,
            row.try_get::<String>("", "again")?
        ),
        ("b".to_owned(), "a".to_owned(), "b".to_owned())
    );

    // A real column of each kind, written and read back through the adapters' conventions.
    let id = Uuid::now_v7();
    let at: DateTime<Utc> = Utc::now().trunc_subsecs(6);
    let insert = "INSERT INTO signing_keys (kid, algorithm, public_key, private_key_sealed, created_at) \
                  VALUES ($1, 'EdDSA', $2, $2, $3)";
    let values = [id.to_string().into(), id.as_bytes().to_vec().into(), at.into()];
    c.execute_raw(Statement::from_sql_and_values(backend, insert, values)).await?;
    let select = "SELECT public_key, created_at FROM signing_keys WHERE kid = $1";
    let row = c.query_one_raw(Statement::from_sql_and_values(backend, select, [id.to_string().into()])).await?;
    let row = row.ok_or_else(|| DbErr::RecordNotFound("the key".into()))?;
    assert_eq!(row.try_get::<Vec<u8>>("", "public_key")?, id.as_bytes().to_vec());
    assert_eq!(row.try_get::<DateTime<Utc>>("", "created_at")?, at);
    Ok(())
}

#[tokio::test]
async fn sqlite_binds_numbered_placeholders_and_round_trips_types() {
    let db = sqlite_test_db().await;
    let store = &db.store;
    placeholders_and_types(store.connection()).await.unwrap();
    // Uuids are stored as 16-byte blobs, which compare like PostgreSQL's uuid type.
    let (low, high) = (Uuid::from_u128(1), Uuid::from_u128(u128::MAX - 1));
    let sql = "SELECT typeof($1) AS kind, length($1) AS len, $1 < $2 AS ordered";
    let stmt =
        Statement::from_sql_and_values(store.connection().get_database_backend(), sql, [low.into(), high.into()]);
    let row = store.connection().query_one_raw(stmt).await.unwrap().unwrap();
    assert_eq!(row.try_get::<String>("", "kind").unwrap(), "blob");
    assert_eq!(row.try_get::<i64>("", "len").unwrap(), 16);
    assert!(row.try_get::<bool>("", "ordered").unwrap());
}

#[tokio::test]
async fn postgres_binds_numbered_placeholders_and_round_trips_types() {
    let Some(db) = postgres_store().await else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
        return;
    };
    placeholders_and_types(db.store.connection()).await.unwrap();
}

#[tokio::test]
async fn in_memory_sqlite_is_one_database_whatever_the_pool_size() {
    let store = tessera_repository::sea::SeaStore::connect("sqlite::memory:", 8).await.unwrap();
    store.ping().await.unwrap();
    assert!(!store.is_postgres());
    tessera_migrations::Migrator::up(store.connection(), None).await.unwrap();
    // Concurrent users of the pool all see the migrated schema (one shared connection).
    let repos = store.repositories();
    let reads: Vec<_> = (0..4)
        .map(|_| {
            let keys = repos.signing_keys.clone();
            tokio::spawn(async move { keys.list().await })
        })
        .collect();
    for read in reads {
        assert!(read.await.unwrap().unwrap().is_empty());
    }
}

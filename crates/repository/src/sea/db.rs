//! The SQL plumbing every sea adapter shares: transactions opened in a scope (on
//! PostgreSQL a tenant scope runs `set_config('app.current_tenant', …, true)` = SET LOCAL
//! first, so row-level security sees the tenant), statement helpers, and the mapping of
//! driver errors onto `RepoError`.

use super::SeaStore;
use crate::rules::conflict;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, QueryResult, SqlErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait, TryGetable, Value,
};
use tessera_domain::{RepoError, TenantId};

/// Whether a transaction will write. On SQLite a writer takes the database lock at `BEGIN
/// IMMEDIATE` (waiting up to the busy timeout), so a read-then-write transaction never has
/// to upgrade its lock — an upgrade that loses a race fails at once, busy timeout or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

impl SeaStore {
    /// Begins a transaction on a global table (`tenants`, `signing_keys`).
    pub(crate) async fn begin_global(&self, access: Access) -> Result<DatabaseTransaction, RepoError> {
        let mode = (access == Access::Write).then_some(SqliteTransactionMode::Immediate);
        let options = TransactionOptions { sqlite_transaction_mode: mode, ..TransactionOptions::default() };
        self.connection.begin_with_options(options).await.map_err(map_db_err)
    }

    /// Begins a transaction scoped to `tenant`: every statement on a tenant-owned table
    /// runs in one of these (and filters on `tenant_id` as well).
    pub(crate) async fn begin_tenant(
        &self,
        tenant: TenantId,
        access: Access,
    ) -> Result<DatabaseTransaction, RepoError> {
        let tx = self.begin_global(access).await?;
        set_tenant(&tx, tenant).await?;
        Ok(tx)
    }
}

impl SeaStore {
    /// One tenant-scoped read of at most one row, in as few round trips as the backend
    /// allows: on SQLite (no row-level security; a single statement is atomic) straight on
    /// the pool; on PostgreSQL in a transaction that sets the tenant first, so RLS applies.
    pub(crate) async fn read_one(
        &self,
        tenant: TenantId,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> Result<Option<QueryResult>, RepoError> {
        if self.connection.get_database_backend() == DbBackend::Postgres {
            let tx = self.begin_tenant(tenant, Access::Read).await?;
            let row = one(&tx, sql, values).await?;
            commit(tx).await?;
            Ok(row)
        } else {
            one(&self.connection, sql, values).await
        }
    }
}

/// Sets `app.current_tenant` until the end of the transaction (PostgreSQL; a no-op on SQLite,
/// which has no row-level security and relies on the explicit `tenant_id` filters alone).
pub(crate) async fn set_tenant(tx: &DatabaseTransaction, tenant: TenantId) -> Result<(), RepoError> {
    if tx.get_database_backend() == DbBackend::Postgres {
        exec(tx, "SELECT set_config('app.current_tenant', $1, true)", [tenant.to_string().into()]).await?;
    }
    Ok(())
}

/// `sql` as `c`'s backend runs it. SQLite has no row locks (nor `FOR UPDATE`): a writing
/// transaction there is `BEGIN IMMEDIATE`, which already holds the database's write lock,
/// so a trailing `FOR UPDATE` / `FOR NO KEY UPDATE` is dropped.
pub(crate) fn locking<'a>(c: &impl ConnectionTrait, sql: &'a str) -> &'a str {
    match c.get_database_backend() {
        DbBackend::Postgres => sql,
        _ => sql.trim_end_matches(" FOR UPDATE").trim_end_matches(" FOR NO KEY UPDATE"),
    }
}

/// `$first, $first+1, …` for `n` values: the inside of an `IN (…)` list bound value by value
/// (the same text works on both backends, unlike `= ANY($n)`).
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

fn statement(c: &impl ConnectionTrait, sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(c.get_database_backend(), sql, values)
}

pub(crate) async fn one(
    c: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<Option<QueryResult>, RepoError> {
    c.query_one_raw(statement(c, sql, values)).await.map_err(map_db_err)
}

pub(crate) async fn all(
    c: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<Vec<QueryResult>, RepoError> {
    c.query_all_raw(statement(c, sql, values)).await.map_err(map_db_err)
}

/// Runs a statement and returns how many rows it changed.
pub(crate) async fn exec(
    c: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<u64, RepoError> {
    Ok(c.execute_raw(statement(c, sql, values)).await.map_err(map_db_err)?.rows_affected())
}

/// `NotFound` unless the statement changed a row.
pub(crate) fn expect_changed(rows: u64) -> Result<(), RepoError> {
    if rows == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

pub(crate) async fn commit(tx: DatabaseTransaction) -> Result<(), RepoError> {
    tx.commit().await.map_err(map_db_err)
}

/// Reads a column, reporting a missing or mistyped one as `Unavailable`.
pub(crate) fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T, RepoError> {
    row.try_get("", column).map_err(RepoError::unavailable)
}

/// Unique violations become `Conflict(<rule>)`; a foreign key naming a row that is not
/// there (in this tenant) becomes `NotFound`; anything else is `Unavailable`.
pub(crate) fn map_db_err(e: DbErr) -> RepoError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => RepoError::Conflict(unique_rule(&message).to_owned()),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => RepoError::NotFound,
        _ => RepoError::unavailable(e),
    }
}

/// Names the rule a unique violation broke. PostgreSQL reports the constraint
/// (`users_tenant_email_key`), SQLite the columns (`users.tenant_id, users.email`); the
/// migration names constraints so both contain the same words.
fn unique_rule(message: &str) -> &'static str {
    if message.contains("slug") {
        conflict::SLUG
    } else if message.contains("email") {
        conflict::EMAIL
    } else if message.contains("token_hash") {
        conflict::TOKEN_HASH
    } else if message.contains("signing_keys") {
        conflict::KID
    } else {
        conflict::ID
    }
}

#[cfg(test)]
mod tests {
    use super::unique_rule;

    #[test]
    fn placeholders_number_from_the_first() {
        assert_eq!(super::placeholders(3, 3), "$3, $4, $5");
        assert_eq!(super::placeholders(1, 1), "$1");
    }

    #[test]
    fn unique_violations_are_named_on_both_backends() {
        let cases = [
            (r#"duplicate key value violates unique constraint "tenants_slug_key""#, "slug"),
            ("UNIQUE constraint failed: tenants.slug", "slug"),
            (r#"duplicate key value violates unique constraint "users_tenant_email_key""#, "email"),
            ("UNIQUE constraint failed: users.tenant_id, users.email", "email"),
            (r#"duplicate key value violates unique constraint "refresh_tokens_token_hash_key""#, "token_hash"),
            ("UNIQUE constraint failed: refresh_tokens.token_hash", "token_hash"),
            (r#"duplicate key value violates unique constraint "signing_keys_pkey""#, "kid"),
            ("UNIQUE constraint failed: signing_keys.kid", "kid"),
            (r#"duplicate key value violates unique constraint "users_pkey""#, "id"),
            ("UNIQUE constraint failed: users.id", "id"),
            (r#"duplicate key value violates unique constraint "invitations_token_hash_key""#, "token_hash"),
            ("UNIQUE constraint failed: invitations.token_hash", "token_hash"),
            (r#"duplicate key value violates unique constraint "password_resets_token_hash_key""#, "token_hash"),
            ("UNIQUE constraint failed: password_resets.token_hash", "token_hash"),
            (r#"duplicate key value violates unique constraint "invitations_pkey""#, "id"),
            ("UNIQUE constraint failed: invitations.id", "id"),
        ];
        for (message, rule) in cases {
            assert_eq!(unique_rule(message), rule, "{message}");
        }
    }
}

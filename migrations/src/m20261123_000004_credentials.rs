//! Credentials (SPEC §5 invitations, §6.5 password policy): `users.password_changed_at`
//! (backfilled with `created_at`), and the tenant-owned tables `invitations`,
//! `password_resets` and `password_history`, under row-level security on PostgreSQL.
//!
//! - `users.password_changed_at`: PostgreSQL adds the column, backfills it and then sets
//!   `NOT NULL`. The backfill runs as the table owner, which forced row-level security would
//!   otherwise confine to no tenant at all (no `app.current_tenant` during a migration), so
//!   `FORCE` is lifted for that one statement and put back in the same transaction. SQLite
//!   cannot add a `NOT NULL` constraint later: the column is added `NOT NULL DEFAULT ''` and
//!   backfilled; the adapters always write it, and a stray `''` would read as a corrupt row,
//!   never as a plausible date.
//! - `invitations`: one pending invitation per (tenant, email) is not a unique index, since
//!   "pending" depends on the clock (`expires_at`); the adapter serialises inserts on the
//!   tenant's row instead (see the repository's `invitations` module). `created_by` has no
//!   foreign key on purpose: deleting the inviting admin must neither fail nor take the
//!   invitations (the audit trail) with it.
//! - `password_history`: `seq` numbers a user's entries in the order they were pushed (the
//!   adapter takes the next one under the user's row lock), so "most recent" never depends
//!   on two writes' clocks.
//!
//! Resets and history follow their user (`ON DELETE CASCADE` on `(tenant_id, user_id)`).

use crate::run;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000004_credentials"
    }
}

const POSTGRES_PASSWORD_CHANGED_AT: &[&str] = &[
    "ALTER TABLE users ADD COLUMN password_changed_at timestamptz NULL",
    "ALTER TABLE users NO FORCE ROW LEVEL SECURITY",
    "UPDATE users SET password_changed_at = created_at",
    "ALTER TABLE users FORCE ROW LEVEL SECURITY",
    "ALTER TABLE users ALTER COLUMN password_changed_at SET NOT NULL",
];

const SQLITE_PASSWORD_CHANGED_AT: &[&str] = &[
    "ALTER TABLE users ADD COLUMN password_changed_at TEXT NOT NULL DEFAULT ''",
    "UPDATE users SET password_changed_at = created_at",
];

const TABLES: &[&str] = &[
    "CREATE TABLE invitations (
        id {uuid} NOT NULL PRIMARY KEY,
        tenant_id {uuid} NOT NULL CONSTRAINT invitations_tenant_fkey REFERENCES tenants (id),
        email TEXT NOT NULL,
        role TEXT NOT NULL,
        token_hash TEXT NOT NULL CONSTRAINT invitations_token_hash_key UNIQUE,
        created_by {uuid} NOT NULL,
        created_at {timestamp} NOT NULL,
        expires_at {timestamp} NOT NULL,
        accepted_at {timestamp} NULL,
        revoked_at {timestamp} NULL,
        CONSTRAINT invitations_tenant_id_key UNIQUE (tenant_id, id)
    )",
    "CREATE INDEX invitations_tenant_email_idx ON invitations (tenant_id, email)",
    "CREATE TABLE password_resets (
        id {uuid} NOT NULL PRIMARY KEY,
        tenant_id {uuid} NOT NULL,
        user_id {uuid} NOT NULL,
        token_hash TEXT NOT NULL CONSTRAINT password_resets_token_hash_key UNIQUE,
        created_at {timestamp} NOT NULL,
        expires_at {timestamp} NOT NULL,
        used_at {timestamp} NULL,
        CONSTRAINT password_resets_user_fkey FOREIGN KEY (tenant_id, user_id)
            REFERENCES users (tenant_id, id) ON DELETE CASCADE
    )",
    "CREATE INDEX password_resets_tenant_user_idx ON password_resets (tenant_id, user_id)",
    "CREATE TABLE password_history (
        tenant_id {uuid} NOT NULL,
        user_id {uuid} NOT NULL,
        seq BIGINT NOT NULL CONSTRAINT password_history_seq_check CHECK (seq > 0),
        hash TEXT NOT NULL,
        created_at {timestamp} NOT NULL,
        CONSTRAINT password_history_pkey PRIMARY KEY (tenant_id, user_id, seq),
        CONSTRAINT password_history_user_fkey FOREIGN KEY (tenant_id, user_id)
            REFERENCES users (tenant_id, id) ON DELETE CASCADE
    )",
];

/// The tables only a tenant may see.
const TENANT_OWNED: &[&str] = &["invitations", "password_resets", "password_history"];

/// Policies and indexes go with their tables. SQLite ≥ 3.35 drops columns too.
const DOWN: &[&str] = &[
    "DROP TABLE IF EXISTS password_history",
    "DROP TABLE IF EXISTS password_resets",
    "DROP TABLE IF EXISTS invitations",
    "ALTER TABLE users DROP COLUMN password_changed_at",
];

/// The DDL of `up` for `backend`, statement by statement.
pub(crate) fn up_statements(backend: DbBackend) -> Vec<String> {
    let (uuid, timestamp, column) = match backend {
        DbBackend::Postgres => ("uuid", "timestamptz", POSTGRES_PASSWORD_CHANGED_AT),
        _ => ("BLOB", "TEXT", SQLITE_PASSWORD_CHANGED_AT),
    };
    let mut statements: Vec<String> = column.iter().map(|sql| (*sql).to_owned()).collect();
    statements.extend(TABLES.iter().map(|sql| sql.replace("{uuid}", uuid).replace("{timestamp}", timestamp)));
    if backend == DbBackend::Postgres {
        for table in TENANT_OWNED {
            statements.extend(crate::rls::tenant_isolation(table));
        }
    }
    statements
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, up_statements(manager.get_database_backend())).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, DOWN.iter()).await
    }

    // DDL is transactional on both backends: the lifted FORCE can never stay lifted.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_tables_are_tenant_isolated_on_postgres_only() {
        let pg = up_statements(DbBackend::Postgres).join(";\n");
        assert_eq!(pg.matches("FORCE ROW LEVEL SECURITY").count(), 3 + 2, "{pg}");
        for table in TENANT_OWNED {
            assert!(pg.contains(&format!("CREATE POLICY tenant_isolation ON {table}")), "{table}");
            assert!(pg.contains(&format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY")), "{table}");
        }
        assert!(pg.contains("id uuid NOT NULL PRIMARY KEY") && pg.contains("expires_at timestamptz NOT NULL"));
        let sqlite = up_statements(DbBackend::Sqlite).join(";\n");
        assert!(!sqlite.contains("POLICY") && !sqlite.contains("ROW LEVEL"));
        assert!(!sqlite.contains("uuid") && !sqlite.contains("timestamptz"));
        for ddl in [pg, sqlite] {
            assert!(!ddl.contains('{'), "{ddl}");
        }
    }

    /// The backfill runs between lifting and restoring `FORCE`, and `NOT NULL` comes after it.
    #[test]
    fn postgres_backfills_with_force_lifted_then_requires_the_column() {
        let pg = up_statements(DbBackend::Postgres);
        let position = |needle: &str| pg.iter().position(|s| s.contains(needle)).unwrap();
        let lifted = position("users NO FORCE ROW LEVEL SECURITY");
        let backfill = position("UPDATE users SET password_changed_at = created_at");
        let restored = position("ALTER TABLE users FORCE ROW LEVEL SECURITY");
        let required = position("SET NOT NULL");
        assert!(lifted < backfill && backfill < restored && restored < required, "{pg:?}");
    }
}

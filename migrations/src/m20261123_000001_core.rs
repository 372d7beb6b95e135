//! The core tables: tenants, users, sessions, refresh tokens, signing keys.
//!
//! One DDL text serves both backends; only the column types are substituted (`{uuid}` is
//! `uuid` / BLOB, `{timestamp}` is `timestamptz` / RFC 3339 TEXT, `{bytes}` is `bytea` /
//! BLOB). Constraint names contain the column they protect, so the storage adapter can
//! name a unique violation the same way from PostgreSQL's message (constraint name) and
//! SQLite's (column list). Composite foreign keys `(tenant_id, …)` make a session or
//! refresh token pointing at another tenant's row impossible, RLS or not.

use crate::run;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_core"
    }
}

const TABLES: &[&str] = &[
    "CREATE TABLE tenants (
        id {uuid} NOT NULL PRIMARY KEY,
        slug TEXT NOT NULL CONSTRAINT tenants_slug_key UNIQUE,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        plan TEXT NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',
        created_at {timestamp} NOT NULL,
        updated_at {timestamp} NOT NULL,
        deleted_at {timestamp} NULL
    )",
    "CREATE TABLE users (
        id {uuid} NOT NULL PRIMARY KEY,
        tenant_id {uuid} NOT NULL CONSTRAINT users_tenant_fkey REFERENCES tenants (id),
        email TEXT NOT NULL,
        full_name TEXT NOT NULL,
        role TEXT NOT NULL,
        status TEXT NOT NULL,
        mfa_enabled BOOLEAN NOT NULL,
        password_hash TEXT NOT NULL,
        require_password_change BOOLEAN NOT NULL,
        created_at {timestamp} NOT NULL,
        updated_at {timestamp} NOT NULL,
        last_login_at {timestamp} NULL,
        CONSTRAINT users_tenant_email_key UNIQUE (tenant_id, email),
        CONSTRAINT users_tenant_id_key UNIQUE (tenant_id, id)
    )",
    "CREATE TABLE sessions (
        id {uuid} NOT NULL PRIMARY KEY,
        tenant_id {uuid} NOT NULL,
        user_id {uuid} NOT NULL,
        created_at {timestamp} NOT NULL,
        last_seen_at {timestamp} NOT NULL,
        expires_at {timestamp} NOT NULL,
        ip TEXT NULL,
        user_agent TEXT NULL,
        amr TEXT NOT NULL,
        revoked_at {timestamp} NULL,
        CONSTRAINT sessions_tenant_id_key UNIQUE (tenant_id, id),
        CONSTRAINT sessions_user_fkey FOREIGN KEY (tenant_id, user_id)
            REFERENCES users (tenant_id, id) ON DELETE CASCADE
    )",
    "CREATE INDEX sessions_tenant_user_idx ON sessions (tenant_id, user_id)",
    "CREATE TABLE refresh_tokens (
        id {uuid} NOT NULL PRIMARY KEY,
        tenant_id {uuid} NOT NULL,
        session_id {uuid} NOT NULL,
        user_id {uuid} NOT NULL,
        token_hash TEXT NOT NULL CONSTRAINT refresh_tokens_token_hash_key UNIQUE,
        created_at {timestamp} NOT NULL,
        expires_at {timestamp} NOT NULL,
        used_at {timestamp} NULL,
        CONSTRAINT refresh_tokens_session_fkey FOREIGN KEY (tenant_id, session_id)
            REFERENCES sessions (tenant_id, id) ON DELETE CASCADE
    )",
    "CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (tenant_id, session_id)",
    "CREATE TABLE signing_keys (
        kid {kid} NOT NULL PRIMARY KEY,
        algorithm TEXT NOT NULL,
        public_key {bytes} NOT NULL,
        private_key_sealed {bytes} NOT NULL,
        created_at {timestamp} NOT NULL,
        retired_at {timestamp} NULL
    )",
];

/// The tables only a tenant may see.
const TENANT_OWNED: &[&str] = &["users", "sessions", "refresh_tokens"];

const DROP: &[&str] = &[
    "DROP TABLE IF EXISTS refresh_tokens",
    "DROP TABLE IF EXISTS sessions",
    "DROP TABLE IF EXISTS users",
    "DROP TABLE IF EXISTS tenants",
    "DROP TABLE IF EXISTS signing_keys",
];

/// The DDL of `up` for `backend`, statement by statement.
pub(crate) fn up_statements(backend: DbBackend) -> Vec<String> {
    let (uuid, timestamp, bytes, kid) = match backend {
        // kid sorts bytewise ("C") so `ORDER BY kid` agrees with SQLite and the memory adapter.
        DbBackend::Postgres => ("uuid", "timestamptz", "bytea", r#"TEXT COLLATE "C""#),
        _ => ("BLOB", "TEXT", "BLOB", "TEXT"),
    };
    let mut statements: Vec<String> = TABLES
        .iter()
        .map(|sql| {
            sql.replace("{uuid}", uuid)
                .replace("{timestamp}", timestamp)
                .replace("{bytes}", bytes)
                .replace("{kid}", kid)
        })
        .collect();
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
        // Policies go with their tables.
        run(manager, DROP.iter()).await
    }

    // DDL is transactional on both backends: a failed step leaves nothing half-created.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_postgres_gets_row_level_security() {
        let pg = up_statements(DbBackend::Postgres).join(";\n");
        assert_eq!(pg.matches("FORCE ROW LEVEL SECURITY").count(), 3);
        assert_eq!(pg.matches("CREATE POLICY tenant_isolation").count(), 3);
        assert!(pg.contains("id uuid NOT NULL PRIMARY KEY"));
        let sqlite = up_statements(DbBackend::Sqlite).join(";\n");
        assert!(!sqlite.contains("POLICY"));
        assert!(!sqlite.contains("uuid") && !sqlite.contains("timestamptz"));
        for backend in [pg, sqlite] {
            for placeholder in ["{uuid}", "{timestamp}", "{bytes}", "{kid}", "{table}"] {
                assert!(!backend.contains(placeholder), "{placeholder}");
            }
        }
    }
}

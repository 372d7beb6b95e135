//! Refresh-token rotation (SPEC §6.2–§6.3): a refresh token can now be revoked on its own
//! (`revoked_at`, set with its session's revocation, eviction or a detected reuse) and
//! remembers the token that replaced it (`replaced_by`, the family chain an audit follows).
//!
//! `replaced_by` has no foreign key: a token and its replacement always belong to one
//! session and go together when it is deleted. The look-ups rotation needs are already
//! indexed: `refresh_tokens.token_hash` (unique), `refresh_tokens (tenant_id, session_id)`
//! and `sessions (tenant_id, user_id)`. Row-level security on `refresh_tokens` covers the
//! new columns as it covers the rest of the row.

use crate::run;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000003_refresh_rotation"
    }
}

const UP: &[&str] = &[
    "ALTER TABLE refresh_tokens ADD COLUMN revoked_at {timestamp} NULL",
    "ALTER TABLE refresh_tokens ADD COLUMN replaced_by {uuid} NULL",
];

/// SQLite ≥ 3.35 drops columns too (the bundled one is far newer).
const DOWN: &[&str] =
    &["ALTER TABLE refresh_tokens DROP COLUMN replaced_by", "ALTER TABLE refresh_tokens DROP COLUMN revoked_at"];

/// The DDL of `up` for `backend`, statement by statement.
pub(crate) fn up_statements(backend: DbBackend) -> Vec<String> {
    let (uuid, timestamp) = match backend {
        DbBackend::Postgres => ("uuid", "timestamptz"),
        _ => ("BLOB", "TEXT"),
    };
    UP.iter().map(|sql| sql.replace("{uuid}", uuid).replace("{timestamp}", timestamp)).collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, up_statements(manager.get_database_backend())).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, DOWN.iter()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_take_each_backends_types() {
        let pg = up_statements(DbBackend::Postgres).join(";\n");
        assert!(pg.contains("revoked_at timestamptz NULL") && pg.contains("replaced_by uuid NULL"), "{pg}");
        let sqlite = up_statements(DbBackend::Sqlite).join(";\n");
        assert!(sqlite.contains("revoked_at TEXT NULL") && sqlite.contains("replaced_by BLOB NULL"), "{sqlite}");
        for ddl in [pg, sqlite] {
            assert!(!ddl.contains('{'), "{ddl}");
        }
    }
}

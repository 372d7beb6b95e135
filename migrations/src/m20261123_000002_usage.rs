//! Persisted usage counters (SPEC §3/§7): one row per tenant and calendar month (UTC),
//! added to in batches by the usage flusher. Tenant-owned, so under row-level security on
//! PostgreSQL like the other tenant tables.

use crate::run;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_usage"
    }
}

/// `period` is `YYYY-MM`; `requests` never goes below zero (the adapters saturate at the
/// top instead of overflowing).
const TABLE: &str = "CREATE TABLE usage_counters (
        tenant_id {uuid} NOT NULL CONSTRAINT usage_counters_tenant_fkey REFERENCES tenants (id),
        period TEXT NOT NULL CONSTRAINT usage_counters_period_check CHECK (period LIKE '____-__'),
        requests BIGINT NOT NULL CONSTRAINT usage_counters_requests_check CHECK (requests >= 0),
        updated_at {timestamp} NOT NULL,
        CONSTRAINT usage_counters_pkey PRIMARY KEY (tenant_id, period)
    )";

/// The DDL of `up` for `backend`, statement by statement.
pub(crate) fn up_statements(backend: DbBackend) -> Vec<String> {
    let (uuid, timestamp) = match backend {
        DbBackend::Postgres => ("uuid", "timestamptz"),
        _ => ("BLOB", "TEXT"),
    };
    let mut statements = vec![TABLE.replace("{uuid}", uuid).replace("{timestamp}", timestamp)];
    if backend == DbBackend::Postgres {
        statements.extend(crate::rls::tenant_isolation("usage_counters"));
    }
    statements
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, up_statements(manager.get_database_backend())).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The policy goes with its table.
        run(manager, ["DROP TABLE IF EXISTS usage_counters"]).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counters_are_tenant_isolated_on_postgres_only() {
        let pg = up_statements(DbBackend::Postgres).join(";\n");
        assert!(pg.contains("tenant_id uuid NOT NULL"));
        assert!(pg.contains("ALTER TABLE usage_counters FORCE ROW LEVEL SECURITY"));
        assert!(pg.contains("CREATE POLICY tenant_isolation ON usage_counters"));
        let sqlite = up_statements(DbBackend::Sqlite).join(";\n");
        assert!(!sqlite.contains("POLICY") && !sqlite.contains("uuid"));
        for ddl in [pg, sqlite] {
            assert!(!ddl.contains('{'), "{ddl}");
        }
    }
}

//! Row-level security for a tenant-owned table (PostgreSQL): enabled and forced (so the
//! owner is subject to it too), with the one `tenant_isolation` policy every such table has.

/// `NULLIF`: once a `SET LOCAL` has ended, the setting reads as '' on that connection,
/// which must mean "no tenant", not a cast error.
const STATEMENTS: &[&str] = &[
    "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
    "CREATE POLICY tenant_isolation ON {table}
        USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
        WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)",
];

/// The statements that put `table` under tenant isolation.
pub(crate) fn tenant_isolation(table: &str) -> impl Iterator<Item = String> + '_ {
    STATEMENTS.iter().map(move |sql| sql.replace("{table}", table))
}

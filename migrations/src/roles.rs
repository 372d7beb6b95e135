//! The PostgreSQL application role: granted table privileges but never ownership, so
//! row-level security (forced on the tenant-owned tables) applies to everything it runs.

use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// `[a-z_][a-z0-9_]{0,62}`: a PostgreSQL identifier that needs no quoting, so it can be
/// spliced into `GRANT` (which takes no bind parameters).
pub fn is_valid_role_name(role: &str) -> bool {
    let mut bytes = role.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    first_ok && role.len() <= 63 && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Grants `role` USAGE on schema `public` and SELECT, INSERT, UPDATE, DELETE on all its
/// tables (and on tables the current user creates there later). Run it as the owner after
/// the migrations. A no-op on SQLite.
///
/// # Errors
/// `DbErr::Custom` for a role name that is not `[a-z_][a-z0-9_]{0,62}`; the database's error
/// when a grant fails (e.g. the role does not exist).
pub async fn grant_app_role(db: &DatabaseConnection, role: &str) -> Result<(), DbErr> {
    if !is_valid_role_name(role) {
        return Err(DbErr::Custom(format!("invalid role name `{role}`: expected [a-z_][a-z0-9_]{{0,62}}")));
    }
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let privileges = "SELECT, INSERT, UPDATE, DELETE";
    for sql in [
        format!(r#"GRANT USAGE ON SCHEMA public TO "{role}""#),
        format!(r#"GRANT {privileges} ON ALL TABLES IN SCHEMA public TO "{role}""#),
        format!(r#"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {privileges} ON TABLES TO "{role}""#),
    ] {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

/// Whether the connection's role is subject to row-level security: false when it is a
/// superuser, has BYPASSRLS, or owns (or is a member of the owner of) the `users` table.
/// Always true on SQLite, which has no roles.
///
/// # Errors
/// The database's error when the catalog query fails.
pub async fn check_app_role_isolated(db: &DatabaseConnection) -> Result<bool, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(true);
    }
    let sql = "SELECT (NOT r.rolsuper AND NOT r.rolbypassrls AND NOT EXISTS (
                   SELECT 1 FROM pg_class c
                   WHERE c.oid = to_regclass('public.users')
                     AND pg_has_role(current_user, c.relowner, 'MEMBER'))) AS isolated
               FROM pg_roles r WHERE r.rolname = current_user";
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    row.map_or(Ok(false), |row| row.try_get("", "isolated"))
}

#[cfg(test)]
mod tests {
    use super::is_valid_role_name;

    #[test]
    fn role_names_are_plain_identifiers() {
        for ok in ["tessera_app", "_x", "a", "app2", &"a".repeat(63)] {
            assert!(is_valid_role_name(ok), "{ok}");
        }
        for bad in ["", "2app", "App", "app-role", "app role", "app\";drop", &"a".repeat(64), "é"] {
            assert!(!is_valid_role_name(bad), "{bad}");
        }
    }
}

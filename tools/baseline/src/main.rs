//! `tessera-baseline`: the denominator of the benchmark (SPEC §16, issue 4).
//!
//! `serve` is a bare actix-web server with one route, `GET /users/{id}`, that does what
//! Tessera's authenticated read does at the database and nothing else: one `SELECT` of the
//! `users` row by `tenant_id` (header `X-Tenant-Id`) and `id`, rendered as JSON. No auth, no
//! middleware, no transaction: on PostgreSQL it connects as the table owner and runs a plain
//! single statement (no `set_config`, so no row-level security), which is the cheapest
//! equivalent read and therefore the honest "bare" figure Tessera is divided by.
//!
//! The pool is opened with the same sea-orm options as Tessera's `SeaStore` (SQLite in WAL
//! mode, `synchronous = NORMAL`, foreign keys on, 5 s busy timeout; same pool size), and the
//! server uses as many actix workers as the CPUs it may run on, as Tessera does by default.
//!
//! `pg create` / `pg drop` are the harness's PostgreSQL plumbing (a fresh database and the
//! `tessera_app` login role, as the test kit makes them), so `make bench` needs no `psql`.

mod pg;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, get, web};
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, QueryResult, Statement};
use serde::Serialize;
use std::time::Duration;
use uuid::Uuid;

/// The columns Tessera's `SeaUserRepository::get` reads, in the same statement shape.
const SELECT_USER: &str = "SELECT id, tenant_id, email, full_name, role, status, mfa_enabled, password_hash, \
     require_password_change, created_at, updated_at, last_login_at FROM users WHERE tenant_id = $1 AND id = $2";

/// Tessera's SQLite busy timeout (`SeaStore`), kept equal so both wait alike on the lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Parser)]
#[command(name = "tessera-baseline", about = "Bare actix-web reference server for the Tessera benchmark")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve `GET /users/{id}` (tenant in `X-Tenant-Id`) and `GET /health`.
    Serve {
        /// `sqlite://…` file or `postgres://…` URL of a migrated Tessera database.
        #[arg(long, env = "TESSERA_BASELINE_DATABASE_URL")]
        database_url: String,
        /// Address to listen on; loopback only.
        #[arg(long, default_value = "127.0.0.1:8090")]
        bind: std::net::SocketAddr,
        /// HTTP worker threads, 0 = one per CPU this process may run on (Tessera's default).
        #[arg(long, default_value_t = 0)]
        workers: usize,
        /// Pool size (Tessera's `database.max_connections` default).
        #[arg(long, default_value_t = 10)]
        max_connections: u32,
    },
    /// PostgreSQL set-up for the harness.
    Pg {
        #[command(subcommand)]
        action: pg::PgAction,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve { database_url, bind, workers, max_connections } => {
            anyhow::ensure!(bind.ip().is_loopback(), "--bind: only loopback addresses are allowed, got {bind}");
            actix_web::rt::System::new().block_on(serve(database_url, bind, workers, max_connections))
        }
        Command::Pg { action } => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(pg::run(action))
        }
    }
}

struct State {
    db: DatabaseConnection,
}

async fn serve(url: String, bind: std::net::SocketAddr, workers: usize, max_connections: u32) -> anyhow::Result<()> {
    let db = connect(&url, max_connections).await?;
    let state = web::Data::new(State { db });
    let workers =
        if workers == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) } else { workers };
    eprintln!("tessera-baseline listening on http://{bind} ({workers} workers)");
    HttpServer::new(move || App::new().app_data(state.clone()).service(get_user).service(health))
        .workers(workers)
        .bind(bind)
        .with_context(|| format!("binding {bind}"))?
        .run()
        .await
        .context("serving")
}

/// Opens the pool with the options Tessera's `SeaStore::connect` uses.
pub(crate) async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options.max_connections(max_connections.max(1)).sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
    } else {
        options.set_application_name("tessera-baseline");
    }
    Database::connect(options).await.with_context(|| format!("connecting to {}", redact(url)))
}

/// The URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The user as JSON: the public fields Tessera's `UserView` renders (without its links).
#[derive(Serialize)]
struct UserJson {
    id: Uuid,
    tenant_id: Uuid,
    email: String,
    full_name: String,
    role: String,
    status: String,
    mfa_enabled: bool,
    require_password_change: bool,
    created_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
}

impl UserJson {
    /// Reads every selected column, as Tessera's row mapping does (the hash included).
    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let _password_hash: String = row.try_get("", "password_hash")?;
        let _updated_at: DateTime<Utc> = row.try_get("", "updated_at")?;
        Ok(Self {
            id: row.try_get("", "id")?,
            tenant_id: row.try_get("", "tenant_id")?,
            email: row.try_get("", "email")?,
            full_name: row.try_get("", "full_name")?,
            role: row.try_get("", "role")?,
            status: row.try_get("", "status")?,
            mfa_enabled: row.try_get("", "mfa_enabled")?,
            require_password_change: row.try_get("", "require_password_change")?,
            created_at: row.try_get("", "created_at")?,
            last_login_at: row.try_get("", "last_login_at")?,
        })
    }
}

fn tenant_header(req: &HttpRequest) -> Option<Uuid> {
    req.headers().get("x-tenant-id")?.to_str().ok().and_then(|s| Uuid::parse_str(s.trim()).ok())
}

#[get("/users/{id}")]
async fn get_user(state: web::Data<State>, req: HttpRequest, id: web::Path<Uuid>) -> HttpResponse {
    let Some(tenant) = tenant_header(&req) else {
        return HttpResponse::BadRequest().body("X-Tenant-Id must be a UUID");
    };
    let db = &state.db;
    let statement =
        Statement::from_sql_and_values(db.get_database_backend(), SELECT_USER, [tenant.into(), id.into_inner().into()]);
    match db.query_one_raw(statement).await {
        Ok(Some(row)) => match UserJson::from_row(&row) {
            Ok(user) => HttpResponse::Ok().json(user),
            Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
        },
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

//! The end-to-end harness: starts the real server (the same wiring as `tessera serve`) on
//! port 0 against a fresh SQLite file or a fresh PostgreSQL database, and talks to it over
//! HTTP like any client.
#![allow(clippy::expect_used, clippy::panic, reason = "a broken harness is a failed test")]

use serde_json::{Value, json};
use tessera_server::{Config, RunningServer, Sources};

pub use reqwest::StatusCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    server: Option<RunningServer>,
    _dir: tempfile::TempDir,
    /// Keeps the PostgreSQL test database alive (it is dropped with the app).
    _db: Option<tessera_testkit::PgTestDb>,
}

/// Starts a server; `None` when the backend is PostgreSQL and no test database is configured.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut env = vec![
        ("TESSERA_ENV".to_owned(), "test".to_owned()),
        ("TESSERA_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("TESSERA_SERVER__PORT".to_owned(), "0".to_owned()),
        ("TESSERA_SERVER__WORKERS".to_owned(), "2".to_owned()),
        ("TESSERA_AUTH__ISSUER".to_owned(), "http://tessera.test".to_owned()),
    ];
    let mut pg = None;
    if backend == Backend::Postgres {
        let db = tessera_testkit::db::postgres_store().await?;
        env.push(("TESSERA_DATABASE__URL".into(), db.app_url.clone()));
        env.push(("TESSERA_DATABASE__MIGRATION_URL".into(), db.owner_url.clone()));
        env.push(("TESSERA_DATABASE__APP_ROLE".into(), "tessera_app".into()));
        pg = Some(db);
        if let Ok(redis) = std::env::var("TESSERA_TEST_REDIS_URL") {
            env.push(("TESSERA_REDIS__URL".into(), redis));
        }
    }
    let config_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
    let config = Config::load(&Sources { config_dir, env }).expect("config");
    let server = tessera_server::spawn(&config).await.expect("server starts");
    Some(TestApp {
        base: server.base_url(),
        client: reqwest::Client::new(),
        backend,
        server: Some(server),
        _dir: dir,
        _db: pg,
    })
}

/// A response's status, headers and JSON body (Null when empty or not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// The server's data directory (the file mailer writes `mail/*.eml` under it).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The text of the newest mail whose subject is `subject`, waiting up to 5 s for it.
    pub async fn wait_for_mail(&self, subject: &str) -> String {
        for _ in 0..250 {
            let mut files: Vec<_> = std::fs::read_dir(self.data_dir().join("mail"))
                .map(|d| {
                    d.filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                        .collect()
                })
                .unwrap_or_default();
            files.sort();
            for f in files.iter().rev() {
                let text = std::fs::read_to_string(f).unwrap_or_default();
                if text.contains(&format!("Subject: {subject}")) {
                    return text;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no mail with subject {subject}");
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
    }

    pub async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Some(token), None).await
    }

    /// Registers `slug` (admin `admin@{slug}.test`) and returns (tenant id, admin id, token).
    pub async fn register(&self, slug: &str) -> (String, String, String) {
        let r = self
            .send(
                "POST",
                "/api/v1/auth/register",
                None,
                Some(json!({"email": format!("admin@{slug}.test"), "password": PASSWORD, "full_name": "Admin", "tenant_slug": slug})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "register {slug}: {}", r.body);
        let tenant = r.body["tenant"]["id"].as_str().expect("tenant id").to_owned();
        let user = r.body["user"]["id"].as_str().expect("user id").to_owned();
        let token = self.login(&format!("admin@{slug}.test"), slug).await;
        (tenant, user, token)
    }

    pub async fn login(&self, email: &str, slug: &str) -> String {
        let r = self
            .send(
                "POST",
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": PASSWORD, "tenant_slug": slug})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {email}: {}", r.body);
        r.body["access_token"].as_str().expect("access token").to_owned()
    }

    /// Creates a user with `role` in the token's tenant and returns (id, token).
    pub async fn add_user(&self, admin_token: &str, email: &str, role: &str, slug: &str) -> (String, String) {
        let r = self
            .send(
                "POST",
                "/api/v1/users",
                Some(admin_token),
                Some(json!({"email": email, "full_name": "Some One", "role": role, "password": PASSWORD})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "create {email}: {}", r.body);
        let id = r.body["id"].as_str().expect("id").to_owned();
        (id, self.login(email, slug).await)
    }
}

/// Asserts an RFC 9457 problem with `code` and `status`, and that `request_id` matches the header.
pub fn assert_problem(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"), "body: {}", r.body);
    assert_eq!(r.body["code"], code, "body: {}", r.body);
    assert_eq!(r.body["status"], status);
    assert_eq!(r.body["type"], format!("/problems/{code}"));
    assert!(r.body["title"].is_string() && r.body["detail"].is_string());
    assert_eq!(r.body["request_id"].as_str(), r.header("x-request-id"), "request_id equals the header");
}

/// Runs one scenario on SQLite and on PostgreSQL (skipped, with a note, when no PostgreSQL
/// test database is configured).
#[macro_export]
macro_rules! e2e {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario($app: &$crate::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::spawn_app($crate::Backend::Sqlite).await.expect("sqlite app");
                scenario(&app).await;
                app.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::spawn_app($crate::Backend::Postgres).await else {
                    eprintln!("skipped: TESSERA_TEST_DATABASE_URL unset");
                    return;
                };
                scenario(&app).await;
                app.stop().await;
            }
        }
    };
}

//! Two real `tessera` processes sharing PostgreSQL and Redis: a change made through one is
//! applied by the other within 1 s: the settings cache (SPEC §3) and revocation (SPEC §6.2),
//! both invalidated over Redis pub/sub.
//! Runs when both `TESSERA_TEST_DATABASE_URL` and `TESSERA_TEST_REDIS_URL` are set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use serde_json::{Value, json};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

const PASSWORD: &str = "correct horse battery staple";

struct Process {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start(env: &[(String, String)], dir: &std::path::Path, name: &str) -> Process {
    let port = free_port();
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("serve")
        .env_clear()
        .envs(env.iter().cloned())
        .env("TESSERA_SERVER__PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/health/ready")).send().await
            && r.status().is_success()
        {
            return Process { child, base };
        }
        assert!(Instant::now() < deadline, "{name} did not become ready; see its log");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn post(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = client.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn login(client: &reqwest::Client, base: &str) -> Value {
    let body = json!({"email": "ada@acme.test", "password": PASSWORD, "tenant_slug": "acme"});
    let (status, body) = post(client, format!("{base}/api/v1/auth/login"), None, body).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_changes_and_logouts_on_one_process_apply_on_the_other_within_a_second() {
    let (Some(db), Ok(redis)) = (tessera_testkit::postgres_store().await, std::env::var("TESSERA_TEST_REDIS_URL"))
    else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL and TESSERA_TEST_REDIS_URL are both needed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let env: Vec<(String, String)> = [
        ("TESSERA_ENV", "test".to_owned()),
        ("TESSERA_CONFIG_DIR", config_dir.display().to_string()),
        ("TESSERA_DATA_DIR", dir.path().display().to_string()),
        ("TESSERA_DATABASE__URL", db.app_url.clone()),
        ("TESSERA_DATABASE__MIGRATION_URL", db.owner_url.clone()),
        ("TESSERA_DATABASE__APP_ROLE", "tessera_app".to_owned()),
        ("TESSERA_REDIS__URL", redis),
        ("TESSERA_SECURITY__MASTER_KEY", "c2hhcmVkIG1hc3RlciBrZXkgb2YgdGhlIHRlc3QhISE=".to_owned()),
        ("TESSERA_SERVER__WORKERS", "1".to_owned()),
        // Replicas share one issuer (the default derives it from each process's own port).
        ("TESSERA_AUTH__ISSUER", "http://tessera.test".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let one = start(&env, dir.path(), "one").await;
    let two = start(&env, dir.path(), "two").await;
    let client = reqwest::Client::new();

    let body = json!({"email": "ada@acme.test", "password": PASSWORD, "full_name": "Ada", "tenant_slug": "acme"});
    let (status, reg) = post(&client, format!("{}/api/v1/auth/register", one.base), None, body).await;
    assert_eq!(status, 201, "{reg}");
    let tenant = reg["tenant"]["id"].as_str().unwrap().to_owned();
    let token = login(&client, &one.base).await["access_token"].as_str().unwrap().to_owned();
    // Process two has the tenant's settings cached now.
    assert_eq!(login(&client, &two.base).await["expires_in"], 900);

    let r = client
        .patch(format!("{}/api/v1/tenants/{tenant}/settings", one.base))
        .bearer_auth(&token)
        .json(&json!({"tokens": {"access_ttl_seconds": 300}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let changed = Instant::now();
    loop {
        if login(&client, &two.base).await["expires_in"] == 300 {
            break;
        }
        assert!(changed.elapsed() < Duration::from_secs(1), "process two still used the old setting after 1 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("process two applied the change after {:?}", changed.elapsed());

    // Logout on process one: process two refuses the token within 1 s.
    let fresh = login(&client, &one.base).await["access_token"].as_str().unwrap().to_owned();
    let me = |base: String, token: String| {
        let client = client.clone();
        async move {
            client.get(format!("{base}/api/v1/auth/me")).bearer_auth(token).send().await.unwrap().status().as_u16()
        }
    };
    let status = me(two.base.clone(), fresh.clone()).await;
    assert_eq!(status, 200, "process two accepts the live session");
    let (status, _) = post(&client, format!("{}/api/v1/auth/logout", one.base), Some(&fresh), json!({})).await;
    assert_eq!(status, 204);
    let revoked = Instant::now();
    loop {
        if me(two.base.clone(), fresh.clone()).await == 401 {
            break;
        }
        assert!(revoked.elapsed() < Duration::from_secs(1), "process two still accepted the token after 1 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("process two refused the logged-out token after {:?}", revoked.elapsed());
    drop((one.child, two.child));
}

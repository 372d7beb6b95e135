//! The mail adapters end to end: the file mailer into a temporary directory, the SMTP mailer
//! against an in-test SMTP sink on 127.0.0.1, and the contract both must pass.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test helpers outside #[test] functions")]

mod support;

use secrecy::SecretString;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::smtp_sink::{SinkAuth, SinkConfig, SinkEvent, SinkMode, SmtpSink};
use support::{FileInbox, eml_files, long_reset_link, mail, mailer_contract, parse_eml};
use tessera_domain::RepoError;
use tessera_domain::ports::Mailer;
use tessera_integrations::{DEFAULT_FROM, FileMailer, SmtpMailer, SmtpSettings, SmtpTls, mailer_from};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!("tessera-mail-test-{}", uuid::Uuid::new_v4())))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn smtp_settings(sink: &SmtpSink) -> SmtpSettings {
    SmtpSettings {
        port: sink.port(),
        tls: SmtpTls::None,
        from: "Acme Login <login@acme.test>".to_owned(),
        timeout_seconds: 5,
        ..SmtpSettings::new("127.0.0.1")
    }
}

fn with_credentials(settings: SmtpSettings) -> SmtpSettings {
    SmtpSettings {
        username: Some("mailer@acme.test".to_owned()),
        password: Some(SecretString::from("s3cret pässword")),
        ..settings
    }
}

fn expect_unavailable(result: Result<(), RepoError>) {
    match result {
        Err(RepoError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

// ---- the contract, against both adapters ----

#[tokio::test]
async fn file_mailer_passes_the_mailer_contract() {
    let dir = TempDir::new();
    let mailer = FileMailer::new(dir.0.clone());
    mailer_contract(&mailer, &mut FileInbox { dir: dir.0.clone(), seen: 0 }, DEFAULT_FROM).await;
}

#[tokio::test]
async fn smtp_mailer_passes_the_mailer_contract() {
    let mut sink = SmtpSink::start(SinkConfig::default()).await;
    let mailer = SmtpMailer::new(smtp_settings(&sink)).unwrap();
    mailer_contract(&mailer, &mut sink, "Acme Login <login@acme.test>").await;
}

// ---- FileMailer ----

#[tokio::test]
async fn file_mailer_writes_one_parseable_eml_with_every_header() {
    let dir = TempDir::new();
    let mailer = FileMailer::new(dir.0.clone());
    mailer.send(&mail("Alice@Example.com", "Hello ✓", "Bonjour, Zoë.\n")).await.unwrap();

    let files = eml_files(&dir.0);
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    // 20261122T101530.123456Z-<uuid>.eml
    let (stamp, rest) = name.split_once('-').unwrap();
    assert!(chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S%.6fZ").is_ok(), "{name}");
    assert!(uuid::Uuid::parse_str(rest.trim_end_matches(".eml")).is_ok(), "{name}");

    let raw = std::fs::read(&files[0]).unwrap();
    let got = parse_eml(&raw);
    assert_eq!(got.from, "Tessera <no-reply@localhost>");
    assert_eq!(got.to, vec!["alice@example.com"]);
    assert_eq!(got.subject, "Hello ✓");
    assert_eq!(got.text, "Bonjour, Zoë.\n");
    assert_eq!(got.transfer_encoding, "8bit");
    assert_eq!(got.mime_version, "1.0");
    assert!(got.message_id.ends_with("@localhost>"), "{}", got.message_id);
    let stamp = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S%.6fZ").unwrap().and_utc().timestamp();
    assert_eq!(got.date, stamp, "the Date header is the file's timestamp");
    let raw = String::from_utf8(raw).unwrap();
    assert!(raw.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"), "{raw}");
}

#[tokio::test]
async fn file_mailer_creates_a_missing_directory_tree() {
    let dir = TempDir::new();
    let nested = dir.0.join("data").join("mail");
    FileMailer::new(nested.clone()).send(&mail("a@example.com", "s", "t")).await.unwrap();
    assert_eq!(eml_files(&nested).len(), 1);
}

#[tokio::test]
async fn file_mailer_two_mails_give_two_files_in_time_order() {
    let dir = TempDir::new();
    let mailer = FileMailer::new(dir.0.clone());
    for subject in ["first", "second", "third"] {
        mailer.send(&mail("a@example.com", subject, "t")).await.unwrap();
    }
    let files = eml_files(&dir.0);
    let subjects: Vec<String> = files.iter().map(|f| parse_eml(&std::fs::read(f).unwrap()).subject).collect();
    assert_eq!(subjects, ["first", "second", "third"]);
    let names: Vec<_> = files.iter().map(|f| f.file_name().unwrap().to_owned()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "distinct names sorting in sending order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_mailer_concurrent_sends_give_one_file_each() {
    let dir = TempDir::new();
    let mailer = std::sync::Arc::new(FileMailer::new(dir.0.clone()));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let mailer = std::sync::Arc::clone(&mailer);
            tokio::spawn(async move { mailer.send(&mail("a@example.com", &format!("mail {i}"), "t")).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let files = eml_files(&dir.0);
    assert_eq!(files.len(), 20);
    let mut subjects: Vec<String> = files.iter().map(|f| parse_eml(&std::fs::read(f).unwrap()).subject).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 20);
}

#[tokio::test]
async fn file_mailer_keeps_the_code_and_the_reset_link_intact_in_the_raw_file() {
    let dir = TempDir::new();
    let link = long_reset_link();
    assert!(link.len() > 78, "longer than a quoted-printable line");
    let text = format!("Your code is 042917.\n\nReset your password:\n{link}\n");
    FileMailer::new(dir.0.clone()).send(&mail("a@example.com", "Reset", &text)).await.unwrap();
    let raw = String::from_utf8(std::fs::read(&eml_files(&dir.0)[0]).unwrap()).unwrap();
    // Greppable as written: no soft line breaks, no `=3D`.
    assert!(raw.contains("Your code is 042917.\r\n"), "{raw}");
    assert!(raw.lines().any(|l| l == link), "{raw}");
    assert!(!raw.contains("=3D"), "{raw}");
}

#[tokio::test]
async fn file_mailer_sends_as_the_configured_sender() {
    let dir = TempDir::new();
    let mailer = FileMailer::new(dir.0.clone()).with_from("Acme <login@acme.test>").unwrap();
    mailer.send(&mail("a@example.com", "s", "t")).await.unwrap();
    let got = parse_eml(&std::fs::read(&eml_files(&dir.0)[0]).unwrap());
    assert_eq!(got.from, "Acme <login@acme.test>");
    assert!(got.message_id.ends_with("@acme.test>"), "{}", got.message_id);
}

#[tokio::test]
async fn file_mailer_unwritable_directory_is_unavailable() {
    let dir = TempDir::new();
    std::fs::create_dir_all(&dir.0).unwrap();
    let blocker = dir.0.join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    expect_unavailable(FileMailer::new(blocker.join("mail")).send(&mail("a@example.com", "s", "t")).await);
}

#[tokio::test]
async fn mailer_from_file_writes_under_data_dir_mail() {
    let dir = TempDir::new();
    let mailer = mailer_from("file", &dir.0, None).unwrap();
    mailer.send(&mail("a@example.com", "s", "t")).await.unwrap();
    assert_eq!(eml_files(&dir.0.join("mail")).len(), 1);
}

// ---- SmtpMailer ----

#[tokio::test]
async fn smtp_mailer_delivers_a_utf8_mail_to_the_envelope_recipient() {
    let mut sink = SmtpSink::start(SinkConfig::default()).await;
    let mailer = SmtpMailer::new(smtp_settings(&sink)).unwrap();
    let text = format!("Grüße! Dein Code: 318274\n{}\n", long_reset_link());
    mailer.send(&mail("Zoe@Example.org", "Dein Anmeldecode — ✓", &text)).await.unwrap();

    let received = sink.next_delivery().await;
    assert_eq!(received.mail_from, "login@acme.test");
    assert_eq!(received.rcpt_to, vec!["zoe@example.org"]);
    assert_eq!(received.auth, None, "no credentials configured, no AUTH");
    let got = parse_eml(&received.data);
    assert_eq!(got.to, vec!["zoe@example.org"]);
    assert_eq!(got.subject, "Dein Anmeldecode — ✓");
    assert_eq!(got.text.trim_end(), text.trim_end());
    assert!(received.data.is_ascii(), "needs no 8BITMIME from the relay");
    assert!(sink.commands().iter().any(|c| c == "QUIT"), "{:?}", sink.commands());
}

#[tokio::test]
async fn smtp_mailer_authenticates_with_plain_when_configured() {
    let mut sink = SmtpSink::start(SinkConfig { auth_mechanisms: vec!["PLAIN", "LOGIN"], ..Default::default() }).await;
    let mailer = SmtpMailer::new(with_credentials(smtp_settings(&sink))).unwrap();
    mailer.send(&mail("a@example.com", "s", "t")).await.unwrap();
    let received = sink.next_delivery().await;
    assert_eq!(
        received.auth,
        Some(SinkAuth {
            mechanism: "PLAIN".to_owned(),
            username: "mailer@acme.test".to_owned(),
            password: "s3cret pässword".to_owned()
        })
    );
}

#[tokio::test]
async fn smtp_mailer_authenticates_with_login_when_only_login_is_offered() {
    let mut sink = SmtpSink::start(SinkConfig { auth_mechanisms: vec!["LOGIN"], ..Default::default() }).await;
    let mailer = SmtpMailer::new(with_credentials(smtp_settings(&sink))).unwrap();
    mailer.send(&mail("a@example.com", "s", "t")).await.unwrap();
    let auth = sink.next_delivery().await.auth.unwrap();
    assert_eq!((auth.mechanism.as_str(), auth.username.as_str()), ("LOGIN", "mailer@acme.test"));
    assert_eq!(auth.password, "s3cret pässword");
}

#[tokio::test]
async fn smtp_mailer_with_credentials_refuses_a_relay_that_offers_no_auth() {
    let mut sink = SmtpSink::start(SinkConfig::default()).await;
    let mailer = SmtpMailer::new(with_credentials(smtp_settings(&sink))).unwrap();
    expect_unavailable(mailer.send(&mail("a@example.com", "s", "t")).await);
    assert!(sink.commands().iter().all(|c| !c.starts_with("MAIL")), "{:?}", sink.commands());
    assert!(sink.drain().is_empty());
}

#[tokio::test]
async fn smtp_mailer_unreachable_server_is_unavailable_within_the_timeout() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // closed again: nothing listens there now
    let settings = SmtpSettings { port, tls: SmtpTls::None, timeout_seconds: 2, ..SmtpSettings::new("127.0.0.1") };
    let started = Instant::now();
    expect_unavailable(SmtpMailer::new(settings).unwrap().send(&mail("a@example.com", "s", "t")).await);
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn smtp_mailer_silent_server_is_unavailable_within_the_timeout() {
    let sink = SmtpSink::start(SinkConfig { mode: SinkMode::Silent, ..Default::default() }).await;
    let settings = SmtpSettings { timeout_seconds: 1, ..smtp_settings(&sink) };
    let started = Instant::now();
    expect_unavailable(SmtpMailer::new(settings).unwrap().send(&mail("a@example.com", "s", "t")).await);
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn smtp_mailer_rejected_recipient_is_unavailable() {
    let mut sink = SmtpSink::start(SinkConfig { reject_recipients: true, ..Default::default() }).await;
    let mailer = SmtpMailer::new(smtp_settings(&sink)).unwrap();
    expect_unavailable(mailer.send(&mail("nobody@example.com", "s", "t")).await);
    assert!(sink.drain().is_empty(), "nothing delivered");
}

#[tokio::test]
async fn smtp_mailer_starttls_is_required_and_never_falls_back_to_plain_text() {
    let mut sink = SmtpSink::start(SinkConfig { auth_mechanisms: vec!["PLAIN", "LOGIN"], ..Default::default() }).await;
    let settings = SmtpSettings { tls: SmtpTls::StartTls, ..with_credentials(smtp_settings(&sink)) };
    expect_unavailable(SmtpMailer::new(settings).unwrap().send(&mail("a@example.com", "s", "t")).await);
    let commands = sink.commands();
    assert!(commands.iter().all(|c| !c.starts_with("AUTH") && !c.starts_with("MAIL")), "{commands:?}");
    assert!(sink.drain().is_empty());
}

#[tokio::test]
async fn smtp_mailer_starttls_upgrades_the_connection_with_a_tls_handshake() {
    let mut sink = SmtpSink::start(SinkConfig { starttls: true, ..Default::default() }).await;
    let settings = SmtpSettings { tls: SmtpTls::StartTls, ..smtp_settings(&sink) };
    // The sink speaks no TLS, so the hand-over fails — after a real ClientHello.
    expect_unavailable(SmtpMailer::new(settings).unwrap().send(&mail("a@example.com", "s", "t")).await);
    assert!(sink.commands().iter().any(|c| c == "STARTTLS"), "{:?}", sink.commands());
    match sink.next().await {
        SinkEvent::RawBytes(bytes) => assert_eq!(bytes.get(..2), Some(&[0x16, 0x03][..]), "TLS handshake record"),
        other => panic!("expected the TLS ClientHello, got {other:?}"),
    }
}

#[tokio::test]
async fn smtp_mailer_implicit_tls_starts_with_a_tls_handshake() {
    let mut sink = SmtpSink::start(SinkConfig { mode: SinkMode::CaptureRaw, ..Default::default() }).await;
    let settings = SmtpSettings { tls: SmtpTls::Tls, ..smtp_settings(&sink) };
    expect_unavailable(SmtpMailer::new(settings).unwrap().send(&mail("a@example.com", "s", "t")).await);
    match sink.next().await {
        SinkEvent::RawBytes(bytes) => assert_eq!(bytes.get(..2), Some(&[0x16, 0x03][..]), "TLS handshake record"),
        other => panic!("expected the TLS ClientHello, got {other:?}"),
    }
}

#[tokio::test]
async fn mailer_from_smtp_delivers_through_the_relay() {
    let mut sink = SmtpSink::start(SinkConfig::default()).await;
    let mailer = mailer_from("smtp", std::path::Path::new("/nonexistent"), Some(smtp_settings(&sink))).unwrap();
    mailer.send(&mail("a@example.com", "via mailer_from", "t")).await.unwrap();
    assert_eq!(parse_eml(&sink.next_delivery().await.data).subject, "via mailer_from");
}

// ---- logging ----

/// Log lines written while it is the thread's default subscriber.
#[derive(Clone, Default)]
struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn logs_name_the_recipient_domain_and_subject_but_never_secrets() {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let secret_text = format!("Your code is 918273.\n{}\n", long_reset_link());
    let dir = TempDir::new();
    FileMailer::new(dir.0.clone()).send(&mail("carol.secret@example.com", "Your code", &secret_text)).await.unwrap();
    let mut sink = SmtpSink::start(SinkConfig { auth_mechanisms: vec!["PLAIN"], ..Default::default() }).await;
    let mailer = SmtpMailer::new(with_credentials(smtp_settings(&sink))).unwrap();
    mailer.send(&mail("carol.secret@example.com", "Your code", &secret_text)).await.unwrap();
    sink.next_delivery().await;
    let refusing =
        SmtpSink::start(SinkConfig { reject_recipients: true, auth_mechanisms: vec!["PLAIN"], ..Default::default() })
            .await;
    let mailer = SmtpMailer::new(with_credentials(smtp_settings(&refusing))).unwrap();
    expect_unavailable(mailer.send(&mail("carol.secret@example.com", "Your code", &secret_text)).await);

    let text = logs.text();
    assert_eq!(text.matches("example.com").count(), 3, "{text}");
    assert!(text.contains("Your code") && text.contains("550"), "{text}");
    for secret in ["918273", "token=", "carol.secret", "s3cret", "mailer@acme.test"] {
        assert!(!text.contains(secret), "{secret:?} leaked into the logs:\n{text}");
    }
}

//! A tiny SMTP server on 127.0.0.1 that records what it is sent: enough of RFC 5321 for
//! lettre (greeting, EHLO/HELO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT), plus
//! modes that capture the first raw bytes of a (STARTTLS-upgraded or implicit) TLS client.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How the sink behaves.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// `AUTH` mechanisms to advertise (empty: no `AUTH` extension).
    pub auth_mechanisms: Vec<&'static str>,
    /// Advertise `STARTTLS` and, when asked, answer 220 and capture the client's first bytes.
    pub starttls: bool,
    /// Answer `RCPT TO` with 550.
    pub reject_recipients: bool,
    pub mode: SinkMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkMode {
    /// Speak SMTP.
    Smtp,
    /// Accept, never answer (a hung relay).
    Silent,
    /// Send nothing; capture the first bytes the client sends (an implicit-TLS client).
    CaptureRaw,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self { auth_mechanisms: Vec::new(), starttls: false, reject_recipients: false, mode: SinkMode::Smtp }
    }
}

/// Credentials a client authenticated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkAuth {
    pub mechanism: String,
    pub username: String,
    pub password: String,
}

/// One message accepted after `DATA`.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as transferred, dot-unstuffed, without the final `.` line.
    pub data: Vec<u8>,
    pub auth: Option<SinkAuth>,
}

#[derive(Debug)]
pub enum SinkEvent {
    Delivered(Received),
    /// The first bytes the client sent after `STARTTLS` or on an implicit-TLS connect.
    RawBytes(Vec<u8>),
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    events: mpsc::UnboundedReceiver<SinkEvent>,
    commands: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start(config: SinkConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, events) = mpsc::unbounded_channel();
        let commands = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&commands);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (config, tx, log) = (config.clone(), tx.clone(), Arc::clone(&log));
                tokio::spawn(async move {
                    let _ = serve(stream, config, tx, log).await;
                });
            }
        });
        Self { addr, events, commands, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The next event, waiting at most 10 s.
    pub async fn next(&mut self) -> SinkEvent {
        tokio::time::timeout(Duration::from_secs(10), self.events.recv())
            .await
            .expect("the sink saw nothing within 10 s")
            .expect("sink closed")
    }

    pub async fn next_delivery(&mut self) -> Received {
        match self.next().await {
            SinkEvent::Delivered(received) => received,
            other => panic!("expected a delivery, got {other:?}"),
        }
    }

    /// Every event already received, without waiting.
    pub fn drain(&mut self) -> Vec<SinkEvent> {
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }

    /// Every command line received so far, on all connections (verbs upper-cased).
    pub fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    stream: TcpStream,
    config: SinkConfig,
    tx: mpsc::UnboundedSender<SinkEvent>,
    log: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let (read, mut w) = stream.into_split();
    let mut r = BufReader::new(read);
    match config.mode {
        SinkMode::Silent => {
            let mut buf = [0u8; 1024];
            while r.read(&mut buf).await? > 0 {}
            return Ok(());
        }
        SinkMode::CaptureRaw => {
            let _ = tx.send(SinkEvent::RawBytes(read_some(&mut r).await?));
            return Ok(());
        }
        SinkMode::Smtp => {}
    }
    reply(&mut w, "220 sink.test ESMTP ready\r\n").await?;
    let mut auth: Option<SinkAuth> = None;
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    loop {
        let Some(line) = read_line(&mut r).await? else { return Ok(()) };
        let upper = line.to_ascii_uppercase();
        log.lock().unwrap().push(line.clone());
        if upper.starts_with("EHLO") {
            let mut lines = vec!["sink.test greets you".to_owned(), "8BITMIME".to_owned(), "SMTPUTF8".to_owned()];
            if !config.auth_mechanisms.is_empty() {
                lines.push(format!("AUTH {}", config.auth_mechanisms.join(" ")));
            }
            if config.starttls {
                lines.push("STARTTLS".to_owned());
            }
            let last = lines.len() - 1;
            let text: String = lines
                .iter()
                .enumerate()
                .map(|(i, l)| format!("250{}{l}\r\n", if i == last { ' ' } else { '-' }))
                .collect();
            reply(&mut w, &text).await?;
        } else if upper.starts_with("HELO") {
            reply(&mut w, "250 sink.test\r\n").await?;
        } else if upper == "STARTTLS" && config.starttls {
            reply(&mut w, "220 go ahead\r\n").await?;
            let _ = tx.send(SinkEvent::RawBytes(read_some(&mut r).await?));
            return Ok(());
        } else if upper.starts_with("AUTH PLAIN") {
            let initial = line.get("AUTH PLAIN".len()..).unwrap_or("").trim().to_owned();
            let encoded = if initial.is_empty() {
                reply(&mut w, "334 \r\n").await?;
                read_line(&mut r).await?.unwrap_or_default()
            } else {
                initial
            };
            let decoded = String::from_utf8(B64.decode(encoded.trim()).unwrap()).unwrap();
            let mut parts = decoded.split('\0');
            let (_authzid, username, password) = (parts.next(), parts.next(), parts.next());
            auth = Some(SinkAuth {
                mechanism: "PLAIN".to_owned(),
                username: username.unwrap_or_default().to_owned(),
                password: password.unwrap_or_default().to_owned(),
            });
            reply(&mut w, "235 2.7.0 Authentication successful\r\n").await?;
        } else if upper.starts_with("AUTH LOGIN") {
            reply(&mut w, &format!("334 {}\r\n", B64.encode("Username:"))).await?;
            let user = read_line(&mut r).await?.unwrap_or_default();
            reply(&mut w, &format!("334 {}\r\n", B64.encode("Password:"))).await?;
            let pass = read_line(&mut r).await?.unwrap_or_default();
            let decode = |s: &str| String::from_utf8(B64.decode(s.trim()).unwrap()).unwrap();
            auth = Some(SinkAuth { mechanism: "LOGIN".to_owned(), username: decode(&user), password: decode(&pass) });
            reply(&mut w, "235 2.7.0 Authentication successful\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            mail_from = angle_address(&line);
            rcpt_to.clear();
            reply(&mut w, "250 2.1.0 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            if config.reject_recipients {
                reply(&mut w, &format!("550 5.1.1 <{}>: no such user\r\n", angle_address(&line))).await?;
            } else {
                rcpt_to.push(angle_address(&line));
                reply(&mut w, "250 2.1.5 OK\r\n").await?;
            }
        } else if upper == "DATA" {
            reply(&mut w, "354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = Vec::new();
            loop {
                let mut raw = Vec::new();
                if r.read_until(b'\n', &mut raw).await? == 0 {
                    return Ok(());
                }
                if raw == b".\r\n" {
                    break;
                }
                data.extend_from_slice(raw.strip_prefix(b".").unwrap_or(&raw));
            }
            let received = Received {
                mail_from: mail_from.clone(),
                rcpt_to: std::mem::take(&mut rcpt_to),
                data,
                auth: auth.clone(),
            };
            let _ = tx.send(SinkEvent::Delivered(received));
            reply(&mut w, "250 2.0.0 queued\r\n").await?;
        } else if upper == "RSET" || upper == "NOOP" {
            reply(&mut w, "250 OK\r\n").await?;
        } else if upper == "QUIT" {
            reply(&mut w, "221 bye\r\n").await?;
            return Ok(());
        } else {
            reply(&mut w, "502 5.5.2 command not recognised\r\n").await?;
        }
    }
}

async fn reply(w: &mut OwnedWriteHalf, text: &str) -> std::io::Result<()> {
    w.write_all(text.as_bytes()).await?;
    w.flush().await
}

/// One CRLF-terminated line without its terminator; `None` at end of stream.
async fn read_line<R: AsyncBufReadExt + Unpin>(r: &mut R) -> std::io::Result<Option<String>> {
    let mut raw = Vec::new();
    if r.read_until(b'\n', &mut raw).await? == 0 {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&raw).trim_end_matches(['\r', '\n']).to_owned()))
}

async fn read_some<R: AsyncReadExt + Unpin>(r: &mut R) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), r.read(&mut buf)).await.unwrap_or(Ok(0))?;
    buf.truncate(n);
    Ok(buf)
}

/// `MAIL FROM:<a@b> BODY=8BITMIME` → `a@b`.
fn angle_address(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_owned()
}

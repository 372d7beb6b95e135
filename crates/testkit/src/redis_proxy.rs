//! Helpers for the Redis adapters' reconnect tests, which share one server with tests
//! running in parallel and so may cut only connections of their own.
//!
//! - [`Proxy`]: a TCP proxy in front of the test Redis, whose connections can be cut from
//!   the proxy's side ([`Proxy::cut`]) or killed by Redis ([`Proxy::kill_upstream_connections`]).
//! - [`redis_command`]: one raw command on a fresh connection, independent of the adapters.
#![allow(clippy::expect_used, reason = "test helpers fail loudly: a broken setup is a failed test")]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use url::Url;

/// A TCP proxy in front of the test Redis that remembers its connections. Dropping it cuts
/// them and stops accepting.
pub struct Proxy {
    /// The Redis URL, pointed at the proxy.
    pub url: String,
    /// How many connections the proxy has accepted (and connected upstream).
    pub accepted: Arc<AtomicUsize>,
    /// How many proxied connections are open.
    pub active: Arc<AtomicUsize>,
    /// The local addresses of the proxy's connections to Redis, as Redis sees the clients.
    upstream: Arc<Mutex<Vec<SocketAddr>>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy on a free local port in front of the server of `redis_url`.
    pub async fn start(redis_url: &str) -> Self {
        let target = redis_addr(redis_url);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut url = Url::parse(redis_url).expect("redis url");
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(listener.local_addr().expect("addr").port())).expect("port");
        let upstream = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let active = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let (upstream, connections) = (Arc::clone(&upstream), Arc::clone(&connections));
            let (accepted, active) = (Arc::clone(&accepted), Arc::clone(&active));
            async move {
                while let Ok((mut down, _)) = listener.accept().await {
                    let Ok(mut up) = TcpStream::connect(&target).await else {
                        continue;
                    };
                    if let Ok(addr) = up.local_addr() {
                        upstream.lock().expect("upstream").push(addr);
                    }
                    accepted.fetch_add(1, Ordering::SeqCst);
                    active.fetch_add(1, Ordering::SeqCst);
                    let open = Open(Arc::clone(&active));
                    // Spawned under the lock, so a `cut` either sees it or comes before it.
                    let mut handles = connections.lock().expect("connections");
                    handles.push(tokio::spawn(async move {
                        let _open = open;
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }));
                }
            }
        });
        Self { url: url.to_string(), accepted, active, upstream, connections, task }
    }

    /// Closes every proxied connection (both sides drop with the aborted task).
    pub fn cut(&self) {
        for connection in self.connections.lock().expect("connections").drain(..) {
            connection.abort();
        }
    }

    /// Has Redis kill every connection the proxy opened; returns how many it killed.
    pub async fn kill_upstream_connections(&self, redis_url: &str) -> usize {
        let addrs = self.upstream.lock().expect("upstream").clone();
        let mut killed = 0;
        for addr in addrs {
            let addr = addr.to_string();
            let reply = redis_command(redis_url, &["CLIENT", "KILL", "ADDR", &addr]).await;
            let count = reply.strip_prefix(':').map(str::trim).map(str::parse::<usize>);
            killed += count.and_then(Result::ok).expect("CLIENT KILL count");
        }
        killed
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

/// Counts one open proxied connection in [`Proxy::active`] until dropped, whether the copy
/// ends or its task is aborted.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn redis_addr(redis_url: &str) -> String {
    let url = Url::parse(redis_url).expect("redis url");
    let host = url.host_str().expect("redis host");
    format!("{host}:{}", url.port().unwrap_or(6379))
}

/// Sends one command on a fresh connection (authenticating with the URL's credentials, taken
/// as written) and returns the first reply line: enough for integer and status replies.
pub async fn redis_command(redis_url: &str, args: &[&str]) -> String {
    let url = Url::parse(redis_url).expect("redis url");
    let mut stream = TcpStream::connect(redis_addr(redis_url)).await.expect("connect");
    if let Some(password) = url.password() {
        let auth = match url.username() {
            "" => vec!["AUTH", password],
            user => vec!["AUTH", user, password],
        };
        let reply = send_command(&mut stream, &auth).await;
        assert!(reply.starts_with('+'), "AUTH answered {reply:?}");
    }
    send_command(&mut stream, args).await
}

async fn send_command(stream: &mut TcpStream, args: &[&str]) -> String {
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut reply = Vec::new();
    while !reply.ends_with(b"\r\n") {
        let mut chunk = [0; 512];
        let read = stream.read(&mut chunk).await.expect("read");
        assert!(read > 0, "Redis closed the connection");
        reply.extend_from_slice(&chunk[..read]);
    }
    String::from_utf8_lossy(&reply).trim_end().to_owned()
}

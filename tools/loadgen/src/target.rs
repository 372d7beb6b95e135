//! Where load may go: loopback only (127.0.0.0/8, ::1, `localhost`). The benchmark measures
//! servers it started on this machine; any other address is refused before a request leaves,
//! and the HTTP client neither follows redirects nor uses a proxy, so it cannot be led away.

use anyhow::Context;
use std::time::Duration;
use url::{Host, Url};

/// Parses `raw` and refuses anything but `http://` on a loopback host.
///
/// # Errors
/// Not a URL, not `http`, or not a loopback host.
pub fn loopback_url(raw: &str) -> anyhow::Result<Url> {
    let url = Url::parse(raw).with_context(|| format!("`{raw}` is not a URL"))?;
    anyhow::ensure!(url.scheme() == "http", "`{raw}`: only http:// targets are supported");
    let loopback = match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    anyhow::ensure!(loopback, "`{raw}`: only loopback targets (127.0.0.0/8, ::1, localhost) are allowed");
    Ok(url)
}

/// `base` joined with an absolute `path`, with a trailing slash of `base` ignored.
pub fn join(base: &Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// An HTTP/1.1 keep-alive client for loopback targets: no proxy, no redirects, bounded waits.
///
/// # Errors
/// The client cannot be built.
pub fn client(max_idle_per_host: usize) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(max_idle_per_host)
        .pool_idle_timeout(Duration::from_secs(90))
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")
}

#[cfg(test)]
mod tests {
    use super::loopback_url;

    #[test]
    fn only_loopback_targets_pass() {
        for ok in ["http://127.0.0.1:8080", "http://127.1.2.3/", "http://localhost:1", "http://[::1]:80"] {
            assert!(loopback_url(ok).is_ok(), "{ok}");
        }
        for bad in ["http://10.0.0.1", "http://192.168.1.1:80", "http://example.com", "https://127.0.0.1", "x"] {
            assert!(loopback_url(bad).is_err(), "{bad}");
        }
    }
}

//! CORS from configuration (`RestConfig::cors_allowed_origins`).
//!
//! An empty list adds no CORS header at all. `*` in the list allows any origin (answered
//! with `Access-Control-Allow-Origin: *`, never with credentials). `/oauth2/*` is left to
//! its own handlers, whose origins come from the registered clients (SPEC §14).

use actix_web::http::{
    Method,
    header::{self, HeaderMap, HeaderValue},
};

const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const DEFAULT_ALLOWED_HEADERS: &str = "authorization, content-type, x-request-id, x-api-key";
const EXPOSED_HEADERS: &str = "x-request-id, location, retry-after, ratelimit-limit, \
     ratelimit-remaining, ratelimit-reset, ratelimit-policy";
const MAX_AGE_SECS: &str = "600";

/// The configured origins, normalised (no trailing slash, lowercase).
#[derive(Debug, Clone, Default)]
pub struct CorsPolicy {
    any: bool,
    origins: Vec<String>,
}

impl CorsPolicy {
    pub fn new(origins: &[String]) -> Self {
        let origins: Vec<String> =
            origins.iter().map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase()).collect();
        Self { any: origins.iter().any(|o| o == "*"), origins }
    }

    /// The `Access-Control-Allow-Origin` value for this request, when CORS applies to it.
    pub fn allow_origin(&self, path: &str, headers: &HeaderMap) -> Option<HeaderValue> {
        if self.origins.is_empty() || path.starts_with("/oauth2/") {
            return None;
        }
        let origin = headers.get(header::ORIGIN)?;
        if self.any {
            return Some(HeaderValue::from_static("*"));
        }
        let asked = origin.to_str().ok()?.to_ascii_lowercase();
        self.origins.contains(&asked).then(|| origin.clone())
    }
}

/// A CORS preflight: `OPTIONS` with `Access-Control-Request-Method`.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Headers of the answer to an allowed preflight.
pub fn apply_preflight(out: &mut HeaderMap, request: &HeaderMap, origin: HeaderValue) {
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    out.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOWED_METHODS));
    let allow_headers = request
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static(DEFAULT_ALLOWED_HEADERS));
    out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
    out.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE_SECS));
    out.append(
        header::VARY,
        HeaderValue::from_static("origin, access-control-request-method, access-control-request-headers"),
    );
}

/// Headers of an ordinary response to an allowed origin; a handler's own CORS headers win.
pub fn apply_actual(out: &mut HeaderMap, origin: HeaderValue) {
    if out.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        return;
    }
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    out.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
    out.append(header::VARY, HeaderValue::from_static("origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_origin(o: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_static(o));
        h
    }

    #[test]
    fn listed_origin_only() {
        let p = CorsPolicy::new(&["https://app.example.com/".to_owned()]);
        let ok = p.allow_origin("/api/v1/users", &with_origin("https://app.example.com"));
        assert_eq!(ok.as_ref().and_then(|v| v.to_str().ok()), Some("https://app.example.com"));
        assert!(p.allow_origin("/api/v1/users", &with_origin("https://evil.example")).is_none());
        assert!(p.allow_origin("/oauth2/token", &with_origin("https://app.example.com")).is_none());
        assert!(p.allow_origin("/api/v1/users", &HeaderMap::new()).is_none());
    }

    #[test]
    fn empty_list_disables_cors() {
        let p = CorsPolicy::new(&[]);
        assert!(p.allow_origin("/x", &with_origin("https://app.example.com")).is_none());
    }

    #[test]
    fn wildcard_answers_star() {
        let p = CorsPolicy::new(&["*".to_owned()]);
        let v = p.allow_origin("/x", &with_origin("https://any.example"));
        assert_eq!(v.as_ref().and_then(|v| v.to_str().ok()), Some("*"));
    }
}

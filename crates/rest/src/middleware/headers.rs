//! Security and caching headers added to every response (SPEC §2, §14).
//!
//! Headers a handler already set are kept (an HTML page may bring its own CSP, a proxied
//! upstream response its own policies); `Cache-Control: no-store` on auth responses is
//! always enforced.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// SPEC §2's API CSP, exactly. Framing is refused by `X-Frame-Options: DENY`.
pub const API_CSP: &str = "default-src 'none'";

/// CSP of the Swagger UI under `/docs`: its own scripts, styles and images only (the UI sets
/// inline styles and uses `data:` images; the spec is fetched from `/openapi.json`).
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Whether `path` is the interactive API viewer or one of its assets.
pub fn is_docs_path(path: &str) -> bool {
    path == "/docs" || path.starts_with("/docs/")
}

/// Whether responses on `path` must never be stored by a cache: the auth API and every
/// OAuth2 endpoint except the JWKS.
pub fn is_no_store_path(path: &str) -> bool {
    path == "/api/v1/auth"
        || path.starts_with("/api/v1/auth/")
        || (path.starts_with("/oauth2/") && path != "/oauth2/jwks")
}

/// Adds the security headers for a response to a request on `path`.
pub fn apply(headers: &mut HeaderMap, path: &str, hsts: bool) {
    set_default(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(headers, header::X_FRAME_OPTIONS, "DENY");
    set_default(headers, header::REFERRER_POLICY, "no-referrer");
    let csp = if is_docs_path(path) { DOCS_CSP } else { API_CSP };
    set_default(headers, header::CONTENT_SECURITY_POLICY, csp);
    if hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if is_no_store_path(path) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

fn set_default(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_store_paths() {
        assert!(is_no_store_path("/api/v1/auth/login"));
        assert!(is_no_store_path("/oauth2/token"));
        assert!(!is_no_store_path("/oauth2/jwks"));
        assert!(!is_no_store_path("/.well-known/jwks.json"));
        assert!(!is_no_store_path("/api/v1/authors"));
    }

    #[test]
    fn keeps_handler_csp() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'self'"));
        apply(&mut h, "/oauth2/authorize", false);
        assert_eq!(h.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()), Some("default-src 'self'"));
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none());
        apply(&mut h, "/x", true);
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_some());
    }
}

//! Turns bodiless or plain-text error responses (actix's own 404/405/413…, a handler's bare
//! `HttpResponse::NotFound()`) into §2 problems, keeping status and headers (e.g. `Allow`).
//!
//! Proxied upstream answers (`/proxy/…`) and the OAuth2 endpoints (`/oauth2/…`, which answer
//! in their RFCs' formats) are never rewritten.

use actix_web::{
    HttpResponse,
    body::{BoxBody, EitherBody, MessageBody},
    dev::ServiceResponse,
    http::{
        StatusCode,
        header::{self, HeaderMap, HeaderValue},
    },
};

use crate::error::{PROBLEM_JSON, problem_bytes};

/// Paths whose error bodies belong to someone else.
const UNTOUCHED_PREFIXES: &[&str] = &["/proxy/", "/oauth2/"];

/// Rewrites `res` into a problem when it is an error without a structured body.
pub fn normalize<B: MessageBody>(res: ServiceResponse<B>, path: &str) -> ServiceResponse<EitherBody<B>> {
    if !needs_problem(res.status(), res.headers(), path) {
        return res.map_into_left_body();
    }
    let bytes = bare_problem(res.status(), res.request().method().as_str());
    res.map_body(|head, _old| {
        set_problem_headers(&mut head.headers);
        EitherBody::right(BoxBody::new(bytes))
    })
}

/// [`normalize`] for a response rendered from an `Err` (no request at hand).
pub fn normalize_response(res: HttpResponse, path: &str, method: &str) -> HttpResponse {
    if !needs_problem(res.status(), res.headers(), path) {
        return res;
    }
    let bytes = bare_problem(res.status(), method);
    res.map_body(|head, _old| {
        set_problem_headers(&mut head.headers);
        BoxBody::new(bytes)
    })
}

fn bare_problem(status: StatusCode, method: &str) -> Vec<u8> {
    let (code, detail) = describe(status, method);
    problem_bytes(status, code, detail, None)
}

fn set_problem_headers(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::CONTENT_ENCODING);
}

fn needs_problem(status: StatusCode, headers: &HeaderMap, path: &str) -> bool {
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    if UNTOUCHED_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return false;
    }
    match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(ct) => ct.starts_with("text/plain"),
    }
}

/// The §2 code and a client-safe detail for a bare error status.
fn describe(status: StatusCode, method: &str) -> (&'static str, String) {
    match status.as_u16() {
        400 => ("malformed_request", "the request could not be parsed".to_owned()),
        401 => ("unauthenticated", "authentication is required".to_owned()),
        403 => ("forbidden", "the request is not allowed".to_owned()),
        404 => ("not_found", "no resource at this path".to_owned()),
        405 => ("method_not_allowed", format!("method {method} is not allowed on this resource")),
        409 => ("conflict", "the request conflicts with the current state".to_owned()),
        413 => ("payload_too_large", "the request body is too large".to_owned()),
        415 => ("unsupported_media_type", "unsupported Content-Type".to_owned()),
        422 => ("validation_failed", "the request has invalid fields".to_owned()),
        429 => ("rate_limited", "rate limit exceeded".to_owned()),
        502 | 504 => ("upstream_unavailable", "the upstream is unavailable".to_owned()),
        s if s >= 500 => ("internal", "an internal error occurred".to_owned()),
        _ => ("malformed_request", status.canonical_reason().unwrap_or("bad request").to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_bare_statuses() {
        assert_eq!(describe(StatusCode::NOT_FOUND, "GET").0, "not_found");
        let (code, detail) = describe(StatusCode::METHOD_NOT_ALLOWED, "DELETE");
        assert_eq!(code, "method_not_allowed");
        assert!(detail.contains("DELETE"));
        assert_eq!(describe(StatusCode::BAD_GATEWAY, "GET").0, "upstream_unavailable");
        assert_eq!(describe(StatusCode::SERVICE_UNAVAILABLE, "GET").0, "internal");
        assert_eq!(describe(StatusCode::PAYLOAD_TOO_LARGE, "POST").0, "payload_too_large");
    }
}

//! `X-Request-Id` (SPEC §2): a valid client value is kept, anything else is replaced by a
//! fresh UUIDv7.
//!
//! The id lives in two places for the duration of a request: the request extensions (for
//! handlers, via [`request_id`] or the [`RequestId`] extractor) and a task-local slot opened
//! by the infrastructure middleware around the whole inner service, so that error rendering
//! (`ResponseError::error_response`, which sees no request) writes the same id into problem
//! bodies.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header::HeaderMap};
use uuid::Uuid;

/// The request-id header name.
pub const X_REQUEST_ID: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being served; also an extractor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromRequest for RequestId {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(request_id(req))))
    }
}

/// The id of `req` (as echoed in `X-Request-Id`).
pub fn request_id(req: &HttpRequest) -> String {
    match req.extensions().get::<RequestId>() {
        Some(id) => id.0.clone(),
        None => current_request_id(),
    }
}

/// The id of the request this task is serving. Outside the infrastructure middleware (which
/// should not happen in the app) a fresh id is returned so a problem still carries one.
pub fn current_request_id() -> String {
    CURRENT.try_with(Clone::clone).unwrap_or_else(|_| new_request_id())
}

/// Runs `fut` with `id` as the current request id.
pub(crate) async fn scope<F: std::future::Future>(id: String, fut: F) -> F::Output {
    CURRENT.scope(id, fut).await
}

/// The client's id when it is 1–128 chars of `[A-Za-z0-9._-]`, otherwise a new UUIDv7.
pub fn resolve(headers: &HeaderMap) -> String {
    headers
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_valid(v))
        .map_or_else(new_request_id, str::to_owned)
}

/// SPEC §2's rule for client-supplied ids.
pub fn is_valid(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub fn new_request_id() -> String {
    Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_rule() {
        assert!(is_valid("a"));
        assert!(is_valid("abc-DEF_1.2"));
        assert!(is_valid(&"x".repeat(128)));
        assert!(!is_valid(&"x".repeat(129)));
        assert!(!is_valid(""));
        assert!(!is_valid("has space"));
        assert!(!is_valid("semi;colon"));
        assert!(!is_valid("ünï"));
    }

    #[actix_web::test]
    async fn scope_sets_current_id() {
        let id = scope("req-1".to_owned(), async { current_request_id() }).await;
        assert_eq!(id, "req-1");
        assert_ne!(current_request_id(), "req-1");
    }
}

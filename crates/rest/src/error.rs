//! The single mapping of errors onto RFC 9457 `application/problem+json` responses (SPEC §2).
//!
//! Every problem carries the request id of the request being answered: it is read from the
//! per-request slot the infrastructure middleware opens around each request
//! ([`crate::middleware::current_request_id`]), so the body always equals the
//! `X-Request-Id` header.

use std::fmt;

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use serde::Serialize;
use tessera_domain::FieldError;
use tessera_services::ServiceError;
use utoipa::ToSchema;

use crate::middleware::current_request_id;

/// The media type of every problem body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The body of every REST error (RFC 9457 plus `code`, `request_id` and `errors`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// `/problems/<code>`.
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation_failed")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Machine-readable code, e.g. `validation_failed`, `not_found`, `rate_limited`.
    pub code: String,
    /// Equals the response's `X-Request-Id` header.
    pub request_id: String,
    /// Present on `validation_failed`: one entry per bad field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemFieldError>>,
}

/// One invalid input field of a `validation_failed` problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProblemFieldError {
    /// JSON path of the field as the client sent it (e.g. `admin.email`), or a query
    /// parameter name.
    pub field: String,
    pub message: String,
}

impl From<FieldError> for ProblemFieldError {
    fn from(e: FieldError) -> Self {
        Self { field: e.field, message: e.message }
    }
}

/// Builds a problem response for the current request (its `request_id` is filled in).
///
/// `errors` is only serialized when `Some`.
pub fn problem(
    status: StatusCode,
    code: &str,
    detail: impl Into<String>,
    errors: Option<Vec<FieldError>>,
) -> HttpResponse {
    let bytes = problem_bytes(status, code, detail.into(), errors);
    HttpResponse::build(status).insert_header((header::CONTENT_TYPE, PROBLEM_JSON)).body(bytes)
}

/// The serialized problem body, for code that rewrites an existing response.
pub(crate) fn problem_bytes(
    status: StatusCode,
    code: &str,
    detail: String,
    errors: Option<Vec<FieldError>>,
) -> Vec<u8> {
    let body = Problem {
        type_: format!("/problems/{code}"),
        title: title_for(code, status),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        request_id: current_request_id(),
        errors: errors.map(|list| list.into_iter().map(ProblemFieldError::from).collect()),
    };
    // Serializing this plain struct cannot fail; the fallback only satisfies the type.
    serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec())
}

fn title_for(code: &str, status: StatusCode) -> String {
    let title = match code {
        "validation_failed" => "Validation failed",
        "malformed_request" => "Malformed request",
        "unauthenticated" => "Unauthenticated",
        "invalid_signature" => "Invalid signature",
        "forbidden" => "Forbidden",
        "tenant_suspended" => "Tenant suspended",
        "mfa_enrollment_required" => "MFA enrollment required",
        "not_found" => "Not found",
        "method_not_allowed" => "Method not allowed",
        "conflict" => "Conflict",
        "rate_limited" => "Rate limited",
        "quota_exceeded" => "Quota exceeded",
        "payload_too_large" => "Payload too large",
        "unsupported_media_type" => "Unsupported media type",
        "upstream_unavailable" => "Upstream unavailable",
        "internal" => "Internal server error",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    title.to_owned()
}

/// A service error on its way to the client. Handlers return `Result<_, ApiError>` and use
/// `?` on service calls.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

/// What REST handlers return.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self(e)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            ServiceError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden { .. } | ServiceError::ForbiddenAction(_) | ServiceError::TenantSuspended => {
                StatusCode::FORBIDDEN
            }
            ServiceError::NotFound => StatusCode::NOT_FOUND,
            ServiceError::Conflict(_) => StatusCode::CONFLICT,
            ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match &self.0 {
            ServiceError::Validation(errors) => {
                problem(status, "validation_failed", "the request has invalid fields", Some(errors.clone()))
            }
            ServiceError::Unauthenticated => {
                let mut res = problem(status, "unauthenticated", "authentication is required", None);
                res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
                res
            }
            ServiceError::Forbidden { missing } => {
                problem(status, "forbidden", format!("missing permission {missing}"), None)
            }
            ServiceError::ForbiddenAction(why) => problem(status, "forbidden", why.clone(), None),
            ServiceError::TenantSuspended => problem(status, "tenant_suspended", "the tenant is suspended", None),
            ServiceError::NotFound => problem(status, "not_found", "the resource does not exist", None),
            ServiceError::Conflict(why) => problem(status, "conflict", why.clone(), None),
            ServiceError::RateLimited { retry_after } => {
                let secs = retry_after_secs(*retry_after);
                let mut res = problem(status, "rate_limited", format!("rate limit exceeded; retry in {secs} s"), None);
                res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
                res
            }
            ServiceError::Internal(cause) => {
                let res = problem(status, "internal", "an internal error occurred", None);
                tracing::error!(
                    request_id = %current_request_id(),
                    error = %cause_chain(cause.as_ref()),
                    "internal error"
                );
                res
            }
        }
    }
}

/// `Retry-After` in whole seconds, rounded up (at least 1).
pub(crate) fn retry_after_secs(d: std::time::Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

/// `outer: inner: innermost`, for logs only.
fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

/// An infrastructure problem (extractor failures, unknown routes) as an actix error, for
/// places that must return `actix_web::Error`.
#[derive(Debug, Clone)]
pub struct HttpProblem {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Option<Vec<FieldError>>,
}

impl HttpProblem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), errors: None }
    }

    /// 422 `validation_failed` naming the fields.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_failed",
            detail: "the request has invalid fields".to_owned(),
            errors: Some(errors),
        }
    }
}

impl fmt::Display for HttpProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for HttpProblem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        problem(self.status, self.code, self.detail.clone(), self.errors.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[test]
    fn cause_chain_joins_sources() {
        let inner = std::io::Error::other("disk on fire");
        let err = ServiceError::internal(inner);
        let ServiceError::Internal(cause) = &err else { unreachable!() };
        assert_eq!(cause_chain(cause.as_ref()), "disk on fire");
    }
}

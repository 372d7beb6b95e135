//! The one error every service returns; each frontend maps it in a single file.

use std::time::Duration;
use tessera_domain::{FieldError, Permission, RepoError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// 422 `validation_failed`, naming each bad field.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 401 `unauthenticated`: one message for every cause, so nothing can be probed.
    #[error("unauthenticated")]
    Unauthenticated,
    /// 403 `forbidden`, naming the missing permission.
    #[error("missing permission {missing}")]
    Forbidden { missing: Permission },
    /// 403 `forbidden` for a rule that is not a single permission (e.g. granting `super_admin`).
    #[error("forbidden: {0}")]
    ForbiddenAction(String),
    /// 403 `tenant_suspended`.
    #[error("tenant suspended")]
    TenantSuspended,
    /// 404 `not_found` (also for another tenant's resources).
    #[error("not found")]
    NotFound,
    /// 409 `conflict`, with a client-safe explanation.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 429 `rate_limited`.
    #[error("rate limited")]
    RateLimited { retry_after: Duration },
    /// 500 `internal`: the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl From<RepoError> for ServiceError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => Self::NotFound,
            RepoError::Conflict(what) => Self::Conflict(what),
            RepoError::Unavailable(src) => Self::Internal(src),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

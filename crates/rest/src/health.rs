//! Liveness and readiness probes (SPEC §2, §7).
//!
//! `GET /health/live` answers as long as the process serves HTTP. `GET /health/ready` runs
//! every registered [`ComponentCheck`] concurrently (2 s each) and answers 503 when a
//! critical one fails; a failing non-critical component (e.g. Redis while the local rate
//! limiter stands in, §7) reports `degraded` with 200.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use actix_web::{HttpResponse, get, http::StatusCode, web};
use futures_util::future::join_all;
use serde::Serialize;
use utoipa::ToSchema;

/// How long one component may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// One dependency the server needs (database, Redis, migrations…).
#[async_trait::async_trait]
pub trait ComponentCheck: Send + Sync {
    /// `Err` carries a short, client-safe reason (no secrets, no connection strings).
    async fn check(&self) -> Result<(), String>;

    /// Whether a failure makes the instance unready (503). Defaults to `true`.
    fn critical(&self) -> bool {
        true
    }
}

/// The named checks behind `/health/ready`.
#[derive(Clone, Default)]
pub struct HealthChecks(pub Vec<(String, Arc<dyn ComponentCheck>)>);

impl HealthChecks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check under `name` (the key in `components`).
    pub fn with(mut self, name: impl Into<String>, check: Arc<dyn ComponentCheck>) -> Self {
        self.0.push((name.into(), check));
        self
    }

    /// Runs every check concurrently, each bounded by [`CHECK_TIMEOUT`].
    pub async fn run(&self) -> HealthReport {
        self.run_with_timeout(CHECK_TIMEOUT).await
    }

    /// Runs every check concurrently, each bounded by `timeout`.
    pub async fn run_with_timeout(&self, timeout: Duration) -> HealthReport {
        let results = join_all(self.0.iter().map(|(name, check)| async move {
            let outcome = match tokio::time::timeout(timeout, check.check()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
            };
            (name.clone(), check.critical(), outcome)
        }))
        .await;
        let mut status = HealthStatus::Ok;
        let mut components = BTreeMap::new();
        for (name, critical, outcome) in results {
            let text = match outcome {
                Ok(()) => "ok".to_owned(),
                Err(reason) => {
                    status = match (status, critical) {
                        (_, true) | (HealthStatus::Unavailable, _) => HealthStatus::Unavailable,
                        _ => HealthStatus::Degraded,
                    };
                    reason
                }
            };
            components.insert(name, text);
        }
        HealthReport { status, components: Some(components) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Degraded,
    Unavailable,
}

/// Body of the health endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HealthReport {
    pub status: HealthStatus,
    /// Readiness only: `"ok"` or the failure reason, per component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<BTreeMap<String, String>>,
}

/// Liveness: the process is up.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "health",
    responses((status = 200, description = "The process is up", body = HealthReport,
        example = json!({"status": "ok"})))
)]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthReport { status: HealthStatus::Ok, components: None })
}

/// Readiness: every critical dependency answers.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    responses(
        (status = 200, description = "Ready (possibly degraded)", body = HealthReport,
            example = json!({"status": "ok", "components": {"database": "ok", "redis": "ok"}})),
        (status = 503, description = "A critical component failed", body = HealthReport,
            example = json!({"status": "unavailable", "components": {"database": "connection refused"}}))
    )
)]
#[get("/health/ready")]
pub async fn ready(checks: web::Data<HealthChecks>) -> HttpResponse {
    let report = checks.run().await;
    let status =
        if report.status == HealthStatus::Unavailable { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    HttpResponse::build(status).json(report)
}

/// Registers the probes; `checks` must be in app data (see [`crate::configure_infra`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(live).service(ready);
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Result<(), String>, bool);

    #[async_trait::async_trait]
    impl ComponentCheck for Fixed {
        async fn check(&self) -> Result<(), String> {
            self.0.clone()
        }
        fn critical(&self) -> bool {
            self.1
        }
    }

    struct Hangs;

    #[async_trait::async_trait]
    impl ComponentCheck for Hangs {
        async fn check(&self) -> Result<(), String> {
            std::future::pending().await
        }
    }

    #[actix_web::test]
    async fn statuses_combine() {
        let ok = HealthChecks::new().with("database", Arc::new(Fixed(Ok(()), true)));
        assert_eq!(ok.run().await.status, HealthStatus::Ok);
        let degraded = ok.clone().with("redis", Arc::new(Fixed(Err("down".into()), false)));
        let report = degraded.run().await;
        assert_eq!(report.status, HealthStatus::Degraded);
        assert_eq!(report.components.as_ref().unwrap()["redis"], "down");
        let down = degraded.with("db2", Arc::new(Fixed(Err("refused".into()), true)));
        assert_eq!(down.run().await.status, HealthStatus::Unavailable);
    }

    #[actix_web::test]
    async fn hanging_check_times_out() {
        let checks = HealthChecks::new().with("slow", Arc::new(Hangs));
        let report = checks.run_with_timeout(Duration::from_millis(20)).await;
        assert_eq!(report.status, HealthStatus::Unavailable);
        assert!(report.components.unwrap()["slow"].contains("timed out"));
    }
}

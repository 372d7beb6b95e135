//! Tessera's REST frontend: actix-web routes over `tessera_services::Services`, §2 problem
//! errors, request ids, security headers, CORS, OpenAPI and health probes.
//!
//! [`app`] builds the whole application; [`with_infra`] applies the infrastructure alone
//! to any `App` (used by [`app`] and by tests).

pub mod docs;
pub mod error;
pub mod extract;
pub mod health;
pub mod middleware;
pub mod pagination;
pub mod routes;

// The lead's modules (route support):
pub mod principal;
pub mod views;

use std::sync::Arc;

use actix_web::{
    App, Error, HttpRequest, HttpResponse,
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    http::StatusCode,
    web,
};
use tessera_services::Services;

pub use error::{ApiError, ApiResult, Problem, problem};
pub use health::{ComponentCheck, HealthChecks};
pub use middleware::{RequestId, request_id};
pub use pagination::{ListQuery, ListResponse};

/// Settings of the HTTP layer (the server maps its configuration onto this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestConfig {
    /// Limit of any request body (SPEC §2: 1 MiB).
    pub max_body_bytes: usize,
    /// Send `Strict-Transport-Security` (behind TLS or in production).
    pub hsts: bool,
    /// Origins allowed by CORS; empty = no CORS headers; `*` = any origin.
    pub cors_allowed_origins: Vec<String>,
}

impl Default for RestConfig {
    fn default() -> Self {
        Self { max_body_bytes: extract::DEFAULT_BODY_LIMIT, hsts: false, cors_allowed_origins: Vec::new() }
    }
}

/// The REST application: services, routes, docs, health and the infrastructure.
pub fn app(
    services: Arc<Services>,
    health: HealthChecks,
    config: RestConfig,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let app = App::new().app_data(web::Data::from(services)).configure(routes::configure);
    with_infra(app, config, health)
}

/// Adds everything but the business routes to `app`: extractor configs and body limits,
/// health probes, OpenAPI + docs, the 404/405 problem fallback and the infrastructure
/// middleware (outermost).
pub fn with_infra<T, B>(
    app: App<T>,
    config: RestConfig,
    health: HealthChecks,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
>
where
    T: ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse<B>, Error = Error, InitError = ()>
        + 'static,
    B: MessageBody + 'static,
{
    let limit = config.max_body_bytes;
    app.app_data(extract::json_config(limit))
        .app_data(extract::payload_config(limit))
        .app_data(extract::BodyLimit(limit))
        .app_data(extract::path_config())
        .app_data(extract::query_config())
        .app_data(web::Data::new(health))
        .configure(health::configure)
        .configure(docs::configure)
        .default_service(web::to(fallback))
        .wrap(middleware::Infra::new(middleware::InfraPolicy {
            hsts: config.hsts,
            cors: middleware::CorsPolicy::new(&config.cors_allowed_origins),
        }))
}

/// No route matched: 405 when some resource has this path (another method would match),
/// otherwise 404.
pub async fn fallback(req: HttpRequest) -> HttpResponse {
    if req.resource_map().has_resource(req.path()) {
        let detail = format!("method {} is not allowed on this resource", req.method());
        problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", detail, None)
    } else {
        problem(StatusCode::NOT_FOUND, "not_found", "no resource at this path", None)
    }
}

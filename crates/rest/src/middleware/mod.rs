//! The one infrastructure middleware wrapped around the whole app, outermost:
//!
//! 1. resolves the request id ([`request_id`]) and serves the request inside its scope;
//! 2. answers CORS preflights for configured origins ([`cors`]);
//! 3. turns errors (returned `Err`s and bodiless error responses) into problems
//!    ([`normalize`]);
//! 4. stamps `X-Request-Id`, security/caching headers ([`headers`]) and CORS headers on
//!    every response;
//! 5. runs the request in a `request` tracing span carrying `request_id`.
//!
//! One middleware rather than four keeps the order explicit and guarantees that nothing
//! outside it can answer without these headers.

pub mod cors;
pub mod headers;
pub mod normalize;
pub mod request_id;

use std::{
    future::{Ready, ready},
    rc::Rc,
};

use actix_web::{
    Error, HttpMessage, HttpResponse,
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
    error::InternalError,
    http::header::{HeaderMap, HeaderName, HeaderValue},
};
use futures_util::future::LocalBoxFuture;
use tracing::Instrument;

pub use cors::CorsPolicy;
pub use request_id::{RequestId, X_REQUEST_ID, current_request_id, request_id};

/// What the middleware needs from `RestConfig`.
#[derive(Debug, Clone, Default)]
pub struct InfraPolicy {
    pub hsts: bool,
    pub cors: CorsPolicy,
}

/// The infrastructure middleware (see the module docs). Wrap it last so it is outermost.
#[derive(Debug, Clone, Default)]
pub struct Infra {
    policy: Rc<InfraPolicy>,
}

impl Infra {
    pub fn new(policy: InfraPolicy) -> Self {
        Self { policy: Rc::new(policy) }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Infra
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = InfraService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(InfraService { service: Rc::new(service), policy: Rc::clone(&self.policy) }))
    }
}

pub struct InfraService<S> {
    service: Rc<S>,
    policy: Rc<InfraPolicy>,
}

impl<S, B> Service<ServiceRequest> for InfraService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let id = request_id::resolve(req.headers());
        req.extensions_mut().insert(RequestId(id.clone()));
        let path = req.path().to_owned();
        let policy = Rc::clone(&self.policy);
        let origin = policy.cors.allow_origin(&path, req.headers());

        if let Some(origin) = origin.clone()
            && cors::is_preflight(req.method(), req.headers())
        {
            let mut res = HttpResponse::NoContent().finish();
            cors::apply_preflight(res.headers_mut(), req.headers(), origin);
            let mut res = req.into_response(res).map_into_right_body();
            stamp(res.headers_mut(), &id, &path, &policy, None);
            return Box::pin(ready(Ok(res)));
        }

        let method = req.method().as_str().to_owned();
        let service = Rc::clone(&self.service);
        let scoped_id = id.clone();
        // Every log line written while serving the request carries its id.
        let span = tracing::info_span!("request", request_id = %id);
        let fut = request_id::scope(scoped_id, async move {
            match service.call(req).await {
                Ok(res) => {
                    let mut res = normalize::normalize(res, &path);
                    stamp(res.headers_mut(), &id, &path, &policy, origin);
                    Ok(res)
                }
                // An inner middleware failed and the request is gone: render the response
                // here, inside the request-id scope and with our headers, and hand it to
                // the server pre-built.
                Err(err) => {
                    let res = err.as_response_error().error_response();
                    let mut res = normalize::normalize_response(res, &path, &method);
                    stamp(res.headers_mut(), &id, &path, &policy, origin);
                    Err(InternalError::from_response(err.to_string(), res).into())
                }
            }
        });
        Box::pin(fut.instrument(span))
    }
}

fn stamp(headers: &mut HeaderMap, id: &str, path: &str, policy: &InfraPolicy, origin: Option<HeaderValue>) {
    if let Ok(v) = HeaderValue::from_str(id) {
        headers.insert(HeaderName::from_static(X_REQUEST_ID), v);
    }
    headers::apply(headers, path, policy.hsts);
    if let Some(origin) = origin {
        cors::apply_actual(headers, origin);
    }
}

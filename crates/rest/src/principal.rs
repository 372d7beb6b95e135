//! The `Authenticated` extractor: a bearer access token (and, for super-admins, an
//! `X-Tenant-Id` header) turned into a verified `Principal` by the auth service.

use crate::error::ApiError;
use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use std::future::Future;
use std::pin::Pin;
use tessera_domain::{Principal, TenantId};
use tessera_services::{ServiceError, Services};
use uuid::Uuid;

pub struct Authenticated(pub Principal);

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned()).filter(|t| !t.is_empty())
}

fn act_as(req: &HttpRequest) -> Result<Option<TenantId>, ServiceError> {
    let Some(value) = req.headers().get("x-tenant-id") else {
        return Ok(None);
    };
    let parsed = value.to_str().ok().and_then(|s| Uuid::parse_str(s.trim()).ok());
    parsed.map(|u| Some(TenantId(u))).ok_or_else(|| ServiceError::field("X-Tenant-Id", "must be a tenant id (UUID)"))
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let services = req.app_data::<web::Data<Services>>().cloned();
        let token = bearer(req);
        let tenant = act_as(req);
        Box::pin(async move {
            let services = services.ok_or_else(|| ServiceError::Internal("services not registered".into()))?;
            let token = token.ok_or(ServiceError::Unauthenticated)?;
            let principal = services.auth.authenticate(&token, tenant?).await?;
            // The tenant's monthly request count (SPEC §3 usage), in memory until flushed.
            services.usage.record_request(principal.tenant_id);
            Ok(Authenticated(principal))
        })
    }
}

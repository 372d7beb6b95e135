//! `/api/v1/tenants/{id}/settings`, `/settings/effective` and `/usage` (SPEC §3).

use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::principal::Authenticated;
use actix_web::{HttpResponse, get, patch, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use tessera_domain::TenantId;
use tessera_services::Services;
use tessera_services::usage::QuotaUse;
use utoipa::ToSchema;
use uuid::Uuid;

const PROBLEM: &str = "application/problem+json";

#[derive(Serialize, ToSchema)]
pub struct EffectiveSettingsView {
    /// The merged settings document (platform ← plan ← tenant).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// For every leaf key (dotted path): `platform`, `plan` or `tenant`.
    pub sources: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct QuotaView {
    pub used: u64,
    /// `null` = unlimited.
    pub limit: Option<u64>,
}

impl From<QuotaUse> for QuotaView {
    fn from(q: QuotaUse) -> Self {
        Self { used: q.used, limit: q.limit }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Quotas {
    pub monthly_requests: QuotaView,
    pub max_users: QuotaView,
    pub max_api_keys: QuotaView,
    pub storage_bytes: QuotaView,
}

#[derive(Serialize, ToSchema)]
pub struct UsageView {
    /// The current calendar month, UTC.
    pub period: Period,
    pub quotas: Quotas,
}

/// The tenant's setting overrides (`{}` when it inherits everything).
#[utoipa::path(get, path = "/api/v1/tenants/{id}/settings", tag = "tenants", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The overrides", body = Object),
        (status = 403, body = Problem, content_type = PROBLEM), (status = 404, body = Problem, content_type = PROBLEM)))]
#[get("/api/v1/tenants/{id}/settings")]
pub async fn get_settings(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let overrides = services.settings.overrides(&auth.0, TenantId(*id)).await?;
    Ok(HttpResponse::Ok().json(overrides))
}

/// JSON merge patch of the overrides: `null` removes one and the inherited value shows again.
#[utoipa::path(patch, path = "/api/v1/tenants/{id}/settings", tag = "tenants", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The overrides after the patch", body = Object),
        (status = 403, body = Problem, content_type = PROBLEM), (status = 404, body = Problem, content_type = PROBLEM),
        (status = 422, description = "Unknown key or value out of range, naming the key", body = Problem, content_type = PROBLEM)))]
#[patch("/api/v1/tenants/{id}/settings")]
pub async fn patch_settings(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let overrides = services.settings.patch(&auth.0, TenantId(*id), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(overrides))
}

/// The effective settings and where each key comes from.
#[utoipa::path(get, path = "/api/v1/tenants/{id}/settings/effective", tag = "tenants", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = EffectiveSettingsView),
        (status = 403, body = Problem, content_type = PROBLEM), (status = 404, body = Problem, content_type = PROBLEM)))]
#[get("/api/v1/tenants/{id}/settings/effective")]
pub async fn effective_settings(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let eff = services.settings.effective(&auth.0, TenantId(*id)).await?;
    let sources = eff.sources.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
    Ok(HttpResponse::Ok().json(EffectiveSettingsView { settings: eff.settings, sources }))
}

/// This month's usage against the tenant's quotas (request counts may lag by up to 10 s).
#[utoipa::path(get, path = "/api/v1/tenants/{id}/usage", tag = "tenants", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = UsageView),
        (status = 403, body = Problem, content_type = PROBLEM), (status = 404, body = Problem, content_type = PROBLEM)))]
#[get("/api/v1/tenants/{id}/usage")]
pub async fn usage(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let u = services.usage.usage(&auth.0, TenantId(*id)).await?;
    Ok(HttpResponse::Ok().json(UsageView {
        period: Period { from: u.from, to: u.to },
        quotas: Quotas {
            monthly_requests: u.monthly_requests.into(),
            max_users: u.max_users.into(),
            max_api_keys: u.max_api_keys.into(),
            storage_bytes: u.storage_bytes.into(),
        },
    }))
}

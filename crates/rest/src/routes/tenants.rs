//! `/api/v1/tenants` (SPEC §3).

use super::{PatchField, created};
use crate::error::{ApiError, Problem};
use crate::extract::{Json, Query};
use crate::pagination::{ListQuery, ListResponse};
use crate::principal::Authenticated;
use crate::views::TenantView;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use tessera_domain::TenantId;
use tessera_services::Services;
use tessera_services::tenants::{AdminInput, NewTenantInput, TenantPatch};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminRequest {
    pub email: String,
    pub password: String,
    pub full_name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenantRequest {
    pub slug: String,
    pub name: String,
    /// `standard` (default), `premium` or `enterprise`.
    pub plan: Option<String>,
    pub admin: AdminRequest,
}

/// A JSON merge patch of the tenant.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTenantRequest {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub plan: PatchField<String>,
}

/// Create a tenant with its admin (super_admin).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", security(("bearer" = [])), request_body = CreateTenantRequest,
    responses((status = 201, body = TenantView, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/api/v1/tenants")]
pub async fn create_tenant(
    services: web::Data<Services>,
    auth: Authenticated,
    body: Json<CreateTenantRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = NewTenantInput {
        slug: b.slug,
        name: b.name,
        plan: b.plan,
        admin: AdminInput { email: b.admin.email, password: b.admin.password, full_name: b.admin.full_name },
    };
    let tenant = services.tenants.create(&auth.0, input).await?;
    let view = TenantView::from(&tenant);
    Ok(created(&view.links, &view))
}

/// List tenants (super_admin).
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = ListResponse<TenantView>),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/api/v1/tenants")]
pub async fn list_tenants(
    services: web::Data<Services>,
    auth: Authenticated,
    req: HttpRequest,
    query: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = services.tenants.list(&auth.0, query.page_request()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page.map(|t| TenantView::from(&t)), &req)))
}

/// Read a tenant (its admin or a super_admin).
#[utoipa::path(get, path = "/api/v1/tenants/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TenantView), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/api/v1/tenants/{id}")]
pub async fn get_tenant(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let tenant = services.tenants.get(&auth.0, TenantId(*id)).await?;
    Ok(HttpResponse::Ok().json(TenantView::from(&tenant)))
}

/// Patch a tenant (merge patch of `name`; `plan` needs a super_admin).
#[utoipa::path(patch, path = "/api/v1/tenants/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body(content = PatchTenantRequest, content_type = "application/merge-patch+json"),
    responses((status = 200, body = TenantView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[patch("/api/v1/tenants/{id}")]
pub async fn patch_tenant(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
    body: Json<PatchTenantRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let patch = TenantPatch { name: b.name.required("name")?, plan: b.plan.required("plan")? };
    let tenant = services.tenants.patch(&auth.0, TenantId(*id), patch).await?;
    Ok(HttpResponse::Ok().json(TenantView::from(&tenant)))
}

/// Soft-delete a tenant (30-day grace).
#[utoipa::path(delete, path = "/api/v1/tenants/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/api/v1/tenants/{id}")]
pub async fn delete_tenant(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    services.tenants.delete(&auth.0, TenantId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Suspend a tenant (super_admin).
#[utoipa::path(post, path = "/api/v1/tenants/{id}/suspend", tag = "tenants", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TenantView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/api/v1/tenants/{id}/suspend")]
pub async fn suspend_tenant(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let tenant = services.tenants.suspend(&auth.0, TenantId(*id)).await?;
    Ok(HttpResponse::Ok().json(TenantView::from(&tenant)))
}

/// Activate a suspended or deleted tenant (super_admin).
#[utoipa::path(post, path = "/api/v1/tenants/{id}/activate", tag = "tenants", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TenantView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/api/v1/tenants/{id}/activate")]
pub async fn activate_tenant(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let tenant = services.tenants.activate(&auth.0, TenantId(*id)).await?;
    Ok(HttpResponse::Ok().json(TenantView::from(&tenant)))
}

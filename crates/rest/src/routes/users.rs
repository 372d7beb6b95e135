//! `/api/v1/users` (SPEC §5).

use super::{PatchField, created};
use crate::error::{ApiError, Problem};
use crate::extract::{Json, Query};
use crate::pagination::{ListQuery, ListResponse};
use crate::principal::Authenticated;
use crate::views::UserView;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde::Deserialize;
use tessera_domain::UserId;
use tessera_services::Services;
use tessera_services::users::{NewUserInput, UserPatch};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub full_name: String,
    /// A built-in role: `admin`, `developer`, `analyst` or `viewer`.
    pub role: String,
    pub password: String,
    #[serde(default)]
    pub require_password_change: bool,
}

/// A JSON merge patch of the user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUserRequest {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub full_name: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub email: PatchField<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    pub role: String,
}

const PROBLEM: &str = "application/problem+json";

/// Create a user in the caller's tenant (`users:write`).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = UserView, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = PROBLEM), (status = 409, body = Problem, content_type = PROBLEM),
        (status = 422, body = Problem, content_type = PROBLEM)))]
#[post("/api/v1/users")]
pub async fn create_user(
    services: web::Data<Services>,
    auth: Authenticated,
    body: Json<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = NewUserInput {
        email: b.email,
        full_name: b.full_name,
        role: b.role,
        password: b.password,
        require_password_change: b.require_password_change,
    };
    let user = services.users.create(&auth.0, input).await?;
    let view = UserView::from(&user);
    Ok(created(&view.links, &view))
}

/// List the tenant's users (`users:read`).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = ListResponse<UserView>), (status = 403, body = Problem, content_type = PROBLEM)))]
#[get("/api/v1/users")]
pub async fn list_users(
    services: web::Data<Services>,
    auth: Authenticated,
    req: HttpRequest,
    query: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = services.users.list(&auth.0, query.page_request()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page.map(|u| UserView::from(&u)), &req)))
}

/// Read a user (`users:read`, or oneself).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = UserView), (status = 404, body = Problem, content_type = PROBLEM)))]
#[get("/api/v1/users/{id}")]
pub async fn get_user(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = services.users.get(&auth.0, UserId(*id)).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}

/// Patch `full_name` and `email` (`users:write`).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body(content = PatchUserRequest, content_type = "application/merge-patch+json"),
    responses((status = 200, body = UserView), (status = 404, body = Problem, content_type = PROBLEM),
        (status = 409, body = Problem, content_type = PROBLEM), (status = 422, body = Problem, content_type = PROBLEM)))]
#[patch("/api/v1/users/{id}")]
pub async fn patch_user(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
    body: Json<PatchUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let patch = UserPatch { full_name: b.full_name.required("full_name")?, email: b.email.required("email")? };
    let user = services.users.patch(&auth.0, UserId(*id), patch).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}

/// Delete a user (`users:delete`; not oneself, not the last admin).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = PROBLEM), (status = 409, body = Problem, content_type = PROBLEM)))]
#[delete("/api/v1/users/{id}")]
pub async fn delete_user(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    services.users.delete(&auth.0, UserId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change a user's role (grant rules; not the last admin).
#[utoipa::path(put, path = "/api/v1/users/{id}/role", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = SetRoleRequest,
    responses((status = 200, body = UserView), (status = 403, body = Problem, content_type = PROBLEM),
        (status = 404, body = Problem, content_type = PROBLEM), (status = 409, body = Problem, content_type = PROBLEM),
        (status = 422, body = Problem, content_type = PROBLEM)))]
#[put("/api/v1/users/{id}/role")]
pub async fn set_role(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
    body: Json<SetRoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = services.users.set_role(&auth.0, UserId(*id), &body.role).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}

/// Disable a user (not oneself, not the last admin).
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = UserView), (status = 404, body = Problem, content_type = PROBLEM),
        (status = 409, body = Problem, content_type = PROBLEM)))]
#[post("/api/v1/users/{id}/disable")]
pub async fn disable_user(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = services.users.disable(&auth.0, UserId(*id)).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}

/// Enable a disabled user.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = UserView), (status = 404, body = Problem, content_type = PROBLEM)))]
#[post("/api/v1/users/{id}/enable")]
pub async fn enable_user(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = services.users.enable(&auth.0, UserId(*id)).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}

//! `/api/v1/auth/password/*` (SPEC §6.5) and `POST /api/v1/users/{id}/unlock`.

use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::principal::Authenticated;
use crate::views::UserView;
use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use tessera_domain::UserId;
use tessera_services::Services;
use utoipa::ToSchema;
use uuid::Uuid;

const PROBLEM: &str = "application/problem+json";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordRequest {
    pub email: String,
    pub tenant_slug: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    pub token: String,
    pub new_password: String,
}

/// Change the caller's password; their other sessions are revoked.
#[utoipa::path(post, path = "/api/v1/auth/password/change", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = Problem, content_type = PROBLEM),
        (status = 422, description = "wrong current_password or a new_password the policy refuses", body = Problem, content_type = PROBLEM)))]
#[post("/api/v1/auth/password/change")]
pub async fn change_password(
    services: web::Data<Services>,
    auth: Authenticated,
    body: Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    services.passwords.change(&auth.0, &body.current_password, &body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ask for a reset link by mail; 202 whether or not the account exists.
#[utoipa::path(post, path = "/api/v1/auth/password/forgot", tag = "auth", request_body = ForgotPasswordRequest,
    responses((status = 202)))]
#[post("/api/v1/auth/password/forgot")]
pub async fn forgot_password(
    services: web::Data<Services>,
    body: Json<ForgotPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    services.passwords.forgot(&body.email, &body.tenant_slug);
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with a reset token; every session of the user is revoked.
#[utoipa::path(post, path = "/api/v1/auth/password/reset", tag = "auth", request_body = ResetPasswordRequest,
    responses((status = 204),
        (status = 422, description = "invalid, expired or used token, or a refused new_password", body = Problem, content_type = PROBLEM)))]
#[post("/api/v1/auth/password/reset")]
pub async fn reset_password(
    services: web::Data<Services>,
    body: Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    services.passwords.reset(&body.token, &body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Clear a user's login lockout (`users:write`).
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = UserView), (status = 403, body = Problem, content_type = PROBLEM),
        (status = 404, body = Problem, content_type = PROBLEM)))]
#[post("/api/v1/users/{id}/unlock")]
pub async fn unlock_user(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = services.users.unlock(&auth.0, UserId(*id)).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}

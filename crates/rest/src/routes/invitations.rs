//! `/api/v1/invitations` (SPEC §5): all need `users:write`.

use super::created;
use crate::error::{ApiError, Problem};
use crate::extract::{Json, Query};
use crate::pagination::{ListQuery, ListResponse};
use crate::principal::Authenticated;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tessera_domain::credentials::Invitation;
use tessera_services::Services;
use utoipa::ToSchema;
use uuid::Uuid;

const PROBLEM: &str = "application/problem+json";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitationRequest {
    pub email: String,
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: String,
    /// Only in the answer to its creation: the single-use token for `POST /auth/register`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub links: BTreeMap<String, String>,
}

fn view(i: &Invitation, token: Option<String>) -> InvitationView {
    InvitationView {
        id: i.id,
        email: i.email.to_string(),
        role: i.role.to_string(),
        status: i.status(Utc::now()).as_str().to_owned(),
        token,
        expires_at: i.expires_at,
        created_at: i.created_at,
        links: BTreeMap::from([("self".to_owned(), format!("/api/v1/invitations/{}", i.id))]),
    }
}

/// Invite someone into the caller's tenant with a role (token valid 7 days, once).
#[utoipa::path(post, path = "/api/v1/invitations", tag = "users", security(("bearer" = [])),
    request_body = CreateInvitationRequest,
    responses((status = 201, body = InvitationView, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = PROBLEM), (status = 409, body = Problem, content_type = PROBLEM),
        (status = 422, body = Problem, content_type = PROBLEM)))]
#[post("/api/v1/invitations")]
pub async fn create_invitation(
    services: web::Data<Services>,
    auth: Authenticated,
    body: Json<CreateInvitationRequest>,
) -> Result<HttpResponse, ApiError> {
    let issued = services.invitations.create(&auth.0, &body.email, &body.role).await?;
    let v = view(&issued.invitation, Some(issued.token));
    Ok(created(&v.links, &v))
}

/// The tenant's invitations.
#[utoipa::path(get, path = "/api/v1/invitations", tag = "users", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = ListResponse<InvitationView>), (status = 403, body = Problem, content_type = PROBLEM)))]
#[get("/api/v1/invitations")]
pub async fn list_invitations(
    services: web::Data<Services>,
    auth: Authenticated,
    req: HttpRequest,
    query: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = services.invitations.list(&auth.0, query.page_request()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page.map(|i| view(&i, None)), &req)))
}

/// Read one invitation.
#[utoipa::path(get, path = "/api/v1/invitations/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = InvitationView), (status = 404, body = Problem, content_type = PROBLEM)))]
#[get("/api/v1/invitations/{id}")]
pub async fn get_invitation(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let i = services.invitations.get(&auth.0, *id).await?;
    Ok(HttpResponse::Ok().json(view(&i, None)))
}

/// Revoke a pending invitation.
#[utoipa::path(delete, path = "/api/v1/invitations/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = PROBLEM),
        (status = 409, body = Problem, content_type = PROBLEM)))]
#[delete("/api/v1/invitations/{id}")]
pub async fn revoke_invitation(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    services.invitations.revoke(&auth.0, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

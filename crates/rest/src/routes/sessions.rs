//! Refresh, logout and sessions (SPEC §6.2–§6.3).

use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::pagination::ListResponse;
use crate::principal::Authenticated;
use crate::routes::auth::TokenResponse;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tessera_domain::session::Session;
use tessera_domain::{Page, SessionId, UserId};
use tessera_services::Services;
use utoipa::ToSchema;
use uuid::Uuid;

const PROBLEM: &str = "application/problem+json";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    /// When the session last refreshed its tokens (the idle timeout counts from here).
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end of the session.
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub amr: Vec<String>,
    /// True for the session of the token making the request.
    pub current: bool,
    pub links: BTreeMap<String, String>,
}

fn view(s: &Session, current: Option<SessionId>, self_link: String) -> SessionView {
    SessionView {
        id: s.id.as_uuid(),
        user_id: s.user_id.as_uuid(),
        created_at: s.created_at,
        last_seen_at: s.last_seen_at,
        expires_at: s.expires_at,
        ip: s.ip.clone(),
        user_agent: s.user_agent.clone(),
        amr: s.amr.clone(),
        current: current == Some(s.id),
        links: BTreeMap::from([("self".to_owned(), self_link)]),
    }
}

/// Exchange a refresh token for a new pair (the old one stops working).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem, content_type = PROBLEM),
        (status = 403, description = "tenant_suspended", body = Problem, content_type = PROBLEM)))]
#[post("/api/v1/auth/refresh")]
pub async fn refresh(services: web::Data<Services>, body: Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let pair = services.auth.refresh(&body.refresh_token).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(pair)))
}

/// Revoke the caller's session (its refresh tokens and access tokens).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = PROBLEM)))]
#[post("/api/v1/auth/logout")]
pub async fn logout(services: web::Data<Services>, auth: Authenticated) -> Result<HttpResponse, ApiError> {
    services.auth.logout(&auth.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's live sessions, newest first.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = ListResponse<SessionView>), (status = 401, body = Problem, content_type = PROBLEM)))]
#[get("/api/v1/auth/sessions")]
pub async fn list_my_sessions(
    services: web::Data<Services>,
    auth: Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let sessions = services.sessions.list_mine(&auth.0).await?;
    let current = auth.0.session_id;
    let items = sessions.iter().map(|s| view(s, current, format!("/api/v1/auth/sessions/{}", s.id))).collect();
    Ok(HttpResponse::Ok().json(ListResponse::from_page(Page { items, next_after: None }, &req)))
}

/// Revoke one of the caller's sessions.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = PROBLEM)))]
#[delete("/api/v1/auth/sessions/{id}")]
pub async fn revoke_my_session(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    services.sessions.revoke_mine(&auth.0, SessionId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revoke every session of the caller but the current one.
#[utoipa::path(delete, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = PROBLEM)))]
#[delete("/api/v1/auth/sessions")]
pub async fn revoke_other_sessions(
    services: web::Data<Services>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    services.sessions.revoke_others(&auth.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A user's live sessions (`users:read`).
#[utoipa::path(get, path = "/api/v1/users/{id}/sessions", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ListResponse<SessionView>), (status = 403, body = Problem, content_type = PROBLEM),
        (status = 404, body = Problem, content_type = PROBLEM)))]
#[get("/api/v1/users/{id}/sessions")]
pub async fn list_user_sessions(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let sessions = services.sessions.list_for_user(&auth.0, UserId(*id)).await?;
    let current = auth.0.session_id;
    let items = sessions.iter().map(|s| view(s, current, format!("/api/v1/users/{}/sessions", s.user_id))).collect();
    Ok(HttpResponse::Ok().json(ListResponse::from_page(Page { items, next_after: None }, &req)))
}

/// Revoke every session of a user (`users:write`).
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = PROBLEM),
        (status = 404, body = Problem, content_type = PROBLEM)))]
#[delete("/api/v1/users/{id}/sessions")]
pub async fn revoke_user_sessions(
    services: web::Data<Services>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    services.sessions.revoke_for_user(&auth.0, UserId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

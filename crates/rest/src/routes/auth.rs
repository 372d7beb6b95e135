//! `/api/v1/auth/*` and `/.well-known/jwks.json` (SPEC §6.1–§6.2).

use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::principal::Authenticated;
use crate::views::{TenantView, UserView};
use actix_web::{HttpRequest, HttpResponse, get, http::header, post, web};
use serde::{Deserialize, Serialize};
use tessera_services::Services;
use tessera_services::auth::LoginInput;
use tessera_services::tenants::RegisterInput;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    pub full_name: String,
    pub tenant_slug: String,
    pub tenant_name: Option<String>,
    pub invitation_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RegisterResponse {
    pub user: UserView,
    pub tenant: TenantView,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    pub tenant_slug: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl From<tessera_services::auth::TokenPair> for TokenResponse {
    fn from(pair: tessera_services::auth::TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: "Bearer",
            expires_in: pair.expires_in,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MfaSummary {
    pub totp: bool,
    pub webauthn_credentials: u32,
    pub backup_codes_left: u32,
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub user: UserView,
    pub tenant: TenantView,
    pub role: String,
    pub permissions: Vec<String>,
    pub session_id: Option<Uuid>,
    pub mfa: MfaSummary,
}

/// The client address as seen by the server (trusted-proxy handling lives in the server's
/// connection info configuration).
fn client_ip(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(512).collect())
}

/// Register a tenant and its first admin.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = RegisterResponse, headers(("Location" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/api/v1/auth/register")]
pub async fn register(services: web::Data<Services>, body: Json<RegisterRequest>) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = RegisterInput {
        email: b.email,
        password: b.password,
        full_name: b.full_name,
        tenant_slug: b.tenant_slug,
        tenant_name: b.tenant_name,
        invitation_token: b.invitation_token,
    };
    let (user, tenant) = services.tenants.register(input).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/tenants/{}", tenant.id)))
        .json(RegisterResponse { user: (&user).into(), tenant: (&tenant).into() }))
}

/// Log in with email, password and tenant slug.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "tenant_suspended", body = Problem, content_type = "application/problem+json")))]
#[post("/api/v1/auth/login")]
pub async fn login(
    services: web::Data<Services>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = LoginInput {
        email: b.email,
        password: b.password,
        tenant_slug: b.tenant_slug,
        ip: client_ip(&req),
        user_agent: user_agent(&req),
    };
    let pair = services.auth.login(input).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(pair)))
}

/// The caller: user, tenant, role and permissions.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeResponse),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/api/v1/auth/me")]
pub async fn me(services: web::Data<Services>, auth: Authenticated) -> Result<HttpResponse, ApiError> {
    let me = services.auth.me(&auth.0).await?;
    let permissions = me.principal.permissions_list().into_iter().map(|p| p.as_str().to_owned()).collect();
    Ok(HttpResponse::Ok().json(MeResponse {
        user: (&me.user).into(),
        tenant: (&me.tenant).into(),
        role: me.principal.role.to_string(),
        permissions,
        session_id: me.principal.session_id.map(|s| s.as_uuid()),
        mfa: MfaSummary { totp: me.user.mfa_enabled, webauthn_credentials: 0, backup_codes_left: 0 },
    }))
}

/// The public keys that verify access tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "JSON Web Key Set (RFC 7517)", body = Object)))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(services: web::Data<Services>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=60")).json(services.auth.jwks()?))
}

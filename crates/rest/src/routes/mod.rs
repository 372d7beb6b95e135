//! The `/api/v1` route groups, one file per group, and the OpenAPI paths they contribute.

pub mod auth;
pub mod invitations;
pub mod passwords;
pub mod sessions;
pub mod settings;
pub mod tenants;
pub mod users;

use crate::error::Problem;
use actix_web::{HttpResponse, http::header, web};
use serde::{Deserialize, Deserializer, Serialize};
use tessera_services::ServiceError;
use utoipa::OpenApi;

/// Registers every `/api/v1` and `/.well-known` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(auth::register)
        .service(auth::login)
        .service(auth::me)
        .service(auth::jwks)
        .service(passwords::change_password)
        .service(passwords::forgot_password)
        .service(passwords::reset_password)
        .service(passwords::unlock_user)
        .service(invitations::create_invitation)
        .service(invitations::list_invitations)
        .service(invitations::get_invitation)
        .service(invitations::revoke_invitation)
        .service(sessions::refresh)
        .service(sessions::logout)
        .service(sessions::list_my_sessions)
        .service(sessions::revoke_other_sessions)
        .service(sessions::revoke_my_session)
        .service(sessions::list_user_sessions)
        .service(sessions::revoke_user_sessions)
        .service(tenants::create_tenant)
        .service(tenants::list_tenants)
        .service(tenants::get_tenant)
        .service(tenants::patch_tenant)
        .service(tenants::delete_tenant)
        .service(tenants::suspend_tenant)
        .service(tenants::activate_tenant)
        .service(settings::get_settings)
        .service(settings::patch_settings)
        .service(settings::effective_settings)
        .service(settings::usage)
        .service(users::create_user)
        .service(users::list_users)
        .service(users::get_user)
        .service(users::patch_user)
        .service(users::delete_user)
        .service(users::set_role)
        .service(users::disable_user)
        .service(users::enable_user);
}

#[derive(OpenApi)]
#[openapi(
    paths(
        auth::register, auth::login, auth::me, auth::jwks,
        passwords::change_password,
        passwords::forgot_password,
        passwords::reset_password,
        passwords::unlock_user,
        invitations::create_invitation,
        invitations::list_invitations,
        invitations::get_invitation,
        invitations::revoke_invitation,
        sessions::refresh,
        sessions::logout,
        sessions::list_my_sessions,
        sessions::revoke_other_sessions,
        sessions::revoke_my_session,
        sessions::list_user_sessions,
        sessions::revoke_user_sessions,
        tenants::create_tenant, tenants::list_tenants, tenants::get_tenant, tenants::patch_tenant,
        tenants::delete_tenant, tenants::suspend_tenant, tenants::activate_tenant,
        settings::get_settings,
        settings::patch_settings,
        settings::effective_settings,
        settings::usage,
        users::create_user, users::list_users, users::get_user, users::patch_user, users::delete_user,
        users::set_role, users::disable_user, users::enable_user,
    ),
    components(schemas(Problem)),
    tags((name = "auth"), (name = "tenants"), (name = "users"))
)]
pub struct ApiDoc;

/// A merge-patch field (RFC 7396): absent, explicitly `null`, or a value.
#[derive(Debug, Default)]
pub enum PatchField<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for PatchField<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(|o| o.map_or(PatchField::Null, PatchField::Value))
    }
}

impl<T> PatchField<T> {
    /// For fields that cannot be removed: `null` is a 422 naming the field.
    pub fn required(self, field: &str) -> Result<Option<T>, ServiceError> {
        match self {
            PatchField::Absent => Ok(None),
            PatchField::Null => Err(ServiceError::field(field, "cannot be null")),
            PatchField::Value(v) => Ok(Some(v)),
        }
    }
}

/// 201 with `Location` set to the resource's `self` link and the resource as the body.
pub(crate) fn created<T: Serialize>(links: &std::collections::BTreeMap<String, String>, body: &T) -> HttpResponse {
    let mut resp = HttpResponse::Created();
    if let Some(location) = links.get("self") {
        resp.insert_header((header::LOCATION, location.clone()));
    }
    resp.json(body)
}

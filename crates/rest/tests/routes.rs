//! The business routes in-process (actix test server over the in-memory core): status
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]
//! codes, `Location`, bodies and problems per route, and the OpenAPI document covering them.

use actix_web::http::StatusCode;
use actix_web::test::{self as actix_test, TestRequest};
use serde_json::{Value, json};
use std::sync::Arc;
use tessera_rest::{HealthChecks, RestConfig, app};
use tessera_testkit::fixtures::{self, PASSWORD};

macro_rules! service {
    ($services:expr) => {
        actix_test::init_service(app($services.clone(), HealthChecks::new(), RestConfig::default())).await
    };
}

async fn call(
    svc: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    req: TestRequest,
) -> (StatusCode, actix_web::http::header::HeaderMap, Value) {
    let resp = actix_test::call_service(svc, req.to_request()).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = actix_test::read_body(resp).await;
    (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[actix_web::test]
async fn register_login_me_and_user_routes() {
    let services = Arc::new(fixtures::in_memory().await);
    let svc = service!(services);
    let (status, headers, body) = call(
        &svc,
        TestRequest::post().uri("/api/v1/auth/register").set_json(json!({
            "email": "ada@acme.test", "password": PASSWORD, "full_name": "Ada", "tenant_slug": "acme"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let tenant_id = body["tenant"]["id"].as_str().unwrap().to_owned();
    assert_eq!(headers.get("location").unwrap().to_str().unwrap(), format!("/api/v1/tenants/{tenant_id}").as_str());
    assert_eq!(body["tenant"]["links"]["self"], format!("/api/v1/tenants/{tenant_id}"));

    let (status, headers, body) = call(
        &svc,
        TestRequest::post().uri("/api/v1/auth/login").set_json(json!({
            "email": "ADA@acme.test", "password": PASSWORD, "tenant_slug": "acme"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers.get("cache-control").unwrap().to_str().unwrap(), "no-store");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let bearer = ("authorization", format!("Bearer {token}"));

    let (status, _, body) = call(&svc, TestRequest::get().uri("/api/v1/auth/me").insert_header(bearer.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["tenant"]["slug"], "acme");
    assert_eq!(body["mfa"], json!({"totp": false, "webauthn_credentials": 0, "backup_codes_left": 0}));

    let (status, headers, body) = call(
        &svc,
        TestRequest::post().uri("/api/v1/users").insert_header(bearer.clone()).set_json(json!({
            "email": "dev@acme.test", "full_name": "Dev", "role": "developer", "password": PASSWORD
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(headers.get("location").unwrap().to_str().unwrap(), format!("/api/v1/users/{id}").as_str());

    let (status, _, body) = call(
        &svc,
        TestRequest::patch()
            .uri(&format!("/api/v1/users/{id}"))
            .insert_header(bearer.clone())
            .insert_header(("content-type", "application/merge-patch+json"))
            .set_payload(r#"{"full_name":"Developer"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["full_name"], "Developer");

    let (status, _, body) = call(
        &svc,
        TestRequest::put()
            .uri(&format!("/api/v1/users/{id}/role"))
            .insert_header(bearer.clone())
            .set_json(json!({"role": "analyst"})),
    )
    .await;
    assert_eq!((status, body["role"].clone()), (StatusCode::OK, json!("analyst")));

    let (status, _, body) =
        call(&svc, TestRequest::post().uri(&format!("/api/v1/users/{id}/disable")).insert_header(bearer.clone())).await;
    assert_eq!((status, body["status"].clone()), (StatusCode::OK, json!("disabled")));
    let (status, _, body) =
        call(&svc, TestRequest::post().uri(&format!("/api/v1/users/{id}/enable")).insert_header(bearer.clone())).await;
    assert_eq!((status, body["status"].clone()), (StatusCode::OK, json!("active")));
    let (status, _, _) =
        call(&svc, TestRequest::delete().uri(&format!("/api/v1/users/{id}")).insert_header(bearer.clone())).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) =
        call(&svc, TestRequest::get().uri(&format!("/api/v1/users/{id}")).insert_header(bearer)).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
}

#[actix_web::test]
async fn nested_validation_errors_name_the_path() {
    let services = Arc::new(fixtures::in_memory().await);
    let root = {
        services.tenants.ensure_platform_admin("root@platform.test", PASSWORD, "Root").await.unwrap();
        fixtures::login(&services, "root@platform.test", "platform").await.access_token
    };
    let svc = service!(services);
    let (status, _, body) = call(
        &svc,
        TestRequest::post().uri("/api/v1/tenants").insert_header(("authorization", format!("Bearer {root}"))).set_json(json!({
            "slug": "beta", "name": "Beta", "admin": {"email": "boss@beta.test", "password": PASSWORD, "full_name": 7}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "admin.full_name");
    let (status, _, body) = call(
        &svc,
        TestRequest::post().uri("/api/v1/tenants").insert_header(("authorization", format!("Bearer {root}"))).set_json(
            json!({
                "slug": "beta", "name": "Beta", "admin": {"email": "not-email", "password": PASSWORD, "full_name": "B"}
            }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "admin.email");
    let (status, headers, body) = call(
        &svc,
        TestRequest::post().uri("/api/v1/tenants").insert_header(("authorization", format!("Bearer {root}"))).set_json(json!({
            "slug": "beta", "name": "Beta", "admin": {"email": "boss@beta.test", "password": PASSWORD, "full_name": "B"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        headers.get("location").unwrap().to_str().unwrap(),
        format!("/api/v1/tenants/{}", body["id"].as_str().unwrap()).as_str()
    );
    assert_eq!(body["plan"], "standard");
}

#[test]
fn openapi_documents_every_route_with_problems() {
    let doc = serde_json::to_value(tessera_rest::docs::openapi_document()).unwrap();
    let expected = [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/me", "get"),
        ("/.well-known/jwks.json", "get"),
        ("/api/v1/tenants", "post"),
        ("/api/v1/tenants", "get"),
        ("/api/v1/tenants/{id}", "get"),
        ("/api/v1/tenants/{id}", "patch"),
        ("/api/v1/tenants/{id}", "delete"),
        ("/api/v1/tenants/{id}/suspend", "post"),
        ("/api/v1/tenants/{id}/activate", "post"),
        ("/api/v1/users", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/users/{id}", "get"),
        ("/api/v1/users/{id}", "patch"),
        ("/api/v1/users/{id}", "delete"),
        ("/api/v1/users/{id}/role", "put"),
        ("/api/v1/users/{id}/disable", "post"),
        ("/api/v1/users/{id}/enable", "post"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
    ];
    for (path, method) in expected {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        assert!(op["responses"].as_object().unwrap().len() >= 2, "{method} {path} documents errors");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

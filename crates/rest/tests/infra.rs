//! The HTTP infrastructure in-process: request ids, problems, extractor errors, security
//! headers, CORS, docs and health — on a small test app built with `with_infra`, so these
//! tests depend on none of the business routes.

use std::{sync::Arc, time::Duration};

use actix_web::{
    App, HttpRequest, HttpResponse,
    body::BoxBody,
    dev::ServiceResponse,
    guard,
    http::{Method, StatusCode, header},
    test::{self as actix_test, TestRequest},
    web,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_domain::{Page, Permission};
use tessera_rest::{
    ApiError, ComponentCheck, HealthChecks, ListQuery, ListResponse, RestConfig, extract, middleware::headers::API_CSP,
    with_infra,
};
use tessera_services::ServiceError;
use uuid::Uuid;

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Echo {
    name: String,
    age: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Signup {
    admin: Admin,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Admin {
    email: String,
    age: u32,
}

async fn echo(body: web::Json<Echo>) -> HttpResponse {
    HttpResponse::Ok().json(body.into_inner())
}

async fn signup(body: extract::Json<Signup>) -> HttpResponse {
    HttpResponse::Ok().body(body.admin.email.clone())
}

async fn item(id: web::Path<Uuid>) -> HttpResponse {
    HttpResponse::Ok().body(id.to_string())
}

async fn bytes(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok().body(body.len().to_string())
}

async fn list(req: HttpRequest, q: web::Query<ListQuery>) -> Result<HttpResponse, ApiError> {
    let page_req = q.page_request()?;
    let ids: Vec<Uuid> = (0..=page_req.limit).map(|_| Uuid::now_v7()).collect();
    let page = Page::from_overfetch(ids, page_req.limit, |u| *u);
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page, &req)))
}

async fn fail(kind: web::Path<String>) -> Result<HttpResponse, ApiError> {
    Err(match kind.as_str() {
        "validation" => ServiceError::field("email", "is not an email"),
        "unauthenticated" => ServiceError::Unauthenticated,
        "forbidden" => ServiceError::Forbidden { missing: Permission::UsersWrite },
        "action" => ServiceError::ForbiddenAction("cannot grant super_admin".into()),
        "suspended" => ServiceError::TenantSuspended,
        "conflict" => ServiceError::Conflict("slug already taken".into()),
        "rate" => ServiceError::RateLimited { retry_after: Duration::from_millis(2100) },
        "internal" => ServiceError::internal(std::io::Error::other("db password is hunter2")),
        _ => ServiceError::NotFound,
    }
    .into())
}

struct Fixed(Result<(), String>);

#[async_trait::async_trait]
impl ComponentCheck for Fixed {
    async fn check(&self) -> Result<(), String> {
        self.0.clone()
    }
}

/// A body limit small enough to cross in tests.
fn config() -> RestConfig {
    RestConfig { max_body_bytes: 256, ..RestConfig::default() }
}

macro_rules! test_app {
    ($config:expr) => {
        test_app!($config, HealthChecks::new())
    };
    ($config:expr, $health:expr) => {
        actix_test::init_service(with_infra(
            App::new()
                .route("/t/ok", web::get().to(|| async { HttpResponse::Ok().json(json!({})) }))
                .route("/t/echo", web::post().to(echo))
                .route("/t/signup", web::post().to(signup))
                .route("/t/bytes", web::post().to(bytes))
                .route("/t/items/{id}", web::get().to(item))
                .route("/t/list", web::get().to(list))
                .route("/t/fail/{kind}", web::get().to(fail))
                .route("/t/bare404", web::get().to(|| async { HttpResponse::NotFound().finish() }))
                .route("/api/v1/auth/t", web::post().to(|| async { HttpResponse::Ok().finish() }))
                .service(web::resource("/t/res").route(web::get().to(HttpResponse::Ok)))
                .service(web::resource("/t/guarded").guard(guard::Get()).to(HttpResponse::Ok)),
            $config,
            $health,
        ))
        .await
    };
}

/// Sends `req` and boxes the body so helpers see one concrete type.
macro_rules! call {
    ($app:expr, $req:expr) => {
        actix_test::call_service(&$app, $req.to_request()).await.map_into_boxed_body()
    };
}

type Res = ServiceResponse<BoxBody>;

fn get(uri: &str) -> TestRequest {
    TestRequest::get().uri(uri)
}

fn post_json(uri: &str, body: &str) -> TestRequest {
    TestRequest::post().uri(uri).insert_header((header::CONTENT_TYPE, "application/json")).set_payload(body.to_owned())
}

fn hdr<'a>(res: &'a Res, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn json_body(res: Res) -> Value {
    actix_test::read_body_json(res).await
}

/// Checks the §2 problem shape and that `request_id` equals `X-Request-Id`; returns the body.
async fn assert_problem(res: Res, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status);
    assert_eq!(hdr(&res, "content-type"), Some("application/problem+json"));
    let id = hdr(&res, "x-request-id").unwrap_or_default().to_owned();
    assert!(!id.is_empty(), "no x-request-id");
    let body = json_body(res).await;
    assert_eq!(body["type"], format!("/problems/{code}"));
    assert_eq!(body["code"], code);
    assert_eq!(body["status"], status);
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(body["request_id"], id.as_str());
    body
}

#[actix_web::test]
async fn valid_request_id_is_echoed() {
    let app = test_app!(config());
    for id in ["abc", "A.b_c-1", &"x".repeat(128)] {
        let res = call!(app, get("/t/ok").insert_header(("X-Request-Id", id)));
        assert_eq!(hdr(&res, "x-request-id"), Some(id));
    }
}

#[actix_web::test]
async fn invalid_request_id_is_replaced() {
    let app = test_app!(config());
    let long = "x".repeat(129);
    for id in [long.as_str(), "has space", "semi;colon", ""] {
        let res = call!(app, get("/t/ok").insert_header(("X-Request-Id", id)));
        let got = hdr(&res, "x-request-id").unwrap();
        assert_ne!(got, id);
        assert!(Uuid::parse_str(got).is_ok());
    }
    assert!(hdr(&call!(app, get("/t/ok")), "x-request-id").is_some());
}

#[actix_web::test]
async fn not_found_problem_carries_the_request_id() {
    let app = test_app!(config());
    let res = call!(app, get("/nope").insert_header(("X-Request-Id", "trace-42")));
    let body = assert_problem(res, 404, "not_found").await;
    assert_eq!(body["request_id"], "trace-42");
    assert!(body.get("errors").is_none());
    assert_problem(call!(app, get("/t/bare404")), 404, "not_found").await;
}

#[actix_web::test]
async fn wrong_method_is_a_405_problem() {
    let app = test_app!(config());
    let res = call!(app, TestRequest::delete().uri("/t/res"));
    assert_eq!(hdr(&res, "allow"), Some("GET"));
    assert_problem(res, 405, "method_not_allowed").await;
    let res = call!(app, TestRequest::post().uri("/t/guarded"));
    assert_problem(res, 405, "method_not_allowed").await;
}

#[actix_web::test]
async fn security_headers_on_every_response() {
    let app = test_app!(config());
    let big = format!(r#"{{"name":"{}","age":1}}"#, "x".repeat(400));
    let requests = [(get("/t/ok"), 200), (get("/nope"), 404), (post_json("/t/echo", &big), 413)];
    for (req, status) in requests {
        let res = call!(app, req);
        assert_eq!(res.status().as_u16(), status);
        assert_eq!(hdr(&res, "x-content-type-options"), Some("nosniff"));
        assert_eq!(hdr(&res, "x-frame-options"), Some("DENY"));
        assert_eq!(hdr(&res, "referrer-policy"), Some("no-referrer"));
        assert_eq!(hdr(&res, "content-security-policy"), Some(API_CSP));
        assert!(API_CSP.starts_with("default-src 'none'"));
        assert!(hdr(&res, "x-request-id").is_some());
        assert!(hdr(&res, "strict-transport-security").is_none());
        assert!(hdr(&res, "cache-control").is_none());
    }
}

#[actix_web::test]
async fn hsts_and_no_store_when_they_apply() {
    let app = test_app!(RestConfig { hsts: true, ..config() });
    let res = call!(app, get("/t/ok"));
    let hsts = hdr(&res, "strict-transport-security");
    assert_eq!(hsts, Some("max-age=31536000; includeSubDomains"));
    let res = call!(app, TestRequest::post().uri("/api/v1/auth/t"));
    assert_eq!(hdr(&res, "cache-control"), Some("no-store"));
    let res = call!(app, get("/api/v1/auth/t"));
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(hdr(&res, "cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn docs_page_is_self_contained_with_its_own_csp() {
    let app = test_app!(config());
    let res = call!(app, get("/docs"));
    assert_eq!(res.status(), StatusCode::OK);
    assert!(hdr(&res, "content-type").is_some_and(|c| c.starts_with("text/html")));
    let csp = hdr(&res, "content-security-policy").unwrap_or_default().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("http"), "{csp}");
    assert_ne!(csp, API_CSP);
    let html = String::from_utf8(actix_test::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains("swagger-ui-bundle.js"));
    assert!(!html.contains("http:") && !html.contains("https:") && !html.contains("//"));

    for asset in ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/"] {
        let res = call!(app, get(asset));
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
        assert_eq!(hdr(&res, "content-security-policy"), Some(csp.as_str()));
    }
    let res = call!(app, get("/docs/swagger-initializer.js"));
    let js = String::from_utf8(actix_test::read_body(res).await.to_vec()).unwrap();
    assert!(js.contains("/openapi.json") && js.contains("\"validatorUrl\": \"none\""), "{js}");
}

#[actix_web::test]
async fn openapi_json_is_a_3_1_document() {
    let app = test_app!(config());
    let res = call!(app, get("/openapi.json"));
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(hdr(&res, "content-security-policy"), Some(API_CSP));
    let doc = json_body(res).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")));
    assert_eq!(doc["info"]["title"], "Tessera");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let live = &doc["paths"]["/health/live"]["get"]["responses"];
    assert!(live["200"].is_object());
    assert!(live["default"]["content"]["application/problem+json"].is_object());
}

#[actix_web::test]
async fn json_body_errors_map_to_problems() {
    let app = test_app!(config());
    let good = r#"{"name":"a","age":3}"#;
    assert_eq!(call!(app, post_json("/t/echo", good)).status(), StatusCode::OK);

    for bad in [r#"{"name": "a", "#, "not json"] {
        assert_problem(call!(app, post_json("/t/echo", bad)), 400, "malformed_request").await;
    }
    let cases = [(r#"{"name":"a","age":3,"role":"x"}"#, "role"), (r#"{"name":"a"}"#, "age")];
    for (body, field) in cases {
        let res = call!(app, post_json("/t/echo", body));
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field);
    }

    let text = TestRequest::post().uri("/t/echo").insert_header(("content-type", "text/plain"));
    let res = call!(app, text.set_payload(good));
    assert_problem(res, 415, "unsupported_media_type").await;
    let res = call!(app, TestRequest::post().uri("/t/echo").set_payload(good));
    assert_problem(res, 415, "unsupported_media_type").await;

    let patch =
        TestRequest::post().uri("/t/echo").insert_header((header::CONTENT_TYPE, "application/merge-patch+json"));
    assert_eq!(call!(app, patch.set_payload(good)).status(), StatusCode::OK);
}

#[actix_web::test]
async fn path_aware_json_names_nested_fields() {
    let app = test_app!(config());
    let cases = [
        (r#"{"admin":{"email":"a@b.c","age":"old"}}"#, "admin.age"),
        (r#"{"admin":{"age":3}}"#, "admin.email"),
        (r#"{"admin":{"email":"a@b.c","age":3,"extra":1}}"#, "admin.extra"),
        (r#"{"admin":{"email":"a@b.c","age":3},"x":1}"#, "x"),
        (r#""just a string""#, "body"),
    ];
    for (body, field) in cases {
        let res = call!(app, post_json("/t/signup", body));
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let ok = call!(app, post_json("/t/signup", r#"{"admin":{"email":"a@b.c","age":3}}"#));
    assert_eq!(ok.status(), StatusCode::OK);
    assert_problem(call!(app, post_json("/t/signup", "{")), 400, "malformed_request").await;
    let big = "{}".repeat(200);
    assert_problem(call!(app, post_json("/t/signup", &big)), 413, "payload_too_large").await;
}

#[actix_web::test]
async fn bodies_over_the_limit_are_413() {
    let app = test_app!(config());
    let big = format!(r#"{{"name":"{}","age":1}}"#, "x".repeat(300));
    assert_problem(call!(app, post_json("/t/echo", &big)), 413, "payload_too_large").await;
    let res = call!(app, TestRequest::post().uri("/t/bytes").set_payload(vec![b'a'; 300]));
    assert_problem(res, 413, "payload_too_large").await;
    let res = call!(app, TestRequest::post().uri("/t/bytes").set_payload(vec![b'a'; 100]));
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn bad_path_and_query_params() {
    let app = test_app!(config());
    assert_problem(call!(app, get("/t/items/not-a-uuid")), 404, "not_found").await;
    let res = call!(app, get(&format!("/t/items/{}", Uuid::now_v7())));
    assert_eq!(res.status(), StatusCode::OK);

    for (uri, field) in [("/t/list?limit=abc", "limit"), ("/t/list?cursor=%21%21", "cursor")] {
        let body = assert_problem(call!(app, get(uri)), 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field, "{uri}");
    }
}

#[actix_web::test]
async fn list_pages_link_to_each_other() {
    let app = test_app!(config());
    let body = json_body(call!(app, get("/t/list?limit=2&status=active"))).await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["links"]["self"], "/t/list?limit=2&status=active");
    let cursor = body["next_cursor"].as_str().unwrap();
    let next = body["links"]["next"].as_str().unwrap();
    assert_eq!(next, format!("/t/list?limit=2&status=active&cursor={cursor}"));
    assert_eq!(call!(app, get(next)).status(), StatusCode::OK);
    let body = json_body(call!(app, get("/t/list?limit=1000"))).await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(200));
}

#[actix_web::test]
async fn service_errors_map_to_their_problems() {
    let app = test_app!(config());
    let fail = |kind: &str| get(&format!("/t/fail/{kind}"));

    let body = assert_problem(call!(app, fail("validation")), 422, "validation_failed").await;
    assert_eq!(body["errors"], json!([{"field": "email", "message": "is not an email"}]));

    let res = call!(app, fail("unauthenticated"));
    assert_eq!(hdr(&res, "www-authenticate"), Some("Bearer"));
    assert_problem(res, 401, "unauthenticated").await;

    let body = assert_problem(call!(app, fail("forbidden")), 403, "forbidden").await;
    assert_eq!(body["detail"], "missing permission users:write");
    assert_problem(call!(app, fail("action")), 403, "forbidden").await;
    assert_problem(call!(app, fail("suspended")), 403, "tenant_suspended").await;
    assert_problem(call!(app, fail("missing")), 404, "not_found").await;
    assert_problem(call!(app, fail("conflict")), 409, "conflict").await;

    let res = call!(app, fail("rate"));
    assert_eq!(hdr(&res, "retry-after"), Some("3"));
    assert_problem(res, 429, "rate_limited").await;

    let body = assert_problem(call!(app, fail("internal")), 500, "internal").await;
    assert!(!body.to_string().contains("hunter2"));
}

#[actix_web::test]
async fn cors_follows_configuration() {
    let origin = "https://app.example.com";
    let app = test_app!(RestConfig { cors_allowed_origins: vec![origin.to_owned()], ..config() });
    let preflight = |o: &str| {
        TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/t/echo")
            .insert_header(("Origin", o))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .insert_header(("Access-Control-Request-Headers", "content-type, authorization"))
    };
    let res = call!(app, preflight(origin));
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(hdr(&res, "access-control-allow-origin"), Some(origin));
    assert!(hdr(&res, "access-control-allow-methods").is_some_and(|m| m.contains("POST")));
    let allowed = hdr(&res, "access-control-allow-headers");
    assert_eq!(allowed, Some("content-type, authorization"));
    assert!(hdr(&res, "x-request-id").is_some());

    let res = call!(app, preflight("https://evil.example"));
    assert!(hdr(&res, "access-control-allow-origin").is_none());

    let res = call!(app, get("/t/ok").insert_header(("Origin", origin)));
    assert_eq!(hdr(&res, "access-control-allow-origin"), Some(origin));
    let exposed = hdr(&res, "access-control-expose-headers");
    assert!(exposed.is_some_and(|h| h.contains("x-request-id")));

    let app = test_app!(config());
    let res = call!(app, preflight(origin));
    assert!(hdr(&res, "access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn health_probes() {
    let checks = HealthChecks::new().with("database", Arc::new(Fixed(Ok(()))));
    let app = test_app!(config(), checks);
    assert_eq!(json_body(call!(app, get("/health/live"))).await, json!({"status": "ok"}));
    let res = call!(app, get("/health/ready"));
    assert_eq!(res.status(), StatusCode::OK);
    let expected = json!({"status": "ok", "components": {"database": "ok"}});
    assert_eq!(json_body(res).await, expected);

    let checks = HealthChecks::new()
        .with("database", Arc::new(Fixed(Ok(()))))
        .with("redis", Arc::new(Fixed(Err("connection refused".into()))));
    let app = test_app!(config(), checks);
    let res = call!(app, get("/health/ready"));
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let expected = json!({
        "status": "unavailable",
        "components": {"database": "ok", "redis": "connection refused"}
    });
    assert_eq!(json_body(res).await, expected);
}

#[actix_web::test]
async fn errors_from_inner_middleware_become_problems() {
    use actix_web::dev::Service as _;
    use futures_util::future::{Either, ready};
    let app = App::new().route("/t/ok", web::get().to(HttpResponse::Ok)).wrap_fn(|req, srv| {
        if req.path() == "/t/ok" {
            Either::Left(srv.call(req))
        } else {
            Either::Right(ready(Err(ApiError(ServiceError::Unauthenticated).into())))
        }
    });
    let app = actix_test::init_service(with_infra(app, config(), HealthChecks::new())).await;
    let req = get("/t/mw").insert_header(("X-Request-Id", "mw-1")).to_request();
    let err = actix_test::try_call_service(&app, req).await.err().unwrap();
    let res = err.error_response();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let h = |n: &str| res.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(h("x-request-id").as_deref(), Some("mw-1"));
    assert_eq!(h("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(h("content-type").as_deref(), Some("application/problem+json"));
    let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!((body["code"].as_str(), body["request_id"].as_str()), (Some("unauthenticated"), Some("mw-1")));
}

//! The OpenAPI 3.1 document (`GET /openapi.json`) and the interactive viewer (`GET /docs`).
//!
//! The document is the lead's `routes::ApiDoc` merged with the infrastructure's own paths
//! and schemas. Every operation without a `default` response gets one pointing at the
//! `Problem` schema, so each endpoint documents its error shape, and responses declared
//! without a description get the status's reason phrase (OpenAPI requires one). The viewer
//! is the vendored Swagger UI: every asset is served from `/docs/…`, nothing from a CDN.

use actix_web::{
    HttpResponse,
    http::{StatusCode, header},
    web,
};
use utoipa::{
    OpenApi,
    openapi::{
        ContentBuilder, InfoBuilder, LicenseBuilder, Ref, RefOr, ResponseBuilder,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::{
    error::{PROBLEM_JSON, Problem, ProblemFieldError},
    health::{self, HealthReport, HealthStatus},
    pagination::PageLinks,
    routes,
};

/// Name of the JWT bearer security scheme (`security(("bearer" = []))` in `utoipa::path`).
pub const BEARER_SCHEME: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    paths(health::live, health::ready),
    components(schemas(Problem, ProblemFieldError, HealthReport, HealthStatus, PageLinks)),
    tags((name = "health", description = "Liveness and readiness probes"))
)]
struct InfraDoc;

/// The full OpenAPI document of the REST API (also printed by `tessera openapi`).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = routes::ApiDoc::openapi();
    doc.merge(InfraDoc::openapi());
    doc.info = InfoBuilder::new()
        .title("Tessera")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Multi-tenant identity and API platform. Errors are RFC 9457 \
             `application/problem+json` bodies (schema `Problem`).",
        ))
        .license(Some(LicenseBuilder::new().name("Apache-2.0").build()))
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER_SCHEME,
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
    );
    add_default_problem_responses(&mut doc);
    doc
}

fn add_default_problem_responses(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for op in operations.into_iter().flatten() {
            // OpenAPI requires a description on every response.
            for (status, response) in &mut op.responses.responses {
                if let RefOr::T(r) = response
                    && r.description.is_empty()
                {
                    r.description = describe_status(status);
                }
            }
            op.responses.responses.entry("default".to_owned()).or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description("Error (RFC 9457 problem, SPEC §2)")
                        .content(
                            PROBLEM_JSON,
                            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                        )
                        .build(),
                )
            });
        }
    }
}

fn describe_status(status: &str) -> String {
    let reason =
        status.parse::<u16>().ok().and_then(|s| StatusCode::from_u16(s).ok()).and_then(|s| s.canonical_reason());
    reason.unwrap_or("Response").to_owned()
}

/// The Swagger UI page with absolute asset paths, so it also works at `/docs` (no slash).
const DOCS_INDEX: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Tessera API</title>
    <link rel="stylesheet" type="text/css" href="/docs/swagger-ui.css" />
    <link rel="stylesheet" type="text/css" href="/docs/index.css" />
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="/docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="/docs/swagger-initializer.js" charset="UTF-8"></script>
  </body>
</html>
"#;

struct OpenApiJson(web::Bytes);

async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CONTENT_TYPE, "application/json")).body(doc.0.clone())
}

async fn docs_index() -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8")).body(DOCS_INDEX)
}

/// Registers `GET /openapi.json`, `GET /docs` and the viewer's assets under `/docs/`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let json = match serde_json::to_vec(&openapi_document()) {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize the OpenAPI document");
            b"{}".to_vec()
        }
    };
    cfg.app_data(web::Data::new(OpenApiJson(web::Bytes::from(json))))
        .route("/openapi.json", web::get().to(openapi_json))
        .route("/docs", web::get().to(docs_index))
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .config(Config::new(["/openapi.json"]).validator_url("none").try_it_out_enabled(true)),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_documents_errors_and_descriptions() {
        let doc = serde_json::to_value(openapi_document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.contains_key("/health/ready"));
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.contains_key("default"), "{method} {path}");
                for (status, r) in responses {
                    let described = r.get("$ref").is_some() || r["description"].as_str().is_some_and(|d| !d.is_empty());
                    assert!(described, "{method} {path} {status}");
                }
            }
        }
    }
}

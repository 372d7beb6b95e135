//! Request parsing that fails with §2 problems.
//!
//! - body over the limit → 413 `payload_too_large`; missing/wrong `Content-Type` on a JSON
//!   endpoint → 415 `unsupported_media_type`; unparseable JSON → 400 `malformed_request`;
//!   well-formed JSON with wrong types, missing or unknown fields → 422 `validation_failed`
//!   naming the field;
//! - bad path parameters (e.g. a non-UUID id) → 404 `not_found`;
//! - bad query parameters → 422 naming the parameter.
//!
//! [`Json`] and [`Query`] are drop-in replacements for `web::Json`/`web::Query` that report
//! the full field path (`admin.email`, `items[2].name`) of any deserialization error. The
//! configs below make the stock `web::*` extractors answer problems too, with the best field
//! name their error messages allow.

use std::{
    future::{Ready, ready},
    ops::{Deref, DerefMut},
};

use actix_web::{
    FromRequest, HttpRequest,
    dev::{JsonBody, Payload},
    error::{JsonPayloadError, PayloadError, QueryPayloadError},
    http::StatusCode,
    web,
};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use tessera_domain::FieldError;

use crate::error::HttpProblem;

/// SPEC §2: bodies over 1 MiB → 413 (ingestion configures its own, larger limit).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The body limit [`Json`] applies; register a bigger one on a resource with `.app_data(..)`
/// (together with [`json_config`]/[`payload_config`]) to raise it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

/// Config for `web::Json`: limit, content type and problem errors.
pub fn json_config(limit_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit_bytes)
        .content_type_required(true)
        .error_handler(|err, _req| json_problem(err).into())
}

/// Config for `web::Bytes`/`String` bodies (overflow is rendered as a 413 problem).
pub fn payload_config(limit_bytes: usize) -> web::PayloadConfig {
    web::PayloadConfig::new(limit_bytes)
}

/// Config for `web::Path`: an unparseable segment means no such resource.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err, _req| not_found().into())
}

/// Config for `web::Query`: 422 naming the parameter when the message allows it.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, req| query_problem(&err, req).into())
}

fn not_found() -> HttpProblem {
    HttpProblem::new(StatusCode::NOT_FOUND, "not_found", "no resource at this path")
}

/// Maps a JSON body error onto its problem.
pub fn json_problem(err: JsonPayloadError) -> HttpProblem {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. } | JsonPayloadError::Overflow { limit } => too_large(limit),
        JsonPayloadError::Payload(PayloadError::Overflow) => too_large(0),
        JsonPayloadError::ContentType => HttpProblem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/json",
        ),
        // `web::Json` cannot tell where a type error is: it names the body as a whole.
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            HttpProblem::validation(vec![body_field_error(&e.to_string(), "")])
        }
        JsonPayloadError::Deserialize(e) => {
            HttpProblem::new(StatusCode::BAD_REQUEST, "malformed_request", format!("the body is not valid JSON: {e}"))
        }
        other => HttpProblem::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            format!("the body could not be read: {other}"),
        ),
    }
}

fn too_large(limit: usize) -> HttpProblem {
    let detail = if limit > 0 {
        format!("the request body exceeds the limit of {limit} bytes")
    } else {
        "the request body exceeds the limit".to_owned()
    };
    HttpProblem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", detail)
}

fn query_problem(err: &QueryPayloadError, req: &HttpRequest) -> HttpProblem {
    let message = match err {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    let mut fe = field_error(&message, "");
    if fe.field.is_empty() {
        fe.field = guess_query_param(&message, req.query_string()).unwrap_or_else(|| "query".into());
    }
    HttpProblem::validation(vec![fe])
}

/// serde_urlencoded does not name the parameter on a number parse error: pick the first
/// parameter whose value is not a number (cursors are opaque strings, never the culprit).
fn guess_query_param(message: &str, query: &str) -> Option<String> {
    const NUMBER_ERRORS: &[&str] = &["invalid digit", "number too", "cannot parse integer", "invalid float"];
    if !NUMBER_ERRORS.iter().any(|m| message.contains(m)) {
        return None;
    }
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| k != "cursor" && v.parse::<f64>().is_err())
        .map(|(k, _)| k.into_owned())
}

/// [`field_error`] for a JSON body: an error at the root names `body`.
fn body_field_error(message: &str, path: &str) -> FieldError {
    let mut fe = field_error(message, path);
    if fe.field.is_empty() {
        fe.field = "body".to_owned();
    }
    fe
}

/// Builds the field error of a serde data error found at `path` (`""` or `.` = root).
fn field_error(message: &str, path: &str) -> FieldError {
    let message = strip_position(message);
    let path = if path == "." { "" } else { path };
    let join = |name: &str| -> String {
        if path.is_empty() {
            name.to_owned()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            path.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(name) = backticked_after(message, "unknown field `") {
        return FieldError::new(join(name), "unknown field");
    }
    if let Some(name) = backticked_after(message, "missing field `") {
        return FieldError::new(join(name), "is required");
    }
    // Our own deserializers name their field: "invalid value for `limit`: <why>".
    if let Some(name) = backticked_after(message, "invalid value for `") {
        let why = message.split_once("`: ").map_or(message, |(_, why)| why);
        return FieldError::new(join(name), why);
    }
    FieldError::new(path, message)
}

fn backticked_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}

/// serde_json appends ` at line L column C`; clients need the field, not the offset.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// A JSON body (like `web::Json`) whose validation errors carry the full field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(DEFAULT_BODY_LIMIT, |l| l.0);
        // Parse to a `Value` first (syntax errors → 400), then map it onto `T` with path
        // tracking (data errors → 422 with the path).
        let body = JsonBody::<serde_json::Value>::new(req, payload, None, true).limit(limit);
        Box::pin(async move {
            let value = body.await.map_err(json_problem)?;
            let parsed = serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
                let path = e.path().to_string();
                let message = e.into_inner().to_string();
                HttpProblem::validation(vec![body_field_error(&message, &path)])
            })?;
            Ok(Json(parsed))
        })
    }
}

/// A query string (like `web::Query`) whose errors name the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query).map_err(Into::into))
    }
}

/// Parses a query string into `T`, failing with a 422 that names the parameter.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, HttpProblem> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        HttpProblem::validation(vec![field_error(&e.into_inner().to_string(), &path)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Params {
        limit: Option<u32>,
        cursor: Option<String>,
    }

    fn only_error(p: HttpProblem) -> FieldError {
        let errors = p.errors.unwrap_or_default();
        assert_eq!(errors.len(), 1);
        errors.into_iter().next().unwrap()
    }

    #[test]
    fn field_names_from_messages() {
        let e = field_error("unknown field `nmae`, expected `name` at line 1 column 7", "");
        assert_eq!((e.field.as_str(), e.message.as_str()), ("nmae", "unknown field"));
        let e = field_error("missing field `email`", "admin");
        assert_eq!(e.field, "admin.email");
        let e = field_error("invalid value for `limit`: must be an integer", "");
        assert_eq!((e.field.as_str(), e.message.as_str()), ("limit", "must be an integer"));
        let e = field_error("invalid type: string \"x\", expected u32 at line 1 column 3", "age");
        assert_eq!((e.field.as_str(), e.message.as_str()), ("age", "invalid type: string \"x\", expected u32"));
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = only_error(parse_query::<Params>("limit=abc").unwrap_err());
        assert_eq!(e.field, "limit");
        let e = only_error(parse_query::<Params>("limit=2&bogus=1").unwrap_err());
        assert_eq!(e.field, "bogus");
        let ok: Params = parse_query("limit=5&cursor=abc").unwrap();
        assert_eq!(ok.limit, Some(5));
    }

    #[test]
    fn guesses_number_params() {
        let g = guess_query_param("invalid digit found in string", "cursor=x&limit=abc");
        assert_eq!(g.as_deref(), Some("limit"));
        let g = guess_query_param("invalid digit found in string", "limit=abc&x=2");
        assert_eq!(g.as_deref(), Some("limit"));
        assert_eq!(guess_query_param("something else", "limit=abc"), None);
    }
}

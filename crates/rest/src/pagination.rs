//! Cursor pagination of list endpoints (SPEC §2): `?limit=&cursor=` in,
//! `{"items", "next_cursor", "links": {"self", "next"}}` out.
//!
//! The cursor is opaque to clients: the base64url (unpadded) encoding of the last id of the
//! previous page.

use actix_web::HttpRequest;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Deserializer, Serialize};
use tessera_domain::{Page, PageRequest};
use tessera_services::ServiceError;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// `?limit=&cursor=` of every list endpoint. Embed it with `#[serde(flatten)]` in a query
/// struct that has filters too (`limit` accepts the string form flattening produces).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size: default 50; values above 200 are clamped to 200.
    #[serde(default, deserialize_with = "lenient_u32")]
    #[param(minimum = 1, example = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl ListQuery {
    /// The page to fetch. An undecodable cursor is a 422 on `cursor`.
    pub fn page_request(&self) -> Result<PageRequest, ServiceError> {
        let after = match &self.cursor {
            None => None,
            Some(c) => Some(decode_cursor(c).ok_or_else(|| ServiceError::field("cursor", "invalid cursor"))?),
        };
        Ok(PageRequest::new(self.limit, after))
    }
}

fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u32),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Text(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("invalid value for `limit`: must be a non-negative integer")),
    }
}

/// The opaque cursor for "after `id`".
pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// The id behind a cursor, if it is one of ours.
pub fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

/// HATEOAS links of a list page: relative URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PageLinks {
    /// This page.
    #[serde(rename = "self")]
    #[schema(example = "/api/v1/users?limit=2")]
    pub self_: String,
    /// The next page, or `null` on the last one.
    #[schema(required = true)]
    pub next: Option<String>,
}

// Document a concrete list as `body = ListResponse<UserView>` in `#[utoipa::path]`:
// utoipa registers it as the component `ListResponse_UserView`.
/// One page of a list (cursor pagination).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` to get the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    pub links: PageLinks,
}

impl<T> ListResponse<T> {
    /// The response for `page`, linking from the request's path and query.
    pub fn from_page(page: Page<T>, req: &HttpRequest) -> Self {
        Self::with_links(page, req.path(), req.query_string())
    }

    /// Like [`from_page`](Self::from_page) from an explicit path and raw query string: the
    /// next link keeps every parameter but `cursor`, which it replaces.
    pub fn with_links(page: Page<T>, path: &str, query: &str) -> Self {
        let self_ = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
        let next_cursor = page.next_after.map(encode_cursor);
        let next = next_cursor.as_deref().map(|cursor| {
            let mut out = form_urlencoded::Serializer::new(String::new());
            for (k, v) in form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k != "cursor") {
                out.append_pair(&k, &v);
            }
            out.append_pair("cursor", cursor);
            format!("{path}?{}", out.finish())
        });
        Self { items: page.items, next_cursor, links: PageLinks { self_, next } }
    }

    /// Converts the items (e.g. domain entities into response views).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> ListResponse<U> {
        ListResponse {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            links: self.links,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_query;

    #[test]
    fn cursor_round_trip() {
        let id = Uuid::now_v7();
        let c = encode_cursor(id);
        assert_eq!(c.len(), 22);
        assert_eq!(decode_cursor(&c), Some(id));
        let q = ListQuery { limit: Some(2), cursor: Some(c) };
        assert_eq!(q.page_request().unwrap(), PageRequest::new(Some(2), Some(id)));
    }

    #[test]
    fn bad_cursor_is_422_on_cursor() {
        for bad in ["!!!", "abc", &URL_SAFE_NO_PAD.encode(b"short")] {
            let q = ListQuery { limit: None, cursor: Some(bad.to_owned()) };
            match q.page_request() {
                Err(ServiceError::Validation(errs)) => assert_eq!(errs[0].field, "cursor"),
                other => panic!("expected validation error, got {other:?}"),
            }
        }
    }

    #[test]
    fn limit_defaults_and_clamps() {
        assert_eq!(ListQuery::default().page_request().unwrap().limit, 50);
        let q = ListQuery { limit: Some(1000), cursor: None };
        assert_eq!(q.page_request().unwrap().limit, 200);
    }

    #[test]
    fn parses_from_query_strings_also_flattened() {
        let q: ListQuery = parse_query("limit=7&cursor=x").unwrap();
        assert_eq!(q.limit, Some(7));
        #[derive(Deserialize)]
        struct WithFilter {
            status: Option<String>,
            #[serde(flatten)]
            page: ListQuery,
        }
        let q: WithFilter = parse_query("status=active&limit=3").unwrap();
        assert_eq!((q.status.as_deref(), q.page.limit), (Some("active"), Some(3)));
        let err = parse_query::<ListQuery>("limit=abc").unwrap_err();
        assert_eq!(err.errors.unwrap()[0].field, "limit");
    }

    #[test]
    fn links_keep_other_params_and_replace_cursor() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let page = Page::from_overfetch(ids.clone(), 2, |u| *u);
        let res = ListResponse::with_links(page, "/api/v1/users", "limit=2&status=active&cursor=old");
        let cursor = encode_cursor(ids[1]);
        assert_eq!(res.next_cursor.as_deref(), Some(cursor.as_str()));
        assert_eq!(res.links.self_, "/api/v1/users?limit=2&status=active&cursor=old");
        assert_eq!(
            res.links.next.as_deref(),
            Some(format!("/api/v1/users?limit=2&status=active&cursor={cursor}").as_str())
        );
        let json = serde_json::to_value(&res).unwrap();
        assert!(json["links"]["self"].is_string());
        assert!(json["links"].get("self_").is_none());
    }

    #[test]
    fn last_page_has_null_next() {
        let page = Page { items: vec![1, 2], next_after: None };
        let res = ListResponse::with_links(page, "/api/v1/roles", "");
        let json = serde_json::to_value(&res).unwrap();
        assert_eq!(json["next_cursor"], serde_json::Value::Null);
        assert_eq!(json["links"]["next"], serde_json::Value::Null);
        assert_eq!(json["links"]["self"], "/api/v1/roles");
    }
}

//! Extractors that turn raw requests into checked input, answering problems for
//! bad input before a handler runs.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, IF_MATCH};
use axum::http::request::Parts;

use crate::problem::Problem;

/// Largest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

fn too_large() -> Problem {
    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "The request body is too large", "send at most 1 MB")
}

/// A JSON body: the parsed value and the raw bytes (for idempotency hashing).
pub struct JsonBody {
    pub value: serde_json::Value,
    pub raw: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Problem;
    async fn from_request(req: Request, _: &S) -> Result<Self, Problem> {
        let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY as u64) {
            return Err(too_large());
        }
        let ct = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence != "application/json" && !(essence.starts_with("application/") && essence.ends_with("+json")) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send JSON",
                "the body must be sent as Content-Type: application/json",
            ));
        }
        let raw = axum::body::to_bytes(req.into_body(), MAX_BODY).await.map_err(|_| too_large())?;
        let value: serde_json::Value =
            serde_json::from_slice(&raw).map_err(|e| Problem::bad_request(format!("the body is not valid JSON ({e})")))?;
        Ok(JsonBody { value, raw })
    }
}

/// An optional JSON body (for actions such as publish where a body is allowed
/// but not needed).
pub struct OptionalJsonBody(pub Option<JsonBody>);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = Problem;
    async fn from_request(req: Request, s: &S) -> Result<Self, Problem> {
        let empty_declared = req.headers().get(CONTENT_LENGTH).is_some_and(|v| v == "0");
        let no_type = req.headers().get(CONTENT_TYPE).is_none();
        if empty_declared || no_type {
            let raw = axum::body::to_bytes(req.into_body(), MAX_BODY).await.map_err(|_| too_large())?;
            if raw.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJsonBody(None));
            }
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send JSON",
                "the body must be sent as Content-Type: application/json",
            ));
        }
        JsonBody::from_request(req, s).await.map(|b| OptionalJsonBody(Some(b)))
    }
}

/// The version in `If-Match` (`"3"`, `3` or `W/"3"`), if sent.
pub struct IfMatch(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let Some(v) = parts.headers.get(IF_MATCH) else { return Ok(IfMatch(None)) };
        let text = v.to_str().unwrap_or("").trim();
        let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
        text.parse::<u64>().map(|n| IfMatch(Some(n))).map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed-request",
                "The request could not be read",
                "If-Match must be the ETag you read, such as \"3\"",
            )
            .with_errors(vec![qnet_domain::FieldError { field: "If-Match".into(), message: "is not a version".into() }])
        })
    }
}

/// The `Idempotency-Key` header, if sent.
pub struct IdempotencyHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyHeader(None)),
            Some(v) => match v.to_str() {
                Ok(s) => Ok(IdempotencyHeader(Some(s.trim().to_string()))),
                Err(_) => Err(Problem::invalid("Idempotency-Key", "must be visible ASCII characters")),
            },
        }
    }
}

/// A query string read into `T` (serde, documented with `IntoParams`): repeated
/// keys, the last wins; unknown keys are ignored; a value that does not fit
/// answers a problem naming its parameter.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let q = parts.uri.query().unwrap_or("");
        let mut fields = serde_json::Map::new();
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()).into_owned() {
            fields.insert(k, serde_json::Value::String(v));
        }
        serde_path_to_error::deserialize(serde_json::Value::Object(fields)).map(Query).map_err(|e| {
            let field = e.path().to_string();
            Problem::invalid(&field, &e.into_inner().to_string())
        })
    }
}

/// Query values, read from their text.
pub mod query {
    use serde::{Deserialize, Deserializer};

    /// A text value: trimmed; empty is absent.
    pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let v = Option::<String>::deserialize(d)?;
        Ok(v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
    }

    /// An optional text matched by a declared pattern: only an empty value
    /// counts as absent, and nothing is trimmed, so what the pattern refuses
    /// (spaces of any kind included) reaches the parser and is refused too.
    pub fn exact<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
    }

    /// A page size: a whole number from 1 to 100.
    pub fn limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        let Some(v) = Option::<String>::deserialize(d)? else { return Ok(None) };
        match v.trim().parse::<u32>() {
            Ok(n) if (1..=qnet_app::case_studies::MAX_PAGE).contains(&n) => Ok(Some(n)),
            _ => Err(serde::de::Error::custom("must be a whole number from 1 to 100")),
        }
    }
}

/// `limit` (default 20) and `cursor` of a paged list.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size (default 20)
    #[serde(default, deserialize_with = "query::limit")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// next_cursor from the previous page
    #[serde(default, deserialize_with = "query::text")]
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(qnet_app::case_studies::DEFAULT_PAGE)
    }
}

/// `limit` and `cursor` of a list that answered every item at once before it was
/// paged: its default page is the largest, so a client that reads one answer
/// still sees every item of a small list.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WholePageQuery {
    /// Page size (default 100)
    #[serde(default, deserialize_with = "query::limit")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// next_cursor from the previous page
    #[serde(default, deserialize_with = "query::text")]
    pub cursor: Option<String>,
}

impl WholePageQuery {
    pub fn page(self) -> qnet_app::PageRequest {
        qnet_app::PageRequest { limit: self.limit.unwrap_or(qnet_app::case_studies::MAX_PAGE), cursor: self.cursor }
    }
}

//! Small HTTP helpers shared by the gateway and the admin API: JSON responses, bounded body
//! reads, path splitting.

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::Response;

use crate::error::ApiError;

/// The response type of every handler.
pub type HttpResponse = Response<Full<Bytes>>;

/// A response with a text body of `content_type`.
pub fn text_response(status: StatusCode, content_type: &'static str, body: String) -> HttpResponse {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A response with a JSON body.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> HttpResponse {
    // Serialising a `Value` cannot fail.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Runs a host operation on its own task, so that it finishes even when the request's
/// connection goes away (a call, a swap or a reload is never cancelled half-way).
pub async fn detach<T: Send + 'static>(
    op: impl std::future::Future<Output = switchyard_host::Result<T>> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::spawn(op).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(err) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the operation's task failed: {err}"),
        )),
    }
}

/// When a request's body must have arrived in full: set by the server on every request as
/// it comes in (the end of its headers plus `[server] body_timeout_ms`), read by
/// [`read_body`].
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    /// The instant the last byte must have arrived by.
    pub at: tokio::time::Instant,
    /// The configured limit, for the error message.
    pub limit: std::time::Duration,
}

/// Reads a whole body of at most `limit` bytes; 413 past that (checked against
/// `Content-Length` first, then while reading); 408 `body_timeout` (and the connection
/// closed) when the request's [`BodyDeadline`] passes first, however the client trickles it.
pub async fn read_body(
    parts: &http::request::Parts,
    body: Incoming,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    // A deadline for the whole body rather than tower-http's `RequestBodyTimeout`: that one
    // restarts its clock at every frame, so a client sending a byte every few seconds would
    // hold the connection for hours.
    let collect = Limited::new(body, limit).collect();
    let collected = match parts.extensions.get::<BodyDeadline>() {
        Some(deadline) => tokio::time::timeout_at(deadline.at, collect)
            .await
            .map_err(|_| ApiError::body_timeout(deadline.limit))?,
        None => collect.await,
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(ApiError::too_large(limit)),
        Err(err) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            format!("cannot read the request body: {err}"),
        )),
    }
}

/// The token of an `Authorization: Bearer <token>` header: `Ok(None)` without the header,
/// `Err` with a message when the header is there but is not a bearer token.
pub fn bearer(headers: &http::HeaderMap) -> Result<Option<&str>, &'static str> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            let token = rest.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
        })
        .map(Some)
        .ok_or("the Authorization header is not a bearer token")
}

/// Parses a body as a JSON object; an empty body is `{}`.
pub fn json_object(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Object(serde_json::Map::new()));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_json(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_json(format!(
            "the body must be a JSON object, not {}",
            json_type(&value)
        )));
    }
    Ok(value)
}

/// The JSON type of a value, for messages (`null`, `a boolean`, ... `an object`).
pub use switchyard_host::json::json_kind as json_type;

/// The path's segments, percent-decoded; `None` when a segment is empty or does not decode
/// to UTF-8 (such a path matches no route).
pub fn segments(path: &str) -> Option<Vec<String>> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Some(Vec::new());
    }
    trimmed
        .split('/')
        .map(|s| percent_decode(s).filter(|s| !s.is_empty()))
        .collect()
}

/// The value of `key` in a query string, percent-decoded (`+` is a space).
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| percent_decode(&v.replace('+', " ")))?
    })
}

/// Decodes `%XX` escapes; `None` on a bad escape (not `%` and two hex digits) or bytes that
/// are not UTF-8.
pub use switchyard_rules::percent::decode_strict as percent_decode;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_split_and_decode() {
        assert_eq!(
            segments("/v1/tenants/a%20b/analytics/track"),
            Some(vec![
                "v1".into(),
                "tenants".into(),
                "a b".into(),
                "analytics".into(),
                "track".into()
            ])
        );
        assert_eq!(segments("/"), Some(vec![]));
        assert_eq!(segments("/v1//x"), None);
        assert_eq!(segments("/v1/%zz"), None);
        assert_eq!(segments("/v1/%ff"), None);
    }

    #[test]
    fn query_params() {
        assert_eq!(
            query_param(Some("a=1&name=my%2Dadapter"), "name").as_deref(),
            Some("my-adapter")
        );
        assert_eq!(query_param(Some("name"), "name").as_deref(), Some(""));
        assert_eq!(query_param(None, "name"), None);
        assert_eq!(query_param(Some("names=x"), "name"), None);
    }

    #[test]
    fn json_bodies() {
        assert!(json_object(b"").is_ok());
        assert!(json_object(b"{\"a\":1}").is_ok());
        let err = json_object(b"[1]")
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(err.contains("an array"), "{err}");
        let err = json_object(b"{nope")
            .err()
            .map(|e| e.code)
            .unwrap_or_default();
        assert_eq!(err, "bad_json");
    }
}

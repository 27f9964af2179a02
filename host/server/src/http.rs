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

/// Reads a whole body of at most `limit` bytes; 413 past that (checked against
/// `Content-Length` first, then while reading).
pub async fn read_body(
    headers: &http::HeaderMap,
    body: Incoming,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(ApiError::too_large(limit)),
        Err(err) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            format!("cannot read the request body: {err}"),
        )),
    }
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

/// The JSON type of a value, for messages.
pub fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

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

/// Decodes `%XX` escapes; `None` on a bad escape or bytes that are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

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

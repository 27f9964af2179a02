//! A small blocking HTTP client over `wasi:http/outgoing-handler`.
//!
//! Every request, and every redirect hop, goes through the host, which applies the
//! binding's outbound allowlist and injects the provider's credentials. The host's refusals
//! arrive as [`Error`]s of kind `denied` that name what was refused: a target outside the
//! allowlist, or a header the host keeps for itself (`authorization`...).
//!
//! ```ignore
//! use switchyard_sdk::http::Request;
//!
//! let answer: serde_json::Value = Request::post("https://api.example.com/v1/things")
//!     .header("content-type", "application/json")
//!     .json(&serde_json::json!({"name": "x"}))
//!     .timeout(core::time::Duration::from_secs(10))
//!     .send()?
//!     .error_for_status()?
//!     .json()?;
//! ```
//!
//! Status codes map to error kinds in [`Response::error_for_status`]; transport failures in
//! [`Request::send`].

use core::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, HeaderError, IncomingBody, Method, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

use crate::types::Error;

/// The most redirects one request follows.
pub const MAX_REDIRECTS: usize = 5;

/// How many bytes of a body an error's provider message keeps.
const PROVIDER_MESSAGE_LIMIT: usize = 512;

/// An HTTP request being built. Send it with [`Request::send`].
#[derive(Clone, Debug)]
pub struct Request {
    method: HttpMethod,
    url: String,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout: Option<Duration>,
    deferred: Option<Error>,
}

/// The request methods [`Request`] builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl HttpMethod {
    /// The method's name, e.g. `"POST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    fn to_wasi(self) -> Method {
        match self {
            HttpMethod::Get => Method::Get,
            HttpMethod::Head => Method::Head,
            HttpMethod::Post => Method::Post,
            HttpMethod::Put => Method::Put,
            HttpMethod::Patch => Method::Patch,
            HttpMethod::Delete => Method::Delete,
        }
    }
}

impl Request {
    /// A request with `method` to `url` (`http://` or `https://`).
    pub fn new(method: HttpMethod, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            query: Vec::new(),
            body: None,
            timeout: None,
            deferred: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(HttpMethod::Get, url)
    }

    /// A `HEAD` request.
    pub fn head(url: impl Into<String>) -> Self {
        Self::new(HttpMethod::Head, url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(HttpMethod::Post, url)
    }

    /// A `PUT` request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(HttpMethod::Put, url)
    }

    /// A `PATCH` request.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new(HttpMethod::Patch, url)
    }

    /// A `DELETE` request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(HttpMethod::Delete, url)
    }

    /// Adds a header. A header the host forbids (credentials it injects, hop-by-hop
    /// headers) makes [`send`](Self::send) fail with a `denied` error naming it.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter, percent-encoded.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Sets a JSON body and, unless already set, `content-type: application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                if self.header_value("content-type").is_none() {
                    self.headers
                        .push(("content-type".into(), "application/json".into()));
                }
                self.body = Some(bytes);
            }
            Err(err) => {
                self.deferred = Some(Error::invalid_input(format!(
                    "request body is not serialisable as JSON: {err}"
                )))
            }
        }
        self
    }

    /// Sets the body bytes as they are.
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Some(bytes.into());
        self
    }

    /// Asks the host to give up on connecting, on the first byte and between bytes after
    /// `timeout`. Ignored where the host does not support request options.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The request's URL with its query parameters.
    pub fn url(&self) -> String {
        let mut url = self.url.clone();
        for (i, (k, v)) in self.query.iter().enumerate() {
            let sep = if i == 0 && !url.contains('?') {
                '?'
            } else {
                '&'
            };
            url.push(sep);
            url.push_str(&percent_encode(k));
            url.push('=');
            url.push_str(&percent_encode(v));
        }
        url
    }

    fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Sends the request, following up to [`MAX_REDIRECTS`] redirects (each hop goes
    /// through the host and its allowlist again), and reads the whole answer.
    ///
    /// Any HTTP answer is `Ok`, whatever its status: use [`Response::error_for_status`].
    /// Transport failures are errors: the host's refusal is `denied`; connection refused,
    /// DNS failures and resets are `unavailable`, time-outs `timeout` (both retryable).
    pub fn send(self) -> Result<Response, Error> {
        if let Some(err) = self.deferred {
            return Err(err);
        }
        let mut url = self.url();
        let mut method = self.method;
        let mut headers = self.headers;
        let mut body = self.body;
        for _ in 0..=MAX_REDIRECTS {
            let target = Url::parse(&url)?;
            let response = send_once(method, &target, &headers, body.as_deref(), self.timeout)?;
            let location = match response.status {
                301 | 302 | 303 | 307 | 308 => response.header("location").map(str::to_string),
                _ => None,
            };
            let Some(location) = location else {
                return Ok(response);
            };
            url = target.join(&location);
            let keep_method = matches!(response.status, 307 | 308)
                || (response.status != 303 && !matches!(method, HttpMethod::Post));
            if !keep_method && method != HttpMethod::Head {
                method = HttpMethod::Get;
                body = None;
                headers.retain(|(k, _)| {
                    !k.eq_ignore_ascii_case("content-type")
                        && !k.eq_ignore_ascii_case("content-length")
                });
            }
        }
        Err(Error::unavailable(format!(
            "{} {} redirected more than {MAX_REDIRECTS} times",
            self.method.as_str(),
            self.url
        ))
        .with_retryable(false))
    }
}

/// An HTTP answer, with its whole body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The URL that answered (after redirects).
    pub url: String,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON; an `internal` error naming the URL when it does not parse.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|err| {
            Error::internal(format!(
                "{} answered HTTP {} with a body that is not the expected JSON: {err}",
                self.url, self.status
            ))
            .with_provider(None, provider_message(&self.body).1)
        })
    }

    /// `Ok(self)` on 2xx, otherwise the error [`status_error`] maps it to.
    pub fn error_for_status(self) -> Result<Response, Error> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(self.to_error())
        }
    }

    /// The error this answer's status maps to (see [`status_error`]).
    pub fn to_error(&self) -> Error {
        status_error(self.status, &self.url, &self.headers, &self.body)
    }
}

/// Maps an HTTP status to the shared error: 400/422 `invalid-input`, 401/403
/// `unauthorized`, 404 `not-found`, 409 `conflict`, 413 `too-large`, 429 `rate-limited`
/// (with `retry-after-ms` from `Retry-After`), 408 `timeout`, 5xx `unavailable`
/// (retryable), anything else `internal`. The provider message is the body's `message` or
/// `error` JSON field when present, otherwise its first 512 bytes; its code is a `code`
/// or `type` JSON field.
pub fn status_error(status: u16, url: &str, headers: &[(String, String)], body: &[u8]) -> Error {
    let message = format!("{url} answered HTTP {status}");
    let retry_after = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, v)| parse_retry_after(v, crate::time::unix_millis(&now_or_epoch())));
    let err = match status {
        400 | 422 => Error::invalid_input(message),
        401 | 403 => Error::unauthorized(message),
        404 => Error::not_found(message),
        408 => Error::timeout(message),
        409 => Error::conflict(message),
        413 => Error::too_large(message),
        429 => {
            let mut err = Error::rate_limited(retry_after);
            err.message = format!("{message}: rate limited");
            err
        }
        500..=599 => Error::unavailable(message).with_retry_after_ms(retry_after),
        _ => Error::internal(message),
    };
    let (code, provider_msg) = provider_message(body);
    err.with_provider(code, provider_msg)
}

#[cfg(target_arch = "wasm32")]
fn now_or_epoch() -> crate::types::Timestamp {
    crate::time::now()
}

#[cfg(not(target_arch = "wasm32"))]
fn now_or_epoch() -> crate::types::Timestamp {
    crate::types::Timestamp {
        seconds: 0,
        nanoseconds: 0,
    }
}

/// Parses `Retry-After` (delay seconds, or an HTTP date compared with `now_ms`) into
/// milliseconds.
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    let when_ms = when.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as u64;
    Some(when_ms.saturating_sub(now_ms))
}

/// The provider's error code and message from an error body.
fn provider_message(body: &[u8]) -> (Option<String>, Option<String>) {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) {
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Object(inner) => inner
                .get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string),
            _ => None,
        };
        let message = map
            .get("message")
            .and_then(text)
            .or_else(|| map.get("error").and_then(text))
            .or_else(|| map.get("detail").and_then(text));
        let code = ["code", "type"].iter().find_map(|k| match map.get(*k) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        });
        if message.is_some() {
            return (code, message.map(|m| truncate(&m)));
        }
    }
    let text = truncate(String::from_utf8_lossy(body).trim());
    (None, (!text.is_empty()).then_some(text))
}

fn truncate(text: &str) -> String {
    if text.len() <= PROVIDER_MESSAGE_LIMIT {
        return text.to_string();
    }
    let mut end = PROVIDER_MESSAGE_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// A parsed `http(s)` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Url {
    https: bool,
    /// Host and explicit port as written (`example.com:8080`, `[::1]`).
    authority: String,
    host: String,
    port: u16,
    /// Path and query, at least `/`.
    path_with_query: String,
}

impl Url {
    fn parse(url: &str) -> Result<Url, Error> {
        let bad = |why: &str| Error::invalid_input(format!("bad URL `{url}`: {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("no scheme (expected http:// or https://)"))?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(bad("only http and https are supported")),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if authority.is_empty() {
            return Err(bad("no host"));
        }
        if authority.contains('@') {
            return Err(bad("user info in URLs is not supported"));
        }
        let (host, port) = if let Some(stripped) = authority.strip_prefix('[') {
            let close = stripped
                .find(']')
                .ok_or_else(|| bad("unclosed IPv6 address"))?;
            let after = &stripped[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad("junk after the IPv6 address")),
            };
            (&authority[..close + 2], port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(p) => p.parse::<u16>().map_err(|_| bad("bad port"))?,
            None if https => 443,
            None => 80,
        };
        let mut path_with_query = rest[end..].split('#').next().unwrap_or("").to_string();
        if !path_with_query.starts_with('/') {
            path_with_query.insert(0, '/');
        }
        Ok(Url {
            https,
            authority: authority.to_string(),
            host: host.to_ascii_lowercase(),
            port,
            path_with_query,
        })
    }

    fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }

    /// `scheme://host:port`, the port always written: how the host's allowlist sees it.
    fn target(&self) -> String {
        format!("{}://{}:{}", self.scheme(), self.host, self.port)
    }

    /// Resolves a `Location` against this URL.
    fn join(&self, location: &str) -> String {
        let location = location.trim();
        if location.contains("://") {
            location.to_string()
        } else if let Some(rest) = location.strip_prefix("//") {
            format!("{}://{rest}", self.scheme())
        } else if location.starts_with('/') {
            format!("{}://{}{location}", self.scheme(), self.authority)
        } else {
            let path = self.path_with_query.split('?').next().unwrap_or("/");
            let dir = &path[..path.rfind('/').map(|i| i + 1).unwrap_or(1)];
            format!("{}://{}{dir}{location}", self.scheme(), self.authority)
        }
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One request/answer exchange through the host, no redirects.
fn send_once(
    method: HttpMethod,
    url: &Url,
    headers: &[(String, String)],
    body: Option<&[u8]>,
    timeout: Option<Duration>,
) -> Result<Response, Error> {
    let display = format!(
        "{} {}{}",
        method.as_str(),
        url.target(),
        url.path_with_query
    );
    let fields = Fields::new();
    for (name, value) in headers {
        fields
            .append(name, value.as_bytes())
            .map_err(|err| header_error(name, err))?;
    }
    let request = OutgoingRequest::new(fields);
    let scheme = if url.https {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let invalid =
        |what: &str| Error::invalid_input(format!("{display}: the host rejected the {what}"));
    request
        .set_method(&method.to_wasi())
        .map_err(|()| invalid("method"))?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| invalid("scheme"))?;
    request
        .set_authority(Some(&url.authority))
        .map_err(|()| invalid("authority"))?;
    request
        .set_path_with_query(Some(&url.path_with_query))
        .map_err(|()| invalid("path"))?;
    let outgoing_body = request
        .body()
        .map_err(|()| Error::internal(format!("{display}: request body already taken")))?;
    let options = timeout.map(|t| {
        let nanos = u64::try_from(t.as_nanos()).unwrap_or(u64::MAX);
        let options = RequestOptions::new();
        // A host may not support some options: the request then goes without them.
        let _ = options.set_connect_timeout(Some(nanos));
        let _ = options.set_first_byte_timeout(Some(nanos));
        let _ = options.set_between_bytes_timeout(Some(nanos));
        options
    });

    let future = outgoing_handler::handle(request, options)
        .map_err(|code| transport_error(url, &display, code))?;

    // Stream the body while the host sends the request; a write failure usually means the
    // request failed, and the response future says why.
    let mut write_failed = None;
    {
        let stream = outgoing_body.write().map_err(|()| {
            Error::internal(format!("{display}: request body stream already taken"))
        })?;
        if let Some(bytes) = body {
            for chunk in bytes.chunks(4096) {
                if let Err(err) = stream.blocking_write_and_flush(chunk) {
                    write_failed = Some(stream_error_text(err));
                    break;
                }
            }
        }
    }
    if let Err(code) = OutgoingBody::finish(outgoing_body, None) {
        write_failed.get_or_insert_with(|| format!("{code:?}"));
    }

    let pollable = future.subscribe();
    pollable.block();
    drop(pollable);
    let response = match future.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(transport_error(url, &display, code)),
        Some(Err(())) => {
            return Err(Error::internal(format!(
                "{display}: response already taken"
            )))
        }
        None => {
            return Err(Error::internal(format!(
                "{display}: response not ready after waiting"
            )))
        }
    };
    drop(future);
    if let Some(why) = write_failed {
        return Err(Error::unavailable(format!(
            "{display}: sending the request body failed: {why}"
        )));
    }

    let status = response.status();
    let headers = {
        let fields = response.headers();
        let entries = fields.entries();
        drop(fields);
        entries
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let incoming = response
        .consume()
        .map_err(|()| Error::internal(format!("{display}: response body already taken")))?;
    let body = read_body(&incoming, url, &display);
    drop(IncomingBody::finish(incoming));
    drop(response);
    Ok(Response {
        status,
        headers,
        body: body?,
        url: format!(
            "{}://{}{}",
            url.scheme(),
            url.authority,
            url.path_with_query
        ),
    })
}

fn read_body(incoming: &IncomingBody, url: &Url, display: &str) -> Result<Vec<u8>, Error> {
    let stream = incoming
        .stream()
        .map_err(|()| Error::internal(format!("{display}: response body stream already taken")))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(body),
            Err(StreamError::LastOperationFailed(err)) => {
                let detail = err.to_debug_string();
                return Err(match wasi::http::types::http_error_code(&err) {
                    Some(code) => transport_error(url, display, code),
                    None => Error::unavailable(format!(
                        "{display}: reading the response body failed: {detail}"
                    )),
                });
            }
        }
    }
}

fn stream_error_text(err: StreamError) -> String {
    match err {
        StreamError::Closed => "stream closed".to_string(),
        StreamError::LastOperationFailed(err) => err.to_debug_string(),
    }
}

fn header_error(name: &str, err: HeaderError) -> Error {
    match err {
        HeaderError::Forbidden => Error::denied(format!(
            "header `{name}` is forbidden by the host: it sets credentials and \
             connection headers itself"
        )),
        HeaderError::InvalidSyntax => {
            Error::invalid_input(format!("header `{name}` has an invalid name or value"))
        }
        HeaderError::Immutable => Error::internal(format!("header `{name}`: fields are immutable")),
    }
}

/// Maps a transport failure to the shared error.
fn transport_error(url: &Url, display: &str, code: ErrorCode) -> Error {
    let target = url.target();
    match code {
        ErrorCode::HttpRequestDenied => Error::denied(format!(
            "outbound request to {target} denied by the host: not in this binding's allowlist"
        )),
        ErrorCode::DestinationIpProhibited => Error::denied(format!(
            "outbound request to {target} denied by the host: destination IP prohibited"
        )),
        ErrorCode::DnsTimeout
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => {
            Error::timeout(format!("{display}: timed out ({code:?})"))
        }
        ErrorCode::DnsError(payload) => Error::unavailable(format!(
            "{display}: DNS lookup of {} failed ({})",
            url.host,
            payload.rcode.as_deref().unwrap_or("no answer")
        )),
        ErrorCode::ConnectionRefused => {
            Error::unavailable(format!("{display}: connection to {target} refused"))
        }
        ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionTerminated
        | ErrorCode::ConnectionLimitReached
        | ErrorCode::HttpResponseIncomplete
        | ErrorCode::HttpProtocolError
        | ErrorCode::HttpUpgradeFailed => {
            Error::unavailable(format!("{display}: {target} unreachable ({code:?})"))
        }
        ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => {
            Error::unavailable(format!("{display}: TLS with {target} failed ({code:?})"))
                .with_retryable(false)
        }
        ErrorCode::HttpRequestMethodInvalid
        | ErrorCode::HttpRequestUriInvalid
        | ErrorCode::HttpRequestUriTooLong
        | ErrorCode::HttpRequestLengthRequired
        | ErrorCode::HttpRequestHeaderSectionSize(_)
        | ErrorCode::HttpRequestHeaderSize(_)
        | ErrorCode::HttpRequestTrailerSectionSize(_)
        | ErrorCode::HttpRequestTrailerSize(_) => {
            Error::invalid_input(format!("{display}: request rejected ({code:?})"))
        }
        ErrorCode::HttpRequestBodySize(_) => {
            Error::too_large(format!("{display}: request body too large ({code:?})"))
        }
        ErrorCode::InternalError(Some(detail)) => {
            Error::unavailable(format!("{display}: the host failed to send it: {detail}"))
        }
        other => Error::unavailable(format!("{display}: failed ({other:?})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;

    #[test]
    fn parses_urls() {
        let u = Url::parse("https://us.i.posthog.com/batch/?x=1#frag").unwrap();
        assert_eq!(u.target(), "https://us.i.posthog.com:443");
        assert_eq!(u.authority, "us.i.posthog.com");
        assert_eq!(u.path_with_query, "/batch/?x=1");
        let u = Url::parse("http://127.0.0.1:8099").unwrap();
        assert_eq!(u.target(), "http://127.0.0.1:8099");
        assert_eq!(u.path_with_query, "/");
        let u = Url::parse("http://[::1]:81/a").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 81));
        assert!(Url::parse("ftp://x").is_err());
        assert!(Url::parse("x").is_err());
        assert!(Url::parse("http://u:p@x/").is_err());
    }

    #[test]
    fn joins_locations() {
        let u = Url::parse("http://h:1/a/b?q").unwrap();
        assert_eq!(u.join("/c"), "http://h:1/c");
        assert_eq!(u.join("c"), "http://h:1/a/c");
        assert_eq!(u.join("https://o/x"), "https://o/x");
        assert_eq!(u.join("//o/x"), "http://o/x");
    }

    #[test]
    fn query_is_encoded() {
        let r = Request::get("http://h/p")
            .query("a b", "c&d")
            .query("e", "f");
        assert_eq!(r.url(), "http://h/p?a%20b=c%26d&e=f");
    }

    #[test]
    fn maps_statuses() {
        let h = vec![("retry-after".to_string(), "3".to_string())];
        let e = status_error(429, "http://h/", &h, b"slow down");
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after_ms, Some(3000));
        assert!(e.retryable);
        assert_eq!(e.provider_message.as_deref(), Some("slow down"));
        let e = status_error(
            401,
            "http://h/",
            &[],
            br#"{"type":"authentication_error","detail":"bad key"}"#,
        );
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert_eq!(e.provider_code.as_deref(), Some("authentication_error"));
        assert_eq!(e.provider_message.as_deref(), Some("bad key"));
        assert!(!e.retryable);
        let e = status_error(503, "http://h/", &[], b"");
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert!(e.retryable);
        assert_eq!(e.provider_message, None);
        assert_eq!(
            status_error(422, "u", &[], b"").kind,
            ErrorKind::InvalidInput
        );
        assert_eq!(status_error(413, "u", &[], b"").kind, ErrorKind::TooLarge);
        assert_eq!(status_error(409, "u", &[], b"").kind, ErrorKind::Conflict);
        assert_eq!(status_error(404, "u", &[], b"").kind, ErrorKind::NotFound);
        let long = vec![b'x'; 2000];
        let e = status_error(400, "u", &[], &long);
        assert_eq!(e.provider_message.map(|m| m.len()), Some(512));
    }

    #[test]
    fn retry_after_dates() {
        assert_eq!(parse_retry_after("120", 0), Some(120_000));
        let now = 1_445_412_480_000; // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now),
            Some(5000)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}

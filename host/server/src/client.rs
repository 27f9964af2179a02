//! A small async client for a running server: what the CLI's `tenants`, `swap`, `reload` and
//! `call` commands use. Plain `http://` only (the server does not speak TLS; put a proxy in
//! front of it for that).

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::ServerError;

/// The server the CLI talks to unless told otherwise.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// A response as received.
#[derive(Debug, Clone)]
pub struct ClientResponse {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl ClientResponse {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The body as JSON when the status is 2xx, else the server's error as [`ServerError::Api`].
    pub fn into_result(self) -> Result<serde_json::Value, ServerError> {
        let body = self.json();
        if (200..300).contains(&self.status) {
            return Ok(body);
        }
        let error = &body["error"];
        Err(ServerError::Api {
            status: self.status,
            code: error["code"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("http_{}", self.status)),
            message: error["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned()),
        })
    }
}

/// A client for one server, with an optional admin token.
#[derive(Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Client {
    /// A client for the server at `base` (`http://host:port`, with or without a trailing `/`).
    pub fn new(base: &str, token: Option<String>) -> Result<Self, ServerError> {
        let uri: Uri = base.parse().map_err(|e| ServerError::Url {
            url: base.to_string(),
            message: format!("{e}"),
        })?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(ServerError::Url {
                url: base.to_string(),
                message: "expected http://HOST[:PORT]".into(),
            });
        }
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
        Ok(Client {
            base: base.trim_end_matches('/').to_string(),
            token: token.filter(|t| !t.is_empty()),
            http,
        })
    }

    /// Sends a request; `path` starts with `/`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&'static str>,
        body: Bytes,
    ) -> Result<ClientResponse, ServerError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |message: String| ServerError::Unreachable {
            url: url.clone(),
            message,
        };
        let mut req = Request::builder().method(method).uri(&url);
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        if let Some(token) = &self.token {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| unreachable("the token is not a valid header value".into()))?;
            req = req.header(header::AUTHORIZATION, value);
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| unreachable(format!("bad request: {e}")))?;
        let response = self
            .http
            .request(req)
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| unreachable(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok(ClientResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<ClientResponse, ServerError> {
        self.send(Method::GET, path, None, Bytes::new()).await
    }

    /// `POST path` without a body (an action: `/admin/reload`).
    pub async fn post(&self, path: &str) -> Result<ClientResponse, ServerError> {
        self.send(Method::POST, path, None, Bytes::new()).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<ClientResponse, ServerError> {
        self.send(Method::DELETE, path, None, Bytes::new()).await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<ClientResponse, ServerError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.send(
            Method::POST,
            path,
            Some("application/json"),
            Bytes::from(bytes),
        )
        .await
    }

    /// `POST path` with a component upload.
    pub async fn post_wasm(&self, path: &str, bytes: Bytes) -> Result<ClientResponse, ServerError> {
        self.send(Method::POST, path, Some("application/wasm"), bytes)
            .await
    }
}

/// Percent-encodes a path segment (everything but unreserved characters).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An error and its sources, `a: b: c` (hyper's errors hide the useful part in the sources).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

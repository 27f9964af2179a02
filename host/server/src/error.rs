//! The server's errors: [`ServerError`] for what stops the server or the CLI's client, and
//! [`ApiError`], what a request is answered with when it fails.
//!
//! Two types because they travel differently: a `ServerError` is returned to the program that
//! runs the server, while an `ApiError` never leaves the request; it becomes a JSON body
//! `{"error": {"code", "message", "provider"}}` and a status. Host errors keep their own code
//! and status ([`switchyard_host::Error::code`], [`switchyard_host::Error::http_status`]): the
//! server adds only the codes of failures the host never sees (bad JSON, a body too large,
//! a route that does not exist, a missing token).

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use http_body_util::Full;
use hyper::Response;
use serde_json::json;
use switchyard_host::ProviderError;

/// What can stop the server, or fail in the CLI's HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listener could not be used (e.g. its address could not be read).
    #[error("listener: {0}")]
    Listener(#[source] std::io::Error),
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The `[server]` section of the configuration is invalid.
    #[error("configuration error in {origin}: {message}")]
    Config {
        /// The file (and key) involved.
        origin: String,
        /// What was wrong.
        message: String,
    },
    /// A host operation failed.
    #[error(transparent)]
    Host(#[from] switchyard_host::Error),
    /// The server URL given to the client is not an `http://` URL.
    #[error("invalid server URL '{url}': {message}")]
    Url {
        /// The URL given.
        url: String,
        /// What was wrong with it.
        message: String,
    },
    /// The request could not be sent or its answer not read.
    #[error("cannot reach {url}: {message}")]
    Unreachable {
        /// The URL requested.
        url: String,
        /// Why.
        message: String,
    },
    /// The server answered with an error body.
    #[error("server answered {status} {code}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error code from the body (or `http_<status>` when the body had none).
        code: String,
        /// The error message from the body.
        message: String,
    },
}

/// A failed request, as answered on the wire.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The machine-readable code, e.g. `bad_json`.
    pub code: &'static str,
    /// A message naming what was wrong.
    pub message: String,
    /// The contract's error record, when the provider failed (boxed: it is large and rare).
    pub provider: Option<Box<ProviderError>>,
    /// The `Allow` header of a 405.
    pub allow: Option<&'static str>,
    /// Whether to send `WWW-Authenticate: Bearer` (a 401).
    pub challenge: bool,
    /// Whether to close the connection after this answer (`Connection: close`): the request's
    /// body was not read to its end (a body that timed out), or the connection is one of the
    /// reserve's.
    pub close: bool,
    /// The `Retry-After` header, in seconds.
    pub retry_after_s: Option<u32>,
}

impl ApiError {
    /// An error of the server's own (not from the host).
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            provider: None,
            allow: None,
            challenge: false,
            close: false,
            retry_after_s: None,
        }
    }

    /// 400 `bad_json`: the body is not a JSON object.
    pub fn bad_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_json", message)
    }

    /// 404 `not_found`: no such route.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route for {path}"),
        )
    }

    /// 405 `method_not_allowed`, with the methods the route takes.
    pub fn method_not_allowed(method: &http::Method, allow: &'static str) -> Self {
        ApiError {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("method {method} not allowed here; use {allow}"),
            )
        }
    }

    /// 413 `body_too_large`.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// 401 `unauthorized`, with a bearer challenge.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError {
            challenge: true,
            ..Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
        }
    }

    /// 403 `forbidden`: the credentials are valid but do not open this resource (a gateway
    /// key of another tenant, or used outside its scope).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 408 `body_timeout`: the request body did not arrive in time; the connection is closed.
    pub fn body_timeout(limit: std::time::Duration) -> Self {
        ApiError {
            close: true,
            ..Self::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} ms",
                    limit.as_millis()
                ),
            )
        }
    }

    /// 503 `overloaded`: a connection of the reserve asked for something else than the health,
    /// metrics and admin routes; the connection is closed.
    pub fn overloaded(message: impl Into<String>) -> Self {
        ApiError {
            close: true,
            retry_after_s: Some(1),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", message)
        }
    }

    /// The JSON error body.
    pub fn body(&self) -> serde_json::Value {
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "provider": self.provider,
            }
        })
    }

    /// The response.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = crate::http::json_response(self.status, &self.body());
        if let Some(allow) = self.allow {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"switchyard\""),
            );
        }
        if self.close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<switchyard_host::Error> for ApiError {
    fn from(err: switchyard_host::Error) -> Self {
        let status =
            StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError {
            status,
            code: err.code(),
            message: err.to_string(),
            provider: err.provider().cloned().map(Box::new),
            allow: None,
            challenge: false,
            close: false,
            retry_after_s: None,
        }
    }
}

impl From<ServerError> for ApiError {
    /// A `[server]` section that does not load (on reload) answers like the host's own
    /// configuration errors: 500 `config_error`, naming the file and the key.
    fn from(err: ServerError) -> Self {
        match err {
            ServerError::Host(host) => host.into(),
            ServerError::Config { .. } => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "config_error",
                err.to_string(),
            ),
            other => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                other.to_string(),
            ),
        }
    }
}

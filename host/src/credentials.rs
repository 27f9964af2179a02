//! Credentials: secrets the host reads and injects into an adapter's outgoing requests.
//!
//! The adapter never holds a secret. Each credential belongs to one outbound target (scheme,
//! host, port) and says how the provider wants it: a bearer token, HTTP basic auth, a named
//! header, a query parameter, or a top-level field of a JSON body (PostHog's `api_key`). The
//! host adds it to a request only when the request goes to that target, and forbids the guest
//! to set the headers involved, so it can neither read nor spoof them.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use crate::outbound::target::{Target, TargetError};

/// Where a secret comes from. In TOML: `{ env = "NAME" }`, `{ file = "/run/secrets/x" }`, or
/// `{ value = "..." }` (for tests and demos only: the secret then sits in the file).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SecretSource {
    /// An environment variable of the host process.
    Env(String),
    /// A file whose content (trailing newline trimmed) is the secret.
    File(PathBuf),
    /// The secret itself.
    Value(String),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "env:{name}"),
            SecretSource::File(path) => write!(f, "file:{}", path.display()),
            SecretSource::Value(_) => f.write_str("value:<redacted>"),
        }
    }
}

impl SecretSource {
    /// Reads the secret now.
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        let value = match self {
            SecretSource::Env(name) => {
                std::env::var(name).map_err(|_| SecretError::Unset(name.clone()))?
            }
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| SecretError::File(path.clone(), e))?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
            SecretSource::Value(v) => v.clone(),
        };
        if value.is_empty() {
            return Err(SecretError::Empty(format!("{self:?}")));
        }
        Ok(Secret(Arc::from(value)))
    }
}

/// A secret value; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// A secret with this value.
    #[cfg(test)]
    pub(crate) fn new(value: &str) -> Secret {
        Secret(Arc::from(value))
    }

    /// The secret itself, for injection.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// How a provider wants its credential.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "inject", rename_all = "kebab-case")]
pub enum Injection {
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// `Authorization: Basic base64(<username>:<secret>)` (Twilio: account SID and auth token).
    Basic {
        /// The user name; not a secret.
        username: String,
    },
    /// `<name>: <secret>` (Algolia's `X-Algolia-API-Key`).
    Header {
        /// The header's name.
        name: String,
    },
    /// `?<name>=<secret>` appended to the query.
    Query {
        /// The parameter's name.
        name: String,
    },
    /// A top-level field of the JSON object body (PostHog's `api_key`).
    JsonBody {
        /// The field's name.
        field: String,
    },
}

/// One credential as configured: the target it belongs to, how to inject it, and its source.
#[derive(Debug, Clone, Deserialize)]
pub struct CredentialConfig {
    /// The target it is sent to, as `scheme://host[:port]`.
    pub host: String,
    /// Where the secret comes from.
    pub secret: SecretSource,
    /// How it is injected.
    #[serde(flatten)]
    pub inject: Injection,
}

/// A credential ready to inject.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The target it belongs to.
    pub target: Target,
    /// How it is injected.
    pub inject: Injection,
    /// The secret.
    pub secret: Secret,
}

/// The most body bytes the host reads to inject a JSON field.
pub const MAX_JSON_BODY: usize = 32 * 1024 * 1024;

impl Credential {
    /// Resolves a configured credential, reading its secret.
    pub fn from_config(cfg: &CredentialConfig) -> Result<Self, CredentialError> {
        let target = Target::parse(&cfg.host)?;
        match &cfg.inject {
            Injection::Header { name } => {
                HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| CredentialError::HeaderName(name.clone()))?;
            }
            Injection::JsonBody { field } | Injection::Query { name: field }
                if field.is_empty() =>
            {
                return Err(CredentialError::EmptyField)
            }
            _ => {}
        }
        Ok(Credential {
            target,
            inject: cfg.inject.clone(),
            secret: cfg.secret.resolve()?,
        })
    }

    /// The header this credential sets, which the guest must not be able to set itself.
    pub fn header(&self) -> Option<HeaderName> {
        match &self.inject {
            Injection::Bearer | Injection::Basic { .. } => Some(AUTHORIZATION),
            Injection::Header { name } => HeaderName::from_bytes(name.as_bytes()).ok(),
            Injection::Query { .. } | Injection::JsonBody { .. } => None,
        }
    }

    /// Whether the body must be rewritten (and so read whole first).
    pub fn needs_body(&self) -> bool {
        matches!(self.inject, Injection::JsonBody { .. })
    }

    /// Adds the credential to the request's head (headers, query).
    pub fn apply_head(&self, parts: &mut http::request::Parts) -> Result<(), InjectError> {
        let value = |s: String| HeaderValue::from_str(&s).map_err(|_| InjectError::HeaderValue);
        match &self.inject {
            Injection::Bearer => {
                let mut v = value(format!("Bearer {}", self.secret.expose()))?;
                v.set_sensitive(true);
                parts.headers.insert(AUTHORIZATION, v);
            }
            Injection::Basic { username } => {
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", self.secret.expose()));
                let mut v = value(format!("Basic {token}"))?;
                v.set_sensitive(true);
                parts.headers.insert(AUTHORIZATION, v);
            }
            Injection::Header { name } => {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| InjectError::HeaderName(name.clone()))?;
                let mut v = value(self.secret.expose().to_string())?;
                v.set_sensitive(true);
                parts.headers.insert(name, v);
            }
            Injection::Query { name } => {
                let pair = format!(
                    "{}={}",
                    utf8_percent_encode(name, QUERY_VALUE),
                    utf8_percent_encode(self.secret.expose(), QUERY_VALUE)
                );
                let pq = match parts.uri.path_and_query() {
                    Some(pq) => match pq.query() {
                        Some(q) if !q.is_empty() => format!("{}?{q}&{pair}", pq.path()),
                        _ => format!("{}?{pair}", pq.path()),
                    },
                    None => format!("/?{pair}"),
                };
                let mut uri = http::uri::Parts::from(parts.uri.clone());
                uri.path_and_query = Some(pq.parse().map_err(|_| InjectError::Uri)?);
                parts.uri = http::Uri::from_parts(uri).map_err(|_| InjectError::Uri)?;
            }
            Injection::JsonBody { .. } => {}
        }
        Ok(())
    }

    /// Sets the credential's field in a JSON object body; fixes `Content-Length`.
    pub fn apply_body(
        &self,
        parts: &mut http::request::Parts,
        body: Bytes,
    ) -> Result<Bytes, InjectError> {
        let Injection::JsonBody { field } = &self.inject else {
            return Ok(body);
        };
        let mut doc: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| InjectError::NotJson(field.clone(), e))?;
        let obj = doc
            .as_object_mut()
            .ok_or_else(|| InjectError::NotAnObject(field.clone()))?;
        obj.insert(
            field.clone(),
            serde_json::Value::String(self.secret.expose().to_string()),
        );
        let out = serde_json::to_vec(&doc).map_err(|e| InjectError::NotJson(field.clone(), e))?;
        parts
            .headers
            .insert(CONTENT_LENGTH, HeaderValue::from(out.len()));
        Ok(Bytes::from(out))
    }
}

/// What a query parameter's name and value are encoded with: all but RFC 3986's unreserved
/// characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The environment variable is not set.
    #[error("environment variable {0} is not set")]
    Unset(String),
    /// The file could not be read.
    #[error("cannot read secret file {path}: {source}", path = .0.display(), source = .1)]
    File(PathBuf, #[source] std::io::Error),
    /// The source holds an empty secret.
    #[error("the secret from {0} is empty")]
    Empty(String),
}

/// Why a configured credential cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// Its `host` is not an allowlist target.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// Its header name is not one.
    #[error("credential header name '{0}' is not a valid header name")]
    HeaderName(String),
    /// Its field or parameter name is empty.
    #[error("credential field/parameter name must not be empty")]
    EmptyField,
    /// Its secret could not be read.
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// Why a credential could not be put into a request (the request is then refused).
#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    /// The secret cannot stand in a header.
    #[error("the secret is not a valid header value")]
    HeaderValue,
    /// The header name is not one.
    #[error("invalid header name '{0}'")]
    HeaderName(String),
    /// The URI with the credential's query parameter is not a URI.
    #[error("cannot build the URI with the credential")]
    Uri,
    /// The body is not JSON.
    #[error("request body is not JSON, cannot add credential field '{0}': {1}")]
    NotJson(String, #[source] serde_json::Error),
    /// The request body could not be read.
    #[error("cannot read the request body: {0}")]
    Body(String),
    /// The body is JSON but not an object.
    #[error("request body is not a JSON object, cannot add credential field '{0}'")]
    NotAnObject(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cred(inject: Injection) -> Credential {
        Credential {
            target: Target::parse("https://api.example.com").expect("target"),
            inject,
            secret: Secret(Arc::from("s3cr3t")),
        }
    }

    fn parts(uri: &str) -> http::request::Parts {
        http::Request::post(uri)
            .body(())
            .expect("request")
            .into_parts()
            .0
    }

    #[test]
    fn basic_and_query_and_body() {
        let mut p = parts("https://api.example.com/x?a=1");
        cred(Injection::Basic {
            username: "AC1".into(),
        })
        .apply_head(&mut p)
        .expect("basic");
        assert_eq!(p.headers[AUTHORIZATION], "Basic QUMxOnMzY3IzdA==");
        cred(Injection::Query { name: "key".into() })
            .apply_head(&mut p)
            .expect("query");
        assert_eq!(
            p.uri.to_string(),
            "https://api.example.com/x?a=1&key=s3cr3t"
        );
        let c = cred(Injection::JsonBody {
            field: "api_key".into(),
        });
        let body = c
            .apply_body(
                &mut p,
                Bytes::from_static(b"{\"api_key\":\"spoof\",\"b\":1}"),
            )
            .expect("json");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["api_key"], "s3cr3t");
        assert_eq!(v["b"], 1);
        assert!(c.apply_body(&mut p, Bytes::from_static(b"[1]")).is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = cred(Injection::Bearer);
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert!(!format!("{:?}", SecretSource::Value("s3cr3t".into())).contains("s3cr3t"));
    }
}

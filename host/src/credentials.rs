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
use serde::Deserialize;

use crate::outbound::Target;

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
    pub fn resolve(&self) -> Result<Secret, String> {
        let value = match self {
            SecretSource::Env(name) => std::env::var(name)
                .map_err(|_| format!("environment variable {name} is not set"))?,
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
            SecretSource::Value(v) => v.clone(),
        };
        if value.is_empty() {
            return Err(format!("the secret from {self:?} is empty"));
        }
        Ok(Secret(Arc::from(value)))
    }
}

/// A secret value; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
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
    pub fn from_config(cfg: &CredentialConfig) -> Result<Self, String> {
        let target = Target::parse(&cfg.host)?;
        match &cfg.inject {
            Injection::Header { name } => {
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    format!("credential header name '{name}' is not a valid header name")
                })?;
            }
            Injection::JsonBody { field } | Injection::Query { name: field }
                if field.is_empty() =>
            {
                return Err("credential field/parameter name must not be empty".into())
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
    pub fn apply_head(&self, parts: &mut http::request::Parts) -> Result<(), String> {
        let value = |s: String| {
            HeaderValue::from_str(&s)
                .map_err(|_| "the secret is not a valid header value".to_string())
        };
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
                    .map_err(|_| format!("invalid header name '{name}'"))?;
                let mut v = value(self.secret.expose().to_string())?;
                v.set_sensitive(true);
                parts.headers.insert(name, v);
            }
            Injection::Query { name } => {
                let pair = format!("{}={}", urlencode(name), urlencode(self.secret.expose()));
                let pq = match parts.uri.path_and_query() {
                    Some(pq) => match pq.query() {
                        Some(q) if !q.is_empty() => format!("{}?{q}&{pair}", pq.path()),
                        _ => format!("{}?{pair}", pq.path()),
                    },
                    None => format!("/?{pair}"),
                };
                let mut uri = http::uri::Parts::from(parts.uri.clone());
                uri.path_and_query = Some(
                    pq.parse()
                        .map_err(|_| "cannot build the query with the credential".to_string())?,
                );
                parts.uri = http::Uri::from_parts(uri)
                    .map_err(|_| "cannot build the URI with the credential".to_string())?;
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
    ) -> Result<Bytes, String> {
        let Injection::JsonBody { field } = &self.inject else {
            return Ok(body);
        };
        let mut doc: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            format!("request body is not JSON, cannot add credential field '{field}': {e}")
        })?;
        let obj = doc.as_object_mut().ok_or_else(|| {
            format!("request body is not a JSON object, cannot add credential field '{field}'")
        })?;
        obj.insert(
            field.clone(),
            serde_json::Value::String(self.secret.expose().to_string()),
        );
        let out = serde_json::to_vec(&doc).map_err(|e| e.to_string())?;
        parts
            .headers
            .insert(CONTENT_LENGTH, HeaderValue::from(out.len()));
        Ok(Bytes::from(out))
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
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

//! The admin API: `/admin`, for operators. Off unless an admin token is configured (then every
//! `/admin` path answers 404, as if it did not exist); on, every request needs
//! `Authorization: Bearer <token>` (401 otherwise, before any route is looked at).
//!
//! - `GET /admin/bindings`: every binding ([`switchyard_host::BindingInfo`]).
//! - `POST /admin/tenants/{tenant}/{service}/swap`: hot-swaps the component, from an
//!   `application/wasm` upload (named by `?name=`, else `upload`) or from
//!   `{"path": "/abs/file.wasm"}` on the server's disk.
//! - `POST /admin/reload`: re-reads the configuration file the server was started with:
//!   tenants and bindings, and the gateway keys of `[server]` (the same as SIGHUP).
//! - `GET /admin/keys`, `POST /admin/keys`, `DELETE /admin/keys/{id}`: the gateway keys
//!   ([`crate::admin_keys`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use http::{header, Method, StatusCode};
use hyper::body::Incoming;
use hyper::Request;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchyard_host::{ComponentSource, Service};

use crate::config::ServerSettings;
use crate::error::ApiError;
use crate::http::{
    detach, json_object, json_response, json_type, query_param, read_body, HttpResponse,
};
use crate::server::State;

/// The largest component upload: 128 MiB.
pub const MAX_UPLOAD_BYTES: usize = 128 * 1024 * 1024;

/// The admin token, held as its SHA-256 so comparisons take the same time whatever the
/// length or content of the token presented.
#[derive(Clone)]
pub struct AdminToken([u8; 32]);

impl AdminToken {
    /// Wraps the configured token.
    pub fn new(token: &str) -> Self {
        AdminToken(Sha256::digest(token.as_bytes()).into())
    }

    /// Whether `presented` is the token, in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.0.ct_eq(&digest).into()
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// Checks the bearer token of a request.
pub fn authorize(token: &AdminToken, headers: &http::HeaderMap) -> Result<(), ApiError> {
    let presented = match crate::http::bearer(headers) {
        Ok(Some(presented)) => presented,
        Ok(None) => {
            return Err(ApiError::unauthorized(
                "the admin API needs an Authorization: Bearer <token> header",
            ))
        }
        Err(message) => return Err(ApiError::unauthorized(message)),
    };
    if token.matches(presented) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("wrong admin token"))
    }
}

/// Handles an authorized request whose path starts with `/admin/`; `segments` excludes
/// `admin`.
pub(crate) async fn handle(
    state: &Arc<State>,
    req: Request<Incoming>,
    segments: &[String],
) -> Result<HttpResponse, ApiError> {
    let runtime = &state.runtime;
    match segments {
        [k, rest @ ..] if k == "keys" => crate::admin_keys::handle(state, req, rest).await,
        [b] if b == "bindings" => {
            if req.method() != Method::GET && req.method() != Method::HEAD {
                return Err(ApiError::method_not_allowed(req.method(), "GET, HEAD"));
            }
            Ok(json_response(
                StatusCode::OK,
                &json!({ "bindings": runtime.bindings() }),
            ))
        }
        [t, tenant, service, s] if t == "tenants" && s == "swap" => {
            if req.method() != Method::POST {
                return Err(ApiError::method_not_allowed(req.method(), "POST"));
            }
            let service: Service = service
                .parse()
                .map_err(|_| switchyard_host::Error::UnknownService(service.clone()))?;
            let source = component_source(req).await?;
            let (rt, t) = (runtime.clone(), tenant.clone());
            let report = detach(async move { rt.swap(&t, service, source).await }).await?;
            let drained = match report.drained {
                Ok(()) => json!({ "ok": true }),
                Err(error) => json!({ "ok": false, "error": error }),
            };
            Ok(json_response(
                StatusCode::OK,
                &json!({
                    "tenant": tenant,
                    "service": service.as_str(),
                    "old_digest": report.old_digest,
                    "new_digest": report.new_digest,
                    "drained": drained,
                }),
            ))
        }
        [r] if r == "reload" => {
            if req.method() != Method::POST {
                return Err(ApiError::method_not_allowed(req.method(), "POST"));
            }
            let state = state.clone();
            // On its own task: a client that hangs up does not stop a reload half-way.
            let report = tokio::spawn(async move { reload(&state).await })
                .await
                .map_err(|e| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        format!("the reload's task failed: {e}"),
                    )
                })??;
            Ok(json_response(StatusCode::OK, &report))
        }
        _ => Err(ApiError::not_found(req.uri().path())),
    }
}

/// Re-reads the configuration file: the `[server]` section first (its keys; a section that
/// does not load changes nothing), then tenants and bindings, then the keys. Answers
/// `{"added", "replaced", "removed", "unchanged", "keys": {"added", "removed", "changed"}}`.
pub(crate) async fn reload(state: &State) -> Result<serde_json::Value, ApiError> {
    let Some(path) = state.config_path.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_config",
            "the server was started without a configuration file; nothing to reload",
        ));
    };
    let settings = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || ServerSettings::load(&path))
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    format!("reading the configuration failed: {e}"),
                )
            })??
    };
    let runtime = state.runtime.clone();
    let report = detach(async move { runtime.reload(&path).await }).await?;
    let keys = state.keys.reload(settings.keys);
    Ok(json!({
        "added": report.added,
        "replaced": report.replaced,
        "removed": report.removed,
        "unchanged": report.unchanged,
        "keys": { "added": keys.added, "removed": keys.removed, "changed": keys.changed },
    }))
}

/// [`reload`], logging its outcome (for SIGHUP); `why` names what asked for it.
pub(crate) async fn reload_logged(state: &State, why: &'static str) {
    match reload(state).await {
        Ok(report) => tracing::info!(trigger = why, report = %report, "configuration reloaded"),
        Err(err) => tracing::error!(
            trigger = why,
            code = err.code,
            message = %err.message,
            "reload failed; nothing changed"
        ),
    }
}

/// The component of a swap: an `application/wasm` upload or a JSON `{"path": ...}`.
async fn component_source(req: Request<Incoming>) -> Result<ComponentSource, ApiError> {
    let (parts, body) = req.into_parts();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match content_type.as_str() {
        "application/wasm" => {
            let name = query_param(parts.uri.query(), "name").unwrap_or_else(|| "upload".into());
            if name.is_empty()
                || name.len() > 128
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_name",
                    "?name= must be 1 to 128 characters of letters, digits, '-', '_' and '.'",
                ));
            }
            let bytes = read_body(&parts, body, MAX_UPLOAD_BYTES).await?;
            if bytes.is_empty() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_component",
                    "the upload is empty",
                ));
            }
            Ok(ComponentSource::Bytes {
                name,
                bytes: Arc::from(bytes.as_ref()),
            })
        }
        "application/json" => {
            let body = read_body(&parts, body, crate::gateway::MAX_BODY_BYTES).await?;
            let value = json_object(&body)?;
            let path = match value.get("path") {
                Some(serde_json::Value::String(p)) => PathBuf::from(p),
                Some(other) => {
                    return Err(ApiError::bad_json(format!(
                        "\"path\" must be a string, not {}",
                        json_type(other)
                    )))
                }
                None => return Err(ApiError::bad_json("the body needs a \"path\" string")),
            };
            if !Path::new(&path).is_absolute() {
                return Err(ApiError::bad_json(format!(
                    "\"path\" must be absolute: {}",
                    path.display()
                )));
            }
            Ok(ComponentSource::Path(path))
        }
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "a swap takes Content-Type application/wasm (an upload) or application/json \
                 ({{\"path\": ...}}), not '{other}'"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare() {
        let token = AdminToken::new("s3cret");
        assert!(token.matches("s3cret"));
        assert!(!token.matches("s3cre"));
        assert!(!token.matches(""));
        assert!(!format!("{token:?}").contains("s3cret"));
    }

    #[test]
    fn bearer_headers() {
        let token = AdminToken::new("t");
        let mut headers = http::HeaderMap::new();
        assert_eq!(
            authorize(&token, &headers).err().map(|e| e.status.as_u16()),
            Some(401)
        );
        headers.insert(
            header::AUTHORIZATION,
            http::HeaderValue::from_static("Basic t"),
        );
        assert!(authorize(&token, &headers).is_err());
        headers.insert(
            header::AUTHORIZATION,
            http::HeaderValue::from_static("bearer t"),
        );
        assert!(authorize(&token, &headers).is_ok());
    }
}

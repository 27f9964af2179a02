//! The admin API's gateway keys: `/admin/keys`.
//!
//! - `GET /admin/keys` → `{"required": bool, "keys": [{"id", "tenant", "services",
//!   "functions", "origin": "file" | "admin"}]}`; never a secret.
//! - `POST /admin/keys` with `{"tenant", "id"?, "key"?, "services"?, "functions"?}` → 201
//!   with the key's listing, plus `"key"`: the secret, once, when the server generated it
//!   (no `key` given). The key works at once.
//! - `DELETE /admin/keys/{id}` → `{"revoked": {..listing}}`; it fails at once. A key of the
//!   file stays revoked across reloads while the file has it with the same secret.

use std::sync::Arc;

use http::{Method, StatusCode};
use hyper::body::Incoming;
use hyper::Request;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{generate_key, AddKeyError, GatewayKey, KeyInfo, KeyOrigin, Scope};
use crate::error::ApiError;
use crate::http::{json_object, json_response, read_body, HttpResponse};
use crate::server::State;

/// The body of `POST /admin/keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    tenant: String,
    id: Option<String>,
    key: Option<String>,
    services: Option<Vec<String>>,
    functions: Option<Vec<String>>,
}

/// Handles `/admin/keys...`; `segments` are the ones after `keys`.
pub(crate) async fn handle(
    state: &Arc<State>,
    req: Request<Incoming>,
    segments: &[String],
) -> Result<HttpResponse, ApiError> {
    match (segments, req.method()) {
        ([], &Method::GET | &Method::HEAD) => {
            let keys: Vec<_> = state.keys.list().iter().map(KeyInfo::to_json).collect();
            Ok(json_response(
                StatusCode::OK,
                &json!({ "required": state.keys.required(), "keys": keys }),
            ))
        }
        ([], &Method::POST) => create(state, req).await,
        ([], method) => Err(ApiError::method_not_allowed(method, "GET, HEAD, POST")),
        ([id], &Method::DELETE) => match state.keys.revoke(id) {
            Some(info) => {
                tracing::info!(key = %info.id, tenant = %info.tenant, "gateway key revoked");
                Ok(json_response(
                    StatusCode::OK,
                    &json!({ "revoked": info.to_json() }),
                ))
            }
            None => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_key",
                format!("no gateway key named {id:?}"),
            )),
        },
        ([_], method) => Err(ApiError::method_not_allowed(method, "DELETE")),
        _ => Err(ApiError::not_found(req.uri().path())),
    }
}

async fn create(state: &State, req: Request<Incoming>) -> Result<HttpResponse, ApiError> {
    let (parts, body) = req.into_parts();
    let body = read_body(&parts, body, 64 * 1024).await?;
    let new: NewKey = serde_json::from_value(json_object(&body)?)
        .map_err(|e| ApiError::bad_json(format!("a new key: {e}")))?;
    if !state
        .runtime
        .bindings()
        .iter()
        .any(|b| b.tenant == new.tenant)
    {
        return Err(switchyard_host::Error::UnknownTenant(new.tenant).into());
    }
    let invalid = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_key", m);
    let scope = Scope::new(new.services.as_deref(), new.functions.as_deref()).map_err(invalid)?;
    let id = match new.id {
        Some(id) => id,
        None => format!("key-{}", &generate_key()?[3..15]),
    };
    let (secret, generated) = match new.key {
        Some(key) => (key, false),
        None => (generate_key()?, true),
    };
    let key = GatewayKey::new(&id, &new.tenant, &secret, scope).map_err(invalid)?;
    let info = KeyInfo {
        id: key.id.clone(),
        tenant: key.tenant.clone(),
        scope: key.scope.clone(),
        origin: KeyOrigin::Admin,
    };
    state.keys.add(key).map_err(|e| {
        let code = match e {
            AddKeyError::DuplicateId(_) => "key_exists",
            AddKeyError::DuplicateSecret => "key_in_use",
        };
        ApiError::new(StatusCode::CONFLICT, code, e.to_string())
    })?;
    tracing::info!(key = %info.id, tenant = %info.tenant, "gateway key added");
    let mut body = info.to_json();
    if generated {
        body["key"] = json!(secret);
    }
    Ok(json_response(StatusCode::CREATED, &body))
}

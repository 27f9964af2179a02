//! The gateway: `/v1`, every contract function of every tenant over HTTP.
//!
//! - `POST /v1/tenants/{tenant}/{service}/{function}` with a JSON object of arguments (keyed
//!   by the WIT parameter names) calls the function through [`Runtime::invoke_json`] and
//!   answers `{"result": ...}`. There are no per-function routes: a new contract function is
//!   reachable as soon as the host knows it.
//! - `GET /v1/services` lists every service's functions and their parameters.
//! - `/v1/signed/...` and `/v1/public/...`: signed URLs and public objects (see
//!   [`crate::signed`]). They need no gateway key: the signature (or the bucket's public
//!   setting) is their authorization.
//!
//! When gateway keys are required ([`crate::auth`]), the calls need a key of the tenant
//! whose scope has the function (401 without a valid key, 403 for another tenant's key or
//! one used outside its scope), and the list of services any valid key.

use http::{Method, StatusCode};
use hyper::body::Incoming;
use hyper::Request;
use serde_json::json;
use switchyard_host::{Runtime, Service};

use crate::auth::Target;
use crate::error::ApiError;
use crate::http::{json_object, json_response, read_body, HttpResponse};
use crate::server::State;

/// The largest gateway request body: 16 MiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Handles a request whose path starts with `/v1/`; `segments` excludes `v1`.
pub(crate) async fn handle(
    state: &State,
    req: Request<Incoming>,
    segments: &[String],
) -> Result<HttpResponse, ApiError> {
    let runtime = &state.runtime;
    let authorize = |req: &Request<Incoming>, target: Target<'_>| {
        state.keys.authorize(req.headers(), target, &state.metrics)
    };
    match segments {
        [s] if s == "services" => {
            if req.method() != Method::GET && req.method() != Method::HEAD {
                return Err(ApiError::method_not_allowed(req.method(), "GET, HEAD"));
            }
            authorize(&req, Target::Any)?;
            Ok(json_response(StatusCode::OK, &services(runtime)))
        }
        [t, tenant, service, function] if t == "tenants" => {
            if req.method() != Method::POST {
                return Err(ApiError::method_not_allowed(req.method(), "POST"));
            }
            let Ok(service) = service.parse::<Service>() else {
                authorize(&req, Target::Any)?;
                return Err(switchyard_host::Error::UnknownService(service.clone()).into());
            };
            authorize(
                &req,
                Target::Call {
                    tenant: tenant.as_str(),
                    service,
                    function: function.as_str(),
                },
            )?;
            let (parts, body) = req.into_parts();
            let body = read_body(&parts, body, MAX_BODY_BYTES).await?;
            // Bounded before it is parsed: the values a body may make, not only its bytes.
            switchyard_host::json::check_value_count(&body).map_err(|e| {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
            })?;
            let args = json_object(&body)?;
            // On its own task: a client that hangs up does not cancel a call half-way.
            let (runtime, tenant, function) = (runtime.clone(), tenant.clone(), function.clone());
            let result = crate::http::detach(async move {
                runtime.invoke_json(&tenant, service, &function, args).await
            })
            .await?;
            Ok(json_response(StatusCode::OK, &json!({ "result": result })))
        }
        [s, rest @ ..] if s == "signed" => crate::signed::handle(runtime, req, rest).await,
        [s, rest @ ..] if s == "public" => crate::signed::public(runtime, req, rest).await,
        _ => Err(ApiError::not_found(req.uri().path())),
    }
}

/// `{"services": [{"name", "functions": [{"name", "params"}]}]}` for every service (the functions are read from a bound component: a service no tenant
/// binds lists none).
fn services(runtime: &Runtime) -> serde_json::Value {
    let services: Vec<_> = Service::ALL
        .into_iter()
        .map(|service| json!({ "name": service.as_str(), "functions": runtime.functions(service) }))
        .collect();
    json!({ "services": services })
}

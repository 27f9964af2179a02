//! Routing: which listener and which connection may reach which routes, the health, readiness
//! and metrics routes, and the request log.
//!
//! | route | gateway listener | admin listener | a reserve connection |
//! |---|---|---|---|
//! | `/healthz`, `/readyz` | yes | yes | yes |
//! | `/metrics`, `/admin` | yes, unless there is an admin listener | yes | yes |
//! | `/v1` | yes | no (404) | no (503 `overloaded`) |

use std::sync::Arc;
use std::time::Instant;

use http::{Method, StatusCode};
use hyper::body::Incoming;
use hyper::Request;
use serde_json::json;
use tracing::Instrument;

use crate::error::ApiError;
use crate::http::{json_response, segments, BodyDeadline, HttpResponse};
use crate::server::State;

/// Which listener a connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The gateway's (`[server] listen`).
    Gateway,
    /// The admin listener (`[server] admin_listen`).
    Admin,
}

impl Role {
    /// The `listener` label of the connection metrics.
    pub fn label(self) -> &'static str {
        match self {
            Role::Gateway => "gateway",
            Role::Admin => "admin",
        }
    }
}

/// What the server knows of a request's connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    /// Its listener.
    pub role: Role,
    /// Whether it was admitted from the reserve (health, metrics and admin routes only).
    pub reserve: bool,
}

/// The kinds of routes, by first path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Health,
    Ready,
    Metrics,
    Admin,
    Gateway,
    Other,
}

/// Routes one request and logs it in a span (method, path, status, elapsed; never bodies,
/// queries or headers).
pub(crate) async fn route(
    state: &Arc<State>,
    conn: ConnInfo,
    mut req: Request<Incoming>,
) -> HttpResponse {
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        status = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty,
    );
    let start = Instant::now();
    req.extensions_mut().insert(BodyDeadline {
        at: tokio::time::Instant::now() + state.body_timeout,
        limit: state.body_timeout,
    });
    let response = async {
        match dispatch(state, conn, req).await {
            Ok(response) => response,
            Err(err) => {
                if err.code == "body_timeout" {
                    state.metrics.body_timeout();
                }
                if err.status.is_server_error() {
                    tracing::warn!(code = err.code, message = %err.message, "request failed");
                } else {
                    tracing::debug!(code = err.code, message = %err.message, "request refused");
                }
                err.into_response()
            }
        }
    }
    .instrument(span.clone())
    .await;
    let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
    span.record("status", response.status().as_u16());
    span.record("elapsed_ms", elapsed_ms);
    span.in_scope(|| tracing::info!(status = response.status().as_u16(), elapsed_ms, "request"));
    response
}

async fn dispatch(
    state: &Arc<State>,
    conn: ConnInfo,
    req: Request<Incoming>,
) -> Result<HttpResponse, ApiError> {
    let Some(segments) = segments(req.uri().path()) else {
        return Err(ApiError::not_found(req.uri().path()));
    };
    let (first, rest) = match segments.split_first() {
        Some((first, rest)) => (first.as_str(), rest),
        None => ("", &segments[..]),
    };
    let area = match (first, rest.is_empty()) {
        ("healthz", true) => Area::Health,
        ("readyz", true) => Area::Ready,
        ("metrics", true) => Area::Metrics,
        ("admin", _) => Area::Admin,
        ("v1", _) => Area::Gateway,
        _ => Area::Other,
    };
    let served = match (conn.role, area) {
        (Role::Admin, Area::Health | Area::Ready | Area::Metrics | Area::Admin) => true,
        (Role::Admin, _) => false,
        (Role::Gateway, Area::Metrics | Area::Admin) => !state.split_admin,
        (Role::Gateway, _) => true,
    };
    if !served {
        return Err(ApiError::not_found(req.uri().path()));
    }
    if conn.reserve && matches!(area, Area::Gateway | Area::Other) {
        return Err(ApiError::overloaded(
            "the server is at its connection limit for this client or overall; this connection \
             serves only /healthz, /readyz, /metrics and /admin",
        ));
    }
    match area {
        Area::Health => {
            get_only(&req)?;
            Ok(json_response(StatusCode::OK, &json!({ "status": "ok" })))
        }
        Area::Ready => {
            get_only(&req)?;
            let bindings = state.runtime.health_report().await;
            let ready = bindings.iter().all(|b| b.ok);
            let status = if ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            // Protected: the detail (adapters, provider hosts) only for the admin token.
            let detail = !state.protect_ops || admin_authorized(state, &req).is_ok();
            let body = if detail {
                json!({ "ready": ready, "bindings": bindings })
            } else {
                json!({ "ready": ready })
            };
            Ok(json_response(status, &body))
        }
        Area::Metrics => {
            get_only(&req)?;
            if state.protect_ops {
                admin_authorized(state, &req)?;
            }
            let mut text = state.metrics.render();
            text.push_str(&state.runtime.prometheus_metrics());
            Ok(crate::http::text_response(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                text,
            ))
        }
        Area::Gateway => crate::gateway::handle(state, req, rest).await,
        Area::Admin => {
            admin_authorized(state, &req)?;
            crate::admin::handle(state, req, rest).await
        }
        Area::Other => Err(ApiError::not_found(req.uri().path())),
    }
}

/// 405 unless `GET` or `HEAD`.
fn get_only(req: &Request<Incoming>) -> Result<(), ApiError> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::method_not_allowed(req.method(), "GET, HEAD"));
    }
    Ok(())
}

/// Checks the admin token: 404 when the admin API is off, 401 without the right token.
fn admin_authorized(state: &State, req: &Request<Incoming>) -> Result<(), ApiError> {
    let Some(token) = &state.admin_token else {
        return Err(ApiError::not_found(req.uri().path()));
    };
    crate::admin::authorize(token, req.headers())
}

//! The HTTP/1.1 server: the accept loop, graceful shutdown, routing and request logging.

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;
use switchyard_host::{Runtime, ShutdownReport};
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::admin::{self, AdminToken};
use crate::error::{ApiError, ServerError};
use crate::gateway;
use crate::http::{json_response, segments, HttpResponse};

/// How long requests in flight get to finish once shutdown starts; after that their
/// connections are closed. Calls already inside the runtime still finish (the runtime's
/// shutdown waits for them), they just cannot answer.
pub const GRACE_PERIOD: Duration = Duration::from_secs(30);

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What [`serve`] needs besides the runtime.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// The admin API's bearer token; `None` turns the admin API off (404).
    pub admin_token: Option<String>,
    /// The configuration file the runtime was built from, for `POST /admin/reload`.
    pub config_path: Option<PathBuf>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("admin", &self.admin_token.is_some())
            .field("config_path", &self.config_path)
            .finish()
    }
}

/// What every request sees.
struct State {
    runtime: Runtime,
    admin_token: Option<AdminToken>,
    config_path: Option<Arc<PathBuf>>,
}

/// Serves HTTP/1.1 on `listener` until `shutdown` resolves; then stops accepting, lets the
/// requests in flight finish (for at most [`GRACE_PERIOD`]), shuts the runtime down (which
/// delivers buffered work) and returns the runtime's report.
pub async fn serve(
    runtime: Runtime,
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<ShutdownReport, ServerError> {
    let addr = listener.local_addr().map_err(ServerError::Listener)?;
    let state = Arc::new(State {
        runtime: runtime.clone(),
        admin_token: opts
            .admin_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(AdminToken::new),
        config_path: opts.config_path.map(Arc::new),
    });
    tracing::info!(%addr, admin = state.admin_token.is_some(), "switchyard listening");
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(err) => {
                        // Usually out of file descriptors: back off instead of spinning.
                        tracing::warn!(cause = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let state = state.clone();
                let service = service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(route(&state, req).await) }
                });
                let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(err) = conn.await {
                        tracing::debug!(cause = %err, %peer, "connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; finishing requests in flight");
    if tokio::time::timeout(GRACE_PERIOD, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(grace = ?GRACE_PERIOD, "requests still in flight after the grace period; closing them");
    }
    tracing::info!("delivering buffered work");
    Ok(runtime.shutdown().await)
}

/// Routes one request and logs it in a span (method, path, status, elapsed; never bodies,
/// queries or headers).
async fn route(state: &State, req: Request<Incoming>) -> HttpResponse {
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        status = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty,
    );
    let start = Instant::now();
    let response = async {
        match dispatch(state, req).await {
            Ok(response) => response,
            Err(err) => {
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

async fn dispatch(state: &State, req: Request<Incoming>) -> Result<HttpResponse, ApiError> {
    let Some(segments) = segments(req.uri().path()) else {
        return Err(ApiError::not_found(req.uri().path()));
    };
    match segments.split_first() {
        Some((first, [])) if first == "healthz" => {
            if req.method() != Method::GET && req.method() != Method::HEAD {
                return Err(ApiError::method_not_allowed(req.method(), "GET, HEAD"));
            }
            Ok(json_response(StatusCode::OK, &json!({ "status": "ok" })))
        }
        Some((first, [])) if first == "readyz" => {
            if req.method() != Method::GET && req.method() != Method::HEAD {
                return Err(ApiError::method_not_allowed(req.method(), "GET, HEAD"));
            }
            let bindings = state.runtime.health_report().await;
            let ready = bindings.iter().all(|b| b.ok);
            let status = if ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            Ok(json_response(
                status,
                &json!({ "ready": ready, "bindings": bindings }),
            ))
        }
        Some((first, [])) if first == "metrics" => {
            if req.method() != Method::GET && req.method() != Method::HEAD {
                return Err(ApiError::method_not_allowed(req.method(), "GET, HEAD"));
            }
            Ok(crate::http::text_response(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                state.runtime.prometheus_metrics(),
            ))
        }
        Some((first, rest)) if first == "v1" => gateway::handle(&state.runtime, req, rest).await,
        Some((first, rest)) if first == "admin" => {
            let Some(token) = &state.admin_token else {
                return Err(ApiError::not_found(req.uri().path()));
            };
            admin::authorize(token, req.headers())?;
            admin::handle(&state.runtime, state.config_path.as_ref(), req, rest).await
        }
        _ => Err(ApiError::not_found(req.uri().path())),
    }
}

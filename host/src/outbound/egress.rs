//! Pooled outbound connections: one keep-alive HTTP client per binding generation.
//!
//! Before this, every request an adapter sent opened its own TCP (and TLS) connection, as
//! `wasmtime_wasi_http::default_send_request` does: a handshake per call, and thousands of
//! sockets in `TIME_WAIT` under load. An [`Egress`] keeps connections open between requests:
//! HTTP/1.1 keep-alive, or HTTP/2 where the server offers it by ALPN, over rustls.
//!
//! The client is hyper-util's pooled client (the pool reqwest itself is built on) with
//! hyper-rustls, rather than reqwest: reqwest is a user agent (it adds an `Accept` header,
//! follows redirects, may decompress), while the host must send exactly the request the
//! guest built and hand back exactly what came. hyper-util drops a connection that broke
//! instead of reusing it, and retries on a fresh one only a request that was never sent.
//!
//! Each generation of each binding has its own [`Egress`], made on its first request, so a
//! connection is reused across the calls and instances of one binding and never across
//! tenants or bindings. The binding's limits cap it: at most
//! `limits.max_connections_per_host` requests in flight to one host (and so at most that
//! many connections), idle connections closed after `limits.idle_connection_ms`.
//!
//! The allowlist, credentials and redaction stay in [`super::hook`]: this module only
//! carries the request that hook has checked.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

use super::proxy::{OutboundProxy, ProxyConnector};
use super::tls::TrustedCa;
use crate::limits::Limits;

/// How long connecting (TCP and TLS) may take when the guest sets no `connect-timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A generation's [`Egress`], made on its first outbound request (so a binding that never
/// sends one, or waits idle, costs no client).
pub(crate) struct LazyEgress {
    limits: Limits,
    trusted: TrustedCa,
    proxy: OutboundProxy,
    made: OnceLock<Result<Egress, String>>,
}

impl LazyEgress {
    /// The egress a generation under `limits` trusting `trusted` will have.
    pub fn new(limits: Limits, trusted: TrustedCa, proxy: OutboundProxy) -> Self {
        LazyEgress {
            limits,
            trusted,
            proxy,
            made: OnceLock::new(),
        }
    }

    /// The extra CAs its TLS trusts.
    pub fn trusted(&self) -> &TrustedCa {
        &self.trusted
    }

    /// The client, made now if this is the first request.
    pub fn get(&self) -> Result<&Egress, HttpError> {
        self.made
            .get_or_init(|| {
                Egress::new(&self.limits, &self.trusted, &self.proxy).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| HttpError::InternalError(Some(format!("outbound TLS setup: {e}"))))
    }
}

/// How many hosts' caps are remembered before those with nothing in flight are forgotten.
const MAX_HOSTS: usize = 256;

/// One binding generation's outbound HTTP client and its per-host caps.
pub(crate) struct Egress {
    client: Client<HttpsConnector<ProxyConnector>, WasiBody>,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Egress {
    /// A client under `limits`, trusting the platform's roots and `trusted`, connecting
    /// through `proxy` where it says so.
    pub fn new(
        limits: &Limits,
        trusted: &TrustedCa,
        proxy: &OutboundProxy,
    ) -> Result<Self, rustls::Error> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(trusted.client_config()?)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(proxy.connector(http));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(limits.idle_connection())
            .pool_max_idle_per_host(match limits.idle_connection_ms {
                0 => 0,
                _ => limits.max_connections_per_host as usize,
            })
            .build(https);
        Ok(Egress {
            client,
            per_host: (limits.max_connections_per_host as usize).max(1),
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// Sends `request` (absolute URI, already checked and with its credentials) on a pooled
    /// connection, honouring the guest's timeouts: connecting and the first byte within
    /// `connect-timeout` + `first-byte-timeout`, and at most `between-bytes-timeout` between
    /// two frames of the response body.
    pub async fn send(
        &self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<http::Response<WasiBody>, HttpError> {
        let permit = self.slot(request.uri()).acquire_owned().await.ok();
        let options = options.unwrap_or_default();
        let first_byte = options
            .connect_timeout
            .unwrap_or(CONNECT_TIMEOUT)
            .saturating_add(
                options
                    .first_byte_timeout
                    .unwrap_or(Duration::from_secs(600)),
            );
        let between = options
            .between_bytes_timeout
            .unwrap_or(Duration::from_secs(600));
        let response = tokio::time::timeout(first_byte, self.client.request(request))
            .await
            .map_err(|_| HttpError::ConnectionReadTimeout)?
            .map_err(|e| error_of(&e))?;
        Ok(response.map(|incoming| {
            Timed {
                incoming,
                between,
                sleep: Box::pin(tokio::time::sleep(between)),
                _permit: permit,
            }
            .boxed_unsync()
        }))
    }

    /// The semaphore capping requests in flight to `uri`'s scheme and authority.
    fn slot(&self, uri: &http::Uri) -> Arc<Semaphore> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map(|a| a.as_str()).unwrap_or("")
        );
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if hosts.len() >= MAX_HOSTS && !hosts.contains_key(&key) {
            // A wildcard allowlist entry admits any number of hosts: forget the idle ones.
            hosts.retain(|_, gate| Arc::strong_count(gate) > 1);
        }
        hosts
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }
}

/// What `wasi:http` should tell the guest about a failed request: the TLS failure when
/// there is one, else the connection's I/O error (refused, reset, unreachable).
///
/// The cause chain is walked by hand: hyper-rustls wraps tokio-rustls's `io::Error` (which
/// wraps the `rustls::Error`) in another `io::Error`, and `io::Error::source` skips the error
/// it wraps, so the walk steps into each `io::Error`'s wrapped error instead.
fn error_of(e: &hyper_util::client::legacy::Error) -> HttpError {
    let mut first_io: Option<&std::io::Error> = None;
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(cause) = next {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return match tls {
                rustls::Error::InvalidCertificate(_) => HttpError::TlsCertificateError,
                rustls::Error::AlertReceived(alert) => HttpError::TlsAlertReceived {
                    alert_id: None,
                    alert_message: Some(format!("{alert:?}")),
                },
                _ => HttpError::TlsProtocolError,
            };
        }
        next = match cause.downcast_ref::<std::io::Error>() {
            Some(io) => {
                first_io.get_or_insert(io);
                io.get_ref()
                    .map(|inner| inner as &(dyn std::error::Error + 'static))
            }
            None => cause.source(),
        };
    }
    match first_io {
        Some(io) if e.is_connect() => {
            HttpError::Connect(std::io::Error::new(io.kind(), io.to_string()))
        }
        _ if e.is_connect() => HttpError::ConnectionRefused,
        _ => HttpError::ConnectionTerminated,
    }
}

/// A response body that fails when nothing comes for `between`, and holds its request's
/// per-host slot until it ends.
struct Timed {
    incoming: hyper::body::Incoming,
    between: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Body for Timed {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = tokio::time::Instant::now() + self.between;
                self.sleep.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(HttpError::Hyper(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

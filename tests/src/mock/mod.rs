//! The tiny HTTP server harness every mock runs on, and the request record the mocks share.
//!
//! A [`MockServer`] binds `127.0.0.1:0` (a free port picked by the OS), serves HTTP/1.1 on tokio
//! until it is dropped or [`MockServer::shutdown`] is called, and hands each request to a handler
//! function. Nothing here blocks a thread: accept loop and connections are tokio tasks.

pub mod algolia;
pub mod posthog;
pub mod recorder;
pub mod sendgrid;
pub mod sentry;
pub mod shared;
pub mod stripe;
pub mod supabase;
pub mod twilio;

#[cfg(test)]
mod test_client;

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::http::request::Parts;
use hyper::service::service_fn;
use hyper::{HeaderMap, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

/// Errors the mock library returns.
///
/// One small enum for the whole crate: the only things that can go wrong outside a request are
/// binding the listener and a wait that ran out of time. Request problems never surface here;
/// the mocks answer them on the wire (400, 401, 413...) as the real servers do.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// The listener could not be bound.
    #[error("mock server could not bind its address: {0}")]
    Bind(#[source] std::io::Error),
    /// A `wait_for_*` call gave up before enough items arrived.
    #[error("timed out after {waited:?} waiting for {wanted} {what}; {got} arrived")]
    Timeout {
        /// What was awaited ("events", "requests").
        what: &'static str,
        /// How many were wanted.
        wanted: usize,
        /// How many had arrived when the wait gave up.
        got: usize,
        /// How long the wait lasted.
        waited: Duration,
    },
}

/// The response type every mock handler produces.
pub type MockResponse = Response<Full<Bytes>>;

/// A mock's shared state, which answers (and records) every request its server receives.
pub(crate) trait Handler: Send + Sync + 'static {
    /// The answer to `req`.
    fn handle(&self, req: Request<Incoming>) -> impl Future<Output = MockResponse> + Send;
}

/// The mock a `try_start` function started, or a panic saying that `what` could not start:
/// the `start` functions, for tests that have no use for the bind error.
pub(crate) fn started<M>(what: &str, result: Result<M, MockError>) -> M {
    result.unwrap_or_else(|err| panic!("{what} could not start: {err}"))
}

/// A running HTTP/1.1 server on `127.0.0.1`, stopped when dropped.
///
/// Dropping it aborts the accept loop and every open connection, so a test never leaks a server.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl MockServer {
    /// Binds `127.0.0.1:0` and serves every request with `handler` until the server is dropped.
    ///
    /// Must be called inside a tokio runtime.
    pub async fn start<F, Fut>(handler: F) -> Result<MockServer, MockError>
    where
        F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = MockResponse> + Send + 'static,
    {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), handler).await
    }

    /// Like [`MockServer::start`], on a given address (the demo's fixed port).
    pub async fn start_on<F, Fut>(addr: SocketAddr, handler: F) -> Result<MockServer, MockError>
    where
        F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = MockResponse> + Send + 'static,
    {
        let listener = TcpListener::bind(addr).await.map_err(MockError::Bind)?;
        let addr = listener.local_addr().map_err(MockError::Bind)?;
        let (shutdown, stop) = oneshot::channel();
        let accepted = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(serve(listener, Arc::new(handler), accepted.clone(), stop));
        Ok(MockServer {
            addr,
            accepted,
            shutdown: Some(shutdown),
            task,
        })
    }

    /// Binds `addr` and answers every request from the mock's shared `state`, until the
    /// returned server is dropped: how each single-host mock starts.
    pub(crate) async fn serve<S: Handler>(
        addr: SocketAddr,
        state: &Arc<S>,
    ) -> Result<Arc<MockServer>, MockError> {
        let state = Arc::clone(state);
        let server = Self::start_on(addr, move |req| {
            let state = Arc::clone(&state);
            async move { state.handle(req).await }
        })
        .await?;
        Ok(Arc::new(server))
    }

    /// The bound address (always `127.0.0.1` and the port the OS picked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many TCP connections the server has accepted so far: a client that keeps its
    /// connections alive opens few, one that connects per request opens one per request.
    pub fn connections_accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, closes open connections and waits until the server task has ended.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        // The accept loop returns on the signal; dropping its JoinSet aborts the connections.
        let _ = (&mut self.task).await;
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

/// The accept loop: one task per connection, all owned by a `JoinSet` so they end with the loop.
async fn serve<F, Fut>(
    listener: TcpListener,
    handler: Arc<F>,
    accepted_count: Arc<AtomicUsize>,
    mut stop: oneshot::Receiver<()>,
) where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = MockResponse> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(err) => {
                        tracing::warn!(cause = ?err, "mock server accept failed");
                        continue;
                    }
                };
                accepted_count.fetch_add(1, Ordering::SeqCst);
                let handler = Arc::clone(&handler);
                connections.spawn(async move {
                    let service = service_fn(move |req| {
                        let handler = Arc::clone(&handler);
                        async move { Ok::<_, Infallible>(handler(req).await) }
                    });
                    if let Err(err) = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                    {
                        tracing::debug!(cause = ?err, %peer, "mock server connection ended with an error");
                    }
                });
            }
        }
    }
}

/// One HTTP request as a mock received it, and what the mock answered.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path without the query, e.g. `/batch/`.
    pub path: String,
    /// The raw query string without `?`, if any.
    pub query: Option<String>,
    /// The request headers as received.
    pub headers: HeaderMap,
    /// The body. [`posthog::MockPostHog`] stores it decompressed when it was gzip-encoded and
    /// could be decoded; [`recorder::MockRecorder`] stores it as received.
    pub body: Bytes,
    /// The status code the mock answered with.
    pub status: u16,
}

impl RecordedRequest {
    /// The record of a request, its head `parts` and its `body`, that the mock answered with
    /// `status`.
    pub(crate) fn new(parts: Parts, body: Bytes, status: StatusCode) -> RecordedRequest {
        RecordedRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            headers: parts.headers,
            body,
            status: status.as_u16(),
        }
    }

    /// The path and query as sent, e.g. `/search?q=x`.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(query) => format!("{}?{}", self.path, query),
            None => self.path.clone(),
        }
    }

    /// A header's value as text, when present and valid UTF-8 (the first one if repeated).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text, replacing invalid UTF-8.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Turns `(name, value)` pairs given by a test into a header map.
///
/// # Panics
/// On an invalid header name or value: that is a mistake in the test, not request input.
pub(crate) fn header_map(headers: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|err| panic!("invalid header name {name:?} given to a mock: {err}"));
        let value = HeaderValue::from_str(value)
            .unwrap_or_else(|err| panic!("invalid header value {value:?} given to a mock: {err}"));
        map.append(name, value);
    }
    map
}

/// Turns a status code given by a test into a `StatusCode`.
///
/// # Panics
/// When `status` is not in 100..=999: that is a mistake in the test, not request input.
pub(crate) fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status)
        .unwrap_or_else(|err| panic!("invalid status {status} given to a mock: {err}"))
}

/// Builds a response from parts the mock already validated.
pub(crate) fn response(status: StatusCode, headers: &HeaderMap, body: Bytes) -> MockResponse {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    for (name, value) in headers {
        response.headers_mut().append(name, value.clone());
    }
    response
}

/// A plain-text response, the way PostHog's capture server answers errors.
pub(crate) fn text(status: StatusCode, message: &str) -> MockResponse {
    let mut response = Response::new(Full::new(Bytes::copy_from_slice(message.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Locks a mutex, recovering the data if a panicking test thread poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits until `count` reaches `wanted`, woken by every change (no polling).
pub(crate) async fn wait_for_count(
    count: &tokio::sync::watch::Sender<usize>,
    wanted: usize,
    timeout: Duration,
    what: &'static str,
) -> Result<(), MockError> {
    let mut rx = count.subscribe();
    let reached = tokio::time::timeout(timeout, rx.wait_for(|got| *got >= wanted))
        .await
        .map(|waited| waited.is_ok());
    match reached {
        Ok(true) => Ok(()),
        // The sender lives as long as the mock, so a closed channel only happens mid-drop.
        Ok(false) | Err(_) => Err(MockError::Timeout {
            what,
            wanted,
            got: *count.borrow(),
            waited: timeout,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::test_client;
    use super::*;

    #[tokio::test]
    async fn serves_until_dropped() {
        let server = MockServer::start(|_req| async { text(StatusCode::OK, "hi") })
            .await
            .expect("bind");
        let url = format!("{}/", server.base_url());
        assert!(server.base_url().starts_with("http://127.0.0.1:"));
        assert_eq!(server.addr().ip(), Ipv4Addr::LOCALHOST);
        let answer = test_client::get(&url).await.expect("request");
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, "hi");

        drop(server);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let after = tokio::time::timeout(Duration::from_secs(2), test_client::get(&url)).await;
        assert!(
            !matches!(after, Ok(Ok(_))),
            "server still answers after drop"
        );
    }

    #[tokio::test]
    async fn shutdown_waits_for_the_server_to_end() {
        let server = MockServer::start(|_req| async { text(StatusCode::OK, "hi") })
            .await
            .expect("bind");
        let url = server.base_url();
        server.shutdown().await;
        assert!(test_client::get(&url).await.is_err());
    }
}

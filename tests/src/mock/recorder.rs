//! `MockRecorder`: a generic HTTP endpoint that records every request and answers with a
//! programmable response, for tests of redirects, leaks and the recorder test adapter.
//!
//! It answers any method on any path. By default 200 `{}` (`application/json`);
//! [`MockRecorder::respond_with`] and [`MockRecorder::redirect_to`] change the answer for all
//! later requests, and [`MockRecorder::echo`] makes it a hostile echo server, returning the
//! request (with whatever credentials the host injected) in the response's headers and body.
//! Bodies are recorded exactly as received (no decompression).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, LOCATION};
use hyper::{HeaderMap, Request, StatusCode};
use tokio::sync::watch;

use super::{lock, Handler, MockError, MockResponse, MockServer, RecordedRequest};

#[derive(Debug, Clone)]
struct Programmed {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Default for Programmed {
    fn default() -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Programmed {
            status: StatusCode::OK,
            headers,
            body: Bytes::from_static(b"{}"),
        }
    }
}

#[derive(Debug)]
struct State {
    response: Mutex<Programmed>,
    echo: std::sync::atomic::AtomicBool,
    requests: Mutex<Vec<RecordedRequest>>,
    count: watch::Sender<usize>,
}

/// A running recording endpoint on `127.0.0.1`.
///
/// Cheap to clone; clones share the server and its records. The server stops when the last
/// clone is dropped.
#[derive(Debug, Clone)]
pub struct MockRecorder {
    server: Arc<MockServer>,
    state: Arc<State>,
}

impl MockRecorder {
    /// Starts a recorder answering 200 `{}`.
    ///
    /// # Panics
    /// When `127.0.0.1:0` cannot be bound; use [`MockRecorder::try_start`] to get the error.
    pub async fn start() -> MockRecorder {
        super::started("MockRecorder", Self::try_start().await)
    }

    /// Starts a recorder, returning the bind error instead of panicking.
    pub async fn try_start() -> Result<MockRecorder, MockError> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a recorder on `addr` (say, where a stopped one was, to restart it).
    pub async fn start_on(addr: SocketAddr) -> Result<MockRecorder, MockError> {
        let (count, _) = watch::channel(0);
        let state = Arc::new(State {
            response: Mutex::new(Programmed::default()),
            echo: std::sync::atomic::AtomicBool::new(false),
            requests: Mutex::new(Vec::new()),
            count,
        });
        let server = MockServer::serve(addr, &state).await?;
        Ok(MockRecorder { server, state })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Answers every later request with `status`, `headers` and `body`.
    ///
    /// # Panics
    /// When `status`, a header name or a header value is invalid.
    pub fn respond_with(&self, status: u16, headers: &[(&str, &str)], body: impl AsRef<[u8]>) {
        *lock(&self.state.response) = Programmed {
            status: super::status_code(status),
            headers: super::header_map(headers),
            body: Bytes::copy_from_slice(body.as_ref()),
        };
    }

    /// Answers every later request with `302 Found` and `Location: location`, empty body.
    ///
    /// # Panics
    /// When `location` is not a valid header value.
    pub fn redirect_to(&self, location: &str) {
        self.respond_with(302, &[(LOCATION.as_str(), location)], b"");
    }

    /// Goes back to answering 200 `{}`.
    pub fn reset_response(&self) {
        self.state
            .echo
            .store(false, std::sync::atomic::Ordering::SeqCst);
        *lock(&self.state.response) = Programmed::default();
    }

    /// Answers every later request by echoing it, as a hostile provider would: 200 with the
    /// request's method, URI, headers and body as JSON (`{"method", "uri", "headers":
    /// {name: value}, "body"}`), and its URI and `Authorization` in the `Location`,
    /// `X-Echo-Uri` and `X-Echo-Authorization` headers.
    pub fn echo(&self) {
        self.state
            .echo
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// How many TCP connections it has accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.server.connections_accepted()
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        lock(&self.state.requests).len()
    }

    /// Forgets recorded requests (the programmed response stays).
    pub fn clear(&self) {
        let mut requests = lock(&self.state.requests);
        requests.clear();
        self.state.count.send_replace(0);
    }

    /// Waits until at least `n` requests arrived and returns all of them, or gives up after
    /// `timeout` with [`MockError::Timeout`]. Woken by each arrival; no polling.
    pub async fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<RecordedRequest>, MockError> {
        super::wait_for_count(&self.state.count, n, timeout, "requests").await?;
        Ok(self.requests())
    }
}

impl Handler for State {
    async fn handle(&self, req: Request<Incoming>) -> MockResponse {
        let (parts, body) = req.into_parts();
        let (body, answer) = match body.collect().await {
            Ok(collected) => {
                let body = collected.to_bytes();
                let answer = if self.echo.load(std::sync::atomic::Ordering::SeqCst) {
                    echo(&parts, &body)
                } else {
                    let programmed = lock(&self.response).clone();
                    super::response(programmed.status, &programmed.headers, programmed.body)
                };
                (body, answer)
            }
            Err(err) => {
                let message = format!("could not read request body: {err}");
                (Bytes::new(), super::text(StatusCode::BAD_REQUEST, &message))
            }
        };
        let mut requests = lock(&self.requests);
        requests.push(RecordedRequest::new(parts, body, answer.status()));
        self.count.send_replace(requests.len());
        answer
    }
}

/// The echo of a request (see [`MockRecorder::echo`]).
fn echo(parts: &hyper::http::request::Parts, body: &Bytes) -> MockResponse {
    let uri = parts.uri.to_string();
    let headers: serde_json::Map<String, serde_json::Value> = parts
        .headers
        .iter()
        .map(|(n, v)| {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (n.as_str().to_string(), serde_json::Value::String(v))
        })
        .collect();
    let doc = serde_json::json!({
        "method": parts.method.as_str(),
        "uri": uri,
        "headers": headers,
        "body": String::from_utf8_lossy(body),
    });
    let mut out = HeaderMap::new();
    out.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in [
        ("location", Some(uri.as_str())),
        ("x-echo-uri", Some(uri.as_str())),
        (
            "x-echo-authorization",
            parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
        ),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            out.insert(name, v);
        }
    }
    super::response(StatusCode::OK, &out, Bytes::from(doc.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::test_client;
    use hyper::Method;

    #[tokio::test]
    async fn records_requests_and_answers_200_by_default() {
        let mock = MockRecorder::start().await;
        let url = format!("{}/hook/path?x=1&y=two", mock.base_url());
        let headers = [("x-secret", "s3cr3t"), ("content-type", "text/plain")];
        let answer = test_client::send(Method::PUT, &url, &headers, "payload")
            .await
            .expect("request");
        assert_eq!((answer.status, answer.body.as_str()), (200, "{}"));
        assert_eq!(answer.headers["content-type"], "application/json");

        let requests = mock.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.method, "PUT");
        assert_eq!(request.path, "/hook/path");
        assert_eq!(request.path_and_query(), "/hook/path?x=1&y=two");
        assert_eq!(request.header("x-secret"), Some("s3cr3t"));
        assert_eq!(request.body_text(), "payload");
        assert_eq!(request.status, 200);
    }

    #[tokio::test]
    async fn respond_with_and_redirect_to() {
        let mock = MockRecorder::start().await;
        mock.respond_with(418, &[("x-tea", "green")], "short and stout");
        let answer = test_client::get(&format!("{}/a", mock.base_url()))
            .await
            .expect("request");
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (418, "short and stout")
        );
        assert_eq!(answer.headers["x-tea"], "green");

        mock.redirect_to("http://169.254.169.254/latest/meta-data/");
        let answer = test_client::get(&format!("{}/b", mock.base_url()))
            .await
            .expect("request");
        assert_eq!(answer.status, 302);
        assert_eq!(
            answer.headers["location"],
            "http://169.254.169.254/latest/meta-data/"
        );

        mock.reset_response();
        let answer = test_client::get(&format!("{}/c", mock.base_url()))
            .await
            .expect("request");
        assert_eq!(answer.status, 200);
        let statuses: Vec<u16> = mock.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [418, 302, 200]);
    }

    #[tokio::test]
    async fn wait_for_requests_wakes_and_times_out() {
        let mock = MockRecorder::start().await;
        let url = format!("{}/ping", mock.base_url());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = test_client::get(&url).await;
        });
        let requests = mock
            .wait_for_requests(1, Duration::from_secs(5))
            .await
            .expect("request arrives");
        assert_eq!(requests[0].path, "/ping");

        let err = mock
            .wait_for_requests(2, Duration::from_millis(100))
            .await
            .expect_err("no second request");
        assert!(
            matches!(
                err,
                MockError::Timeout {
                    wanted: 2,
                    got: 1,
                    ..
                }
            ),
            "{err:?}"
        );

        mock.clear();
        assert_eq!(mock.request_count(), 0);
    }
}

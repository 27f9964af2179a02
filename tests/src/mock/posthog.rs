//! `MockPostHog`: a local stand-in for PostHog's ingestion (capture) API, speaking its real wire
//! format, validating like the capture server, recording what it accepted and failing on demand.
//!
//! Endpoints (each with or without the trailing slash, as the server routes them):
//!
//! | Request | Answer |
//! |---|---|
//! | `POST /batch/` `{"api_key", "batch": [...], "sent_at"?, "historical_migration"?}` | 200 `{"status":"Ok"}` |
//! | `POST /i/v0/e/`, `/capture/`, `/e/` single event `{api_key, event, distinct_id, ...}` | same |
//! | `GET /`, `GET /_health` | 200 `ok`: the mock's own liveness answer, not a PostHog endpoint |
//! | `GET /_mock/events` | the accepted events as JSON: the mock's own, for watching the demo |
//!
//! Like the capture server, every ingestion path accepts all three body shapes (batch object,
//! single event, bare array of events), the `token`/`$token` aliases of `api_key`, a per-event key
//! in `properties.token`, and gzip bodies (`Content-Encoding: gzip`, or posthog-js's
//! `?compression=gzip-js`). Errors are plain text: 400 for undecodable bodies, empty batches,
//! missing or empty event names, missing distinct ids and invalid timestamps or uuids; 401 for a
//! missing, mixed or wrong api key; 413 for a body over the limit (20 MB by default).

mod wire;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use flate2::read::GzDecoder;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{HeaderMap, Method, Request, StatusCode};
use tokio::sync::watch;

use super::{lock, Handler, MockError, MockResponse, MockServer, RecordedRequest};
use wire::{message, Rejection};

/// PostHog's default limit on a whole request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// How to start a [`MockPostHog`].
#[derive(Debug, Clone)]
pub struct MockPostHogOptions {
    /// The project api key (`phc_…`) requests must carry.
    pub api_key: String,
    /// Largest accepted request body, compressed or decompressed; larger answers 413.
    pub max_body_bytes: usize,
    /// Wait this long before answering each ingestion request.
    pub delay: Duration,
    /// Where to listen; `127.0.0.1:0` (a free port) by default.
    pub bind: SocketAddr,
}

impl MockPostHogOptions {
    /// Defaults for `api_key`: 20 MB body limit, no delay.
    pub fn new(api_key: &str) -> Self {
        MockPostHogOptions {
            api_key: api_key.to_string(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            delay: Duration::ZERO,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// Listens on `addr` instead of a free port.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Sets the body limit.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets the delay before each ingestion answer.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One event the mock accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// The event name, e.g. `signed_up` or `$identify`.
    pub event: String,
    /// The distinct id (from `distinct_id`, `$distinct_id` or `properties.distinct_id`; numbers in
    /// their JSON text form).
    pub distinct_id: String,
    /// The event's properties as sent (an empty object when none were).
    pub properties: serde_json::Value,
    /// The event's `timestamp`, as sent.
    pub timestamp: Option<String>,
    /// The event's `uuid`, as sent.
    pub uuid: Option<String>,
    /// The api key the event was accepted with.
    pub api_key: String,
    /// The request path it arrived on, e.g. `/batch/`.
    pub path: String,
    /// The whole event object as sent, for fields not broken out above (`$set`, `type`...).
    pub raw: serde_json::Value,
}

/// A failure queued by [`MockPostHog::fail_next`].
#[derive(Debug, Clone)]
struct Injected {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Debug)]
struct Config {
    api_key: String,
    max_body_bytes: usize,
    delay: Duration,
    failures: VecDeque<Injected>,
    rejected_names: HashSet<String>,
}

#[derive(Debug)]
struct State {
    config: Mutex<Config>,
    events: Mutex<Vec<RecordedEvent>>,
    requests: Mutex<Vec<RecordedRequest>>,
    event_count: watch::Sender<usize>,
}

/// A running mock of PostHog's ingestion API on `127.0.0.1`.
///
/// Cheap to clone; clones share the server and its records. The server stops when the last
/// clone is dropped.
#[derive(Debug, Clone)]
pub struct MockPostHog {
    server: Arc<MockServer>,
    state: Arc<State>,
}

impl MockPostHog {
    /// Starts a mock that accepts `api_key`, with the default options.
    ///
    /// # Panics
    /// When `127.0.0.1:0` cannot be bound; use [`MockPostHog::try_start_with`] to get the error.
    pub async fn start(api_key: &str) -> MockPostHog {
        Self::start_with(MockPostHogOptions::new(api_key)).await
    }

    /// Starts a mock with `options`.
    ///
    /// # Panics
    /// When `127.0.0.1:0` cannot be bound; use [`MockPostHog::try_start_with`] to get the error.
    pub async fn start_with(options: MockPostHogOptions) -> MockPostHog {
        super::started("MockPostHog", Self::try_start_with(options).await)
    }

    /// Starts a mock with `options`, returning the bind error instead of panicking.
    pub async fn try_start_with(options: MockPostHogOptions) -> Result<MockPostHog, MockError> {
        let (event_count, _) = watch::channel(0);
        let state = Arc::new(State {
            config: Mutex::new(Config {
                api_key: options.api_key,
                max_body_bytes: options.max_body_bytes,
                delay: options.delay,
                failures: VecDeque::new(),
                rejected_names: HashSet::new(),
            }),
            events: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            event_count,
        });
        let server = MockServer::serve(options.bind, &state).await?;
        Ok(MockPostHog { server, state })
    }

    /// `http://127.0.0.1:PORT`: the ingestion host to give an adapter.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Every event accepted so far, in arrival order.
    pub fn events(&self) -> Vec<RecordedEvent> {
        lock(&self.state.events).clone()
    }

    /// How many events were accepted so far.
    pub fn event_count(&self) -> usize {
        lock(&self.state.events).len()
    }

    /// Every request received so far (accepted or not, health checks included), in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// The distinct uuids among accepted events. The mock records duplicates (PostHog would
    /// deduplicate them later), so `unique_uuids().len() == event_count()` proves none were sent.
    pub fn unique_uuids(&self) -> BTreeSet<String> {
        lock(&self.state.events)
            .iter()
            .filter_map(|e| e.uuid.clone())
            .collect()
    }

    /// The uuids that were accepted more than once, each listed once.
    pub fn duplicate_uuids(&self) -> BTreeSet<String> {
        let mut seen = HashSet::new();
        lock(&self.state.events)
            .iter()
            .filter_map(|e| e.uuid.clone())
            .filter(|uuid| !seen.insert(uuid.clone()))
            .collect()
    }

    /// Forgets recorded events and requests (failure settings stay).
    pub fn clear(&self) {
        let mut events = lock(&self.state.events);
        events.clear();
        lock(&self.state.requests).clear();
        self.state.event_count.send_replace(0);
    }

    /// Waits until at least `n` events were accepted and returns all of them, or gives up after
    /// `timeout` with [`MockError::Timeout`]. Woken by each arrival; no polling.
    pub async fn wait_for_events(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<RecordedEvent>, MockError> {
        super::wait_for_count(&self.state.event_count, n, timeout, "events").await?;
        Ok(self.events())
    }

    /// Answers the next `n` ingestion requests with `status` and a plain-text `body`, recording
    /// nothing from them. Health checks do not count. Queues after failures already queued.
    ///
    /// # Panics
    /// When `status` is not a valid HTTP status code.
    pub fn fail_next(&self, n: usize, status: u16, body: &str) {
        self.fail_next_with_headers(n, status, &[], body);
    }

    /// Like [`MockPostHog::fail_next`], with response headers, e.g. `[("retry-after", "1")]`.
    ///
    /// # Panics
    /// When `status`, a header name or a header value is invalid.
    pub fn fail_next_with_headers(
        &self,
        n: usize,
        status: u16,
        headers: &[(&str, &str)],
        body: &str,
    ) {
        let mut headers = super::header_map(headers);
        if !headers.contains_key(CONTENT_TYPE) {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
        }
        let injected = Injected {
            status: super::status_code(status),
            headers,
            body: Bytes::copy_from_slice(body.as_bytes()),
        };
        let mut config = lock(&self.state.config);
        config.failures.extend(std::iter::repeat_n(injected, n));
    }

    /// Waits `delay` before answering each ingestion request (zero to stop).
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.state.config).delay = delay;
    }

    /// Refuses any request holding an event named `name` with 400 `invalid event could not be
    /// processed`, recording none of its events; requests without it are accepted as usual.
    pub fn reject_event_named(&self, name: &str) {
        lock(&self.state.config)
            .rejected_names
            .insert(name.to_string());
    }

    /// Sets the body limit (compressed and decompressed) above which requests get 413.
    pub fn set_max_body(&self, bytes: usize) {
        lock(&self.state.config).max_body_bytes = bytes;
    }

    /// Drops queued failures, the delay and rejected event names.
    pub fn reset_failures(&self) {
        let mut config = lock(&self.state.config);
        config.failures.clear();
        config.delay = Duration::ZERO;
        config.rejected_names.clear();
    }
}

/// The ingestion paths, with and without the trailing slash.
const INGEST_PATHS: &[&str] = &[
    "/batch/",
    "/batch",
    "/i/v0/e/",
    "/i/v0/e",
    "/capture/",
    "/capture",
    "/e/",
    "/e",
];

impl Handler for State {
    async fn handle(&self, req: Request<Incoming>) -> MockResponse {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().map(str::to_string);
        let ingest = INGEST_PATHS.contains(&path.as_str());

        let (body, outcome) = if ingest && parts.method == Method::POST {
            self.ingest(&parts.headers, query.as_deref(), &path, body)
                .await
        } else {
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let outcome = match (parts.method.clone(), path.as_str(), ingest) {
                (Method::GET, "/" | "/_health", _) => super::text(StatusCode::OK, "ok"),
                (Method::GET, "/_mock/events", _) => self.events_json(),
                (_, _, true) => super::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
                _ => super::text(StatusCode::NOT_FOUND, "not found"),
            };
            (body, outcome)
        };

        lock(&self.requests).push(RecordedRequest::new(parts, body, outcome.status()));
        // Wake waiters only once the request is on record too.
        let accepted = lock(&self.events).len();
        self.event_count.send_if_modified(|count| {
            let changed = *count != accepted;
            *count = accepted;
            changed
        });
        outcome
    }
}

impl State {
    /// `GET /_mock/events`: what the mock accepted, for people watching the demo.
    fn events_json(&self) -> MockResponse {
        let events: Vec<serde_json::Value> = lock(&self.events)
            .iter()
            .map(|e| {
                let mut raw = e.raw.clone();
                if let Some(obj) = raw.as_object_mut() {
                    obj.insert("api_key".into(), e.api_key.clone().into());
                }
                raw
            })
            .collect();
        let body = serde_json::json!({ "count": events.len(), "events": events }).to_string();
        let mut res = MockResponse::new(http_body_util::Full::new(Bytes::from(body)));
        res.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        res
    }

    /// Handles one POST to an ingestion path: returns the (decompressed when possible) body to
    /// record and the answer.
    async fn ingest(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
        path: &str,
        body: Incoming,
    ) -> (Bytes, MockResponse) {
        let (delay, max_body) = {
            let config = lock(&self.config);
            (config.delay, config.max_body_bytes)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }

        let read = read_body(headers, query, body, max_body).await;
        if let Some(failure) = lock(&self.config).failures.pop_front() {
            let body = read.unwrap_or_else(|(raw, _)| raw);
            return (
                body,
                super::response(failure.status, &failure.headers, failure.body),
            );
        }
        let body = match read {
            Ok(body) => body,
            Err((raw, answer)) => return (raw, answer),
        };

        let answer = self.accept(&body, path);
        (body, answer)
    }

    /// Validates a decoded body and records its events when it is accepted.
    fn accept(&self, body: &[u8], path: &str) -> MockResponse {
        let (expected, rejected) = {
            let config = lock(&self.config);
            (config.api_key.clone(), config.rejected_names.clone())
        };
        let parsed = match wire::parse_request(body, &expected) {
            Ok(parsed) => parsed,
            Err(Rejection::BadRequest(message)) => {
                return super::text(StatusCode::BAD_REQUEST, &message)
            }
            Err(Rejection::Unauthorized(message)) => {
                return super::text(StatusCode::UNAUTHORIZED, &message)
            }
        };
        if parsed.events.iter().any(|e| rejected.contains(&e.event)) {
            return super::text(StatusCode::BAD_REQUEST, message::INVALID_EVENT);
        }

        let mut events = lock(&self.events);
        events.extend(parsed.events.into_iter().map(|e| RecordedEvent {
            event: e.event,
            distinct_id: e.distinct_id,
            properties: e.properties,
            timestamp: e.timestamp,
            uuid: e.uuid,
            api_key: parsed.api_key.clone(),
            path: path.to_string(),
            raw: e.raw,
        }));
        drop(events);

        let mut ok = super::text(StatusCode::OK, r#"{"status":"Ok"}"#);
        ok.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        ok
    }
}

/// Reads a body up to `max` bytes and gunzips it when the request says it is gzip.
///
/// On failure returns what was read (for the record) and the answer: 413 over the limit, 400 for
/// an unreadable or undecodable body.
async fn read_body(
    headers: &HeaderMap,
    query: Option<&str>,
    body: Incoming,
    max: usize,
) -> Result<Bytes, (Bytes, MockResponse)> {
    let too_big = || super::text(StatusCode::PAYLOAD_TOO_LARGE, message::TOO_BIG);
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err((Bytes::new(), too_big()));
    }
    let raw = match Limited::new(body, max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => {
            return Err((Bytes::new(), too_big()))
        }
        Err(err) => {
            let message = format!("failed to decode request: could not read body: {err}");
            return Err((Bytes::new(), super::text(StatusCode::BAD_REQUEST, &message)));
        }
    };

    let encoding = headers.get(CONTENT_ENCODING).map(|v| {
        v.to_str()
            .unwrap_or("(not text)")
            .trim()
            .to_ascii_lowercase()
    });
    let gzip_query = query.is_some_and(|q| {
        q.split('&')
            .any(|pair| pair == "compression=gzip" || pair == "compression=gzip-js")
    });
    let gzip = match encoding.as_deref() {
        Some("gzip") => true,
        None | Some("identity") | Some("") => gzip_query,
        Some(other) => {
            let message =
                format!("failed to decode request: unsupported content-encoding {other:?}");
            return Err((raw, super::text(StatusCode::BAD_REQUEST, &message)));
        }
    };
    if !gzip {
        return Ok(raw);
    }

    let mut decoded = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    match GzDecoder::new(&raw[..])
        .take(limit)
        .read_to_end(&mut decoded)
    {
        Ok(_) if decoded.len() > max => Err((raw, too_big())),
        Ok(_) => Ok(Bytes::from(decoded)),
        Err(err) => {
            let message = format!("failed to decode request: invalid gzip body: {err}");
            Err((raw, super::text(StatusCode::BAD_REQUEST, &message)))
        }
    }
}

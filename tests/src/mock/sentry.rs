//! `MockSentry`: a local stand-in for Sentry's envelope ingestion (Relay's
//! `POST /api/{project_id}/envelope/`), authenticating like Relay, parsing real envelopes and
//! recording their items (events, transactions...) for tests to inspect.
//!
//! | Request | Answer |
//! |---|---|
//! | `POST /api/{project_id}/envelope/` (trailing slash optional) with a valid envelope | 200 `{"id":"<event_id>"}` (`null` when the envelope names none) |
//! | no `sentry_key` (neither `X-Sentry-Auth` nor the query) | 401 `{"detail":"missing authorization information"}` |
//! | a key that is not the project's, or an unknown project | 403 `{"detail":"event submission rejected with_reason: ProjectId"}` |
//! | `sentry_version` other than 7 (or none in `X-Sentry-Auth`) | 400 |
//! | a `Content-Type` other than `application/x-sentry-envelope` | 415 (none at all is accepted: the Rust client sends none) |
//! | `Content-Encoding` other than `gzip` or `identity` | 415 |
//! | a body that is not an envelope (bad header line, item header without `type`, `length` past the end, an event that is not a JSON object...) | 400 `{"detail":"invalid envelope: ..."}` |
//! | another path | 404; another method on the envelope path, 405 |
//!
//! Auth is `X-Sentry-Auth: Sentry sentry_key=<public key>, sentry_version=7, ...` or the query
//! `?sentry_key=<public key>&sentry_version=7`. Gzip bodies (`Content-Encoding: gzip`) are
//! decompressed first. Every project has its own public key; [`MockSentry::dsn`] gives the DSN
//! of one, `http://<key>@127.0.0.1:<port>/<project>`.

mod envelope;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use flate2::read::GzDecoder;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use super::{lock, Handler, MockError, MockResponse, MockServer, RecordedRequest};

/// The project [`MockSentry::start`] serves.
pub const PROJECT: u64 = 42;
/// The public key of [`PROJECT`].
pub const KEY: &str = "0123456789abcdef0123456789abcdef";
/// The largest body accepted, compressed or not (Relay's envelope limit is larger; tests need
/// no more).
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// One envelope the mock accepted.
#[derive(Debug, Clone)]
pub struct RecordedEnvelope {
    /// The project it was sent to.
    pub project: u64,
    /// The envelope header (`event_id`, `sent_at`, `trace`...).
    pub headers: Map<String, Value>,
    /// Its items, in order.
    pub items: Vec<RecordedItem>,
}

/// One item of an accepted envelope.
#[derive(Debug, Clone)]
pub struct RecordedItem {
    /// The project its envelope was sent to.
    pub project: u64,
    /// The item type: `event`, `transaction`, `client_report`, `attachment`...
    pub item_type: String,
    /// The item header (`type`, `length`...).
    pub headers: Map<String, Value>,
    /// The header of its envelope.
    pub envelope_headers: Map<String, Value>,
    /// The payload bytes.
    pub payload: Bytes,
    /// The payload as JSON when it is JSON (always, for events and transactions).
    pub json: Option<Value>,
}

impl RecordedItem {
    /// The payload as JSON, or `null`.
    pub fn body(&self) -> Value {
        self.json.clone().unwrap_or(Value::Null)
    }
}

#[derive(Debug)]
struct State {
    /// project id -> public key.
    projects: BTreeMap<u64, String>,
    envelopes: Mutex<Vec<RecordedEnvelope>>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Events and transactions accepted so far.
    count: watch::Sender<usize>,
}

/// A running mock of Sentry's envelope endpoint on `127.0.0.1`.
///
/// Cheap to clone; clones share the server and its records. The server stops when the last
/// clone is dropped.
#[derive(Debug, Clone)]
pub struct MockSentry {
    server: Arc<MockServer>,
    state: Arc<State>,
}

impl MockSentry {
    /// Starts a mock serving project [`PROJECT`] with key [`KEY`].
    ///
    /// # Panics
    /// When `127.0.0.1:0` cannot be bound; use [`MockSentry::try_start_with_projects`].
    pub async fn start() -> MockSentry {
        Self::start_with_projects(&[(PROJECT, KEY)]).await
    }

    /// Starts a mock serving `(project id, public key)` pairs.
    ///
    /// # Panics
    /// When `127.0.0.1:0` cannot be bound; use [`MockSentry::try_start_with_projects`].
    pub async fn start_with_projects(projects: &[(u64, &str)]) -> MockSentry {
        super::started("MockSentry", Self::try_start_with_projects(projects).await)
    }

    /// Starts a mock serving `(project id, public key)` pairs, returning the bind error.
    pub async fn try_start_with_projects(
        projects: &[(u64, &str)],
    ) -> Result<MockSentry, MockError> {
        let (count, _) = watch::channel(0);
        let state = Arc::new(State {
            projects: projects
                .iter()
                .map(|(id, key)| (*id, key.to_string()))
                .collect(),
            envelopes: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            count,
        });
        let server = MockServer::serve(SocketAddr::from(([127, 0, 0, 1], 0)), &state).await?;
        Ok(MockSentry { server, state })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The DSN of `project`: `http://<key>@127.0.0.1:<port>/<project>`.
    ///
    /// # Panics
    /// When the mock does not serve `project` (a mistake in the test).
    pub fn dsn(&self, project: u64) -> String {
        let key = self
            .state
            .projects
            .get(&project)
            .unwrap_or_else(|| panic!("MockSentry serves no project {project}"));
        self.dsn_with_key(key, project)
    }

    /// A DSN for `project` with any `key` (to test refusals).
    pub fn dsn_with_key(&self, key: &str, project: u64) -> String {
        format!("http://{key}@{}/{project}", self.addr())
    }

    /// Every envelope accepted so far, in arrival order.
    pub fn envelopes(&self) -> Vec<RecordedEnvelope> {
        lock(&self.state.envelopes).clone()
    }

    /// Every item accepted so far, in arrival order.
    pub fn items(&self) -> Vec<RecordedItem> {
        lock(&self.state.envelopes)
            .iter()
            .flat_map(|e| e.items.iter().cloned())
            .collect()
    }

    /// The items of `item_type` accepted so far, in any project.
    pub fn items_of(&self, item_type: &str) -> Vec<RecordedItem> {
        self.items()
            .into_iter()
            .filter(|i| i.item_type == item_type)
            .collect()
    }

    /// The payloads of the events accepted so far, in any project.
    pub fn events(&self) -> Vec<Value> {
        self.items_of("event")
            .iter()
            .map(RecordedItem::body)
            .collect()
    }

    /// The payloads of the transactions accepted so far, in any project.
    pub fn transactions(&self) -> Vec<Value> {
        self.items_of("transaction")
            .iter()
            .map(RecordedItem::body)
            .collect()
    }

    /// How many events and transactions were accepted so far (other item types, such as
    /// client reports, are recorded but not counted).
    pub fn count(&self) -> usize {
        *self.state.count.borrow()
    }

    /// Every request received so far (accepted or not), in order; bodies as received.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Waits until at least `n` events and transactions were accepted and returns every item,
    /// or gives up after `timeout` with [`MockError::Timeout`]. Woken by each arrival.
    pub async fn wait_for_items(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<RecordedItem>, MockError> {
        super::wait_for_count(&self.state.count, n, timeout, "events and transactions").await?;
        Ok(self.items())
    }

    /// Forgets recorded envelopes and requests.
    pub fn clear(&self) {
        let mut envelopes = lock(&self.state.envelopes);
        envelopes.clear();
        lock(&self.state.requests).clear();
        self.state.count.send_replace(0);
    }
}

/// A JSON answer in Relay's shape.
fn answer(status: StatusCode, body: Value) -> MockResponse {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn detail(status: StatusCode, message: &str) -> MockResponse {
    answer(status, json!({ "detail": message }))
}

/// A request the mock refuses: the status and Relay-style `detail` it answers.
#[derive(Debug)]
struct Refusal(StatusCode, String);

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal(status, message.into())
    }

    fn answer(&self) -> MockResponse {
        detail(self.0, &self.1)
    }
}

/// `{project_id}` of `/api/{project_id}/envelope/`, as text; `None` for another path.
fn envelope_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let project = rest.strip_suffix("/envelope")?;
    (!project.is_empty() && !project.contains('/')).then_some(project)
}

/// `sentry_key` and `sentry_version` from `X-Sentry-Auth` or the query. Errors are answers.
fn auth(headers: &HeaderMap, query: Option<&str>) -> Result<String, Refusal> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let from_header = match headers.get("x-sentry-auth") {
        Some(value) => {
            let text = value.to_str().map_err(|_| {
                Refusal::new(StatusCode::BAD_REQUEST, "invalid X-Sentry-Auth header")
            })?;
            let text = text.trim();
            let text = match text.get(..7) {
                Some(prefix) if prefix.eq_ignore_ascii_case("sentry ") => &text[7..],
                _ => text,
            };
            for part in text.split(',') {
                if let Some((k, v)) = part.split_once('=') {
                    pairs.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            true
        }
        None => {
            for part in query.unwrap_or("").split('&') {
                if let Some((k, v)) = part.split_once('=') {
                    pairs.push((k.to_string(), v.to_string()));
                }
            }
            false
        }
    };
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let Some(key) = get("sentry_key").filter(|k| !k.is_empty()) else {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "missing authorization information",
        ));
    };
    match get("sentry_version") {
        Some(v) if v == "7" => {}
        None if !from_header => {}
        Some(v) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("unsupported protocol version ({v})"),
            ))
        }
        None => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "missing sentry_version in X-Sentry-Auth",
            ))
        }
    }
    Ok(key)
}

impl Handler for State {
    async fn handle(&self, req: Request<Incoming>) -> MockResponse {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().map(str::to_string);
        let raw = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(detail(
                StatusCode::PAYLOAD_TOO_LARGE,
                "envelope exceeded size limits",
            )),
            Err(err) => Err(detail(
                StatusCode::BAD_REQUEST,
                &format!("could not read the body: {err}"),
            )),
        };
        let (body, outcome) = match raw {
            Ok(raw) => {
                let outcome = match envelope_path(&path) {
                    Some(project) if parts.method == Method::POST => {
                        self.ingest(project, &parts.headers, query.as_deref(), &raw)
                    }
                    Some(_) => detail(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
                    None => detail(StatusCode::NOT_FOUND, "not found"),
                };
                (raw, outcome)
            }
            Err(answer) => (Bytes::new(), answer),
        };
        lock(&self.requests).push(RecordedRequest::new(parts, body, outcome.status()));
        // Wake waiters only once the request is on record too.
        let accepted = lock(&self.envelopes)
            .iter()
            .flat_map(|e| &e.items)
            .filter(|i| i.item_type == "event" || i.item_type == "transaction")
            .count();
        self.count.send_if_modified(|count| {
            let changed = *count != accepted;
            *count = accepted;
            changed
        });
        outcome
    }
}

impl State {
    fn ingest(
        &self,
        project: &str,
        headers: &HeaderMap,
        query: Option<&str>,
        raw: &Bytes,
    ) -> MockResponse {
        let key = match auth(headers, query) {
            Ok(key) => key,
            Err(refusal) => return refusal.answer(),
        };
        let project = match project.parse::<u64>() {
            Ok(id) if self.projects.get(&id) == Some(&key) => id,
            _ => {
                return detail(
                    StatusCode::FORBIDDEN,
                    "event submission rejected with_reason: ProjectId",
                )
            }
        };
        if let Some(ct) = headers.get(CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("");
            let essence = ct.split(';').next().unwrap_or("").trim();
            if !essence.eq_ignore_ascii_case("application/x-sentry-envelope") {
                return detail(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    &format!("unsupported content type {ct:?}"),
                );
            }
        }
        let body = match decode(headers, raw) {
            Ok(body) => body,
            Err(refusal) => return refusal.answer(),
        };
        let parsed = match envelope::parse(&body) {
            Ok(parsed) => parsed,
            Err(message) => {
                return detail(
                    StatusCode::BAD_REQUEST,
                    &format!("invalid envelope: {message}"),
                )
            }
        };
        let event_id = parsed.headers.get("event_id").cloned().or_else(|| {
            parsed
                .items
                .iter()
                .filter_map(|i| i.json.as_ref()?.get("event_id").cloned())
                .next()
        });
        let items = parsed
            .items
            .into_iter()
            .map(|i| RecordedItem {
                project,
                item_type: i.item_type,
                headers: i.headers,
                envelope_headers: parsed.headers.clone(),
                payload: i.payload,
                json: i.json,
            })
            .collect();
        lock(&self.envelopes).push(RecordedEnvelope {
            project,
            headers: parsed.headers,
            items,
        });
        answer(
            StatusCode::OK,
            json!({ "id": event_id.unwrap_or(Value::Null) }),
        )
    }
}

/// The body, gunzipped when `Content-Encoding: gzip`.
fn decode(headers: &HeaderMap, raw: &Bytes) -> Result<Bytes, Refusal> {
    let encoding = headers.get(CONTENT_ENCODING).map(|v| {
        v.to_str()
            .unwrap_or("(not text)")
            .trim()
            .to_ascii_lowercase()
    });
    match encoding.as_deref() {
        None | Some("") | Some("identity") => Ok(raw.clone()),
        Some("gzip") => {
            let mut decoded = Vec::new();
            let limit = u64::try_from(MAX_BODY_BYTES).unwrap_or(u64::MAX) + 1;
            match GzDecoder::new(&raw[..])
                .take(limit)
                .read_to_end(&mut decoded)
            {
                Ok(_) if decoded.len() > MAX_BODY_BYTES => Err(Refusal::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "envelope exceeded size limits",
                )),
                Ok(_) => Ok(Bytes::from(decoded)),
                Err(err) => Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("invalid gzip body: {err}"),
                )),
            }
        }
        Some(other) => Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported content encoding {other:?}"),
        )),
    }
}

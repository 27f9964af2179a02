//! `MockAlgolia`: a local stand-in for Algolia's Search REST API v1, one application served
//! on several ports (each port stands for one of Algolia's hosts: `{APP}-dsn.algolia.net`,
//! `{APP}.algolia.net`, `{APP}-1.algolianet.com`...), with real search semantics, tasks that
//! publish writes after a delay, API keys restricted to index patterns, and failures
//! injected per host.
//!
//! | Request | Answer |
//! |---|---|
//! | `POST /1/indexes/{index}/query` (JSON params, or `{"params": "query=..&.."}`) | 200 SearchResponse (`hits` with `_highlightResult`, `_snippetResult`, `_rankingInfo`; `nbHits`, `page`, `nbPages`, `hitsPerPage`, `facets`, `exhaustive`, `processingTimeMS`...) |
//! | `POST /1/indexes/{index}/batch` `{"requests": [{"action", "body"}]}` | 200 `{"taskID", "objectIDs"}`; actions `addObject`, `updateObject`, `partialUpdateObject`, `partialUpdateObjectNoCreate`, `deleteObject`, `clear` |
//! | `GET /1/indexes/{index}/{objectID}` | 200 the record, 404 `ObjectID does not exist` |
//! | `POST /1/indexes/*/objects` `{"requests": [{"indexName", "objectID"}]}` | 200 `{"results": [record or null]}` |
//! | `GET` / `PUT /1/indexes/{index}/settings[?forwardToReplicas=true]` | settings; `{"taskID", "updatedAt"}` (creates the index; `replicas` creates and detaches replica indices) |
//! | `DELETE /1/indexes/{index}` | `{"taskID", "deletedAt"}` |
//! | `GET /1/indexes[?page=&hitsPerPage=]` | `{"items": [{"name", "entries", "createdAt", "updatedAt", "primary"?, "replicas"?...}], "nbPages"}` |
//! | `GET /1/indexes/{index}/task/{taskID}` | `{"status": "published" \| "notPublished", "pendingTask"}` |
//!
//! Every write is a task: it is applied (and visible to reads) only once it is published,
//! [`MockAlgoliaOptions::publish_delay`] after it was accepted, so a client must wait for
//! the task to read its own writes. Every request needs `x-algolia-application-id` and a
//! known `x-algolia-api-key` (403 `Invalid Application-ID or API key`); a key has ACLs (403
//! `Method not allowed with this API key`) and may be restricted to index patterns such as
//! `acme_*` (403 `Index not allowed with this API key`, and `GET /1/indexes` lists only the
//! key's indices). Errors are Algolia's `{"message": "...", "status": N}`.
//!
//! Test hooks: [`MockAlgolia::fail_next`] makes one host answer its next requests with a
//! status (5xx, 429 with `Retry-After`, a 4xx) or only after a delay (a time-out for the
//! client); [`MockAlgolia::requests`] is what each host received.

mod engine;
mod filters;
mod text;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::shared::{form_decode, unix_ms};
use super::{lock, MockError, MockResponse, MockServer, RecordedRequest};

/// Unix milliseconds as ISO 8601, as Algolia writes dates (`2024-03-15T14:30:00.000Z`).
pub use super::shared::iso8601;

pub use engine::search;

/// The application id the mock serves by default.
pub const APP_ID: &str = "SWITCHYARDTEST";
/// An admin key of the default application: every ACL, every index.
pub const ADMIN_KEY: &str = "algolia_admin_key_do_not_leak";

/// The largest request body read.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Every ACL an API key can have (those the mock checks).
pub const ALL_ACLS: &[&str] = &[
    "search",
    "browse",
    "addObject",
    "deleteObject",
    "deleteIndex",
    "settings",
    "editSettings",
    "listIndexes",
];

/// An API key the mock knows.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// The key itself (`x-algolia-api-key`).
    pub value: String,
    /// Index name patterns it may use (`acme_*`, `*_dev`, an exact name); empty: all.
    pub indexes: Vec<String>,
    /// Its ACLs (see [`ALL_ACLS`]).
    pub acl: Vec<String>,
}

impl ApiKey {
    /// A key with every ACL, restricted to `indexes` (empty: all).
    pub fn new(value: &str, indexes: &[&str]) -> ApiKey {
        ApiKey {
            value: value.into(),
            indexes: indexes.iter().map(|s| s.to_string()).collect(),
            acl: ALL_ACLS.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The same key with only `acl`.
    pub fn with_acl(mut self, acl: &[&str]) -> ApiKey {
        self.acl = acl.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Whether the key may use index `name`.
    pub fn allows(&self, name: &str) -> bool {
        self.indexes.is_empty()
            || self.indexes.iter().any(|p| {
                if let Some(prefix) = p.strip_suffix('*') {
                    name.starts_with(prefix)
                } else if let Some(suffix) = p.strip_prefix('*') {
                    name.ends_with(suffix)
                } else {
                    p == name
                }
            })
    }
}

/// How to start a [`MockAlgolia`].
#[derive(Debug, Clone)]
pub struct MockAlgoliaOptions {
    /// The application id (`x-algolia-application-id`).
    pub app_id: String,
    /// The API keys it knows; [`ADMIN_KEY`] by default.
    pub keys: Vec<ApiKey>,
    /// How many hosts (ports) serve the application (at least 1; 4 by default).
    pub hosts: usize,
    /// How long after it was accepted a write's task is published.
    pub publish_delay: Duration,
    /// The largest record, in bytes of JSON.
    pub max_record_bytes: usize,
    /// The first host's address when set (the demo's fixed ports): host `i` listens on its
    /// port + `i`. Free ports picked by the OS when none.
    pub first_port: Option<SocketAddr>,
}

impl Default for MockAlgoliaOptions {
    fn default() -> Self {
        MockAlgoliaOptions {
            app_id: APP_ID.into(),
            keys: vec![ApiKey::new(ADMIN_KEY, &[])],
            hosts: 4,
            publish_delay: Duration::from_millis(30),
            max_record_bytes: 100 * 1024 + 1024,
            first_port: None,
        }
    }
}

/// A failure a host answers with instead of serving the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Answers `status` with Algolia's error body, and `Retry-After` when given.
    Status {
        status: u16,
        message: String,
        retry_after: Option<String>,
    },
    /// Serves the request only after this long (a client with a shorter time-out gives up).
    Delay(Duration),
}

impl Failure {
    /// `status` with `message`.
    pub fn status(status: u16, message: &str) -> Failure {
        Failure::Status {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429 with `Retry-After: seconds`.
    pub fn rate_limited(seconds: u64) -> Failure {
        Failure::Status {
            status: 429,
            message: "Too many requests".into(),
            retry_after: Some(seconds.to_string()),
        }
    }
}

/// An index as the mock keeps it.
#[derive(Debug, Clone, Default)]
struct Index {
    /// Records in insertion order (a replaced record keeps its place).
    records: Vec<(String, Value)>,
    settings: Map<String, Value>,
    /// Set on a replica: its primary (a replica searches its primary's records).
    primary: Option<String>,
    created_ms: u64,
    updated_ms: u64,
}

#[derive(Debug, Clone)]
enum Op {
    Batch(Vec<(String, Value)>),
    Settings(Map<String, Value>, bool),
    Delete,
}

#[derive(Debug)]
struct Task {
    index: String,
    due: Instant,
    op: Option<Op>,
}

#[derive(Debug, Default)]
struct Data {
    indexes: BTreeMap<String, Index>,
    tasks: BTreeMap<u64, Task>,
}

struct State {
    options: MockAlgoliaOptions,
    keys: Mutex<Vec<ApiKey>>,
    data: Mutex<Data>,
    failures: Mutex<Vec<VecDeque<Failure>>>,
    requests: Mutex<Vec<Vec<RecordedRequest>>>,
    next_task: AtomicU64,
    next_object: AtomicU64,
}

/// A running mock of one Algolia application on [`MockAlgoliaOptions::hosts`] ports.
pub struct MockAlgolia {
    servers: Vec<MockServer>,
    state: Arc<State>,
}

impl std::fmt::Debug for MockAlgolia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockAlgolia")
            .field("hosts", &self.host_urls())
            .finish_non_exhaustive()
    }
}

type Answer = (StatusCode, Value);

fn error(status: StatusCode, message: &str) -> Answer {
    (
        status,
        json!({"message": message, "status": status.as_u16()}),
    )
}

fn bad_request(message: &str) -> Answer {
    error(StatusCode::BAD_REQUEST, message)
}

fn no_index() -> Answer {
    error(StatusCode::NOT_FOUND, "Index does not exist")
}

/// Parses `a=1&b=x` (Algolia's `params` string, or a URL query).
fn parse_query_string(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (form_decode(k), form_decode(v)),
            None => (form_decode(p), String::new()),
        })
        .collect()
}

impl MockAlgolia {
    /// Starts a mock with the default application, admin key and 4 hosts.
    ///
    /// # Panics
    /// When `127.0.0.1:0` cannot be bound.
    pub async fn start() -> MockAlgolia {
        Self::start_with(MockAlgoliaOptions::default()).await
    }

    /// Starts a mock with `options`.
    ///
    /// # Panics
    /// When a port cannot be bound; use [`MockAlgolia::try_start_with`] for the error.
    pub async fn start_with(options: MockAlgoliaOptions) -> MockAlgolia {
        match Self::try_start_with(options).await {
            Ok(mock) => mock,
            Err(err) => panic!("MockAlgolia could not start: {err}"),
        }
    }

    /// Starts a mock with `options`, returning the bind error instead of panicking.
    pub async fn try_start_with(options: MockAlgoliaOptions) -> Result<MockAlgolia, MockError> {
        let hosts = options.hosts.max(1);
        let first_port = options.first_port;
        let state = Arc::new(State {
            keys: Mutex::new(options.keys.clone()),
            options,
            data: Mutex::new(Data::default()),
            failures: Mutex::new(vec![VecDeque::new(); hosts]),
            requests: Mutex::new(vec![Vec::new(); hosts]),
            next_task: AtomicU64::new(1000),
            next_object: AtomicU64::new(1),
        });
        let mut servers = Vec::with_capacity(hosts);
        for host in 0..hosts {
            let handler_state = Arc::clone(&state);
            let addr = match first_port {
                Some(first) => {
                    SocketAddr::new(first.ip(), first.port().saturating_add(host as u16))
                }
                None => SocketAddr::from(([127, 0, 0, 1], 0)),
            };
            servers.push(
                MockServer::start_on(addr, move |req| {
                    let state = Arc::clone(&handler_state);
                    async move { state.handle(host, req).await }
                })
                .await?,
            );
        }
        Ok(MockAlgolia { servers, state })
    }

    /// The application id served.
    pub fn app_id(&self) -> String {
        self.state.options.app_id.clone()
    }

    /// `http://127.0.0.1:PORT` of host `i` (0-based).
    ///
    /// # Panics
    /// When there is no host `i`.
    pub fn host_url(&self, i: usize) -> String {
        self.servers[i].base_url()
    }

    /// Every host's base URL, in order.
    pub fn host_urls(&self) -> Vec<String> {
        self.servers.iter().map(MockServer::base_url).collect()
    }

    /// Adds an API key.
    pub fn add_key(&self, key: ApiKey) {
        lock(&self.state.keys).push(key);
    }

    /// Makes host `host` answer its next `n` requests with `failure`.
    pub fn fail_next(&self, host: usize, n: usize, failure: Failure) {
        lock(&self.state.failures)[host].extend(std::iter::repeat_n(failure, n));
    }

    /// Drops the failures not yet used.
    pub fn clear_failures(&self) {
        for q in lock(&self.state.failures).iter_mut() {
            q.clear();
        }
    }

    /// Every request host `host` received, in order.
    pub fn requests(&self, host: usize) -> Vec<RecordedRequest> {
        lock(&self.state.requests)[host].clone()
    }

    /// Forgets the requests recorded so far.
    pub fn clear_requests(&self) {
        for r in lock(&self.state.requests).iter_mut() {
            r.clear();
        }
    }

    /// The names of every index (primaries and replicas), published writes only.
    pub fn index_names(&self) -> Vec<String> {
        let mut data = lock(&self.state.data);
        self.state.apply_due(&mut data, Instant::now());
        data.indexes.keys().cloned().collect()
    }

    /// The published records of `index` (a replica's are its primary's).
    pub fn records(&self, index: &str) -> Option<Vec<(String, Value)>> {
        let mut data = lock(&self.state.data);
        self.state.apply_due(&mut data, Instant::now());
        let idx = data.indexes.get(index)?;
        let source = idx.primary.as_deref().unwrap_or(index);
        data.indexes.get(source).map(|i| i.records.clone())
    }

    /// The published settings of `index`.
    pub fn settings(&self, index: &str) -> Option<Value> {
        let mut data = lock(&self.state.data);
        self.state.apply_due(&mut data, Instant::now());
        data.indexes
            .get(index)
            .map(|i| Value::Object(i.settings.clone()))
    }
}

impl State {
    async fn handle(&self, host: usize, req: Request<Incoming>) -> MockResponse {
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => Bytes::new(),
        };
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().map(str::to_string);

        let failure = lock(&self.failures)[host].pop_front();
        let mut retry_after = None;
        let (status, answer) = match failure {
            Some(Failure::Status {
                status,
                message,
                retry_after: after,
            }) => {
                retry_after = after;
                error(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    &message,
                )
            }
            Some(Failure::Delay(d)) => {
                tokio::time::sleep(d).await;
                self.route(
                    &parts.method,
                    &parts.headers,
                    &path,
                    query.as_deref(),
                    &body,
                )
            }
            None => self.route(
                &parts.method,
                &parts.headers,
                &path,
                query.as_deref(),
                &body,
            ),
        };

        let mut response = Response::new(Full::new(Bytes::from(answer.to_string())));
        *response.status_mut() = status;
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=UTF-8"),
        );
        if let Some(v) = retry_after.and_then(|a| HeaderValue::from_str(&a).ok()) {
            response.headers_mut().insert(RETRY_AFTER, v);
        }
        lock(&self.requests)[host].push(RecordedRequest::new(parts, body, status));
        response
    }

    /// Applies, in order, every task whose time has come.
    fn apply_due(&self, data: &mut Data, now: Instant) {
        let due: Vec<u64> = data
            .tasks
            .iter()
            .filter(|(_, t)| t.op.is_some() && t.due <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let (index, op) = match data.tasks.get_mut(&id) {
                Some(t) => (t.index.clone(), t.op.take()),
                None => continue,
            };
            if let Some(op) = op {
                apply(data, &index, op);
            }
        }
    }

    fn new_task(&self, data: &mut Data, index: &str, op: Op) -> u64 {
        let id = self.next_task.fetch_add(1, Ordering::SeqCst);
        data.tasks.insert(
            id,
            Task {
                index: index.to_string(),
                due: Instant::now() + self.options.publish_delay,
                op: Some(op),
            },
        );
        if self.options.publish_delay.is_zero() {
            self.apply_due(data, Instant::now());
        }
        id
    }

    fn route(
        &self,
        method: &Method,
        headers: &HeaderMap,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> Answer {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let key = {
            let keys = lock(&self.keys);
            let app_ok = header("x-algolia-application-id") == Some(self.options.app_id.as_str());
            match header("x-algolia-api-key").and_then(|k| keys.iter().find(|key| key.value == k)) {
                Some(key) if app_ok => key.clone(),
                _ => return error(StatusCode::FORBIDDEN, "Invalid Application-ID or API key"),
            }
        };
        let Some(rest) = path.strip_prefix("/1/indexes") else {
            return error(StatusCode::NOT_FOUND, "Path not found");
        };
        let segments: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(form_decode)
            .collect();
        let params = parse_query_string(query.unwrap_or(""));
        let needs_body = matches!(*method, Method::POST | Method::PUT);
        let json_body = if needs_body {
            let content_type = header("content-type").unwrap_or("");
            let ct = content_type.split(';').next().unwrap_or("").trim();
            if !ct.eq_ignore_ascii_case("application/json")
                && !ct.eq_ignore_ascii_case("text/plain")
            {
                return bad_request(&format!(
                    "Invalid content type '{content_type}': expected application/json"
                ));
            }
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(o)) => Some(o),
                Ok(_) => return bad_request("Invalid JSON: expected an object"),
                Err(e) => return bad_request(&format!("Invalid JSON: {e}")),
            }
        } else {
            None
        };
        let acl = |name: &str| key.acl.iter().any(|a| a == name);
        let forbidden_method = || {
            error(
                StatusCode::FORBIDDEN,
                "Method not allowed with this API key",
            )
        };
        let forbidden_index =
            || error(StatusCode::FORBIDDEN, "Index not allowed with this API key");
        let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
        match (method, seg.as_slice()) {
            (&Method::GET, []) => {
                if !acl("listIndexes") {
                    return forbidden_method();
                }
                self.list(&key, &params)
            }
            (&Method::POST, ["*", "objects"]) => {
                if !acl("search") {
                    return forbidden_method();
                }
                self.get_objects(&key, json_body.unwrap_or_default())
            }
            (_, [index, ..]) if !key.allows(index) => forbidden_index(),
            (&Method::POST, [index, "query"]) => {
                if !acl("search") {
                    return forbidden_method();
                }
                self.query(index, json_body.unwrap_or_default())
            }
            (&Method::POST, [index, "batch"]) => {
                self.batch(&key, index, json_body.unwrap_or_default())
            }
            (&Method::GET, [index, "settings"]) => {
                if !acl("settings") {
                    return forbidden_method();
                }
                self.get_settings(index)
            }
            (&Method::PUT, [index, "settings"]) => {
                if !acl("editSettings") {
                    return forbidden_method();
                }
                let forward = params
                    .iter()
                    .any(|(k, v)| k == "forwardToReplicas" && v == "true");
                self.set_settings(&key, index, json_body.unwrap_or_default(), forward)
            }
            (&Method::GET, [index, "task", id]) => self.task(index, id),
            (&Method::DELETE, [index]) => {
                if !acl("deleteIndex") {
                    return forbidden_method();
                }
                self.delete_index(index)
            }
            (&Method::GET, [index, object_id]) => {
                if !acl("search") {
                    return forbidden_method();
                }
                self.get_object(index, object_id)
            }
            _ => error(StatusCode::NOT_FOUND, "Path not found"),
        }
    }

    fn list(&self, key: &ApiKey, params: &[(String, String)]) -> Answer {
        let mut data = lock(&self.data);
        self.apply_due(&mut data, Instant::now());
        let pending: Vec<&String> = data
            .tasks
            .values()
            .filter(|t| t.op.is_some())
            .map(|t| &t.index)
            .collect();
        let items: Vec<Value> = data
            .indexes
            .iter()
            .filter(|(name, _)| key.allows(name))
            .map(|(name, idx)| {
                let source = idx.primary.as_deref().unwrap_or(name);
                let entries = data.indexes.get(source).map_or(0, |i| i.records.len());
                let size: usize = data.indexes.get(source).map_or(0, |i| {
                    i.records.iter().map(|(_, r)| r.to_string().len()).sum()
                });
                let pending_tasks = pending.iter().filter(|i| **i == name).count();
                let mut item = json!({
                    "name": name,
                    "createdAt": iso8601(idx.created_ms),
                    "updatedAt": iso8601(idx.updated_ms),
                    "entries": entries,
                    "dataSize": size,
                    "fileSize": size,
                    "lastBuildTimeS": 0,
                    "numberOfPendingTasks": pending_tasks,
                    "pendingTask": pending_tasks > 0,
                });
                if let Some(p) = &idx.primary {
                    item["primary"] = json!(p);
                }
                if let Some(r) = idx
                    .settings
                    .get("replicas")
                    .filter(|r| r.as_array().is_some_and(|a| !a.is_empty()))
                {
                    item["replicas"] = r.clone();
                }
                item
            })
            .collect();
        let get = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        match get("page") {
            None => json_ok(json!({"items": items, "nbPages": 1})),
            Some(page) => {
                let Ok(page) = page.parse::<usize>() else {
                    return bad_request("page must be an integer");
                };
                let per = get("hitsPerPage")
                    .and_then(|h| h.parse::<usize>().ok())
                    .unwrap_or(100)
                    .max(1);
                let nb_pages = items.len().div_ceil(per);
                let slice: Vec<Value> = items.into_iter().skip(page * per).take(per).collect();
                json_ok(json!({"items": slice, "nbPages": nb_pages}))
            }
        }
    }

    fn query(&self, index: &str, body: Map<String, Value>) -> Answer {
        let mut params = body;
        if let Some(Value::String(s)) = params.remove("params") {
            for (k, v) in parse_query_string(&s) {
                let value = serde_json::from_str::<Value>(&v).unwrap_or(Value::String(v));
                let value = match (k.as_str(), value) {
                    ("query" | "filters" | "highlightPreTag" | "highlightPostTag", v) => {
                        Value::String(match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        })
                    }
                    (_, v) => v,
                };
                params.insert(k, value);
            }
        }
        let mut data = lock(&self.data);
        self.apply_due(&mut data, Instant::now());
        let Some(idx) = data.indexes.get(index) else {
            return no_index();
        };
        let source = idx.primary.as_deref().unwrap_or(index);
        let empty = Vec::new();
        let records = data.indexes.get(source).map_or(&empty, |i| &i.records);
        match engine::search(index, records, &idx.settings, &params) {
            Ok(answer) => json_ok(answer),
            Err(message) => bad_request(&message),
        }
    }

    fn batch(&self, key: &ApiKey, index: &str, body: Map<String, Value>) -> Answer {
        let Some(Value::Array(requests)) = body.get("requests") else {
            return bad_request("Missing or invalid 'requests' attribute: expected an array");
        };
        let mut ops = Vec::with_capacity(requests.len());
        let mut ids = Vec::with_capacity(requests.len());
        for (i, r) in requests.iter().enumerate() {
            let action = r.get("action").and_then(Value::as_str).unwrap_or("");
            let needed = match action {
                "addObject"
                | "updateObject"
                | "partialUpdateObject"
                | "partialUpdateObjectNoCreate"
                | "clear" => "addObject",
                "deleteObject" | "delete" => "deleteObject",
                "" => return bad_request(&format!("Missing 'action' in request {i}")),
                other => return bad_request(&format!("Invalid action '{other}' in request {i}")),
            };
            if !key.acl.iter().any(|a| a == needed) {
                return error(
                    StatusCode::FORBIDDEN,
                    "Method not allowed with this API key",
                );
            }
            let mut record = match r.get("body") {
                Some(Value::Object(o)) => o.clone(),
                None if action == "clear" || action == "delete" => Map::new(),
                _ => return bad_request(&format!("Missing or invalid 'body' in request {i}")),
            };
            let id = match record.get("objectID") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                None if action == "addObject" => {
                    let n = self.next_object.fetch_add(1, Ordering::SeqCst);
                    format!("{n}")
                }
                None if action == "clear" || action == "delete" => String::new(),
                _ => {
                    return bad_request(&format!(
                        "Missing or invalid objectID in request {i} ({action})"
                    ))
                }
            };
            if matches!(action, "addObject" | "updateObject") {
                record.insert("objectID".into(), json!(id));
                let size = Value::Object(record.clone()).to_string().len();
                if size > self.options.max_record_bytes {
                    return bad_request(&format!(
                        "Record at the position {i} objectID={id} is too big size={size}/{} bytes. Please have a look at https://www.algolia.com/doc/guides/sending-and-managing-data/prepare-your-data/in-depth/index-and-records-size-and-usage-limitations/#record-size-limits",
                        self.options.max_record_bytes
                    ));
                }
            }
            ids.push(json!(id));
            ops.push((action.to_string(), Value::Object(record)));
        }
        let mut data = lock(&self.data);
        self.apply_due(&mut data, Instant::now());
        if data.indexes.get(index).is_some_and(|i| i.primary.is_some()) {
            return bad_request("Cannot write records to a replica index");
        }
        let task = self.new_task(&mut data, index, Op::Batch(ops));
        json_ok(json!({"taskID": task, "objectIDs": ids}))
    }

    fn get_settings(&self, index: &str) -> Answer {
        let mut data = lock(&self.data);
        self.apply_due(&mut data, Instant::now());
        match data.indexes.get(index) {
            Some(idx) => {
                let mut s = idx.settings.clone();
                if let Some(p) = &idx.primary {
                    s.insert("primary".into(), json!(p));
                }
                s.entry("hitsPerPage").or_insert(json!(20));
                s.entry("paginationLimitedTo").or_insert(json!(1000));
                s.entry("ranking").or_insert(json!([
                    "typo",
                    "geo",
                    "words",
                    "filters",
                    "proximity",
                    "attribute",
                    "exact",
                    "custom"
                ]));
                json_ok(Value::Object(s))
            }
            None => no_index(),
        }
    }

    fn set_settings(
        &self,
        key: &ApiKey,
        index: &str,
        body: Map<String, Value>,
        forward: bool,
    ) -> Answer {
        for (k, v) in &body {
            let ok = match k.as_str() {
                "searchableAttributes"
                | "attributesForFaceting"
                | "replicas"
                | "customRanking"
                | "attributesToHighlight"
                | "attributesToSnippet"
                | "unretrievableAttributes"
                | "attributesToRetrieve" => strings(v),
                "ranking" => {
                    strings(v)
                        && v.as_array().is_some_and(|l| {
                            l.iter().filter_map(Value::as_str).all(|c| {
                                [
                                    "typo",
                                    "geo",
                                    "words",
                                    "filters",
                                    "proximity",
                                    "attribute",
                                    "exact",
                                    "custom",
                                ]
                                .contains(&c)
                                    || engine_modifier(c)
                            })
                        })
                }
                "paginationLimitedTo" | "hitsPerPage" | "maxValuesPerFacet" => v.is_u64(),
                "typoTolerance" => v.is_boolean() || v.is_string(),
                "queryType" | "highlightPreTag" | "highlightPostTag" | "snippetEllipsisText" => {
                    v.is_string()
                }
                "userData" => true,
                _ => {
                    return bad_request(&format!(
                        "Invalid object attributes: {k} near line:1 column:2"
                    ))
                }
            };
            if !ok {
                return bad_request(&format!("Invalid value for attribute {k}"));
            }
        }
        if let Some(Value::Array(replicas)) = body.get("replicas") {
            for r in replicas.iter().filter_map(Value::as_str) {
                let name = r
                    .strip_prefix("virtual(")
                    .and_then(|r| r.strip_suffix(')'))
                    .unwrap_or(r);
                if name == index {
                    return bad_request("An index cannot be its own replica");
                }
                if !key.allows(name) {
                    return error(StatusCode::FORBIDDEN, "Index not allowed with this API key");
                }
            }
        }
        let mut data = lock(&self.data);
        self.apply_due(&mut data, Instant::now());
        if body.contains_key("replicas")
            && data.indexes.get(index).is_some_and(|i| i.primary.is_some())
        {
            return bad_request("Replicas cannot have replicas");
        }
        let task = self.new_task(&mut data, index, Op::Settings(body, forward));
        json_ok(json!({"taskID": task, "updatedAt": iso8601(unix_ms())}))
    }

    fn delete_index(&self, index: &str) -> Answer {
        let mut data = lock(&self.data);
        self.apply_due(&mut data, Instant::now());
        if !data.indexes.contains_key(index) {
            return no_index();
        }
        let task = self.new_task(&mut data, index, Op::Delete);
        json_ok(json!({"taskID": task, "deletedAt": iso8601(unix_ms())}))
    }

    fn task(&self, index: &str, id: &str) -> Answer {
        let mut data = lock(&self.data);
        self.apply_due(&mut data, Instant::now());
        match id.parse::<u64>().ok().and_then(|id| data.tasks.get(&id)) {
            Some(t) if t.index == index => {
                let published = t.op.is_none();
                json_ok(json!({
                    "status": if published { "published" } else { "notPublished" },
                    "pendingTask": !published,
                }))
            }
            _ => error(StatusCode::NOT_FOUND, "Task does not exist"),
        }
    }

    fn get_object(&self, index: &str, id: &str) -> Answer {
        let mut data = lock(&self.data);
        self.apply_due(&mut data, Instant::now());
        let Some(idx) = data.indexes.get(index) else {
            return no_index();
        };
        let source = idx.primary.as_deref().unwrap_or(index);
        match data
            .indexes
            .get(source)
            .and_then(|i| i.records.iter().find(|(rid, _)| rid == id))
        {
            Some((_, record)) => json_ok(record.clone()),
            None => error(StatusCode::NOT_FOUND, "ObjectID does not exist"),
        }
    }

    fn get_objects(&self, key: &ApiKey, body: Map<String, Value>) -> Answer {
        let Some(Value::Array(requests)) = body.get("requests") else {
            return bad_request("Missing or invalid 'requests' attribute: expected an array");
        };
        let mut data = lock(&self.data);
        self.apply_due(&mut data, Instant::now());
        let mut results = Vec::with_capacity(requests.len());
        for r in requests {
            let (Some(index), Some(id)) = (
                r.get("indexName").and_then(Value::as_str),
                r.get("objectID").and_then(Value::as_str),
            ) else {
                return bad_request("Each request needs indexName and objectID");
            };
            if !key.allows(index) {
                return error(StatusCode::FORBIDDEN, "Index not allowed with this API key");
            }
            let found = data.indexes.get(index).and_then(|idx| {
                let source = idx.primary.as_deref().unwrap_or(index);
                data.indexes
                    .get(source)?
                    .records
                    .iter()
                    .find(|(rid, _)| rid == id)
                    .map(|(_, rec)| rec.clone())
            });
            results.push(found.unwrap_or(Value::Null));
        }
        json_ok(json!({"results": results}))
    }
}

fn engine_modifier(c: &str) -> bool {
    ["asc(", "desc("]
        .iter()
        .any(|p| c.starts_with(p) && c.ends_with(')') && c.len() > p.len() + 1)
}

fn strings(v: &Value) -> bool {
    v.as_array().is_some_and(|l| l.iter().all(Value::is_string))
}

fn json_ok(v: Value) -> Answer {
    (StatusCode::OK, v)
}

/// Applies a published write.
fn apply(data: &mut Data, index: &str, op: Op) {
    let now = unix_ms();
    match op {
        Op::Batch(ops) => {
            let idx = data
                .indexes
                .entry(index.to_string())
                .or_insert_with(|| Index {
                    created_ms: now,
                    ..Index::default()
                });
            idx.updated_ms = now;
            for (action, body) in ops {
                let id = body
                    .get("objectID")
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default();
                let pos = idx.records.iter().position(|(rid, _)| *rid == id);
                match action.as_str() {
                    "addObject" | "updateObject" => match pos {
                        Some(p) => idx.records[p].1 = body,
                        None => idx.records.push((id, body)),
                    },
                    "partialUpdateObject" | "partialUpdateObjectNoCreate" => match pos {
                        Some(p) => {
                            if let (Value::Object(stored), Value::Object(changes)) =
                                (&mut idx.records[p].1, body)
                            {
                                for (k, v) in changes {
                                    stored.insert(k, v);
                                }
                            }
                        }
                        None if action == "partialUpdateObject" => idx.records.push((id, body)),
                        None => {}
                    },
                    "deleteObject" => {
                        if let Some(p) = pos {
                            idx.records.remove(p);
                        }
                    }
                    "clear" => idx.records.clear(),
                    "delete" => {
                        data.indexes.remove(index);
                        return;
                    }
                    _ => {}
                }
            }
        }
        Op::Settings(settings, forward) => {
            let old_replicas: Vec<String> = data
                .indexes
                .get(index)
                .map(|i| replica_names(&i.settings))
                .unwrap_or_default();
            let idx = data
                .indexes
                .entry(index.to_string())
                .or_insert_with(|| Index {
                    created_ms: now,
                    ..Index::default()
                });
            idx.updated_ms = now;
            for (k, v) in &settings {
                if v.is_null() {
                    idx.settings.remove(k);
                } else {
                    idx.settings.insert(k.clone(), v.clone());
                }
            }
            let new_replicas = replica_names(&idx.settings);
            let primary_settings = idx.settings.clone();
            let records = idx.records.clone();
            for gone in old_replicas.iter().filter(|r| !new_replicas.contains(r)) {
                if let Some(r) = data.indexes.get_mut(gone) {
                    r.primary = None;
                    r.records = records.clone();
                }
            }
            for name in &new_replicas {
                let replica = data.indexes.entry(name.clone()).or_insert_with(|| {
                    let mut s = primary_settings.clone();
                    s.remove("replicas");
                    Index {
                        settings: s,
                        created_ms: now,
                        ..Index::default()
                    }
                });
                replica.primary = Some(index.to_string());
                replica.records.clear();
                if forward {
                    for (k, v) in &settings {
                        if k != "replicas" {
                            if v.is_null() {
                                replica.settings.remove(k);
                            } else {
                                replica.settings.insert(k.clone(), v.clone());
                            }
                        }
                    }
                }
            }
        }
        Op::Delete => {
            if let Some(removed) = data.indexes.remove(index) {
                for name in replica_names(&removed.settings) {
                    if let Some(r) = data.indexes.get_mut(&name) {
                        r.primary = None;
                        r.records = removed.records.clone();
                    }
                }
                if let Some(p) = removed.primary {
                    if let Some(primary) = data.indexes.get_mut(&p) {
                        if let Some(Value::Array(list)) = primary.settings.get_mut("replicas") {
                            list.retain(|r| {
                                r.as_str().map(|s| {
                                    s.strip_prefix("virtual(")
                                        .and_then(|s| s.strip_suffix(')'))
                                        .unwrap_or(s)
                                }) != Some(index)
                            });
                        }
                    }
                }
            }
        }
    }
}

fn replica_names(settings: &Map<String, Value>) -> Vec<String> {
    settings
        .get("replicas")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(|r| {
                    r.strip_prefix("virtual(")
                        .and_then(|r| r.strip_suffix(')'))
                        .unwrap_or(r)
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

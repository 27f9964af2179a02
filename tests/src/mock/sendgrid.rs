//! `MockSendGrid`: a local stand-in for SendGrid's v3 Mail Send API, speaking its wire format,
//! validating bodies as SendGrid does, recording what it accepted and failing on demand.
//!
//! | Request | Answer |
//! |---|---|
//! | `POST /v3/mail/send` (`Authorization: Bearer <key>`, `Content-Type: application/json`) | 202, empty body, `X-Message-Id: <22 chars>` |
//! | `GET /v3/scopes` | 200 `{"scopes": [...]}`: the key's scopes (`mail.send` by default) |
//! | `GET /_mock/messages` | the accepted messages as JSON: the mock's own, like PostHog's `/_mock/events` |
//!
//! Errors use SendGrid's body, `{"errors": [{"message", "field", "help"}]}`:
//! - 401 for a missing `Authorization` (`authorization required`) or a wrong key (`The provided
//!   authorization grant is invalid, expired, or revoked`);
//! - 403 `access forbidden` when the key lacks the `mail.send` scope, and, when verified
//!   senders are set, 403 on `from` for any other sender (SendGrid's Sender Identity message);
//! - 415 unless the body is declared `application/json`;
//! - 400 `Bad Request` for a body that is not a JSON object, and every validation error at once
//!   otherwise (see [`wire::validate`]: `from` required and valid; 1 to 1000 personalizations
//!   each with a `to`; at most 1000 recipients in all, each address once per personalization;
//!   `subject` unless every personalization has one or a template is used; `content` unless a
//!   template is used, non-empty values, `text/plain` first then `text/html`; attachments with
//!   strict base64 `content`, a `filename`, a `type` without `;`, `disposition` `inline` (with
//!   `content_id`) or `attachment`; at most 10 unique ASCII categories of 255 characters;
//!   string headers outside SendGrid's reserved names; `custom_args` of strings);
//! - 413 for a message over 30 MB (subject, content, headers and decoded attachments), and an
//!   nginx page for a request body over the mock's body limit (64 MiB by default).
//!
//! Failures queued with [`MockSendGrid::fail_next`] (any status, headers, body) or the helpers
//! for SendGrid's 429 and 5xx answer authenticated mail sends before validation.

pub mod wire;

#[cfg(test)]
mod tests;

use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{HeaderMap, Method, Request, StatusCode};
use serde_json::{json, Value};
use tokio::sync::watch;

use super::shared::unix_ms;
use super::{lock, Handler, MockError, MockResponse, MockServer, RecordedRequest};
use wire::SgError;

/// The mock's default limit on a request body (above SendGrid's 30 MB message limit, which a
/// base64 body exceeds by a third).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// SendGrid's message for an unverified sender (403 on `from`).
pub const UNVERIFIED_SENDER: &str = "The from address does not match a verified Sender Identity. \
     Mail cannot be sent until this error is resolved. Visit \
     https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender \
     Identity requirements";

/// How to start a [`MockSendGrid`].
#[derive(Debug, Clone)]
pub struct MockSendGridOptions {
    /// The API key (`SG.…`) requests must carry as `Authorization: Bearer <key>`.
    pub api_key: String,
    /// The key's scopes, answered by `GET /v3/scopes`; without `mail.send`, sends get 403.
    pub scopes: Vec<String>,
    /// When set, only these `from` addresses may send (case-insensitive); others get 403.
    pub verified_senders: Option<Vec<String>>,
    /// Largest accepted request body; larger answers 413.
    pub max_body_bytes: usize,
    /// Where to listen; `127.0.0.1:0` (a free port) by default.
    pub bind: SocketAddr,
}

impl MockSendGridOptions {
    /// Defaults for `api_key`: scope `mail.send`, every sender verified, 64 MiB bodies.
    pub fn new(api_key: &str) -> Self {
        MockSendGridOptions {
            api_key: api_key.to_string(),
            scopes: vec!["mail.send".into()],
            verified_senders: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// Sets the key's scopes.
    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Only these senders may send.
    pub fn verified_senders(mut self, senders: &[&str]) -> Self {
        self.verified_senders = Some(senders.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Listens on `addr` instead of a free port.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }
}

/// One message the mock accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMail {
    /// The `X-Message-Id` the mock answered.
    pub id: String,
    /// The request body as sent.
    pub body: Value,
    /// When it was accepted, in milliseconds since the Unix epoch.
    pub received_at_ms: u64,
}

impl ReceivedMail {
    /// The `from` email.
    pub fn from(&self) -> &str {
        self.body["from"]["email"].as_str().unwrap_or("")
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        self.body["subject"].as_str().unwrap_or("")
    }

    /// The decoded bytes of attachment `i`, when it exists.
    pub fn attachment(&self, i: usize) -> Option<Vec<u8>> {
        self.body["attachments"][i]["content"]
            .as_str()
            .and_then(wire::decode_base64)
    }
}

#[derive(Debug, Clone)]
struct Injected {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Debug)]
struct Config {
    api_key: String,
    scopes: Vec<String>,
    verified_senders: Option<Vec<String>>,
    max_body_bytes: usize,
    failures: VecDeque<Injected>,
}

#[derive(Debug)]
struct State {
    config: Mutex<Config>,
    messages: Mutex<Vec<ReceivedMail>>,
    requests: Mutex<Vec<RecordedRequest>>,
    count: watch::Sender<usize>,
    ids: AtomicU64,
    hasher: RandomState,
}

/// A running mock of SendGrid's Mail Send API on `127.0.0.1`.
///
/// Cheap to clone; clones share the server and its records. The server stops when the last
/// clone is dropped.
#[derive(Debug, Clone)]
pub struct MockSendGrid {
    server: Arc<MockServer>,
    state: Arc<State>,
}

impl MockSendGrid {
    /// Starts a mock that accepts `api_key`, with the default options.
    ///
    /// # Panics
    /// When `127.0.0.1:0` cannot be bound; use [`MockSendGrid::try_start_with`] for the error.
    pub async fn start(api_key: &str) -> MockSendGrid {
        Self::start_with(MockSendGridOptions::new(api_key)).await
    }

    /// Starts a mock with `options`.
    ///
    /// # Panics
    /// When the address cannot be bound; use [`MockSendGrid::try_start_with`] for the error.
    pub async fn start_with(options: MockSendGridOptions) -> MockSendGrid {
        super::started("MockSendGrid", Self::try_start_with(options).await)
    }

    /// Starts a mock with `options`, returning the bind error instead of panicking.
    pub async fn try_start_with(options: MockSendGridOptions) -> Result<MockSendGrid, MockError> {
        let (count, _) = watch::channel(0);
        let state = Arc::new(State {
            config: Mutex::new(Config {
                api_key: options.api_key,
                scopes: options.scopes,
                verified_senders: options.verified_senders,
                max_body_bytes: options.max_body_bytes,
                failures: VecDeque::new(),
            }),
            messages: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            count,
            ids: AtomicU64::new(0),
            hasher: RandomState::new(),
        });
        let server = MockServer::serve(options.bind, &state).await?;
        Ok(MockSendGrid { server, state })
    }

    /// `http://127.0.0.1:PORT`: the `host` to give an adapter.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Every message accepted so far, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.state.messages).clone()
    }

    /// How many messages were accepted so far.
    pub fn message_count(&self) -> usize {
        lock(&self.state.messages).len()
    }

    /// Every request received so far (accepted or not), in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// The `POST /v3/mail/send` requests received so far, accepted or not.
    pub fn send_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/v3/mail/send")
            .collect()
    }

    /// Forgets recorded messages and requests (settings and queued failures stay).
    pub fn clear(&self) {
        let mut messages = lock(&self.state.messages);
        messages.clear();
        lock(&self.state.requests).clear();
        self.state.count.send_replace(0);
    }

    /// Waits until at least `n` messages were accepted and returns all of them, or gives up
    /// after `timeout` with [`MockError::Timeout`].
    pub async fn wait_for_messages(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedMail>, MockError> {
        super::wait_for_count(&self.state.count, n, timeout, "messages").await?;
        Ok(self.messages())
    }

    /// Answers the next `n` authenticated mail sends with `status`, `headers` and `body` as
    /// given (`Content-Type: application/json` unless set), accepting nothing from them.
    ///
    /// # Panics
    /// When `status`, a header name or a header value is invalid.
    pub fn fail_next(&self, n: usize, status: u16, headers: &[(&str, &str)], body: &str) {
        let mut headers = super::header_map(headers);
        if !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let injected = Injected {
            status: super::status_code(status),
            headers,
            body: Bytes::copy_from_slice(body.as_bytes()),
        };
        lock(&self.state.config)
            .failures
            .extend(std::iter::repeat_n(injected, n));
    }

    /// Answers the next `n` mail sends with SendGrid's error body of `errors` and `status`.
    pub fn fail_next_errors(&self, n: usize, status: u16, errors: &[SgError]) {
        self.fail_next(n, status, &[], &wire::errors_body(errors).to_string());
    }

    /// Answers the next `n` mail sends with SendGrid's 429 (`too many requests`), with
    /// `X-RateLimit-Limit`/`-Remaining` and, when given, `Retry-After: retry_after` seconds
    /// and `X-RateLimit-Reset` `reset_in` seconds from now (a Unix time).
    pub fn rate_limit_next(&self, n: usize, retry_after: Option<u64>, reset_in: Option<u64>) {
        let retry_after = retry_after.map(|s| s.to_string());
        let reset = reset_in.map(|s| (unix_ms() / 1000 + s).to_string());
        let mut headers = vec![("x-ratelimit-limit", "600"), ("x-ratelimit-remaining", "0")];
        if let Some(v) = &retry_after {
            headers.push(("retry-after", v));
        }
        if let Some(v) = &reset {
            headers.push(("x-ratelimit-reset", v));
        }
        let body = wire::errors_body(&[SgError::general("too many requests")]).to_string();
        self.fail_next(n, 429, &headers, &body);
    }

    /// Answers the next `n` mail sends with `status` (a 5xx) and SendGrid's error body.
    pub fn server_error_next(&self, n: usize, status: u16) {
        let body = wire::errors_body(&[SgError::general("internal error")]).to_string();
        self.fail_next(n, status, &[], &body);
    }

    /// Sets the key's scopes.
    pub fn set_scopes(&self, scopes: &[&str]) {
        lock(&self.state.config).scopes = scopes.iter().map(|s| s.to_string()).collect();
    }

    /// Only these senders may send from now on (`None`: every sender).
    pub fn set_verified_senders(&self, senders: Option<&[&str]>) {
        lock(&self.state.config).verified_senders =
            senders.map(|s| s.iter().map(|s| s.to_string()).collect());
    }

    /// Drops queued failures.
    pub fn reset_failures(&self) {
        lock(&self.state.config).failures.clear();
    }
}

/// SendGrid's JSON error answer.
fn sg_error(status: StatusCode, errors: &[SgError]) -> MockResponse {
    json_response(status, &wire::errors_body(errors))
}

fn json_response(status: StatusCode, body: &Value) -> MockResponse {
    let mut res = MockResponse::new(Full::new(Bytes::from(body.to_string())));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

impl Handler for State {
    async fn handle(&self, req: Request<Incoming>) -> MockResponse {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        let (body, answer) = match (&parts.method, path.as_str()) {
            (&Method::POST, "/v3/mail/send") => self.mail_send(&parts.headers, body).await,
            (method, route) => {
                let body = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let answer = match (method, route) {
                    (&Method::GET, "/v3/scopes") => self.scopes(&parts.headers),
                    (&Method::GET, "/_mock/messages") => self.messages_json(),
                    (_, "/v3/mail/send" | "/v3/scopes") => sg_error(
                        StatusCode::METHOD_NOT_ALLOWED,
                        &[SgError::general("method not allowed")],
                    ),
                    _ => sg_error(
                        StatusCode::NOT_FOUND,
                        &[SgError::general("resource not found")],
                    ),
                };
                (body, answer)
            }
        };
        lock(&self.requests).push(RecordedRequest::new(parts, body, answer.status()));
        let accepted = lock(&self.messages).len();
        self.count.send_if_modified(|count| {
            let changed = *count != accepted;
            *count = accepted;
            changed
        });
        answer
    }
}

impl State {
    /// The 401 for a request without the right `Authorization: Bearer <key>`, if any.
    fn unauthenticated(&self, headers: &HeaderMap) -> Option<MockResponse> {
        let expected = lock(&self.config).api_key.clone();
        let given = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let message = match given {
            None => "authorization required",
            Some(value) if value.strip_prefix("Bearer ") == Some(expected.as_str()) => return None,
            Some(_) => "The provided authorization grant is invalid, expired, or revoked",
        };
        Some(sg_error(
            StatusCode::UNAUTHORIZED,
            &[SgError::general(message)],
        ))
    }

    fn scopes(&self, headers: &HeaderMap) -> MockResponse {
        if let Some(denied) = self.unauthenticated(headers) {
            return denied;
        }
        let scopes = lock(&self.config).scopes.clone();
        json_response(StatusCode::OK, &json!({ "scopes": scopes }))
    }

    fn messages_json(&self) -> MockResponse {
        let messages: Vec<Value> = lock(&self.messages)
            .iter()
            .map(|m| {
                json!({"x_message_id": m.id, "received_at_ms": m.received_at_ms, "body": m.body})
            })
            .collect();
        json_response(
            StatusCode::OK,
            &json!({"count": messages.len(), "messages": messages}),
        )
    }

    /// `POST /v3/mail/send`: answers the body to record and the response.
    async fn mail_send(&self, headers: &HeaderMap, body: Incoming) -> (Bytes, MockResponse) {
        let max = lock(&self.config).max_body_bytes;
        let body = match read_body(headers, body, max).await {
            Ok(body) => body,
            Err(answer) => return (Bytes::new(), answer),
        };
        if let Some(denied) = self.unauthenticated(headers) {
            return (body, denied);
        }
        let (has_scope, failure) = {
            let mut config = lock(&self.config);
            (
                config.scopes.iter().any(|s| s == "mail.send"),
                config.failures.pop_front(),
            )
        };
        if !has_scope {
            return (
                body,
                sg_error(
                    StatusCode::FORBIDDEN,
                    &[SgError::general("access forbidden")],
                ),
            );
        }
        if let Some(f) = failure {
            return (body, super::response(f.status, &f.headers, f.body));
        }
        let json_declared = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json_declared {
            return (
                body,
                sg_error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    &[SgError::general("Content-Type should be application/json.")],
                ),
            );
        }
        let answer = self.accept(&body);
        (body, answer)
    }

    /// Validates a mail send body and records it when accepted.
    fn accept(&self, body: &[u8]) -> MockResponse {
        if std::str::from_utf8(body).is_err() {
            return sg_error(
                StatusCode::BAD_REQUEST,
                &[SgError::general("Invalid UTF8 in request.")],
            );
        }
        let value: Value = match serde_json::from_slice(body) {
            Ok(value @ Value::Object(_)) => value,
            _ => return sg_error(StatusCode::BAD_REQUEST, &[SgError::general("Bad Request")]),
        };
        let checked = match wire::validate(&value) {
            Ok(checked) => checked,
            Err(errors) => return sg_error(StatusCode::BAD_REQUEST, &errors),
        };
        if checked.size > wire::limit::MESSAGE_BYTES {
            return sg_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &[SgError::general(
                    "The total size of your email, including attachments, must be less than 30MB.",
                )],
            );
        }
        let verified = lock(&self.config).verified_senders.clone();
        if let Some(senders) = verified {
            if !senders
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&checked.from))
            {
                return sg_error(
                    StatusCode::FORBIDDEN,
                    &[SgError {
                        message: UNVERIFIED_SENDER.into(),
                        field: Some("from".into()),
                        help: None,
                    }],
                );
            }
        }
        let id = self.message_id();
        lock(&self.messages).push(ReceivedMail {
            id: id.clone(),
            body: value,
            received_at_ms: unix_ms(),
        });
        let mut res = MockResponse::new(Full::new(Bytes::new()));
        *res.status_mut() = StatusCode::ACCEPTED;
        res.headers_mut().insert(
            "x-message-id",
            HeaderValue::from_str(&id).expect("ids are URL-safe base64"),
        );
        res
    }

    /// A fresh 22-character id in SendGrid's style (URL-safe base64 letters).
    fn message_id(&self) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let mut id = String::with_capacity(22);
        for half in 0..2u64 {
            let mut h = self.hasher.build_hasher();
            h.write_u64(n);
            h.write_u64(half);
            let mut v = h.finish();
            for _ in 0..11 {
                id.push(ALPHABET[(v & 63) as usize] as char);
                v >>= 6;
            }
        }
        id
    }
}

/// Reads a body up to `max` bytes; over it, nginx's 413 page as SendGrid's front end answers.
async fn read_body(headers: &HeaderMap, body: Incoming, max: usize) -> Result<Bytes, MockResponse> {
    let too_big = || {
        let mut res = super::text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n\
             <center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n\
             </body>\r\n</html>\r\n",
        );
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        res
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(too_big());
    }
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(too_big()),
        Err(_) => Err(sg_error(
            StatusCode::BAD_REQUEST,
            &[SgError::general("Bad Request")],
        )),
    }
}

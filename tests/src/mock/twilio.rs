//! `MockTwilio`: a local stand-in for Twilio Programmable Messaging's 2010-04-01 REST API,
//! speaking its wire format, keeping messages with their lifecycle, and failing on demand.
//!
//! | Request | Answer |
//! |---|---|
//! | `POST /2010-04-01/Accounts/{AC}/Messages.json` (form: `To`, `From` and/or `MessagingServiceSid`, `Body`, `ScheduleType`, `SendAt`, `StatusCallback`...) | 201 Message JSON |
//! | `GET /2010-04-01/Accounts/{AC}/Messages/{SM}.json` | 200 Message JSON |
//! | `POST /2010-04-01/Accounts/{AC}/Messages/{SM}.json` (`Status=canceled`, or `Body=` to redact) | 200 Message JSON |
//! | `GET /2010-04-01/Accounts/{AC}/Messages.json?To=&From=&PageSize=&Page=&PageToken=` | 200 page, newest first (by creation; Twilio sorts by date sent) |
//! | `GET /2010-04-01/Accounts/{AC}.json` | 200 Account JSON |
//!
//! Every request needs HTTP basic auth with the account SID and auth token (401, code
//! 20003, otherwise), and the path's account must be that account. Errors are Twilio's
//! JSON bodies `{"code", "message", "more_info", "status"}`: 21604 no `To`, 21603 no sender,
//! 21211 `To` not E.164, 21602 no `Body`, 21617 body over 1,600 characters, 21701 unknown
//! Messaging Service, 21606 a `From` the account does not own, 351xx scheduling (`SendAt`
//! 15 minutes to 35 days ahead, `ScheduleType=fixed` only, a Messaging Service required),
//! 30409 canceling a message that is not scheduled, 20404 unknown message or path, 20001
//! bad list parameters.
//!
//! Twilio's magic test numbers are refused at create time as with test credentials: `To`
//! `+15005550001` (21211), `+15005550002` (21612), `+15005550003` (21408), `+15005550004`
//! (21610), `+15005550009` (21614); `From` `+15005550001` (21212), `+15005550007` (21606),
//! `+15005550008` (21611); `From` `+15005550006` is valid. Other recipients are accepted and
//! walk Twilio's lifecycle by the mock's clock: `queued` (`accepted` through a Messaging
//! Service), `sending`, `sent`, `delivered`; `scheduled` until `SendAt` first; `canceled`
//! when canceled. `To` `+15005550005` ends `undelivered` with 30003 (a convention of the
//! mock and `notification-local`, standing for an asynchronous carrier failure); any
//! recipient can be given another outcome with [`MockTwilio::set_outcome`].
//!
//! Test hooks: [`MockTwilio::fail_next`] answers the next requests with an error (429 with
//! `Retry-After`, 500...), [`MockTwilio::advance`] moves the mock's clock (to release a
//! scheduled message without waiting), [`MockTwilio::receive`] adds an inbound message.

mod wire;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use super::{lock, Handler, MockError, MockResponse, MockServer, RecordedRequest};

pub use wire::{base64_encode, parse_form, parse_iso8601, rfc2822};

/// The account SID the mock serves by default.
pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
/// The auth token it expects by default.
pub const AUTH_TOKEN: &str = "twilio_test_auth_token";
/// The Messaging Service it knows by default.
pub const MESSAGING_SERVICE_SID: &str = "MG00000000000000000000000000000001";
/// Twilio's magic valid `From` number, owned by the mock's account.
pub const VALID_FROM: &str = "+15005550006";

/// The earliest `SendAt`, from now: 15 minutes.
pub const MIN_SCHEDULE: Duration = Duration::from_secs(15 * 60);
/// The latest `SendAt`, from now: 35 days.
pub const MAX_SCHEDULE: Duration = Duration::from_secs(35 * 24 * 3600);
/// The largest request body read.
const MAX_BODY: usize = 1024 * 1024;

/// How a message ends once released (and sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `sent`, then `delivered`.
    Delivered,
    /// `sent`, then `undelivered` with Twilio's error code and message.
    Undelivered(u32, String),
    /// `failed` with Twilio's error code and message when it would have been sent.
    Failed(u32, String),
}

/// How to start a [`MockTwilio`].
#[derive(Debug, Clone)]
pub struct MockTwilioOptions {
    /// The account SID (also the basic-auth user name).
    pub account_sid: String,
    /// The auth token (the basic-auth password).
    pub auth_token: String,
    /// The `From` numbers the account owns (besides the magic `+15005550006`).
    pub from_numbers: Vec<String>,
    /// The account's Messaging Service.
    pub messaging_service_sid: String,
    /// From release (creation, or `SendAt`) to `sent`.
    pub sent_after: Duration,
    /// From release to `delivered` (never before `sent`).
    pub delivered_after: Duration,
    /// Where to listen; `127.0.0.1:0` by default.
    pub bind: SocketAddr,
}

impl Default for MockTwilioOptions {
    fn default() -> Self {
        MockTwilioOptions {
            account_sid: ACCOUNT_SID.into(),
            auth_token: AUTH_TOKEN.into(),
            from_numbers: vec![VALID_FROM.into()],
            messaging_service_sid: MESSAGING_SERVICE_SID.into(),
            sent_after: Duration::ZERO,
            delivered_after: Duration::ZERO,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

impl MockTwilioOptions {
    /// Sets the lifecycle's pace.
    pub fn timing(mut self, sent_after: Duration, delivered_after: Duration) -> Self {
        self.sent_after = sent_after;
        self.delivered_after = delivered_after;
        self
    }
}

/// A message as the mock keeps it.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// `SM` and 32 hex digits.
    pub sid: String,
    /// `outbound-api`, or `inbound` for [`MockTwilio::receive`].
    pub direction: String,
    /// The recipient.
    pub to: String,
    /// The `From` given (or the pool number used once sent through a Messaging Service).
    pub from: Option<String>,
    /// The `MessagingServiceSid` given.
    pub messaging_service_sid: Option<String>,
    /// The body (empty once redacted).
    pub body: String,
    /// The `StatusCallback` given.
    pub status_callback: Option<String>,
    /// Every form field the create request carried, in order.
    pub params: Vec<(String, String)>,
    /// When it was created, by the mock's clock, in Unix milliseconds.
    pub created_ms: u64,
    /// Its `SendAt`, when scheduled.
    pub send_at_ms: Option<u64>,
    /// When it was canceled.
    pub canceled_ms: Option<u64>,
    /// How it ends.
    pub outcome: Outcome,
    sent_after_ms: u64,
    delivered_after_ms: u64,
}

/// A message's state at a moment: Twilio's status, and its dates.
struct Snapshot {
    status: &'static str,
    updated_ms: u64,
    sent_ms: Option<u64>,
    error: Option<(u32, String)>,
}

impl StoredMessage {
    fn snapshot(&self, now: u64) -> Snapshot {
        let plain = |status, updated_ms| Snapshot {
            status,
            updated_ms,
            sent_ms: None,
            error: None,
        };
        if self.direction == "inbound" {
            return plain("received", self.created_ms);
        }
        if let Some(c) = self.canceled_ms {
            return plain("canceled", c);
        }
        let release = self.send_at_ms.unwrap_or(self.created_ms);
        if now < release {
            return plain("scheduled", self.created_ms);
        }
        let sent = release + self.sent_after_ms;
        let done = release + self.delivered_after_ms.max(self.sent_after_ms);
        if now < release + self.sent_after_ms / 2 {
            let initial = if self.send_at_ms.is_none() && self.from.is_none() {
                "accepted"
            } else {
                "queued"
            };
            return plain(initial, release);
        }
        if now < sent {
            return plain("sending", release + self.sent_after_ms / 2);
        }
        if let Outcome::Failed(code, message) = &self.outcome {
            return Snapshot {
                status: "failed",
                updated_ms: sent,
                sent_ms: None,
                error: Some((*code, message.clone())),
            };
        }
        if now < done {
            return Snapshot {
                status: "sent",
                updated_ms: sent,
                sent_ms: Some(sent),
                error: None,
            };
        }
        match &self.outcome {
            Outcome::Undelivered(code, message) => Snapshot {
                status: "undelivered",
                updated_ms: done,
                sent_ms: Some(sent),
                error: Some((*code, message.clone())),
            },
            _ => Snapshot {
                status: "delivered",
                updated_ms: done,
                sent_ms: Some(sent),
                error: None,
            },
        }
    }

    /// The Message resource as Twilio answers it, at mock time `now`; `status` overrides
    /// the computed status (a create answers its initial status).
    fn resource(&self, account: &str, now: u64, status: Option<&'static str>) -> Value {
        let snap = self.snapshot(now);
        let status = status.unwrap_or(snap.status);
        let uri = format!("/2010-04-01/Accounts/{account}/Messages/{}.json", self.sid);
        let chars = self.body.chars().count();
        let segments = if chars <= 160 { 1 } else { chars.div_ceil(153) };
        json!({
            "account_sid": account,
            "api_version": "2010-04-01",
            "body": self.body,
            "date_created": wire::rfc2822(self.created_ms),
            "date_sent": snap.sent_ms.map(wire::rfc2822),
            "date_updated": wire::rfc2822(snap.updated_ms.max(self.created_ms)),
            "direction": self.direction,
            "error_code": snap.error.as_ref().map(|e| e.0),
            "error_message": snap.error.as_ref().map(|e| e.1.clone()),
            "from": self.from,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": segments.to_string(),
            "price": null,
            "price_unit": "USD",
            "sid": self.sid,
            "status": status,
            "subresource_uris": {
                "media": format!("/2010-04-01/Accounts/{account}/Messages/{}/Media.json", self.sid),
            },
            "to": self.to,
            "uri": uri,
        })
    }

    /// Twilio's status for this message at mock time `now`.
    pub fn status_at(&self, now_ms: u64) -> &'static str {
        self.snapshot(now_ms).status
    }
}

/// An injected failure.
#[derive(Debug, Clone)]
struct Injected {
    status: u16,
    code: u32,
    message: String,
    retry_after: Option<String>,
}

struct Config {
    options: MockTwilioOptions,
    failures: Vec<Injected>,
    outcomes: HashMap<String, Outcome>,
    offset_ms: u64,
}

struct State {
    config: Mutex<Config>,
    messages: Mutex<Vec<StoredMessage>>,
    requests: Mutex<Vec<RecordedRequest>>,
    salt: u64,
    counter: AtomicU64,
}

/// A running mock of Twilio's Messages API. Clones share the same server and state.
#[derive(Clone)]
pub struct MockTwilio {
    server: Arc<MockServer>,
    state: Arc<State>,
}

impl std::fmt::Debug for MockTwilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockTwilio")
            .field("addr", &self.server.addr())
            .finish_non_exhaustive()
    }
}

impl MockTwilio {
    /// Starts a mock with the default account, token, sender and service, and a lifecycle
    /// that moves at once.
    ///
    /// # Panics
    /// When `127.0.0.1:0` cannot be bound.
    pub async fn start() -> MockTwilio {
        Self::start_with(MockTwilioOptions::default()).await
    }

    /// Starts a mock with `options`.
    ///
    /// # Panics
    /// When the address cannot be bound; use [`MockTwilio::try_start_with`] for the error.
    pub async fn start_with(options: MockTwilioOptions) -> MockTwilio {
        super::started("MockTwilio", Self::try_start_with(options).await)
    }

    /// Starts a mock with `options`, returning the bind error instead of panicking.
    pub async fn try_start_with(options: MockTwilioOptions) -> Result<MockTwilio, MockError> {
        let bind = options.bind;
        let salt = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let state = Arc::new(State {
            config: Mutex::new(Config {
                options,
                failures: Vec::new(),
                outcomes: HashMap::new(),
                offset_ms: 0,
            }),
            messages: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            salt,
            counter: AtomicU64::new(0),
        });
        let server = MockServer::serve(bind, &state).await?;
        Ok(MockTwilio { server, state })
    }

    /// `http://127.0.0.1:PORT`: the `base_url` to give an adapter.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The account SID served.
    pub fn account_sid(&self) -> String {
        lock(&self.state.config).options.account_sid.clone()
    }

    /// The auth token expected.
    pub fn auth_token(&self) -> String {
        lock(&self.state.config).options.auth_token.clone()
    }

    /// The Messaging Service known.
    pub fn messaging_service_sid(&self) -> String {
        lock(&self.state.config)
            .options
            .messaging_service_sid
            .clone()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Every message kept, in creation order.
    pub fn messages(&self) -> Vec<StoredMessage> {
        lock(&self.state.messages).clone()
    }

    /// The mock's clock now, in Unix milliseconds (the real clock plus [`MockTwilio::advance`]).
    pub fn now_ms(&self) -> u64 {
        self.state.now_ms()
    }

    /// Twilio's status of message `sid` now, if the mock has it.
    pub fn status_of(&self, sid: &str) -> Option<&'static str> {
        let now = self.now_ms();
        lock(&self.state.messages)
            .iter()
            .find(|m| m.sid == sid)
            .map(|m| m.status_at(now))
    }

    /// Moves the mock's clock forward by `by` (scheduled messages are released when it
    /// passes their `SendAt`).
    pub fn advance(&self, by: Duration) {
        lock(&self.state.config).offset_ms += by.as_millis() as u64;
    }

    /// Sets the lifecycle's pace for messages created from now on.
    pub fn set_timing(&self, sent_after: Duration, delivered_after: Duration) {
        let mut config = lock(&self.state.config);
        config.options.sent_after = sent_after;
        config.options.delivered_after = delivered_after;
    }

    /// Makes messages to `to` created from now on end with `outcome`.
    pub fn set_outcome(&self, to: &str, outcome: Outcome) {
        lock(&self.state.config)
            .outcomes
            .insert(to.to_string(), outcome);
    }

    /// Answers the next `n` requests (before authentication, as Twilio's edge would) with
    /// `status` and Twilio's error body with `code` and `message`, handling nothing else.
    pub fn fail_next(&self, n: usize, status: u16, code: u32, message: &str) {
        self.fail_next_with_retry_after(n, status, code, message, None);
    }

    /// Like [`MockTwilio::fail_next`], with a `Retry-After` header.
    pub fn fail_next_with_retry_after(
        &self,
        n: usize,
        status: u16,
        code: u32,
        message: &str,
        retry_after: Option<&str>,
    ) {
        let injected = Injected {
            status,
            code,
            message: message.to_string(),
            retry_after: retry_after.map(str::to_string),
        };
        lock(&self.state.config)
            .failures
            .extend(std::iter::repeat_n(injected, n));
    }

    /// Adds an inbound message (`direction: inbound`, status `received`) from `from` to `to`,
    /// as when someone texts the account's number; answers its SID.
    pub fn receive(&self, from: &str, to: &str, body: &str) -> String {
        let now = self.now_ms();
        let sid = self.state.new_sid();
        lock(&self.state.messages).push(StoredMessage {
            sid: sid.clone(),
            direction: "inbound".into(),
            to: to.into(),
            from: Some(from.into()),
            messaging_service_sid: None,
            body: body.into(),
            status_callback: None,
            params: Vec::new(),
            created_ms: now,
            send_at_ms: None,
            canceled_ms: None,
            outcome: Outcome::Delivered,
            sent_after_ms: 0,
            delivered_after_ms: 0,
        });
        sid
    }
}

type Answer = (StatusCode, Value, Option<String>);

fn error(status: StatusCode, code: u32, message: &str) -> Answer {
    (
        status,
        wire::error_body(status.as_u16(), code, message),
        None,
    )
}

fn bad_request(code: u32, message: &str) -> Answer {
    error(StatusCode::BAD_REQUEST, code, message)
}

fn not_found(path: &str) -> Answer {
    error(
        StatusCode::NOT_FOUND,
        20404,
        &format!("The requested resource {path} was not found"),
    )
}

impl Handler for State {
    async fn handle(&self, req: Request<Incoming>) -> MockResponse {
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => Bytes::new(),
        };
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().map(str::to_string);

        let injected = {
            let mut config = lock(&self.config);
            (!config.failures.is_empty()).then(|| config.failures.remove(0))
        };
        let (status, answer, retry_after) = match injected {
            Some(f) => {
                let status =
                    StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (
                    status,
                    wire::error_body(f.status, f.code, &f.message),
                    f.retry_after,
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
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Ok(v) =
            HeaderValue::from_str(&format!("RQ{:032x}", self.counter.load(Ordering::SeqCst)))
        {
            headers.insert("twilio-request-id", v);
        }
        if let Some(after) = retry_after.and_then(|a| HeaderValue::from_str(&a).ok()) {
            headers.insert(RETRY_AFTER, after);
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        lock(&self.requests).push(RecordedRequest::new(parts, body, status));
        response
    }
}

impl State {
    fn now_ms(&self) -> u64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        real + lock(&self.config).offset_ms
    }

    fn new_sid(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        format!("SM{:016x}{:016x}", self.salt, n)
    }

    fn route(
        &self,
        method: &Method,
        headers: &hyper::HeaderMap,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> Answer {
        let (account, token) = {
            let config = lock(&self.config);
            (
                config.options.account_sid.clone(),
                config.options.auth_token.clone(),
            )
        };
        let credentials = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(wire::basic_credentials);
        let authenticated = credentials
            .as_ref()
            .is_some_and(|(user, pass)| *user == account && *pass == token);
        if !authenticated {
            let mut answer = error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
            answer.1["detail"] = json!("Your AccountSid or AuthToken was incorrect.");
            return answer;
        }
        let Some(rest) = path.strip_prefix("/2010-04-01/Accounts/") else {
            return not_found(path);
        };
        let (path_account, tail) = match rest.split_once('/') {
            Some((a, t)) => (a, Some(t)),
            None => (rest.strip_suffix(".json").unwrap_or(rest), None),
        };
        if path_account != account {
            return error(
                StatusCode::FORBIDDEN,
                20003,
                &format!("The account {path_account} is not accessible with these credentials"),
            );
        }
        let form = || {
            let form_body = headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.trim().starts_with("application/x-www-form-urlencoded"));
            if form_body {
                wire::parse_form(&String::from_utf8_lossy(body))
            } else {
                Vec::new()
            }
        };
        match (method, tail) {
            (&Method::GET, None) if rest.ends_with(".json") => self.account(&account),
            (&Method::POST, Some("Messages.json")) => self.create(&account, &form()),
            (&Method::GET, Some("Messages.json")) => {
                self.list(&account, &wire::parse_form(query.unwrap_or("")))
            }
            (_, Some(t)) if t.starts_with("Messages/") && t.ends_with(".json") => {
                let sid = &t["Messages/".len()..t.len() - ".json".len()];
                match *method {
                    Method::GET => self.fetch(&account, sid, path),
                    Method::POST => self.update(&account, sid, path, &form()),
                    _ => error(StatusCode::METHOD_NOT_ALLOWED, 20004, "Method not allowed"),
                }
            }
            (_, Some("Messages.json")) => {
                error(StatusCode::METHOD_NOT_ALLOWED, 20004, "Method not allowed")
            }
            _ => not_found(path),
        }
    }

    fn account(&self, account: &str) -> Answer {
        let now = wire::rfc2822(self.now_ms());
        (
            StatusCode::OK,
            json!({
                "sid": account,
                "owner_account_sid": account,
                "friendly_name": "Switchyard mock account",
                "status": "active",
                "type": "Full",
                "date_created": now,
                "date_updated": now,
                "uri": format!("/2010-04-01/Accounts/{account}.json"),
                "subresource_uris": {
                    "messages": format!("/2010-04-01/Accounts/{account}/Messages.json"),
                },
            }),
            None,
        )
    }

    fn create(&self, account: &str, form: &[(String, String)]) -> Answer {
        let get = |k: &str| {
            form.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let (options, outcomes) = {
            let config = lock(&self.config);
            (config.options.clone(), config.outcomes.clone())
        };
        let Some(to) = get("To").filter(|t| !t.is_empty()) else {
            return bad_request(21604, "A 'To' phone number is required.");
        };
        let from = get("From").filter(|f| !f.is_empty());
        let service = get("MessagingServiceSid").filter(|s| !s.is_empty());
        if from.is_none() && service.is_none() {
            return bad_request(21603, "A 'From' phone number is required.");
        }
        if let Some(mg) = service {
            if mg != options.messaging_service_sid {
                return bad_request(
                    21701,
                    &format!("The Messaging Service Sid {mg} is invalid."),
                );
            }
        }
        if let Some(from) = from {
            if let Some((code, message)) = wire::magic_from(from) {
                return bad_request(code, &message);
            }
            if !options.from_numbers.iter().any(|n| n == from) {
                return bad_request(
                    21606,
                    &format!(
                        "The From phone number {from} is not a valid, SMS-capable inbound phone \
                         number or short code for your account."
                    ),
                );
            }
        }
        let body = get("Body").unwrap_or("");
        let has_media = get("MediaUrl").is_some() || get("ContentSid").is_some();
        if body.is_empty() && !has_media {
            return bad_request(21602, "Message body is required.");
        }
        if body.chars().count() > 1600 {
            return bad_request(
                21617,
                "The concatenated message body exceeds the 1600 character limit.",
            );
        }
        if !wire::is_e164(to) {
            return bad_request(
                21211,
                &format!("The 'To' number {to} is not a valid phone number."),
            );
        }
        if let Some((code, message)) = wire::magic_to(to, from.unwrap_or("")) {
            return bad_request(code, &message);
        }
        let now = self.now_ms();
        let send_at_ms = match get("ScheduleType") {
            None => None,
            Some("fixed") => {
                let Some(at) = get("SendAt") else {
                    return bad_request(35111, "SendAt is required when ScheduleType is fixed");
                };
                if service.is_none() {
                    return bad_request(
                        35118,
                        "MessagingServiceSid is required to schedule a message",
                    );
                }
                let Some(at_ms) = wire::parse_iso8601(at) else {
                    return bad_request(
                        35114,
                        &format!("SendAt {at} is not a valid ISO-8601 date-time"),
                    );
                };
                let ahead = at_ms.saturating_sub(now);
                if at_ms <= now || ahead < MIN_SCHEDULE.as_millis() as u64 {
                    return bad_request(
                        35114,
                        "Scheduling does not support this timestamp: SendAt must be at least \
                         900 seconds in the future",
                    );
                }
                if ahead > MAX_SCHEDULE.as_millis() as u64 {
                    return bad_request(
                        35115,
                        "SendAt cannot be more than 3024000 seconds (35 days) in the future",
                    );
                }
                Some(at_ms)
            }
            Some(other) => {
                return bad_request(
                    35126,
                    &format!("Invalid ScheduleType {other:?}: only 'fixed' is supported"),
                )
            }
        };
        let outcome = outcomes.get(to).cloned().unwrap_or_else(|| match to {
            "+15005550005" => Outcome::Undelivered(30003, "Unreachable destination handset".into()),
            _ => Outcome::Delivered,
        });
        let message = StoredMessage {
            sid: self.new_sid(),
            direction: "outbound-api".into(),
            to: to.to_string(),
            from: from.map(str::to_string),
            messaging_service_sid: service.map(str::to_string),
            body: body.to_string(),
            status_callback: get("StatusCallback").map(str::to_string),
            params: form.to_vec(),
            created_ms: now,
            send_at_ms,
            canceled_ms: None,
            outcome,
            sent_after_ms: options.sent_after.as_millis() as u64,
            delivered_after_ms: options.delivered_after.as_millis() as u64,
        };
        let initial = if send_at_ms.is_some() {
            "scheduled"
        } else if from.is_none() {
            "accepted"
        } else {
            "queued"
        };
        let resource = message.resource(account, now, Some(initial));
        lock(&self.messages).push(message);
        (StatusCode::CREATED, resource, None)
    }

    fn fetch(&self, account: &str, sid: &str, path: &str) -> Answer {
        let now = self.now_ms();
        match lock(&self.messages).iter().find(|m| m.sid == sid) {
            Some(m) => (StatusCode::OK, m.resource(account, now, None), None),
            None => not_found(path),
        }
    }

    fn update(&self, account: &str, sid: &str, path: &str, form: &[(String, String)]) -> Answer {
        let get = |k: &str| {
            form.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let now = self.now_ms();
        let mut messages = lock(&self.messages);
        let Some(m) = messages.iter_mut().find(|m| m.sid == sid) else {
            return not_found(path);
        };
        match (get("Status"), get("Body")) {
            (Some("canceled"), _) => {
                if m.status_at(now) != "scheduled" {
                    return bad_request(30409, "Message cannot be canceled");
                }
                m.canceled_ms = Some(now);
            }
            (Some(other), _) => {
                return bad_request(
                    20001,
                    &format!("Invalid Status {other:?}: only 'canceled' may be set"),
                )
            }
            (None, Some("")) => m.body.clear(),
            (None, Some(_)) => {
                return bad_request(
                    20001,
                    "Body may only be set to an empty string to redact it",
                )
            }
            (None, None) => return bad_request(20001, "Missing required parameter Status or Body"),
        }
        (StatusCode::OK, m.resource(account, now, None), None)
    }

    fn list(&self, account: &str, query: &[(String, String)]) -> Answer {
        let get = |k: &str| {
            query
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let page_size = match get("PageSize") {
            None => 50,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => return bad_request(20001, &format!("Invalid PageSize {s:?}: 1 to 1000")),
            },
        };
        let page = match get("Page") {
            None => 0,
            Some(p) => match p.parse::<usize>() {
                Ok(n) => n,
                Err(_) => return bad_request(20001, &format!("Invalid Page {p:?}")),
            },
        };
        let now = self.now_ms();
        let messages = lock(&self.messages);
        // Newest first.
        let matching: Vec<&StoredMessage> = messages
            .iter()
            .rev()
            .filter(|m| get("To").is_none_or(|t| m.to == t))
            .filter(|m| get("From").is_none_or(|f| m.from.as_deref() == Some(f)))
            .collect();
        let start = match get("PageToken") {
            None if page == 0 => 0,
            None => return bad_request(20001, "Page requires a PageToken"),
            Some(token) => {
                // `PA<sid>`: the page after that message; `PB<sid>`: the page before it.
                let invalid = || bad_request(20001, &format!("Invalid PageToken {token:?}"));
                let (after, sid) = match (token.strip_prefix("PA"), token.strip_prefix("PB")) {
                    (Some(sid), _) => (true, sid),
                    (_, Some(sid)) => (false, sid),
                    _ => return invalid(),
                };
                match matching.iter().position(|m| m.sid == sid) {
                    Some(i) if after => i + 1,
                    Some(i) => i.saturating_sub(page_size),
                    None => return invalid(),
                }
            }
        };
        let items: Vec<&StoredMessage> = matching
            .iter()
            .skip(start)
            .take(page_size)
            .copied()
            .collect();
        let filters: String = ["To", "From"]
            .iter()
            .filter_map(|k| get(k).map(|v| format!("{k}={}&", wire::encode(v))))
            .collect();
        let base = format!("/2010-04-01/Accounts/{account}/Messages.json");
        let uri = |page: usize, token: Option<String>| {
            let token = token.map(|t| format!("&PageToken={t}")).unwrap_or_default();
            format!("{base}?{filters}PageSize={page_size}&Page={page}{token}")
        };
        let next_page_uri = (start + items.len() < matching.len())
            .then(|| {
                items
                    .last()
                    .map(|m| uri(page + 1, Some(format!("PA{}", m.sid))))
            })
            .flatten();
        let previous_page_uri = (page > 0)
            .then(|| {
                items
                    .first()
                    .map(|m| uri(page - 1, Some(format!("PB{}", m.sid))))
            })
            .flatten();
        let first_item = page * page_size;
        let body = json!({
            "messages": items.iter().map(|m| m.resource(account, now, None)).collect::<Vec<_>>(),
            "page": page,
            "page_size": page_size,
            "start": first_item,
            "end": (first_item + items.len()).saturating_sub(1),
            "uri": uri(page, get("PageToken").map(str::to_string)),
            "first_page_uri": format!("{base}?{filters}PageSize={page_size}&Page=0"),
            "next_page_uri": next_page_uri,
            "previous_page_uri": previous_page_uri,
        });
        (StatusCode::OK, body, None)
    }
}

//! `MockStripe`: a stateful, in-memory stand-in for Stripe's API in test mode, speaking its wire
//! format (form-encoded requests with bracketed keys, JSON answers, Stripe's error bodies) and
//! keeping Stripe's rules: the PaymentIntent state machine, refunds bounded by what was
//! captured, idempotency keys, list pagination and the test payment methods.
//!
//! | Request | Answer |
//! |---|---|
//! | `POST /v1/customers`, `GET/POST/DELETE /v1/customers/{id}`, `GET /v1/customers` | customer objects, lists |
//! | `POST /v1/payment_intents` (`confirm=true` charges at once), `GET /v1/payment_intents[/{id}]` | PaymentIntents |
//! | `POST /v1/payment_intents/{id}/confirm`, `/capture` (`amount_to_capture`), `/cancel` | the state machine |
//! | `POST /v1/refunds` (`payment_intent` or `charge`), `GET /v1/refunds[/{id}]` | refunds |
//! | `GET /v1/charges/{id}`, `GET /v1/balance` | charges; the balance (a cheap health probe) |
//!
//! What it checks and answers like Stripe:
//! - **Auth**: `Authorization: Bearer <secret key>` (or Basic with the key as user name); a
//!   missing key or a wrong one is 401 with Stripe's messages (the key masked).
//! - **Requests**: `POST` bodies must be `application/x-www-form-urlencoded`; nested keys
//!   (`metadata[k]=v`, `expand[]=x`, `payment_method_types[0]=card`); unknown parameters are
//!   `parameter_unknown`, missing ones `parameter_missing`; integers, booleans, enums, string
//!   lengths and metadata limits are checked; `Stripe-Version` must look like a version.
//! - **Idempotency keys** (`Idempotency-Key` on `POST`): the first answer of a request that began
//!   executing is kept and replayed (`Idempotent-Replayed: true`), declines included; the same key
//!   with other parameters or on another endpoint is a 400 `idempotency_error`; a key whose first
//!   request is still running is a 409 `idempotency_key_in_use` with `Stripe-Should-Retry: true`.
//!   Validation failures are not kept. Keys are kept for the mock's life (Stripe: 24 hours).
//! - **PaymentIntents**: `requires_payment_method` → `requires_confirmation` → `succeeded`, or
//!   `requires_capture` with `capture_method=manual`; partial capture releases the rest (shown
//!   as refunded on the charge); cancel from any state but `succeeded`/`canceled`; wrong states
//!   are `payment_intent_unexpected_state` with the PaymentIntent in the error. Test payment
//!   methods (`pm_card_visa`, `pm_card_chargeDeclined`, `..InsufficientFunds`, `pm_card_refundFail`,
//!   ...) become new `pm_...` PaymentMethods, as at Stripe; declines are 402 `card_error`s with the
//!   decline code, the PaymentIntent back in `requires_payment_method` with `last_payment_error`.
//!   Without `payment_method_types`, automatic payment methods with redirects are on, and a
//!   confirmation without `return_url` is refused, as Stripe refuses it.
//! - **Refunds**: only of a succeeded PaymentIntent; never more than what is left
//!   (`amount_too_large`, `charge_already_refunded`); `pm_card_refundFail` refunds are answered
//!   `succeeded` and are `failed` on every later fetch (`expired_or_canceled_card`).
//! - **Lists**: newest first, `limit` 1–100 (default 10), `starting_after` / `ending_before`,
//!   `has_more`; filters `customer` (PaymentIntents), `payment_intent`/`charge` (refunds),
//!   `email` (customers); `expand[]=data.latest_charge`.
//! - Every answer carries `Request-Id` and `Stripe-Version`.
//!
//! Failure injection: [`MockStripe::fail_next`] (any status and body), with helpers for 429
//! ([`MockStripe::fail_next_rate_limited`], optionally with `Retry-After`) and 500
//! ([`MockStripe::fail_next_api_error`]); these answer before anything executes.
//! [`MockStripe::lose_next_responses`] executes requests but answers 500, as when an answer is
//! lost on the way back: a retry with the same idempotency key gets the kept answer.
//! [`MockStripe::set_processing_delay`] makes each keyed `POST` hold its key for a while, as a
//! real request does, so concurrent retries meet `idempotency_key_in_use`.

mod form;
mod ledger;
mod request;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::Value;

use super::{lock, Handler, MockError, MockResponse, MockServer, RecordedRequest};
use ledger::Ledger;
use request::{ApiError, Params};

/// The API version the mock answers with when a request names none.
pub const DEFAULT_API_VERSION: &str = "2024-06-20";

/// The largest request body the mock reads.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How to start a [`MockStripe`].
#[derive(Debug, Clone)]
pub struct MockStripeOptions {
    /// The secret key (`sk_test_...`) requests must carry.
    pub secret_key: String,
    /// How long a keyed `POST` holds its idempotency key before executing.
    pub processing_delay: Duration,
    /// Where to listen; `127.0.0.1:0` by default.
    pub bind: SocketAddr,
}

impl MockStripeOptions {
    /// Defaults for `secret_key`: no processing delay, a free port.
    pub fn new(secret_key: &str) -> Self {
        MockStripeOptions {
            secret_key: secret_key.to_string(),
            processing_delay: Duration::ZERO,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// Sets the processing delay.
    pub fn processing_delay(mut self, delay: Duration) -> Self {
        self.processing_delay = delay;
        self
    }
}

/// A failure queued by [`MockStripe::fail_next`].
#[derive(Debug, Clone)]
struct Injected {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// Where an idempotency key stands.
#[derive(Debug, Clone)]
enum KeyState {
    /// Its first request is executing.
    InProgress,
    /// Its first request's answer: status and body.
    Done(u16, Value, String),
}

#[derive(Debug, Clone)]
struct KeyRecord {
    endpoint: String,
    params: Value,
    state: KeyState,
}

#[derive(Debug)]
struct Config {
    secret_key: String,
    processing_delay: Duration,
    failures: VecDeque<Injected>,
    lose: usize,
}

#[derive(Debug)]
struct State {
    config: Mutex<Config>,
    ledger: Mutex<Ledger>,
    keys: Mutex<HashMap<String, KeyRecord>>,
    requests: Mutex<Vec<RecordedRequest>>,
    request_ids: AtomicU64,
}

/// A running mock of Stripe's API on `127.0.0.1`. Cheap to clone; clones share the server and
/// its account. The server stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct MockStripe {
    server: Arc<MockServer>,
    state: Arc<State>,
}

impl MockStripe {
    /// Starts a mock that accepts `secret_key`.
    ///
    /// # Panics
    /// When `127.0.0.1:0` cannot be bound; use [`MockStripe::try_start_with`] for the error.
    pub async fn start(secret_key: &str) -> MockStripe {
        Self::start_with(MockStripeOptions::new(secret_key)).await
    }

    /// Starts a mock with `options`.
    ///
    /// # Panics
    /// When the address cannot be bound; use [`MockStripe::try_start_with`] for the error.
    pub async fn start_with(options: MockStripeOptions) -> MockStripe {
        super::started("MockStripe", Self::try_start_with(options).await)
    }

    /// Starts a mock with `options`, returning the bind error instead of panicking.
    pub async fn try_start_with(options: MockStripeOptions) -> Result<MockStripe, MockError> {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15);
        let state = Arc::new(State {
            config: Mutex::new(Config {
                secret_key: options.secret_key,
                processing_delay: options.processing_delay,
                failures: VecDeque::new(),
                lose: 0,
            }),
            ledger: Mutex::new(Ledger::new(seed)),
            keys: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            request_ids: AtomicU64::new(seed),
        });
        let server = MockServer::serve(options.bind, &state).await?;
        Ok(MockStripe { server, state })
    }

    /// `http://127.0.0.1:PORT`: the API base to give an adapter (Stripe's is
    /// `https://api.stripe.com`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// The requests with `method` whose path starts with `path_prefix`.
    pub fn requests_to(&self, method: &str, path_prefix: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.starts_with(path_prefix))
            .collect()
    }

    /// Every PaymentIntent in the account, newest first, with `latest_charge` expanded.
    pub fn payment_intents(&self) -> Vec<Value> {
        lock(&self.state.ledger).intents_json()
    }

    /// Every customer not deleted, newest first.
    pub fn customers(&self) -> Vec<Value> {
        lock(&self.state.ledger).customers_json()
    }

    /// Every refund, newest first, as a later fetch would see it.
    pub fn refunds(&self) -> Vec<Value> {
        lock(&self.state.ledger).refunds_json()
    }

    /// Answers the next `n` API requests with `status`, `headers` and the JSON `body`,
    /// before anything executes (nothing is kept under an idempotency key).
    ///
    /// # Panics
    /// When `status` or a header is invalid.
    pub fn fail_next(&self, n: usize, status: u16, headers: &[(&str, &str)], body: &Value) {
        let mut headers = super::header_map(headers);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let injected = Injected {
            status: super::status_code(status),
            headers,
            body: Bytes::from(body.to_string()),
        };
        lock(&self.state.config)
            .failures
            .extend(std::iter::repeat_n(injected, n));
    }

    /// Answers the next `n` API requests with Stripe's 429 `rate_limit` error, with
    /// `Retry-After: retry_after_secs` when given.
    pub fn fail_next_rate_limited(&self, n: usize, retry_after_secs: Option<u64>) {
        let body = ApiError::invalid(
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
            None,
        )
        .code("rate_limit")
        .to_json();
        let after = retry_after_secs.map(|s| s.to_string());
        let headers: Vec<(&str, &str)> = after
            .as_deref()
            .map(|a| vec![("retry-after", a)])
            .unwrap_or_default();
        self.fail_next(n, 429, &headers, &body);
    }

    /// Answers the next `n` API requests with Stripe's 500 `api_error`.
    pub fn fail_next_api_error(&self, n: usize) {
        let body = ApiError::invalid("An unknown error occurred. Please try again.", None)
            .kind("api_error")
            .to_json();
        self.fail_next(n, 500, &[], &body);
    }

    /// Executes the next `n` API requests but answers them with a 500 `api_error`, as when the
    /// answer is lost on its way back. What they did stays done, and is kept under their
    /// idempotency keys.
    pub fn lose_next_responses(&self, n: usize) {
        lock(&self.state.config).lose += n;
    }

    /// Makes each keyed `POST` hold its idempotency key for `delay` before executing.
    pub fn set_processing_delay(&self, delay: Duration) {
        lock(&self.state.config).processing_delay = delay;
    }

    /// Drops queued failures and lost answers, and the processing delay.
    pub fn reset_failures(&self) {
        let mut config = lock(&self.state.config);
        config.failures.clear();
        config.lose = 0;
        config.processing_delay = Duration::ZERO;
    }
}

/// The endpoints, with the ids in their paths.
enum Endpoint {
    Balance,
    CreateCustomer,
    ListCustomers,
    GetCustomer(String),
    UpdateCustomer(String),
    DeleteCustomer(String),
    CreateIntent,
    ListIntents,
    GetIntent(String),
    ConfirmIntent(String),
    CaptureIntent(String),
    CancelIntent(String),
    GetCharge(String),
    CreateRefund,
    ListRefunds,
    GetRefund(String),
}

fn route(method: &Method, path: &str) -> Option<Endpoint> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let id = |s: &str| s.to_string();
    Some(match (method.as_str(), segments.as_slice()) {
        ("GET", ["v1", "balance"]) => Endpoint::Balance,
        ("POST", ["v1", "customers"]) => Endpoint::CreateCustomer,
        ("GET", ["v1", "customers"]) => Endpoint::ListCustomers,
        ("GET", ["v1", "customers", c]) => Endpoint::GetCustomer(id(c)),
        ("POST", ["v1", "customers", c]) => Endpoint::UpdateCustomer(id(c)),
        ("DELETE", ["v1", "customers", c]) => Endpoint::DeleteCustomer(id(c)),
        ("POST", ["v1", "payment_intents"]) => Endpoint::CreateIntent,
        ("GET", ["v1", "payment_intents"]) => Endpoint::ListIntents,
        ("GET", ["v1", "payment_intents", p]) => Endpoint::GetIntent(id(p)),
        ("POST", ["v1", "payment_intents", p, "confirm"]) => Endpoint::ConfirmIntent(id(p)),
        ("POST", ["v1", "payment_intents", p, "capture"]) => Endpoint::CaptureIntent(id(p)),
        ("POST", ["v1", "payment_intents", p, "cancel"]) => Endpoint::CancelIntent(id(p)),
        ("GET", ["v1", "charges", c]) => Endpoint::GetCharge(id(c)),
        ("POST", ["v1", "refunds"]) => Endpoint::CreateRefund,
        ("GET", ["v1", "refunds"]) => Endpoint::ListRefunds,
        ("GET", ["v1", "refunds", r]) => Endpoint::GetRefund(id(r)),
        _ => return None,
    })
}

/// What the handler answers, before the common headers.
struct Answer {
    status: u16,
    body: Value,
    headers: Vec<(&'static str, String)>,
}

impl Answer {
    fn ok(body: Value) -> Answer {
        Answer {
            status: 200,
            body,
            headers: Vec::new(),
        }
    }

    fn error(err: &ApiError) -> Answer {
        let mut headers = Vec::new();
        if let Some(retry) = err.should_retry {
            headers.push(("stripe-should-retry", retry.to_string()));
        }
        Answer {
            status: err.status,
            body: err.to_json(),
            headers,
        }
    }
}

impl Handler for State {
    async fn handle(&self, req: Request<Incoming>) -> MockResponse {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().map(str::to_string);
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(err) => Err(err.to_string()),
        };
        let request_id = self.request_id();
        let version = parts
            .headers
            .get("stripe-version")
            .and_then(|v| v.to_str().ok())
            .unwrap_or(DEFAULT_API_VERSION)
            .to_string();

        let injected = if path.starts_with("/v1/") {
            lock(&self.config).failures.pop_front()
        } else {
            None
        };
        let response = match injected {
            Some(failure) => {
                let mut r = super::response(failure.status, &failure.headers, failure.body);
                add_common(&mut r, &request_id, &version);
                r
            }
            None => {
                let answer = match &body {
                    Ok(bytes) => {
                        self.answer(
                            &parts.method,
                            &path,
                            query.as_deref(),
                            &parts.headers,
                            bytes,
                        )
                        .await
                    }
                    Err(err) => Answer::error(&ApiError::invalid(
                        format!("Invalid request: the body could not be read: {err}"),
                        None,
                    )),
                };
                render(answer, &request_id, &version)
            }
        };

        lock(&self.requests).push(RecordedRequest::new(
            parts,
            body.unwrap_or_default(),
            response.status(),
        ));
        response
    }
}

impl State {
    fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(0x9e37_79b9, Ordering::Relaxed);
        let mut id = String::from("req_");
        let mut x = n | 1;
        for _ in 0..14 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            id.push(ledger::ALNUM[(x % ledger::ALNUM.len() as u64) as usize] as char);
        }
        id
    }

    async fn answer(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Answer {
        if let Err(err) = self.authenticate(headers) {
            return Answer::error(&err);
        }
        if let Some(v) = headers.get("stripe-version") {
            let text = v.to_str().unwrap_or("");
            if !valid_version(text) {
                return Answer::error(&ApiError::invalid(
                    format!("Invalid Stripe API version: {text}"),
                    None,
                ));
            }
        }
        let Some(endpoint) = route(method, path) else {
            return Answer::error(
                &ApiError::invalid(
                    format!(
                        "Unrecognized request URL ({}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
                        method.as_str()
                    ),
                    None,
                )
                .status(404),
            );
        };
        let params = match parse_params(method, query, headers, body) {
            Ok(p) => p,
            Err(err) => return Answer::error(&err),
        };
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match (method == Method::POST, key) {
            (true, Some(key)) => {
                self.idempotent(&key, method, path, &endpoint, &params)
                    .await
            }
            _ => self.execute(&endpoint, &params).await.0,
        }
    }

    fn authenticate(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let expected = lock(&self.config).secret_key.clone();
        let given = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                if let Some(token) = v.strip_prefix("Bearer ") {
                    Some(token.trim().to_string())
                } else {
                    v.strip_prefix("Basic ")
                        .and_then(|b| base64_decode(b.trim()))
                        .and_then(|user| user.split(':').next().map(str::to_string))
                }
            });
        let unauthorized = |message: String| {
            ApiError::invalid(message, None)
                .status(401)
                .should_retry(false)
        };
        match given {
            None => Err(unauthorized(
                "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.".into(),
            )),
            Some(key) if key == expected => Ok(()),
            Some(key) => {
                let tail: String = key
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let head: String = key.chars().take(8).collect();
                Err(unauthorized(format!(
                    "Invalid API Key provided: {head}****{tail}"
                ))
                .code("api_key_invalid"))
            }
        }
    }

    /// Runs a keyed `POST` under Stripe's idempotency rules.
    async fn idempotent(
        &self,
        key: &str,
        method: &Method,
        path: &str,
        endpoint: &Endpoint,
        params: &Params,
    ) -> Answer {
        if key.chars().count() > 255 {
            return Answer::error(&ApiError::invalid(
                "Invalid idempotency key: keys can be at most 255 characters long.",
                None,
            ));
        }
        let endpoint_name = format!("{} {path}", method.as_str());
        let canonical = Value::Object(params.clone());
        {
            let mut keys = lock(&self.keys);
            match keys.get(key) {
                Some(record) if record.endpoint != endpoint_name => {
                    return Answer::error(
                        &ApiError::invalid(
                            format!(
                                "Keys for idempotent requests can only be used for the same endpoint they were first used for ('{}' vs '{endpoint_name}'). Try using a key other than '{key}' if you meant to execute a different request.",
                                record.endpoint
                            ),
                            None,
                        )
                        .kind("idempotency_error")
                        .should_retry(false),
                    )
                }
                Some(record) if record.params != canonical => {
                    return Answer::error(
                        &ApiError::invalid(
                            format!(
                                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                            ),
                            None,
                        )
                        .kind("idempotency_error")
                        .should_retry(false),
                    )
                }
                Some(KeyRecord {
                    state: KeyState::InProgress,
                    ..
                }) => {
                    return Answer::error(
                        &ApiError::invalid(
                            "There is currently another in-progress request using this Stripe API key with the same idempotency key. Please try again later.",
                            None,
                        )
                        .code("idempotency_key_in_use")
                        .status(409)
                        .should_retry(true),
                    )
                }
                Some(KeyRecord {
                    state: KeyState::Done(status, body, original),
                    ..
                }) => {
                    return Answer {
                        status: *status,
                        body: body.clone(),
                        headers: vec![
                            ("idempotent-replayed", "true".into()),
                            ("original-request", original.clone()),
                        ],
                    }
                }
                None => {
                    keys.insert(
                        key.to_string(),
                        KeyRecord {
                            endpoint: endpoint_name,
                            params: canonical,
                            state: KeyState::InProgress,
                        },
                    );
                }
            }
        }
        // Frees the key if this request is dropped before it finishes (the caller went away).
        let mut guard = InProgressGuard {
            keys: &self.keys,
            key,
            finished: false,
        };
        let delay = lock(&self.config).processing_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let (answer, kept) = self.execute(endpoint, params).await;
        let mut keys = lock(&self.keys);
        match kept {
            Some((status, body)) => {
                if let Some(record) = keys.get_mut(key) {
                    record.state = KeyState::Done(status, body, self.request_id());
                }
            }
            None => {
                keys.remove(key);
            }
        }
        guard.finished = true;
        answer
    }

    /// Executes one request against the account: the answer to send, and the answer an
    /// idempotency key keeps (none for validation failures).
    async fn execute(
        &self,
        endpoint: &Endpoint,
        params: &Params,
    ) -> (Answer, Option<(u16, Value)>) {
        let result = {
            let mut ledger = lock(&self.ledger);
            match endpoint {
                Endpoint::Balance => Ok(ledger.balance()),
                Endpoint::CreateCustomer => ledger.create_customer(params),
                Endpoint::ListCustomers => ledger.list_customers(params),
                Endpoint::GetCustomer(id) => ledger.get_customer(id, params),
                Endpoint::UpdateCustomer(id) => ledger.update_customer(id, params),
                Endpoint::DeleteCustomer(id) => ledger.delete_customer(id),
                Endpoint::CreateIntent => ledger.create_intent(params),
                Endpoint::ListIntents => ledger.list_intents(params),
                Endpoint::GetIntent(id) => ledger.get_intent(id, params),
                Endpoint::ConfirmIntent(id) => ledger.confirm_intent(id, params),
                Endpoint::CaptureIntent(id) => ledger.capture_intent(id, params),
                Endpoint::CancelIntent(id) => ledger.cancel_intent(id, params),
                Endpoint::GetCharge(id) => ledger.get_charge(id, params),
                Endpoint::CreateRefund => ledger.create_refund(params),
                Endpoint::ListRefunds => ledger.list_refunds(params),
                Endpoint::GetRefund(id) => ledger.get_refund(id, params),
            }
        };
        let (answer, saved) = match result {
            Ok(body) => (Answer::ok(body), true),
            Err(err) => (Answer::error(&err), err.saved),
        };
        let kept = saved.then(|| (answer.status, answer.body.clone()));
        let lost = {
            let mut config = lock(&self.config);
            let lost = config.lose > 0;
            config.lose = config.lose.saturating_sub(1);
            lost
        };
        let sent = if lost {
            // What executed stays done (and kept under the key); only this answer is lost.
            Answer::error(
                &ApiError::invalid("An unknown error occurred. Please try again.", None)
                    .kind("api_error")
                    .status(500),
            )
        } else {
            answer
        };
        (sent, kept)
    }
}

/// Removes an idempotency key still in progress when its request is dropped.
struct InProgressGuard<'a> {
    keys: &'a Mutex<HashMap<String, KeyRecord>>,
    key: &'a str,
    finished: bool,
}

impl Drop for InProgressGuard<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let mut keys = lock(self.keys);
            if matches!(
                keys.get(self.key),
                Some(KeyRecord {
                    state: KeyState::InProgress,
                    ..
                })
            ) {
                keys.remove(self.key);
            }
        }
    }
}

/// Parses the query (GET, DELETE) or the form body (POST) into params.
fn parse_params(
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Params, ApiError> {
    let bad = |e: form::FormError| ApiError::invalid(format!("Invalid request: {}", e.0), None);
    let mut params = form::parse(query.unwrap_or("")).map_err(bad)?;
    if method == Method::POST && !body.is_empty() {
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(ApiError::invalid(
                format!(
                    "Invalid request: unsupported Content-Type {content_type}. If error persists and you need assistance, please contact support@stripe.com."
                ),
                None,
            ));
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::invalid("Invalid request: the body is not UTF-8", None))?;
        for (k, v) in form::parse(text).map_err(bad)? {
            params.insert(k, v);
        }
    }
    Ok(params)
}

/// `2024-06-20` or `2024-09-30.acacia`.
fn valid_version(v: &str) -> bool {
    let (date, name) = v.split_once('.').unwrap_or((v, "x"));
    let b = date.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && !name.is_empty()
        && name.chars().all(|c| c.is_ascii_lowercase())
}

fn add_common(response: &mut MockResponse, request_id: &str, version: &str) {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert(HeaderName::from_static("request-id"), v);
    }
    if let Ok(v) = HeaderValue::from_str(version) {
        headers.insert(HeaderName::from_static("stripe-version"), v);
    }
}

fn render(answer: Answer, request_id: &str, version: &str) -> MockResponse {
    let mut response = Response::new(Full::new(Bytes::from(answer.body.to_string())));
    *response.status_mut() = super::status_code(answer.status);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in answer.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), v);
        }
    }
    add_common(&mut response, request_id, version);
    response
}

/// Standard base64 (with or without padding); `None` when it does not decode to UTF-8.
fn base64_decode(text: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).ok()
}

//! Requests to Stripe: the base URL and API version from the config, form bodies, an
//! `Idempotency-Key` on every `POST`, retries, and error mapping.
//!
//! - Every `POST` carries an `Idempotency-Key`: the caller's key for the contract's creates, or
//!   one made for the call (`switchyard-` and 32 random hex digits), the same on every retry of
//!   the call, so a retried request never acts twice (what stripe-python and stripe-node do).
//! - Retried, with exponential backoff and full jitter (`switchyard_sdk::retry`): network
//!   failures and time-outs, 429 (waiting at least its `Retry-After`), 5xx, and 409
//!   `idempotency_key_in_use` (waiting the whole backoff, without jitter, while the first
//!   request with the key finishes). `Stripe-Should-Retry` overrides the choice when Stripe sends it.
//! - The secret key is never seen here: the host adds `Authorization: Bearer sk_...` to
//!   requests to the allowed Stripe host.

use core::time::Duration;

use serde::de::DeserializeOwned;
use switchyard_sdk::http::{HttpMethod, Request, Response};
use switchyard_sdk::retry::retry;
use switchyard_sdk::types::{Error, ErrorKind};
use switchyard_sdk::{log, random, time};

use crate::config::Config;
use crate::error::{self, Op};
use crate::form::Form;

/// The `User-Agent` the adapter sends.
const USER_AGENT: &str = concat!("switchyard-payment-stripe/", env!("CARGO_PKG_VERSION"));

/// The path of customer `id`.
pub fn customer_path(id: &str) -> String {
    format!("/v1/customers/{id}")
}

/// The path of PaymentIntent `id`.
pub fn intent_path(id: &str) -> String {
    format!("/v1/payment_intents/{id}")
}

/// A key for a `POST` the caller gave none for.
pub fn generated_key() -> String {
    let bytes = random::bytes(16);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("switchyard-{hex}")
}

/// `GET {api_base}{path}?{query}`, parsed as `T`.
pub fn get<T: DeserializeOwned>(
    config: &Config,
    op: &Op,
    path: &str,
    query: &Form,
) -> Result<T, Error> {
    let response = send(config, op, HttpMethod::Get, path, query, None)?;
    parse(&response)
}

/// `POST {api_base}{path}` with the form body and `Idempotency-Key: key` (one made for the call
/// when `None`), parsed as `T`.
pub fn post<T: DeserializeOwned>(
    config: &Config,
    op: &Op,
    path: &str,
    form: &Form,
    key: Option<&str>,
) -> Result<T, Error> {
    let key = key.map(str::to_string).unwrap_or_else(generated_key);
    let response = send(config, op, HttpMethod::Post, path, form, Some(&key))?;
    parse(&response)
}

fn parse<T: DeserializeOwned>(response: &Response) -> Result<T, Error> {
    response.json().map_err(|err| {
        let id = response.header("request-id").unwrap_or("?");
        err.context(format!("reading Stripe's answer (request {id})"))
    })
}

/// One logical request, retried while it fails with a retryable error.
fn send(
    config: &Config,
    op: &Op,
    method: HttpMethod,
    path: &str,
    form: &Form,
    key: Option<&str>,
) -> Result<Response, Error> {
    let url = format!("{}{path}", config.api_base);
    let body = (method == HttpMethod::Post).then(|| form.encode());
    let mut attempt = 0u32;
    retry(&config.retry, || {
        attempt += 1;
        let mut request = Request::new(method, url.as_str())
            .header("stripe-version", config.api_version.as_str())
            .header("user-agent", USER_AGENT)
            .timeout(config.timeout);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        match &body {
            Some(body) => {
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone().into_bytes());
            }
            None => {
                for (k, v) in form.pairs() {
                    request = request.query(k.as_str(), v.as_str());
                }
            }
        }
        let result = request.send().and_then(|response| {
            if response.is_success() {
                Ok(response)
            } else {
                let now = time::unix_millis(&time::now());
                Err(error::from_response(op, &response, now))
            }
        });
        result.map_err(|mut err| {
            if err.kind == ErrorKind::Conflict && err.retryable {
                // A key still in use: its first request is running, so wait the whole backoff
                // (no jitter) for it to finish.
                let floor = config.retry.ceiling(attempt - 1).as_millis() as u64;
                err.retry_after_ms = Some(err.retry_after_ms.unwrap_or(0).max(floor));
            }
            if err.retryable && attempt <= config.retry.max_retries {
                log::warn(
                    "Stripe request failed; retrying",
                    &[
                        ("method", method.as_str()),
                        ("path", path),
                        ("attempt", &attempt.to_string()),
                        ("error", &err.describe()),
                    ],
                );
            }
            err
        })
    })
}

/// How long a health probe may take.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

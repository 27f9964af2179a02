//! The HTTP side: `POST {host}/v3/mail/send` with retries within the call's budget, and the
//! health check (`GET {host}/v3/scopes`).
//!
//! - 202 (any 2xx) with `X-Message-Id`: accepted; the header is the message id.
//! - Any other answer is mapped by [`crate::error`].
//! - Rate limits, 5xx and transport failures are retried with exponential backoff and full
//!   jitter (`switchyard_sdk::retry::RetryPolicy`), never past the call's budget.

use core::time::Duration;

use serde::Deserialize;
use switchyard_sdk::http::{Request, Response};
use switchyard_sdk::retry;
use switchyard_sdk::types::{Error, ErrorKind};
use switchyard_sdk::{log, random, time};

use crate::config::Config;
use crate::error;
use crate::wire::Layout;

/// The scope an API key needs to send.
pub const MAIL_SEND_SCOPE: &str = "mail.send";

/// The wall-clock end of a call's sending time (`budget_ms` after it started).
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    until_ms: u64,
}

impl Budget {
    /// A budget of `ms` from now.
    pub fn start(ms: u64) -> Budget {
        Budget {
            until_ms: now_ms().saturating_add(ms),
        }
    }

    /// Whether the budget has run out.
    pub fn spent(&self) -> bool {
        now_ms() >= self.until_ms
    }

    /// Whether waiting `delay` still leaves time to send.
    fn allows(&self, delay: Duration) -> bool {
        now_ms().saturating_add(delay.as_millis() as u64) < self.until_ms
    }
}

/// A failed send, and whether the messages after it in a `send-bulk` should be held back
/// (the key was refused, SendGrid keeps rate limiting or failing, the budget ran out): they
/// would fail the same way.
#[derive(Debug)]
pub struct Failure {
    /// The contract error.
    pub error: Error,
    /// Whether the rest of a `send-bulk` batch should not be sent.
    pub stop_batch: bool,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let stop_batch = error.retryable || error.kind == ErrorKind::Denied;
        Failure { error, stop_batch }
    }
}

/// Sends one body to `/v3/mail/send`, retrying what may succeed later within `budget`.
/// Answers SendGrid's `X-Message-Id`.
pub fn send_mail(
    config: &Config,
    body: &[u8],
    layout: &Layout,
    budget: &Budget,
) -> Result<String, Failure> {
    let url = format!("{}/v3/mail/send", config.host);
    let mut attempt = 0u32;
    loop {
        let result = Request::post(url.as_str())
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body.to_vec())
            .timeout(config.request_timeout)
            .send()
            .and_then(|response| accepted(&response, layout));
        let err = match result {
            Ok(id) => return Ok(id),
            Err(err) => err,
        };
        if !err.retryable || attempt >= config.retry.max_retries {
            let refused_key =
                err.kind == ErrorKind::Unauthorized && err.message.starts_with(error::KEY_REFUSED);
            let mut failure = Failure::from(err);
            failure.stop_batch |= refused_key;
            return Err(failure);
        }
        let Some(delay) = config
            .retry
            .delay(attempt, random::u64(), err.retry_after_ms)
        else {
            return Err(err.into());
        };
        if !budget.allows(delay) {
            return Err(err
                .context("not retried: waiting would pass the call's budget (config budget_ms)")
                .into());
        }
        log::warn(
            "SendGrid mail send failed; retrying",
            &[
                ("attempt", &(attempt + 1).to_string()),
                ("delay_ms", &delay.as_millis().to_string()),
                ("error", &err.describe()),
            ],
        );
        retry::sleep(delay);
        attempt += 1;
    }
}

/// The message id of an accepted send, or the error SendGrid's answer maps to.
fn accepted(response: &Response, layout: &Layout) -> Result<String, Error> {
    if response.is_success() {
        return match response.header("x-message-id").map(str::trim) {
            Some(id) if !id.is_empty() => Ok(id.to_string()),
            _ => Err(Error::internal(format!(
                "SendGrid answered HTTP {} without an X-Message-Id header",
                response.status
            ))),
        };
    }
    Err(error::from_response(response, layout))
}

/// The health check: the API key's scopes must include `mail.send`.
pub fn health(config: &Config) -> (bool, String) {
    let url = format!("{}/v3/scopes", config.host);
    let response = match Request::get(url.as_str())
        .header("accept", "application/json")
        .timeout(Duration::from_secs(5))
        .send()
    {
        Ok(response) => response,
        Err(err) => return (false, format!("{url} is not reachable: {}", err.describe())),
    };
    if !response.is_success() {
        let err = error::from_response(&response, &Layout::default());
        return (false, format!("GET {url}: {}", err.describe()));
    }
    #[derive(Deserialize)]
    struct Scopes {
        scopes: Vec<String>,
    }
    match serde_json::from_slice::<Scopes>(&response.body) {
        Ok(s) if s.scopes.iter().any(|s| s == MAIL_SEND_SCOPE) => (
            true,
            format!("SendGrid accepted the API key at {url}; it has the {MAIL_SEND_SCOPE} scope"),
        ),
        Ok(s) => (
            false,
            format!(
                "SendGrid accepted the API key at {url}, but it lacks the {MAIL_SEND_SCOPE} scope \
                 ({} scopes)",
                s.scopes.len()
            ),
        ),
        Err(err) => (
            false,
            format!(
                "{url} answered HTTP {} with an unexpected body: {err}",
                response.status
            ),
        ),
    }
}

fn now_ms() -> u64 {
    time::unix_millis(&time::now())
}

//! The HTTP side: `POST {host}/v3/mail/send` with retries, SendGrid's answers mapped to the
//! contract's errors, and the health check (`GET {host}/v3/scopes`).
//!
//! - 202 (any 2xx) with `X-Message-Id`: accepted; the header is the message id.
//! - 400: `invalid-input`, naming each field SendGrid named in the contract's terms.
//! - 401: `unauthorized` (the API key the host injected was refused); 403: `unauthorized`
//!   (an unverified sender, a key without the `mail.send` scope...), with SendGrid's words.
//! - 413: `too-large`. 429: `rate-limited`, waiting `Retry-After`, or until
//!   `X-RateLimit-Reset` (a Unix time) when that is all SendGrid said. 5xx and transport
//!   failures: `unavailable` / `timeout`.
//! - Rate limits, 5xx and transport failures are retried with exponential backoff and full
//!   jitter (`switchyard_sdk::retry::RetryPolicy`), never past the call's budget.
//!
//! SendGrid's error body is `{"errors": [{"message", "field", "help"}]}`; the provider code
//! of an error is the first `field` SendGrid named (SendGrid has no error codes), the
//! provider message its messages joined with `; `.

use core::time::Duration;

use serde::Deserialize;
use switchyard_sdk::http::{parse_retry_after, Request, Response};
use switchyard_sdk::retry;
use switchyard_sdk::types::{Error, ErrorKind};
use switchyard_sdk::{log, random, time};

use crate::config::Config;
use crate::mail::{contract_field, Layout};

/// How many bytes of SendGrid's messages an error keeps.
const PROVIDER_MESSAGE_LIMIT: usize = 512;
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
                err.kind == ErrorKind::Unauthorized && err.message.starts_with(KEY_REFUSED);
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

/// The start of the message of a 401: the API key itself was refused.
const KEY_REFUSED: &str = "SendGrid refused the API key";

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
    Err(error(response, layout))
}

/// One entry of SendGrid's error body.
#[derive(Debug, Deserialize)]
struct SgError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    field: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SgErrors {
    errors: Vec<SgError>,
}

/// Maps a non-2xx answer to the contract's error.
pub fn error(response: &Response, layout: &Layout) -> Error {
    let status = response.status;
    let errors = serde_json::from_slice::<SgErrors>(&response.body)
        .map(|e| e.errors)
        .unwrap_or_default();
    let joined = errors
        .iter()
        .filter_map(|e| e.message.as_deref())
        .collect::<Vec<_>>()
        .join("; ");
    let provider_message = if joined.is_empty() {
        let text = String::from_utf8_lossy(&response.body).trim().to_string();
        (!text.is_empty()).then(|| truncate(&text))
    } else {
        Some(truncate(&joined))
    };
    let provider_code = errors.iter().find_map(|e| e.field.clone());
    let said = provider_message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let err = match status {
        400 | 422 => {
            let named: Vec<String> = errors
                .iter()
                .map(|e| {
                    let message = e.message.as_deref().unwrap_or("refused");
                    match e.field.as_deref() {
                        Some(field) => format!("{}: {message}", contract_field(field, layout)),
                        None => message.to_string(),
                    }
                })
                .collect();
            let detail = if named.is_empty() {
                said.trim_start_matches(": ").to_string()
            } else {
                named.join("; ")
            };
            Error::invalid_input(format!(
                "SendGrid refused the message (HTTP {status}): {detail}"
            ))
        }
        401 => Error::unauthorized(format!("{KEY_REFUSED} the host injected (HTTP 401){said}")),
        403 => {
            let what = match provider_code.as_deref() {
                Some(field) => format!(" `{}`", contract_field(field, layout)),
                None => String::new(),
            };
            Error::unauthorized(format!(
                "SendGrid forbade the send{what} (HTTP 403){said}; check the sender identity \
                 and that the API key has the mail.send scope"
            ))
        }
        413 => Error::too_large(format!(
            "SendGrid refused the message as too large (HTTP 413){said}; a message takes at \
             most 30 MB including attachments"
        )),
        429 => {
            let mut err = Error::rate_limited(retry_after_ms(response));
            err.message = format!("SendGrid rate limited the send (HTTP 429){said}");
            err
        }
        500..=599 => Error::unavailable(format!("SendGrid answered HTTP {status}{said}"))
            .with_retry_after_ms(retry_after_ms(response)),
        _ => Error::internal(format!(
            "SendGrid answered HTTP {status} to {}{said}",
            response.url
        )),
    };
    err.with_provider(provider_code, provider_message)
}

/// How long SendGrid asked us to wait: `Retry-After` (seconds or an HTTP date), else until
/// `X-RateLimit-Reset` (Unix seconds).
pub fn retry_after_ms(response: &Response) -> Option<u64> {
    let now = now_ms();
    if let Some(ms) = response
        .header("retry-after")
        .and_then(|v| parse_retry_after(v, now))
    {
        return Some(ms);
    }
    let reset = response
        .header("x-ratelimit-reset")?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(reset.saturating_mul(1000).saturating_sub(now))
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
        let err = error(&response, &Layout::default());
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

fn truncate(text: &str) -> String {
    if text.len() <= PROVIDER_MESSAGE_LIMIT {
        return text.to_string();
    }
    let mut end = PROVIDER_MESSAGE_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

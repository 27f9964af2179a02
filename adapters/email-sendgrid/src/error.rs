//! SendGrid's error answers mapped to the contract's errors.
//!
//! - 400: `invalid-input`, naming each field SendGrid named in the contract's terms.
//! - 401: `unauthorized` (the API key the host injected was refused); 403: `unauthorized`
//!   (an unverified sender, a key without the `mail.send` scope...), with SendGrid's words.
//! - 413: `too-large`. 429: `rate-limited`, waiting `Retry-After`, or until
//!   `X-RateLimit-Reset` (a Unix time) when that is all SendGrid said. 5xx:
//!   `unavailable`.
//!
//! SendGrid's error body is `{"errors": [{"message", "field", "help"}]}`; the provider code
//! of an error is the first `field` SendGrid named (SendGrid has no error codes), the
//! provider message its messages joined with `; `.

use serde::Deserialize;
use switchyard_sdk::http::{parse_retry_after, Response};
use switchyard_sdk::time;
use switchyard_sdk::types::Error;

use crate::wire::{contract_field, Layout};

/// How many bytes of SendGrid's messages an error keeps.
const PROVIDER_MESSAGE_LIMIT: usize = 512;
/// The start of the message of a 401: the API key itself was refused.
pub const KEY_REFUSED: &str = "SendGrid refused the API key";

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
pub fn from_response(response: &Response, layout: &Layout) -> Error {
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
    let now = time::unix_millis(&time::now());
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

//! The binding's configuration keys, read through the config import and validated.

use core::time::Duration;

use serde_json::{Map, Value};
use switchyard_sdk::config;
use switchyard_sdk::retry::RetryPolicy;
use switchyard_sdk::types::Error;

/// SendGrid's API host for global users and subusers.
pub const DEFAULT_HOST: &str = "https://api.sendgrid.com";
/// The largest `custom_args` object SendGrid takes, serialised, in bytes.
pub const MAX_CUSTOM_ARGS_BYTES: usize = 10_000;

/// The adapter's settings, from the binding's config keys.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `host`: the API base URL without a trailing slash (default `https://api.sendgrid.com`;
    /// `https://api.eu.sendgrid.com` for EU subusers).
    pub host: String,
    /// `max_retries`, `retry_base_ms`, `retry_max_ms` (defaults 3, 500, 10000).
    pub retry: RetryPolicy,
    /// `request_timeout_ms`: connect / first byte / between bytes limit of one request
    /// (default 10000).
    pub request_timeout: Duration,
    /// `budget_ms`: how long one call may spend sending, retry waits included (default
    /// 8000). Keep it under the binding's `deadline_ms`: past it, `send-bulk` stops and
    /// answers the messages it did not send instead of being cut off by the host.
    pub budget_ms: u64,
    /// `custom_args`: a JSON object of string values sent as every message's `custom_args`
    /// (they come back in SendGrid's Event Webhook), e.g. `{"app":"billing"}`.
    pub custom_args: Option<Map<String, Value>>,
}

impl Config {
    /// Reads and validates the config keys; an `invalid-input` error names the bad key.
    pub fn load() -> Result<Config, Error> {
        let host = config::get("host").unwrap_or_else(|| DEFAULT_HOST.to_string());
        let host = host.trim().trim_end_matches('/').to_string();
        let lower = host.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        match rest {
            Some(rest) if !rest.is_empty() && !rest.contains('/') => {}
            _ => {
                return Err(Error::invalid_input(format!(
                    "config key `host` has the value `{host}`, which is not an http(s) base URL \
                     without a path such as {DEFAULT_HOST}"
                )))
            }
        }
        let max_retries = config::parse("max_retries", 3u32)?;
        let retry_base_ms = config::parse("retry_base_ms", 500u64)?;
        let retry_max_ms = config::parse("retry_max_ms", 10_000u64)?;
        if retry_max_ms < retry_base_ms {
            return Err(Error::invalid_input(format!(
                "config key `retry_max_ms` ({retry_max_ms}) is smaller than `retry_base_ms` ({retry_base_ms})"
            )));
        }
        let request_timeout_ms = config::parse("request_timeout_ms", 10_000u64)?;
        let budget_ms = config::parse("budget_ms", 8_000u64)?;
        for (key, value) in [
            ("request_timeout_ms", request_timeout_ms),
            ("budget_ms", budget_ms),
        ] {
            if value == 0 {
                return Err(Error::invalid_input(format!(
                    "config key `{key}` must be at least 1, not 0"
                )));
            }
        }
        let custom_args = match config::get("custom_args") {
            None => None,
            Some(text) => custom_args(&text)?,
        };
        Ok(Config {
            host,
            retry: RetryPolicy {
                max_retries,
                base_delay: Duration::from_millis(retry_base_ms),
                max_delay: Duration::from_millis(retry_max_ms),
            },
            request_timeout: Duration::from_millis(request_timeout_ms),
            budget_ms,
            custom_args,
        })
    }
}

/// Parses config `custom_args`: a JSON object whose values are strings, at most
/// [`MAX_CUSTOM_ARGS_BYTES`]; an empty object means none (SendGrid refuses an empty one).
pub fn custom_args(text: &str) -> Result<Option<Map<String, Value>>, Error> {
    let bad = |why: &str| {
        Error::invalid_input(format!(
            "config key `custom_args` {why}: give a JSON object of strings such as {{\"app\":\"billing\"}}"
        ))
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let map = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(bad("is not a JSON object")),
        Err(err) => return Err(bad(&format!("is not JSON ({err})"))),
    };
    if let Some((key, _)) = map.iter().find(|(_, v)| !v.is_string()) {
        return Err(bad(&format!(
            "has a value that is not a string (key `{key}`)"
        )));
    }
    if text.len() > MAX_CUSTOM_ARGS_BYTES {
        return Err(bad(&format!(
            "is {} bytes; SendGrid takes at most {MAX_CUSTOM_ARGS_BYTES}",
            text.len()
        )));
    }
    Ok((!map.is_empty()).then_some(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_args_must_be_an_object_of_strings() {
        let map = custom_args(r#"{"app":"billing"}"#).unwrap().unwrap();
        assert_eq!(map["app"], "billing");
        assert_eq!(custom_args("{}").unwrap(), None);
        assert_eq!(custom_args("  ").unwrap(), None);
        for bad in ["[1]", r#"{"n":1}"#, "{", r#""x""#] {
            let err = custom_args(bad).unwrap_err();
            assert!(err.message.contains("custom_args"), "{}", err.message);
        }
        let big = format!(r#"{{"k":"{}"}}"#, "x".repeat(MAX_CUSTOM_ARGS_BYTES));
        assert!(custom_args(&big).is_err());
    }
}

//! The binding's configuration keys, read through the config import and validated.
//!
//! No key holds a secret: the auth token stays in the host, which adds
//! `Authorization: Basic base64(AccountSid:AuthToken)` to requests for the Twilio host.

use core::time::Duration;

use switchyard_sdk::config;
use switchyard_sdk::retry::RetryPolicy;
use switchyard_sdk::types::Error;

/// Twilio's API host, the default `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// The adapter's settings, from the binding's config keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `account_sid`: the account (`AC` and 32 hex digits) whose messages are sent and read;
    /// it is part of every request path.
    pub account_sid: String,
    /// `base_url`: the API's base URL without a trailing slash (default
    /// `https://api.twilio.com`; a mock's `http://127.0.0.1:PORT` in tests).
    pub base_url: String,
    /// `from`: the default sender number (or alphanumeric sender id) when a message gives none.
    pub from: Option<String>,
    /// `messaging_service_sid`: the Messaging Service (`MG…`) used when a message gives no
    /// sender and `from` is not set, and for every scheduled message.
    pub messaging_service_sid: Option<String>,
    /// `status_callback`: a URL Twilio posts status changes to, sent as `StatusCallback`.
    pub status_callback: Option<String>,
    /// `max_retries`, `retry_base_ms`, `retry_max_ms` (defaults 3, 500, 10000).
    pub retry: RetryPolicy,
}

impl Config {
    /// Reads and validates the config keys; an `invalid-input` error names the bad key.
    pub fn load() -> Result<Config, Error> {
        let get = |key: &str| {
            config::get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let account_sid = config::require("account_sid")?.trim().to_string();
        let base_url = get("base_url").unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        let max_retries = config::parse("max_retries", 3u32)?;
        let retry_base_ms = config::parse("retry_base_ms", 500u64)?;
        let retry_max_ms = config::parse("retry_max_ms", 10_000u64)?;
        Config::from_values(
            account_sid,
            base_url,
            get("from"),
            get("messaging_service_sid"),
            get("status_callback"),
            (max_retries, retry_base_ms, retry_max_ms),
        )
    }

    /// Validates values already read (the pure half of [`Config::load`]).
    pub fn from_values(
        account_sid: String,
        base_url: String,
        from: Option<String>,
        messaging_service_sid: Option<String>,
        status_callback: Option<String>,
        (max_retries, retry_base_ms, retry_max_ms): (u32, u64, u64),
    ) -> Result<Config, Error> {
        if !is_sid(&account_sid, "AC") {
            return Err(Error::invalid_input(format!(
                "config key `account_sid` has the value `{account_sid}`, which is not a Twilio \
                 account SID (AC followed by 32 hex digits)"
            )));
        }
        let base_url = base_url.trim_end_matches('/').to_string();
        let lower = base_url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        match rest {
            Some(rest) if !rest.is_empty() && !rest.contains('/') && !rest.contains('?') => {}
            _ => {
                return Err(Error::invalid_input(format!(
                    "config key `base_url` has the value `{base_url}`, which is not an http(s) \
                     base URL such as {DEFAULT_BASE_URL}"
                )))
            }
        }
        if let Some(mg) = &messaging_service_sid {
            if !is_sid(mg, "MG") {
                return Err(Error::invalid_input(format!(
                    "config key `messaging_service_sid` has the value `{mg}`, which is not a \
                     Messaging Service SID (MG followed by 32 hex digits)"
                )));
            }
        }
        if let Some(cb) = &status_callback {
            if !(cb.starts_with("https://") || cb.starts_with("http://")) {
                return Err(Error::invalid_input(format!(
                    "config key `status_callback` has the value `{cb}`, which is not an http(s) URL"
                )));
            }
        }
        if retry_max_ms < retry_base_ms {
            return Err(Error::invalid_input(format!(
                "config key `retry_max_ms` ({retry_max_ms}) is smaller than `retry_base_ms` \
                 ({retry_base_ms})"
            )));
        }
        Ok(Config {
            account_sid,
            base_url,
            from,
            messaging_service_sid,
            status_callback,
            retry: RetryPolicy {
                max_retries,
                base_delay: Duration::from_millis(retry_base_ms),
                max_delay: Duration::from_millis(retry_max_ms),
            },
        })
    }
}

/// Whether `s` is a Twilio SID with `prefix` (`AC`, `MG`, `SM`...): the prefix and 32 hex
/// digits.
pub fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const AC: &str = "AC0123456789abcdef0123456789abcdef";

    fn load(sid: &str, base: &str, mg: Option<&str>) -> Result<Config, Error> {
        Config::from_values(
            sid.into(),
            base.into(),
            None,
            mg.map(String::from),
            None,
            (3, 500, 10_000),
        )
    }

    #[test]
    fn validates_keys() {
        let c = load(AC, "https://api.twilio.com/", None).unwrap();
        assert_eq!(c.base_url, "https://api.twilio.com");
        assert!(load("AC123", DEFAULT_BASE_URL, None)
            .unwrap_err()
            .message
            .contains("account_sid"));
        assert!(load(AC, "ftp://x", None)
            .unwrap_err()
            .message
            .contains("base_url"));
        assert!(load(AC, "https://api.twilio.com/2010-04-01", None)
            .unwrap_err()
            .message
            .contains("base_url"));
        assert!(load(AC, DEFAULT_BASE_URL, Some("MGxyz"))
            .unwrap_err()
            .message
            .contains("messaging_service_sid"));
        assert!(is_sid("SMffffffffffffffffffffffffffffffff", "SM"));
        assert!(!is_sid("SMffffffffffffffffffffffffffffffff", "MM"));
    }
}

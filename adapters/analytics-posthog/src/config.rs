//! The binding's configuration keys, read through the config import and validated.

use core::time::Duration;

use switchyard_sdk::config;
use switchyard_sdk::retry::RetryPolicy;
use switchyard_sdk::types::Error;

/// The adapter's settings, from the binding's config keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `host`: PostHog's base URL without a trailing slash, e.g. `https://us.i.posthog.com`.
    pub host: String,
    /// `flush_at`: flush once this many events are pending (default 20).
    pub flush_at: u32,
    /// `flush_interval_ms`: `tick` flushes once the oldest event waited this long (default 5000).
    pub flush_interval_ms: u64,
    /// `max_batch_size`: most events per `/batch/` request (default 100).
    pub max_batch_size: u32,
    /// `max_retries`, `retry_base_ms`, `retry_max_ms` (defaults 3, 500, 10000).
    pub retry: RetryPolicy,
}

impl Config {
    /// Reads and validates the config keys; an `invalid-input` error names the bad key.
    pub fn load() -> Result<Config, Error> {
        let host = config::require("host")?;
        let host = host.trim().trim_end_matches('/').to_string();
        let lower = host.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        match rest {
            Some(rest) if !rest.is_empty() && !rest.starts_with('/') => {}
            _ => {
                return Err(Error::invalid_input(format!(
                    "config key `host` has the value `{host}`, which is not an http(s) base URL \
                     such as https://us.i.posthog.com"
                )))
            }
        }
        let flush_at = at_least_one("flush_at", config::parse("flush_at", 20u32)?)?;
        let flush_interval_ms = config::parse("flush_interval_ms", 5000u64)?;
        let max_batch_size =
            at_least_one("max_batch_size", config::parse("max_batch_size", 100u32)?)?;
        let max_retries = config::parse("max_retries", 3u32)?;
        let retry_base_ms = config::parse("retry_base_ms", 500u64)?;
        let retry_max_ms = config::parse("retry_max_ms", 10_000u64)?;
        if retry_max_ms < retry_base_ms {
            return Err(Error::invalid_input(format!(
                "config key `retry_max_ms` ({retry_max_ms}) is smaller than `retry_base_ms` ({retry_base_ms})"
            )));
        }
        Ok(Config {
            host,
            flush_at,
            flush_interval_ms,
            max_batch_size,
            retry: RetryPolicy {
                max_retries,
                base_delay: Duration::from_millis(retry_base_ms),
                max_delay: Duration::from_millis(retry_max_ms),
            },
        })
    }
}

fn at_least_one(key: &str, value: u32) -> Result<u32, Error> {
    if value == 0 {
        Err(Error::invalid_input(format!(
            "config key `{key}` must be at least 1, not 0"
        )))
    } else {
        Ok(value)
    }
}

//! The binding's configuration keys, read through the config import and validated.

use core::time::Duration;

use switchyard_sdk::config;
use switchyard_sdk::retry::RetryPolicy;
use switchyard_sdk::types::Error;

/// The adapter's settings, from the binding's config keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `{url}/storage/v1`, without a trailing slash.
    pub storage_url: String,
    /// Where public objects are served: `public_base_url`, or `{storage_url}/object/public`.
    pub public_base: String,
    /// `max_retries`, `retry_base_ms`, `retry_max_ms` (defaults 3, 200, 5000).
    pub retry: RetryPolicy,
    /// `timeout_ms`: the per-request time limit asked of the host (default 30000).
    pub timeout: Duration,
}

fn http_base(key: &str, value: &str) -> Result<String, Error> {
    let value = value.trim().trim_end_matches('/').to_string();
    let lower = value.to_ascii_lowercase();
    match lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(value),
        _ => Err(Error::invalid_input(format!(
            "config key `{key}` has the value `{value}`, which is not an http(s) URL such as \
             https://<project-ref>.supabase.co"
        ))),
    }
}

impl Config {
    /// Reads and validates the config keys; an `invalid-input` error names the bad key.
    pub fn load() -> Result<Config, Error> {
        let url = http_base("url", &config::require("url")?)?;
        let storage_url = format!("{url}/storage/v1");
        let public_base = match config::get("public_base_url") {
            Some(base) if !base.trim().is_empty() => http_base("public_base_url", &base)?,
            _ => format!("{storage_url}/object/public"),
        };
        let max_retries = config::parse("max_retries", 3u32)?;
        let retry_base_ms = config::parse("retry_base_ms", 200u64)?;
        let retry_max_ms = config::parse("retry_max_ms", 5_000u64)?;
        if retry_max_ms < retry_base_ms {
            return Err(Error::invalid_input(format!(
                "config key `retry_max_ms` ({retry_max_ms}) is smaller than `retry_base_ms` \
                 ({retry_base_ms})"
            )));
        }
        let timeout_ms = config::parse("timeout_ms", 30_000u64)?;
        if timeout_ms == 0 {
            return Err(Error::invalid_input(
                "config key `timeout_ms` must be at least 1, not 0",
            ));
        }
        Ok(Config {
            storage_url,
            public_base,
            retry: RetryPolicy {
                max_retries,
                base_delay: Duration::from_millis(retry_base_ms),
                max_delay: Duration::from_millis(retry_max_ms),
            },
            timeout: Duration::from_millis(timeout_ms),
        })
    }
}

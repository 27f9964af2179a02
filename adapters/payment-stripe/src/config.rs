//! The binding's configuration keys, read through the config import and validated.

use core::time::Duration;

use switchyard_sdk::config;
use switchyard_sdk::retry::RetryPolicy;
use switchyard_sdk::types::Error;

/// Stripe's API host.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// The API version the adapter is written against (sent as `Stripe-Version`).
pub const DEFAULT_API_VERSION: &str = "2024-06-20";

/// The adapter's settings, from the binding's config keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `api_base`: Stripe's base URL without a trailing slash (default `https://api.stripe.com`).
    pub api_base: String,
    /// `api_version`: the `Stripe-Version` sent with every request (default `2024-06-20`).
    pub api_version: String,
    /// `payment_method_types`: comma-separated types a payment accepts (default `card`).
    /// Sent as `payment_method_types[]`, which also keeps redirect-based methods (and the
    /// `return_url` they need) out of server-side confirmations.
    pub payment_method_types: Vec<String>,
    /// `timeout_ms`: the per-request time limit asked of the host (default 10000).
    pub timeout: Duration,
    /// `max_retries`, `retry_base_ms`, `retry_max_ms` (defaults 3, 500, 10000).
    pub retry: RetryPolicy,
}

impl Config {
    /// Reads and validates the config keys; an `invalid-input` error names the bad key.
    pub fn load() -> Result<Config, Error> {
        let api_base = config::get("api_base")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_API_BASE.to_string());
        let api_base = api_base.trim().trim_end_matches('/').to_string();
        check_base(&api_base)?;
        let api_version = config::get("api_version")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
        if !api_version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(Error::invalid_input(format!(
                "config key `api_version` has the value `{api_version}`, which is not a Stripe \
                 API version such as {DEFAULT_API_VERSION}"
            )));
        }
        let types = config::get("payment_method_types").unwrap_or_else(|| "card".into());
        let payment_method_types: Vec<String> = types
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if payment_method_types.is_empty()
            || payment_method_types
                .iter()
                .any(|t| !t.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        {
            return Err(Error::invalid_input(format!(
                "config key `payment_method_types` has the value `{types}`; give a comma-separated \
                 list of Stripe payment method types such as `card`"
            )));
        }
        let timeout_ms = config::parse("timeout_ms", 10_000u64)?;
        if timeout_ms == 0 {
            return Err(Error::invalid_input(
                "config key `timeout_ms` must be at least 1, not 0",
            ));
        }
        let max_retries = config::parse("max_retries", 3u32)?;
        let retry_base_ms = config::parse("retry_base_ms", 500u64)?;
        let retry_max_ms = config::parse("retry_max_ms", 10_000u64)?;
        if retry_max_ms < retry_base_ms {
            return Err(Error::invalid_input(format!(
                "config key `retry_max_ms` ({retry_max_ms}) is smaller than `retry_base_ms` ({retry_base_ms})"
            )));
        }
        Ok(Config {
            api_base,
            api_version,
            payment_method_types,
            timeout: Duration::from_millis(timeout_ms),
            retry: RetryPolicy {
                max_retries,
                base_delay: Duration::from_millis(retry_base_ms),
                max_delay: Duration::from_millis(retry_max_ms),
            },
        })
    }
}

/// An `http(s)://host[:port]` base without a path.
fn check_base(base: &str) -> Result<(), Error> {
    let lower = base.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.contains(['/', '?', '#', '@']) => Ok(()),
        _ => Err(Error::invalid_input(format!(
            "config key `api_base` has the value `{base}`, which is not an http(s) base URL \
             without a path, such as {DEFAULT_API_BASE}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_are_checked() {
        assert!(check_base("https://api.stripe.com").is_ok());
        assert!(check_base("http://127.0.0.1:8080").is_ok());
        for bad in [
            "api.stripe.com",
            "https://",
            "https://api.stripe.com/v1",
            "ftp://x",
        ] {
            let err = check_base(bad).unwrap_err();
            assert!(err.message.contains("api_base"), "{}", err.message);
        }
    }
}

//! The binding's configuration keys, read through the config import and validated.

use core::time::Duration;

use switchyard_sdk::config;
use switchyard_sdk::retry::RetryPolicy;
use switchyard_sdk::types::Error;

/// The adapter's settings, from the binding's config keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `app_id`: the Algolia application id (not a secret; the host injects it as
    /// `x-algolia-application-id` along with the key). Needed for the default hosts.
    pub app_id: Option<String>,
    /// `read_hosts`: base URLs for searches and other reads, tried in order.
    pub read_hosts: Vec<String>,
    /// `write_hosts`: base URLs for writes, tried in order.
    pub write_hosts: Vec<String>,
    /// `index_prefix`: put before every index name (the tenant's namespace), e.g. `acme_`.
    pub index_prefix: String,
    /// `read_timeout_ms` (default 5000, as Algolia's clients), multiplied by the host's
    /// time-outs so far plus one.
    pub read_timeout: Duration,
    /// `write_timeout_ms` (default 30000).
    pub write_timeout: Duration,
    /// `max_retries`, `retry_base_ms`, `retry_max_ms` (defaults 3, 500, 10000): passes over
    /// the hosts after a pass where every host failed, and after a 429.
    pub retry: RetryPolicy,
    /// `task_poll_ms` (default 200): waiting for a task sleeps `min(n * task_poll_ms, 5 s)`
    /// before poll `n`, as Algolia's `wait_for_task`.
    pub task_poll: Duration,
    /// `task_max_polls` (default 100).
    pub task_max_polls: u32,
    /// `typo_tolerance` (default false): Algolia's typo tolerance; off by default so that a
    /// query word must be found as written (after case and accent folding), as the contract
    /// says.
    pub typo_tolerance: bool,
    /// `prefix_last` (default false): match the last query word as a prefix (Algolia's
    /// `queryType=prefixLast`); off by default for the same reason.
    pub prefix_last: bool,
}

/// The shortest prefix body and the longest.
const MAX_PREFIX: usize = 64;

impl Config {
    /// Reads and validates the config keys; an `invalid-input` error names the bad key.
    pub fn load() -> Result<Config, Error> {
        let app_id = config::get("app_id")
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty());
        if let Some(app) = &app_id {
            if !app.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(Error::invalid_input(format!(
                    "config key `app_id` has the value `{app}`, which is not an Algolia application id (letters and digits)"
                )));
            }
        }
        let shuffled_fallbacks = |app: &str| {
            let mut hosts: Vec<String> = (1..=3)
                .map(|i| format!("https://{app}-{i}.algolianet.com"))
                .collect();
            // Fisher-Yates, as the official clients shuffle their fallbacks.
            for i in (1..hosts.len()).rev() {
                let j = (switchyard_sdk::random::u64() % (i as u64 + 1)) as usize;
                hosts.swap(i, j);
            }
            hosts
        };
        let hosts = |key: &str, first: &dyn Fn(&str) -> String| -> Result<Vec<String>, Error> {
            match config::get(key).filter(|v| !v.trim().is_empty()) {
                Some(list) => list
                    .split(',')
                    .map(|h| base_url(key, h))
                    .collect::<Result<Vec<_>, _>>(),
                None => match &app_id {
                    Some(app) => {
                        let mut all = vec![first(app)];
                        all.extend(shuffled_fallbacks(app));
                        Ok(all)
                    }
                    None => Err(Error::invalid_input(format!(
                        "config key `{key}` is missing and so is `app_id`: set `app_id` (the hosts are derived from it) or `{key}`"
                    ))),
                },
            }
        };
        let read_hosts = hosts("read_hosts", &|app| {
            format!("https://{app}-dsn.algolia.net")
        })?;
        let write_hosts = hosts("write_hosts", &|app| format!("https://{app}.algolia.net"))?;
        let index_prefix = config::require("index_prefix")?.trim().to_string();
        check_prefix(&index_prefix)?;
        let retry_base_ms = config::parse("retry_base_ms", 500u64)?;
        let retry_max_ms = config::parse("retry_max_ms", 10_000u64)?;
        if retry_max_ms < retry_base_ms {
            return Err(Error::invalid_input(format!(
                "config key `retry_max_ms` ({retry_max_ms}) is smaller than `retry_base_ms` ({retry_base_ms})"
            )));
        }
        let read_timeout_ms = positive(
            "read_timeout_ms",
            config::parse("read_timeout_ms", 5000u64)?,
        )?;
        let write_timeout_ms = positive(
            "write_timeout_ms",
            config::parse("write_timeout_ms", 30_000u64)?,
        )?;
        Ok(Config {
            app_id,
            read_hosts,
            write_hosts,
            index_prefix,
            read_timeout: Duration::from_millis(read_timeout_ms),
            write_timeout: Duration::from_millis(write_timeout_ms),
            retry: RetryPolicy {
                max_retries: config::parse("max_retries", 3u32)?,
                base_delay: Duration::from_millis(retry_base_ms),
                max_delay: Duration::from_millis(retry_max_ms),
            },
            task_poll: Duration::from_millis(config::parse("task_poll_ms", 200u64)?),
            task_max_polls: positive("task_max_polls", config::parse("task_max_polls", 100u32)?)?,
            typo_tolerance: config::parse("typo_tolerance", false)?,
            prefix_last: config::parse("prefix_last", false)?,
        })
    }

    /// The Algolia index name of the tenant's index `name` (already validated).
    pub fn full_name(&self, name: &str) -> String {
        format!("{}{name}", self.index_prefix)
    }

    /// The tenant's name of Algolia index `full`, when it is the tenant's.
    pub fn own_name<'a>(&self, full: &'a str) -> Option<&'a str> {
        full.strip_prefix(self.index_prefix.as_str())
            .filter(|n| !n.is_empty())
    }
}

fn positive<T: PartialEq + Default + core::fmt::Display>(key: &str, v: T) -> Result<T, Error> {
    if v == T::default() {
        Err(Error::invalid_input(format!(
            "config key `{key}` must be greater than 0"
        )))
    } else {
        Ok(v)
    }
}

/// A base URL from a host list: `https://host[:port]` or `http://...` for a mock, no path.
fn base_url(key: &str, raw: &str) -> Result<String, Error> {
    let url = raw.trim().trim_end_matches('/').to_string();
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.contains(['/', '?', '#', '@']) => Ok(url),
        _ => Err(Error::invalid_input(format!(
            "config key `{key}` lists `{url}`, which is not a base URL such as https://APPID-dsn.algolia.net"
        ))),
    }
}

/// The prefix must be 1 to 64 characters of `A-Z a-z 0-9 . -` and then one `_`: with no `_`
/// before its end, no tenant's index name can be another tenant's (the first `_` of an
/// Algolia index name ends its tenant's prefix).
pub fn check_prefix(prefix: &str) -> Result<(), Error> {
    let body = prefix.strip_suffix('_').unwrap_or("");
    let ok = !body.is_empty()
        && body.len() <= MAX_PREFIX
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "config key `index_prefix` has the value `{prefix}`: use 1 to {MAX_PREFIX} characters of A-Z a-z 0-9 . - followed by one `_` (e.g. `acme_`), so that no tenant's prefix starts another's"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_cannot_nest() {
        assert!(check_prefix("acme_").is_ok());
        assert!(check_prefix("prod.acme-eu_").is_ok());
        for bad in ["", "_", "acme", "acme__", "acme_x_", "ac*me_", "acme_*"] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url("k", " http://127.0.0.1:80/ ").unwrap(),
            "http://127.0.0.1:80"
        );
        assert!(base_url("k", "ftp://x").is_err());
        assert!(base_url("k", "https://x/1/indexes").is_err());
    }
}

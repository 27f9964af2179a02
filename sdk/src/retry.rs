//! Retries with exponential backoff and full jitter.
//!
//! Only errors with `retryable` set are retried (`rate-limited`, `unavailable`, `timeout`
//! from the SDK's constructors and HTTP client). The delay before retry `n` (0-based) is
//! random in `[0, min(max_delay, base_delay * 2^n)]`, or the provider's `retry_after_ms`
//! when that is larger (even beyond `max_delay`: the provider said when to come back). A
//! provider asking to wait longer than [`MAX_RETRY_AFTER`] ends the retries at once: the
//! error is returned so the caller can keep its work for later instead of blocking the call
//! (the host's deadline would end it anyway).
//!
//! ```ignore
//! use switchyard_sdk::retry::{retry, RetryPolicy};
//! let response = retry(&RetryPolicy::default(), || Request::get(url).send()?.error_for_status())?;
//! ```

use core::time::Duration;

use crate::types::Error;

/// The longest `retry_after_ms` a retry waits for; a longer one ends the retries.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How often and how long to retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = try once).
    pub max_retries: u32,
    /// The backoff ceiling of the first retry; it doubles with every retry.
    pub base_delay: Duration,
    /// The largest backoff (a provider's `retry_after_ms` may be longer, up to
    /// [`MAX_RETRY_AFTER`]).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 3 retries, 500 ms base, 10 s cap.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The backoff ceiling before retry `attempt` (0-based): `min(max_delay, base * 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The delay before retry `attempt` given a random value (full jitter) and the
    /// provider's `retry_after_ms`; `None` when the provider asks for more than
    /// [`MAX_RETRY_AFTER`].
    pub fn delay(
        &self,
        attempt: u32,
        random: u64,
        retry_after_ms: Option<u64>,
    ) -> Option<Duration> {
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        let jittered = Duration::from_millis(random % ceiling.saturating_add(1));
        match retry_after_ms.map(Duration::from_millis) {
            Some(after) if after > MAX_RETRY_AFTER => None,
            Some(after) => Some(after.max(jittered)),
            None => Some(jittered),
        }
    }
}

/// Runs `op`, retrying it under `policy` while it fails with a retryable error. Returns the
/// first success, the first non-retryable error, or the last error once retries run out.
pub fn retry<T>(
    policy: &RetryPolicy,
    mut op: impl FnMut() -> Result<T, Error>,
) -> Result<T, Error> {
    let mut attempt = 0u32;
    loop {
        match op() {
            Ok(value) => return Ok(value),
            Err(err) if !err.retryable || attempt >= policy.max_retries => return Err(err),
            Err(err) => {
                let random = crate::random::u64();
                match policy.delay(attempt, random, err.retry_after_ms) {
                    Some(delay) => sleep(delay),
                    None => return Err(err),
                }
                attempt += 1;
            }
        }
    }
}

/// Blocks this call for `duration` on the host's monotonic clock.
pub fn sleep(duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return;
    }
    wasi::clocks::monotonic_clock::subscribe_duration(nanos).block();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(p.ceiling(0), Duration::from_millis(500));
        assert_eq!(p.ceiling(2), Duration::from_millis(2000));
        assert_eq!(p.ceiling(40), Duration::from_secs(10));
        assert!(p.delay(1, u64::MAX, None).unwrap() <= Duration::from_millis(1000));
        assert_eq!(p.delay(0, 0, Some(3000)), Some(Duration::from_millis(3000)));
        assert_eq!(p.delay(0, 0, Some(30_000)), Some(Duration::from_secs(30)));
        assert_eq!(p.delay(0, 0, Some(61_000)), None);
    }
}

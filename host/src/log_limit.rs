//! Rate limits on guest logs, so a noisy adapter cannot flood the host's log.
//!
//! Each binding has a token bucket ([`LogLimiter`]): `limits.log_rate` lines per second,
//! bursts up to `limits.log_burst`. A line over the limit is dropped and counted; the next
//! line let through is preceded by one warning saying how many were dropped, and the host
//! metric `switchyard_dropped_logs_total` counts them per tenant, service and adapter.

use std::sync::Mutex;
use std::time::Instant;

/// What to do with one log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Write it.
    Write,
    /// Write it, after a warning that this many lines were dropped before it.
    WriteAfterDropping(u64),
    /// Drop it.
    Drop,
}

/// A token bucket over one binding's guest log lines.
#[derive(Debug)]
pub struct LogLimiter {
    rate: f64,
    burst: f64,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    dropped: u64,
}

impl LogLimiter {
    /// `rate` lines per second, bursts up to `burst` (at least 1).
    pub fn new(rate: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        LogLimiter {
            rate: f64::from(rate),
            burst,
            state: Mutex::new(Bucket {
                tokens: burst,
                last: Instant::now(),
                dropped: 0,
            }),
        }
    }

    /// Whether a line logged now may be written.
    pub fn admit(&self) -> Admit {
        self.admit_at(Instant::now())
    }

    /// [`LogLimiter::admit`] at a given instant (for tests).
    pub fn admit_at(&self, now: Instant) -> Admit {
        let mut b = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.last = now;
        if b.tokens < 1.0 {
            b.dropped += 1;
            return Admit::Drop;
        }
        b.tokens -= 1.0;
        match std::mem::take(&mut b.dropped) {
            0 => Admit::Write,
            n => Admit::WriteAfterDropping(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn lets_a_burst_through_then_the_rate_and_reports_what_it_dropped() {
        let limiter = LogLimiter::new(10, 5);
        let t0 = Instant::now();
        let first: Vec<Admit> = (0..8).map(|_| limiter.admit_at(t0)).collect();
        assert_eq!(first.iter().filter(|a| **a == Admit::Write).count(), 5);
        assert_eq!(first.iter().filter(|a| **a == Admit::Drop).count(), 3);
        // 100 ms later one token came back: the line is written, after the report.
        assert_eq!(
            limiter.admit_at(t0 + Duration::from_millis(100)),
            Admit::WriteAfterDropping(3)
        );
        assert_eq!(
            limiter.admit_at(t0 + Duration::from_millis(100)),
            Admit::Drop
        );
        // A quiet second refills the bucket to its burst, no more.
        let later = t0 + Duration::from_secs(2);
        let again: Vec<Admit> = (0..6).map(|_| limiter.admit_at(later)).collect();
        assert_eq!(again[0], Admit::WriteAfterDropping(1));
        assert_eq!(again.iter().filter(|a| **a == Admit::Drop).count(), 1);
    }

    #[test]
    fn a_zero_rate_still_lets_the_burst_through() {
        let limiter = LogLimiter::new(0, 2);
        let t0 = Instant::now();
        assert_eq!(limiter.admit_at(t0), Admit::Write);
        assert_eq!(limiter.admit_at(t0), Admit::Write);
        assert_eq!(limiter.admit_at(t0 + Duration::from_secs(60)), Admit::Drop);
    }
}

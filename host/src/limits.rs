//! Per-binding limits: a wall-clock deadline per call, a memory cap per instance, the size of
//! the host-held buffer and the rate of guest log lines (see [`crate::log_limit`]).
//!
//! The deadline is enforced twice: epoch interruption stops a guest that computes without end,
//! and a timer stops a call that waits without end inside the host (a slow provider). The
//! memory cap is a [`wasmtime::ResourceLimiter`] that remembers it was hit, so a trap it causes
//! is reported as [`crate::Error::MemoryLimit`] rather than a generic trap.

use std::time::Duration;

use serde::Deserialize;

/// How long one epoch tick lasts; deadlines are rounded up to whole ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Limits that apply to every call of one binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Wall-clock deadline of one call, in milliseconds (`deadline_ms`).
    pub deadline_ms: u64,
    /// The most linear memory one instance may grow to, in MiB (`memory_mib`).
    pub memory_mib: u64,
    /// The most items the binding's host-held buffer keeps (`buffer_items`).
    pub buffer_items: usize,
    /// The most bytes the binding's host-held buffer keeps (`buffer_mib`, in MiB).
    pub buffer_mib: usize,
    /// Guest log lines per second let through to the host's log (`log_rate`).
    pub log_rate: u32,
    /// Guest log lines let through at once before `log_rate` applies (`log_burst`).
    pub log_burst: u32,
    /// The most calls of this binding running at once (`max_concurrent`); 0: only the
    /// tenant's share of the pool (`runtime.max_instances_per_tenant`) applies.
    pub max_concurrent: u32,
    /// The most requests in flight from this binding to one host (`scheme://host:port`) at
    /// once, and so the most connections open to it; also how many idle connections to it
    /// are kept (`max_connections_per_host`).
    pub max_connections_per_host: u32,
    /// How long an idle outbound connection is kept for reuse, in milliseconds
    /// (`idle_connection_ms`); 0 keeps none.
    pub idle_connection_ms: u64,
    /// Whether an instance that served a call may serve further calls of this binding
    /// (`instance_reuse`); off: a fresh instance for every call. What survives between the
    /// calls an instance serves is its own memory (the guest's globals and heap), only ever
    /// seen by later calls of the same binding generation.
    pub instance_reuse: bool,
    /// The most idle instances kept warm for this binding (`warm_instances`).
    pub warm_instances: u32,
    /// How many calls one instance serves before it is replaced (`calls_per_instance`).
    pub calls_per_instance: u32,
    /// How long an idle warm instance is kept, in milliseconds (`warm_idle_ms`).
    pub warm_idle_ms: u64,
}

/// The most host resources (HTTP requests, header maps, streams, pollables...) one call may
/// hold at once; one more fails in the guest instead of growing the host's memory.
pub const MAX_RESOURCES: usize = 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline_ms: 10_000,
            memory_mib: 64,
            buffer_items: 10_000,
            buffer_mib: 64,
            log_rate: 100,
            log_burst: 1000,
            max_concurrent: 0,
            max_connections_per_host: 32,
            idle_connection_ms: 30_000,
            instance_reuse: true,
            warm_instances: 4,
            calls_per_instance: 1000,
            warm_idle_ms: 10_000,
        }
    }
}

impl Limits {
    /// The deadline as a duration.
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }

    /// How long an idle warm instance is kept.
    pub fn warm_idle(&self) -> Duration {
        Duration::from_millis(self.warm_idle_ms)
    }

    /// How long an idle outbound connection is kept.
    pub fn idle_connection(&self) -> Duration {
        Duration::from_millis(self.idle_connection_ms)
    }

    /// The memory cap in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mib.saturating_mul(1024 * 1024)
    }

    /// The most bytes one `wasi:http` fields resource (a header map) may hold in the host:
    /// the memory cap shared out over [`MAX_RESOURCES`], between 8 KiB and 128 KiB. With at
    /// most [`MAX_RESOURCES`] resources alive, what a guest can make the host hold in header
    /// maps stays within its own memory cap.
    pub fn field_bytes(&self) -> usize {
        let share = self.memory_bytes() / MAX_RESOURCES as u64;
        share.clamp(8 * 1024, 128 * 1024) as usize
    }

    /// Checks the values make sense, naming the bad one.
    pub fn validate(&self) -> Result<(), LimitError> {
        let zero = [
            (self.deadline_ms == 0, "limits.deadline_ms"),
            (self.memory_mib == 0, "limits.memory_mib"),
            (
                self.buffer_items == 0 || self.buffer_mib == 0,
                "limits.buffer_items and limits.buffer_mib",
            ),
            (self.log_burst == 0, "limits.log_burst"),
            (
                self.max_connections_per_host == 0,
                "limits.max_connections_per_host",
            ),
            (self.calls_per_instance == 0, "limits.calls_per_instance"),
        ];
        match zero.into_iter().find(|(bad, _)| *bad) {
            Some((_, key)) => Err(LimitError(key)),
            None => Ok(()),
        }
    }
}

/// A limit that must be greater than 0 is 0; names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} must be greater than 0")]
pub struct LimitError(pub &'static str);

/// Caps one instance's memory and remembers whether the cap was what stopped it.
#[derive(Debug)]
pub struct MemoryLimiter {
    cap: u64,
    hit: bool,
}

impl MemoryLimiter {
    /// A limiter allowing `cap` bytes of linear memory.
    pub fn new(cap: u64) -> Self {
        MemoryLimiter { cap, hit: false }
    }

    /// Whether a growth past the cap was refused.
    pub fn hit(&self) -> bool {
        self.hit
    }

    /// The cap in bytes.
    pub fn cap(&self) -> u64 {
        self.cap
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.cap {
            self.hit = true;
            return Err(wasmtime::Error::msg(format!(
                "memory cap of {} bytes reached (asked for {desired})",
                self.cap
            )));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

//! The data of one call's store, and the host side of the adapter imports (log, config, buffer).
//!
//! Every call gets a fresh store and instance (see `runtime`), so this state lives exactly as
//! long as the call: the WASI context grants nothing (no files, env, sockets or stdio), the
//! HTTP hooks carry the binding's outbound rules, and the buffer lease returns unacked items
//! when the store is dropped, whatever ended the call.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::base::switchyard::adapter::{buffer, config, log};
use crate::bindings::base::switchyard::types::types;
use crate::bindings::monitoring::switchyard::monitoring::types::MetricKind;
use crate::buffer::{BufferFull, Lease};
use crate::limits::MemoryLimiter;
use crate::log_limit::Admit;
use crate::outbound::{CallIdentity, OutboundPolicy};

/// The most bytes of one guest log message kept; the rest is cut.
const MAX_LOG_MESSAGE: usize = 8 * 1024;

/// The data of a store: one call of one binding.
pub struct CallState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) hooks: OutboundPolicy,
    pub(crate) config: Arc<BTreeMap<String, String>>,
    pub(crate) lease: Lease,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) who: CallIdentity,
    /// The host-native backends the binding grants (none for ordinary adapters).
    pub(crate) native: crate::native::Grant,
    /// Signs server URLs for the adapter (`switchyard:adapter/signing`).
    pub(crate) signer: Arc<crate::signing::Signer>,
    /// The binding's rate limit on guest log lines.
    pub(crate) log_limit: Arc<crate::log_limit::LogLimiter>,
    /// When the call's deadline passes (host waits end before it).
    pub(crate) deadline: std::time::Instant,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl types::Host for CallState {}

impl crate::bindings::messaging::switchyard::messaging::types::Host for CallState {}

impl crate::bindings::storage::switchyard::storage::types::Host for CallState {}

impl crate::bindings::logging::switchyard::logging::types::Host for CallState {}

impl crate::bindings::monitoring::switchyard::monitoring::types::Host for CallState {}

impl crate::bindings::search::switchyard::search::types::Host for CallState {}

impl log::Host for CallState {
    fn write(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        let w = &self.who;
        match self.log_limit.admit() {
            Admit::Write => {}
            Admit::Drop => {
                self.hooks.metrics().record_host(
                    "switchyard_dropped_logs_total",
                    MetricKind::Counter,
                    1.0,
                    &[
                        ("tenant", &w.tenant),
                        ("service", &w.service),
                        ("adapter", &w.adapter),
                    ],
                );
                return;
            }
            Admit::WriteAfterDropping(n) => tracing::warn!(
                target: "switchyard::guest",
                tenant = %w.tenant, service = %w.service, adapter = %w.adapter,
                call_id = w.call_id, dropped = n,
                "the adapter logs faster than its limit (limits.log_rate, limits.log_burst): \
                 {n} lines dropped"
            ),
        }
        let mut message = message;
        if message.len() > MAX_LOG_MESSAGE {
            let mut cut = MAX_LOG_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str("…[cut]");
        }
        let fields = FieldList(&fields);
        macro_rules! emit {
            ($lvl:expr) => {
                tracing::event!(
                    target: "switchyard::guest", $lvl,
                    tenant = %w.tenant, service = %w.service, adapter = %w.adapter,
                    call_id = w.call_id, fields = %fields, "{message}"
                )
            };
        }
        match level {
            log::Level::Trace => emit!(tracing::Level::TRACE),
            log::Level::Debug => emit!(tracing::Level::DEBUG),
            log::Level::Info => emit!(tracing::Level::INFO),
            log::Level::Warn => emit!(tracing::Level::WARN),
            log::Level::Error => emit!(tracing::Level::ERROR),
        }
    }
}

/// Guest log fields shown as `k=v k=v`.
struct FieldList<'a>(&'a [(String, String)]);

impl std::fmt::Display for FieldList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{k}={v:?}")?;
        }
        Ok(())
    }
}

impl config::Host for CallState {
    fn get(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }

    fn all(&mut self) -> Vec<(String, String)> {
        self.config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl buffer::Host for CallState {
    fn push(&mut self, item: Vec<u8>) -> Result<buffer::BufferStats, types::Error> {
        match self.lease.buffer().push(item) {
            Ok(s) => Ok(wit_stats(s)),
            Err(full) => Err(types::Error {
                kind: types::ErrorKind::TooLarge,
                retryable: true,
                message: full.to_string(),
                provider_code: None,
                provider_message: None,
                retry_after_ms: Some(match full {
                    BufferFull::Items(_) | BufferFull::Bytes(_) => 1000,
                }),
            }),
        }
    }

    fn stats(&mut self) -> buffer::BufferStats {
        wit_stats(self.lease.buffer().stats())
    }

    fn take(&mut self, max: u32) -> Vec<Vec<u8>> {
        self.lease.buffer().take(self.lease.call(), max)
    }

    fn ack(&mut self) {
        self.lease.buffer().ack(self.lease.call());
    }
}

fn wit_stats(s: crate::buffer::BufferStats) -> buffer::BufferStats {
    buffer::BufferStats {
        pending: s.pending,
        oldest_age_ms: s.oldest_age_ms,
        in_flight: s.in_flight,
    }
}

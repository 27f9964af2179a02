//! `switchyard:adapter/log`: an adapter's log lines, into the host's `tracing` pipeline
//! (target `switchyard::guest`) with the call's identity, rate-limited per generation and cut
//! at [`MAX_LOG_MESSAGE`] bytes.

use wasmtime::component::{HasData, Linker};

use crate::bindings::base::switchyard::adapter::log::{self, Host, Level};
use crate::identity::CallIdentity;
use crate::log_limit::{Admit, LogLimiter};
use crate::metrics::{Kind, Registry};

/// The most bytes of one guest log message kept; the rest is cut.
pub const MAX_LOG_MESSAGE: usize = 8 * 1024;

/// What a call's log lines need: who is calling, the generation's rate limit, and the host's
/// metrics (lines dropped by the limit are counted there).
pub struct LogView<'a> {
    /// Who is calling, on every line.
    pub who: &'a CallIdentity,
    /// The generation's rate limit.
    pub limit: &'a LogLimiter,
    /// The host's metrics.
    pub metrics: &'a Registry,
}

/// The [`HasData`] marker linking [`LogView`].
pub struct Log;

impl HasData for Log {
    type Data<'a> = LogView<'a>;
}

/// Links `switchyard:adapter/log`, reached through `view`.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> LogView<'_>,
) -> wasmtime::Result<()> {
    log::add_to_linker::<T, Log>(linker, view)
}

impl Host for LogView<'_> {
    fn write(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        let w = self.who;
        match self.limit.admit() {
            Admit::Write => {}
            Admit::Drop => {
                self.metrics.record_host(
                    "switchyard_dropped_logs_total",
                    Kind::Counter,
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
            Level::Trace => emit!(tracing::Level::TRACE),
            Level::Debug => emit!(tracing::Level::DEBUG),
            Level::Info => emit!(tracing::Level::INFO),
            Level::Warn => emit!(tracing::Level::WARN),
            Level::Error => emit!(tracing::Level::ERROR),
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

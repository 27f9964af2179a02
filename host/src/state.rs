//! The data of one call's store: what the call owns, and what its generation grants it.
//!
//! Every call gets a fresh store and instance (see `runtime::call`), so [`CallState`] lives
//! exactly as long as the call: the WASI context grants nothing (no env, sockets or stdio;
//! the binding's `files` directory when it has one), the HTTP hooks carry the binding's
//! outbound rules, and the buffer lease returns unacked items when the store is dropped,
//! whatever ended the call. Everything shared by the generation's calls sits behind one
//! `Arc<`[`Grants`]`>`.
//!
//! Each host import reaches the store through a view (see `imports` and `native`); the
//! methods here hand those views out, and `runtime::engine` links them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::buffer::Lease;
use crate::identity::CallIdentity;
use crate::imports::buffer::BufferView;
use crate::imports::config::ConfigView;
use crate::imports::log::LogView;
use crate::imports::signing::SigningView;
use crate::limits::MemoryLimiter;
use crate::log_limit::LogLimiter;
use crate::metrics::Registry;
use crate::native::logging::LoggingView;
use crate::native::messaging::MessagingView;
use crate::native::monitoring::MonitoringView;
use crate::native::search::SearchView;
use crate::native::Grant;
use crate::outbound::OutboundPolicy;
use crate::signing::Signer;

/// What a generation grants every one of its calls: shared and read-only.
pub struct Grants {
    /// The binding's `config` table.
    pub config: BTreeMap<String, String>,
    /// The host-native backends the binding reaches (none for ordinary adapters).
    pub native: Grant,
    /// The generation's rate limit on guest log lines.
    pub log_limit: LogLimiter,
    /// Signs server URLs (`switchyard:adapter/signing`).
    pub signer: Arc<Signer>,
    /// The host's own metrics.
    pub metrics: Arc<Registry>,
}

/// The data of a store: one call of one binding.
pub struct CallState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) hooks: OutboundPolicy,
    pub(crate) lease: Lease,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) who: CallIdentity,
    /// When the call's deadline passes (host waits end before it).
    pub(crate) deadline: Instant,
    pub(crate) grants: Arc<Grants>,
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

impl CallState {
    /// `switchyard:adapter/log`.
    pub(crate) fn log(&mut self) -> LogView<'_> {
        LogView {
            who: &self.who,
            limit: &self.grants.log_limit,
            metrics: &self.grants.metrics,
        }
    }

    /// `switchyard:adapter/config`.
    pub(crate) fn config(&mut self) -> ConfigView<'_> {
        ConfigView {
            config: &self.grants.config,
        }
    }

    /// `switchyard:adapter/buffer`.
    pub(crate) fn buffer(&mut self) -> BufferView<'_> {
        BufferView { lease: &self.lease }
    }

    /// `switchyard:adapter/signing`.
    pub(crate) fn signing(&mut self) -> SigningView<'_> {
        SigningView {
            signer: &self.grants.signer,
            who: &self.who,
        }
    }

    /// `switchyard:logging/logging`, for bridges.
    pub(crate) fn logging(&mut self) -> LoggingView<'_> {
        LoggingView {
            log: self.grants.native.logging.as_ref(),
            tenant: &self.who.tenant,
        }
    }

    /// `switchyard:messaging/messaging`, for bridges.
    pub(crate) fn messaging(&mut self) -> MessagingView<'_> {
        MessagingView {
            broker: self.grants.native.messaging.as_ref(),
            deadline: self.deadline,
        }
    }

    /// `switchyard:monitoring/monitoring`, for bridges.
    pub(crate) fn monitoring(&mut self) -> MonitoringView<'_> {
        MonitoringView {
            monitor: self.grants.native.monitoring.as_ref(),
            tenant: &self.who.tenant,
        }
    }

    /// `switchyard:search/search`, for bridges.
    pub(crate) fn search(&mut self) -> SearchView<'_> {
        SearchView {
            engine: self.grants.native.search.as_ref(),
        }
    }
}

//! What the runtime reports: listings, health, and the outcomes of swaps, reloads and
//! shutdown.

use crate::service::Service;

/// What a binding looks like now, for listings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BindingInfo {
    /// The tenant.
    pub tenant: String,
    /// The service.
    pub service: String,
    /// The adapter (component file stem or upload name).
    pub adapter: String,
    /// sha256 of the component, hex.
    pub digest: String,
    /// When the component was loaded, seconds since the Unix epoch.
    pub loaded_at: u64,
    /// Items in the current generation's buffer.
    pub pending: u32,
    /// Replaced generations still delivering their buffer.
    pub retiring: usize,
}

/// What a binding answered to its contract's `health` call.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BindingHealth {
    /// The tenant.
    pub tenant: String,
    /// The service.
    pub service: String,
    /// The adapter serving it.
    pub adapter: String,
    /// Whether it answered that it is healthy.
    pub ok: bool,
    /// Its detail, or why the health call failed.
    pub detail: String,
}

/// The outcome of a hot swap.
#[derive(Debug, Clone)]
pub struct SwapReport {
    /// Digest of the component replaced.
    pub old_digest: String,
    /// Digest of the component now serving.
    pub new_digest: String,
    /// Whether the old component delivered everything it held; when not, it stays retiring
    /// and is drained again on every tick.
    pub drained: Result<(), Undelivered>,
}

/// What a reload changed; entries are `tenant/service`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReloadReport {
    /// Bindings that were not there before.
    pub added: Vec<String>,
    /// Bindings whose component, configuration, rules or limits changed.
    pub replaced: Vec<String>,
    /// Bindings no longer in the file.
    pub removed: Vec<String>,
    /// Bindings left as they were.
    pub unchanged: Vec<String>,
}

/// What shutdown left undelivered, per binding.
#[derive(Debug, Clone, Default)]
pub struct ShutdownReport {
    /// (tenant, service, items left, error) for every binding that could not drain.
    pub undelivered: Vec<(String, Service, u32, String)>,
}

/// Why a replaced generation still holds work: its drain failed, and it stays retiring.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{reason}")]
pub struct Undelivered {
    /// What the drain failed with.
    pub reason: String,
}

//! Metric registries and the Prometheus text format: the host's own `switchyard_*` metrics and
//! each tenant's monitoring metrics are kept in a [`Registry`] and rendered by
//! [`render_prometheus`] (in `text`) for `/metrics`.
//!
//! A leaf module: it knows nothing of contracts or calls. The monitoring contract's host-native
//! backend (`native::monitoring`) stores tenants' metrics in a registry of its own; the call
//! path records the host's metrics straight into the runtime's registry.
//!
//! The text format is written here rather than with the `prometheus` or `prometheus-client`
//! crates: those register metric families up front with fixed names and label sets, while
//! tenants create metrics by name at runtime with their own tags.

mod registry;
mod text;

pub use registry::{
    Kind, RecordError, Registry, Snapshot, Tags, BUCKETS, MAX_SERIES, QUANTILES, SUMMARY_WINDOW,
};
pub use text::render_prometheus;

#[cfg(test)]
mod tests;

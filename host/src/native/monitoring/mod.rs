//! The monitoring contract, host-native: each tenant's metrics, spans, captured errors,
//! breadcrumbs and health checks kept in memory ([`TenantMonitor`]), forwarded to Sentry when
//! the binding names a DSN ([`sentry`]), and reached by bridge components through
//! [`MonitoringView`].
//!
//! - `checks`: the contract's input rules.
//! - `tenant`: one tenant's state.
//! - `view`: the host side of the `switchyard:monitoring/monitoring` import.
//! - `sentry`: the Sentry forwarder.

mod checks;
pub mod sentry;
mod tenant;
mod view;

pub use checks::{HOST_PREFIX, MAX_TAGS};
pub use tenant::{TenantMonitor, KEEP_BREADCRUMBS, KEEP_ERRORS, KEEP_SPANS};
pub use view::{add_to_linker, Monitoring, MonitoringView};

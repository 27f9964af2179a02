//! The server's own metrics, written at `/metrics` before the host's: gateway key refusals,
//! connections open and refused, request bodies that timed out. Kept in a host
//! [`Registry`] so that they render the way the host's do.
//!
//! - `switchyard_gateway_auth_failures_total{reason}` (counter): `/v1` requests refused for
//!   their key: `missing`, `invalid` (no such key, or not a bearer token), `wrong_tenant`,
//!   `out_of_scope`.
//! - `switchyard_connections_open{listener, pool}` (gauge): connections open now, on the
//!   `gateway` or `admin` listener, served normally (`pool="main"`) or from the reserve.
//! - `switchyard_connections_refused_total{listener, reason}` (counter): `max_connections` or
//!   `per_address`.
//! - `switchyard_request_body_timeouts_total` (counter): bodies that did not arrive within
//!   `body_timeout_ms` (answered 408, connection closed).

use std::sync::Arc;

use switchyard_host::metrics::{render_prometheus, Kind, Registry};

use crate::conn::{ConnTracker, Refusal};

/// Why a `/v1` request was refused for its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header.
    Missing,
    /// Not a bearer token, or no such key.
    Invalid,
    /// A key of another tenant.
    WrongTenant,
    /// A key used outside its services or functions.
    OutOfScope,
}

impl AuthFailure {
    /// The `reason` label.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Invalid => "invalid",
            AuthFailure::WrongTenant => "wrong_tenant",
            AuthFailure::OutOfScope => "out_of_scope",
        }
    }
}

/// The server's metrics and the connection trackers whose counts it reports.
#[derive(Default)]
pub struct ServerMetrics {
    registry: Registry,
    trackers: std::sync::Mutex<Vec<(&'static str, Arc<ConnTracker>)>>,
}

impl std::fmt::Debug for ServerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerMetrics")
    }
}

impl ServerMetrics {
    /// Counts a `/v1` request refused for its key.
    pub fn auth_failure(&self, reason: AuthFailure) {
        self.registry.record_host(
            "switchyard_gateway_auth_failures_total",
            Kind::Counter,
            1.0,
            &[("reason", reason.as_str())],
        );
    }

    /// Counts a connection refused on `listener`.
    pub fn refused(&self, listener: &'static str, reason: Refusal) {
        self.registry.record_host(
            "switchyard_connections_refused_total",
            Kind::Counter,
            1.0,
            &[("listener", listener), ("reason", reason.as_str())],
        );
    }

    /// Counts a request body that timed out.
    pub fn body_timeout(&self) {
        self.registry.record_host(
            "switchyard_request_body_timeouts_total",
            Kind::Counter,
            1.0,
            &[],
        );
    }

    /// Reports the connections `tracker` counts as those of `listener`.
    pub fn watch(&self, listener: &'static str, tracker: Arc<ConnTracker>) {
        self.trackers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((listener, tracker));
    }

    /// The Prometheus text of the server's metrics.
    pub fn render(&self) -> String {
        let trackers = self
            .trackers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (listener, tracker) in trackers {
            let (main, reserve) = tracker.open();
            for (pool, n) in [("main", main), ("reserve", reserve)] {
                self.registry.record_host(
                    "switchyard_connections_open",
                    Kind::Gauge,
                    n as f64,
                    &[("listener", listener), ("pool", pool)],
                );
            }
        }
        render_prometheus(&self.registry, std::iter::empty())
    }
}

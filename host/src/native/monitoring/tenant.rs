//! One tenant's monitoring state: its metrics (a [`metrics::Registry`]), spans, captured
//! errors, breadcrumbs and health checks, kept in memory across swaps, and its Sentry
//! forwarder when its binding names a DSN.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::bindings::base::switchyard::types::types::{self, ErrorKind};
use crate::bindings::monitoring::switchyard::monitoring::types::{
    Breadcrumb, CapturedError, HealthCheck, MetricKind, MetricSnapshot, SpanInfo,
};
use crate::contract::{error, invalid};
use crate::metrics::{self, Kind, RecordError, Registry};

use super::checks::{check_name, check_tags, Tags};
use super::sentry::{Forwarder, Settings};

type WitError = types::Error;

/// Spans kept per tenant (the oldest are forgotten first).
pub const KEEP_SPANS: usize = 10_000;
/// Captured errors kept per tenant.
pub const KEEP_ERRORS: usize = 1000;
/// Breadcrumbs kept per tenant.
pub const KEEP_BREADCRUMBS: usize = 100;

/// One tenant's monitoring state.
#[derive(Default)]
pub struct TenantMonitor {
    metrics: Registry,
    state: Mutex<State>,
    /// Where captured errors and finished traces also go, when the binding names a Sentry DSN
    /// (see [`super::sentry`]); kept here so it survives swaps.
    sentry: Mutex<Option<Arc<Forwarder>>>,
}

/// Spans, breadcrumbs, captured errors and health checks, under one lock.
#[derive(Default)]
pub(super) struct State {
    pub spans: HashMap<String, Span>,
    pub span_order: VecDeque<String>,
    pub breadcrumbs: VecDeque<Breadcrumb>,
    pub errors: VecDeque<CapturedError>,
    pub checks: BTreeMap<String, HealthCheck>,
}

/// A span and when it started (for its duration).
pub(super) struct Span {
    pub info: SpanInfo,
    pub started: Instant,
}

impl TenantMonitor {
    /// The state of spans, errors and checks.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The tenant's metrics.
    pub fn metrics(&self) -> &Registry {
        &self.metrics
    }

    /// The tenant's Sentry forwarder, if its binding names a DSN.
    pub(crate) fn sentry(&self) -> Option<Arc<Forwarder>> {
        self.sentry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Applies a grant's Sentry settings: keeps the forwarder when the settings are the same,
    /// replaces it when they differ, removes it when there are none. A forwarder that goes is
    /// flushed and shut down in the background (see [`Forwarder`]).
    pub(crate) fn configure_sentry(&self, tenant: &str, settings: Option<Settings>) {
        let mut slot = self.sentry.lock().unwrap_or_else(|p| p.into_inner());
        match (&*slot, settings) {
            (Some(current), Some(wanted)) if *current.settings() == wanted => {}
            (_, Some(wanted)) => {
                tracing::info!(%tenant, sentry = ?wanted, "monitoring sends errors and traces to Sentry");
                *slot = Some(Arc::new(Forwarder::new(tenant, wanted)));
            }
            (Some(_), None) => {
                tracing::info!(%tenant, "monitoring stops sending to Sentry");
                *slot = None;
            }
            (None, None) => {}
        }
    }

    /// Records a tenant's observation, checking its name and tags.
    pub(super) fn record(
        &self,
        name: &str,
        kind: MetricKind,
        value: f64,
        tags: &Tags,
    ) -> Result<(), WitError> {
        check_name(name)?;
        let tags = check_tags("tags", tags)?;
        self.metrics
            .record(name, kind_of(kind), value, tags)
            .map_err(|e| match e {
                RecordError::NotFinite(_) | RecordError::NegativeCounter(_) => {
                    invalid(e.to_string())
                }
                RecordError::KindConflict { .. } => error(ErrorKind::Conflict, e.to_string()),
                RecordError::TooManySeries => error(ErrorKind::TooLarge, e.to_string()),
            })
    }

    /// The tenant's series whose metric name starts with `prefix`.
    pub(super) fn snapshots(&self, prefix: Option<&str>) -> Vec<MetricSnapshot> {
        self.metrics
            .snapshots(prefix)
            .into_iter()
            .map(|s| MetricSnapshot {
                name: s.name,
                kind: wit_kind(s.kind),
                tags: s.tags,
                value: s.value,
                count: s.count,
                buckets: s.buckets,
                quantiles: s.quantiles,
            })
            .collect()
    }
}

fn kind_of(kind: MetricKind) -> Kind {
    match kind {
        MetricKind::Counter => metrics::Kind::Counter,
        MetricKind::Gauge => metrics::Kind::Gauge,
        MetricKind::Histogram => metrics::Kind::Histogram,
        MetricKind::Summary => metrics::Kind::Summary,
    }
}

fn wit_kind(kind: Kind) -> MetricKind {
    match kind {
        Kind::Counter => MetricKind::Counter,
        Kind::Gauge => MetricKind::Gauge,
        Kind::Histogram => MetricKind::Histogram,
        Kind::Summary => MetricKind::Summary,
    }
}

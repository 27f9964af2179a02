//! The host side of `switchyard:monitoring/monitoring`, which `adapters/monitoring-host`
//! forwards to: each call checks its input and works on the tenant's [`TenantMonitor`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{HasData, Linker};

use crate::bindings::base::switchyard::types::types::{
    self, ErrorKind, HealthStatus, PageInfo, PageRequest,
};
use crate::bindings::monitoring::switchyard::monitoring::types::{
    self as monitoring_types, Breadcrumb, CapturedError, ErrorEvent, ErrorPage, HealthCheck,
    MetricKind, MetricSnapshot, SpanInfo, SpanStatus,
};
use crate::bindings::monitoring_bridge::switchyard::monitoring::monitoring::{self, Host};
use crate::contract::{error, invalid, no_backend, now};

use super::checks::{check_breadcrumb, check_event, check_tags, page_bounds, Tags};
use super::tenant::{Span, TenantMonitor, KEEP_BREADCRUMBS, KEEP_ERRORS, KEEP_SPANS};

type WitError = types::Error;

/// What one call may reach of the monitoring backend: the tenant's monitor, when the binding
/// has a backend.
pub struct MonitoringView<'a> {
    /// The tenant's monitor; `None` when the binding names no backend.
    pub monitor: Option<&'a Arc<TenantMonitor>>,
    /// The tenant, for the host's log lines.
    pub tenant: &'a str,
}

/// The [`HasData`] marker linking [`MonitoringView`].
pub struct Monitoring;

impl HasData for Monitoring {
    type Data<'a> = MonitoringView<'a>;
}

/// Links `switchyard:monitoring/monitoring` and its types, reached through `view`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> MonitoringView<'_>,
) -> wasmtime::Result<()> {
    monitoring_types::add_to_linker::<T, Monitoring>(linker, view)?;
    monitoring::add_to_linker::<T, Monitoring>(linker, view)
}

impl monitoring_types::Host for MonitoringView<'_> {}

impl<'a> MonitoringView<'a> {
    fn monitor(&self) -> Result<&'a TenantMonitor, WitError> {
        self.monitor
            .map(|m| &**m)
            .ok_or_else(|| no_backend("monitoring"))
    }
}

impl Host for MonitoringView<'_> {
    async fn increment(&mut self, name: String, value: f64, tags: Tags) -> Result<(), WitError> {
        self.monitor()?
            .record(&name, MetricKind::Counter, value, &tags)
    }

    async fn gauge(&mut self, name: String, value: f64, tags: Tags) -> Result<(), WitError> {
        self.monitor()?
            .record(&name, MetricKind::Gauge, value, &tags)
    }

    async fn histogram(&mut self, name: String, value: f64, tags: Tags) -> Result<(), WitError> {
        self.monitor()?
            .record(&name, MetricKind::Histogram, value, &tags)
    }

    async fn summary(&mut self, name: String, value: f64, tags: Tags) -> Result<(), WitError> {
        self.monitor()?
            .record(&name, MetricKind::Summary, value, &tags)
    }

    async fn metrics(&mut self, prefix: Option<String>) -> Result<Vec<MetricSnapshot>, WitError> {
        Ok(self.monitor()?.snapshots(prefix.as_deref()))
    }

    async fn start_span(
        &mut self,
        name: String,
        parent: Option<String>,
        tags: Tags,
    ) -> Result<SpanInfo, WitError> {
        if name.is_empty() || name.len() > 256 {
            return Err(invalid("span name must be 1 to 256 bytes"));
        }
        let tags = check_tags("tags", &tags)?;
        let monitor = self.monitor()?;
        let mut state = monitor.lock();
        let trace_id = match &parent {
            Some(p) => state
                .spans
                .get(p)
                .map(|s| s.info.trace_id.clone())
                .ok_or_else(|| {
                    error(ErrorKind::NotFound, format!("no parent span with id '{p}'"))
                })?,
            None => uuid::Uuid::new_v4().simple().to_string(),
        };
        let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
        let info = SpanInfo {
            trace_id,
            span_id: span_id.clone(),
            parent_id: parent,
            name,
            tags,
            started_at: now(),
            ended_at: None,
            duration_ms: None,
            status: SpanStatus::Unset,
        };
        if state.span_order.len() == KEEP_SPANS {
            if let Some(old) = state.span_order.pop_front() {
                state.spans.remove(&old);
            }
        }
        state.span_order.push_back(span_id.clone());
        state.spans.insert(
            span_id,
            Span {
                info: info.clone(),
                started: Instant::now(),
            },
        );
        Ok(info)
    }

    async fn end_span(
        &mut self,
        span_id: String,
        status: SpanStatus,
        tags: Tags,
    ) -> Result<SpanInfo, WitError> {
        let extra = check_tags("tags", &tags)?;
        let monitor = self.monitor()?;
        let mut state = monitor.lock();
        let span = state
            .spans
            .get_mut(&span_id)
            .ok_or_else(|| error(ErrorKind::NotFound, format!("no span with id '{span_id}'")))?;
        if span.info.ended_at.is_some() {
            return Err(error(
                ErrorKind::Conflict,
                format!("span '{span_id}' has ended already"),
            ));
        }
        let mut merged: BTreeMap<String, String> = span.info.tags.iter().cloned().collect();
        merged.extend(extra);
        let merged: Tags = merged.into_iter().collect();
        check_tags("tags", &merged)?;
        span.info.tags = merged;
        span.info.ended_at = Some(now());
        span.info.duration_ms = Some(span.started.elapsed().as_secs_f64() * 1000.0);
        span.info.status = status;
        let ended = span.info.clone();
        if ended.parent_id.is_none() {
            if let Some(sentry) = monitor.sentry() {
                // The trace's other spans that have ended, in start order (see super::sentry
                // for those that end after their root).
                let spans: Vec<SpanInfo> = state
                    .span_order
                    .iter()
                    .filter_map(|id| state.spans.get(id))
                    .filter(|s| {
                        s.info.trace_id == ended.trace_id
                            && s.info.span_id != ended.span_id
                            && s.info.ended_at.is_some()
                    })
                    .map(|s| s.info.clone())
                    .collect();
                drop(state);
                sentry.send_transaction(&ended, &spans);
            }
        }
        Ok(ended)
    }

    async fn trace(&mut self, trace_id: String) -> Result<Vec<SpanInfo>, WitError> {
        let monitor = self.monitor()?;
        let state = monitor.lock();
        let spans: Vec<SpanInfo> = state
            .span_order
            .iter()
            .filter_map(|id| state.spans.get(id))
            .filter(|s| s.info.trace_id == trace_id)
            .map(|s| s.info.clone())
            .collect();
        if spans.is_empty() {
            return Err(error(
                ErrorKind::NotFound,
                format!("no trace with id '{trace_id}'"),
            ));
        }
        Ok(spans)
    }

    async fn add_breadcrumb(&mut self, breadcrumb: Breadcrumb) -> Result<(), WitError> {
        check_breadcrumb("breadcrumb", &breadcrumb)?;
        let monitor = self.monitor()?;
        let mut state = monitor.lock();
        let mut b = breadcrumb;
        b.at.get_or_insert_with(now);
        if state.breadcrumbs.len() == KEEP_BREADCRUMBS {
            state.breadcrumbs.pop_front();
        }
        state.breadcrumbs.push_back(b);
        Ok(())
    }

    async fn capture_error(&mut self, event: ErrorEvent) -> Result<String, WitError> {
        check_event(&event)?;
        let monitor = self.monitor()?;
        let mut state = monitor.lock();
        let mut event = event;
        event.tags = check_tags("event.tags", &event.tags)?;
        let mut crumbs: Vec<Breadcrumb> = state.breadcrumbs.iter().cloned().collect();
        crumbs.extend(event.breadcrumbs.drain(..).map(|mut b| {
            b.at.get_or_insert_with(now);
            b
        }));
        let skip = crumbs.len().saturating_sub(KEEP_BREADCRUMBS);
        event.breadcrumbs = crumbs.into_iter().skip(skip).collect();
        let sentry = monitor.sentry();
        let span = event
            .span_id
            .as_ref()
            .and_then(|id| state.spans.get(id))
            .map(|s| s.info.clone());
        let trace_id = span.as_ref().map(|s| s.trace_id.clone());
        let id = uuid::Uuid::new_v4().simple().to_string();
        tracing::event!(
            target: "switchyard::app", tracing::Level::ERROR,
            tenant = %self.tenant, error_id = %id, kind = %event.kind,
            causes = ?event.causes, "captured error: {}", event.message
        );
        if state.errors.len() == KEEP_ERRORS {
            state.errors.pop_back();
        }
        let captured = CapturedError {
            id: id.clone(),
            at: now(),
            event,
            trace_id,
        };
        let forward = sentry.map(|f| (f, captured.clone()));
        state.errors.push_front(captured);
        drop(state);
        if let Some((sentry, captured)) = forward {
            sentry.capture_error(&captured, span.as_ref());
        }
        Ok(id)
    }

    async fn errors(&mut self, page: PageRequest) -> Result<ErrorPage, WitError> {
        let (offset, limit) = page_bounds(&page)?;
        let monitor = self.monitor()?;
        let state = monitor.lock();
        let items: Vec<CapturedError> = state
            .errors
            .iter()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect();
        let next = offset + items.len();
        Ok(ErrorPage {
            items,
            page: PageInfo {
                next_cursor: (next < state.errors.len()).then(|| next.to_string()),
                total: Some(state.errors.len() as u64),
            },
        })
    }

    async fn report_health(
        &mut self,
        name: String,
        ok: bool,
        detail: String,
    ) -> Result<(), WitError> {
        if name.is_empty() || name.len() > 128 {
            return Err(invalid("health check name must be 1 to 128 bytes"));
        }
        let monitor = self.monitor()?;
        let mut state = monitor.lock();
        if !state.checks.contains_key(&name) && state.checks.len() >= 1000 {
            return Err(error(
                ErrorKind::TooLarge,
                "the tenant has 1000 health checks already",
            ));
        }
        state.checks.insert(
            name.clone(),
            HealthCheck {
                name,
                ok,
                detail,
                checked_at: now(),
            },
        );
        Ok(())
    }

    async fn health_checks(&mut self) -> Result<Vec<HealthCheck>, WitError> {
        Ok(self.monitor()?.lock().checks.values().cloned().collect())
    }

    async fn health(&mut self) -> HealthStatus {
        match self.monitor() {
            Ok(m) => {
                let state = m.lock();
                let failing = state.checks.values().filter(|c| !c.ok).count();
                HealthStatus {
                    ok: true,
                    detail: format!(
                        "in-memory monitoring; {} health checks reported, {failing} failing",
                        state.checks.len()
                    ),
                }
            }
            Err(e) => HealthStatus {
                ok: false,
                detail: e.message,
            },
        }
    }
}

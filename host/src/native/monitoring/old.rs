//! The monitoring contract, host-native: each tenant's metrics, spans, captured errors,
//! breadcrumbs and health checks kept in memory; metrics rendered for `/metrics` in the
//! Prometheus text format ([`render_prometheus`]).
//!
//! The text format is written here rather than with the `prometheus` or `prometheus-client`
//! crates: those register metric families up front with fixed names and label sets, while
//! tenants create metrics by name at runtime with their own tags.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::bindings::base::switchyard::types::types::{
    self, ErrorKind, HealthStatus, PageInfo, PageRequest, Timestamp,
};
use crate::bindings::monitoring::switchyard::monitoring::types::{
    Breadcrumb, CapturedError, ErrorEvent, ErrorPage, HealthCheck, MetricKind, MetricSnapshot,
    SpanInfo, SpanStatus,
};
use crate::bindings::monitoring_bridge::switchyard::monitoring::monitoring::Host;
use crate::native::error;
use crate::state::CallState;

type WitError = types::Error;
type Tags = Vec<(String, String)>;

/// Histogram bucket upper bounds (Prometheus' defaults, in seconds or any unit).
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Summary quantiles.
pub const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];
/// Observations a summary keeps for its quantiles.
pub const SUMMARY_WINDOW: usize = 1024;
/// Series per tenant.
pub const MAX_SERIES: usize = 10_000;
/// Tags per series or span.
pub const MAX_TAGS: usize = 16;
/// Spans kept per tenant (the oldest are forgotten first).
pub const KEEP_SPANS: usize = 10_000;
/// Captured errors kept per tenant.
pub const KEEP_ERRORS: usize = 1000;
/// Breadcrumbs kept per tenant.
pub const KEEP_BREADCRUMBS: usize = 100;

/// One tenant's monitoring state.
#[derive(Default)]
pub struct TenantMonitor {
    state: Mutex<State>,
    /// Where captured errors and finished traces also go, when the binding names a Sentry DSN
    /// (see [`super::sentry`]); kept here so it survives swaps.
    sentry: Mutex<Option<std::sync::Arc<super::sentry::Forwarder>>>,
}

#[derive(Default)]
struct State {
    metrics: BTreeMap<String, Metric>,
    series: usize,
    spans: HashMap<String, Span>,
    span_order: VecDeque<String>,
    breadcrumbs: VecDeque<Breadcrumb>,
    errors: VecDeque<CapturedError>,
    checks: BTreeMap<String, HealthCheck>,
}

struct Metric {
    kind: MetricKind,
    series: BTreeMap<Tags, Series>,
}

enum Series {
    Value(f64),
    Histogram {
        counts: [u64; BUCKETS.len()],
        sum: f64,
        count: u64,
    },
    Summary {
        window: VecDeque<f64>,
        sum: f64,
        count: u64,
    },
}

struct Span {
    info: SpanInfo,
    started: Instant,
}

fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        seconds: d.as_secs(),
        nanoseconds: d.subsec_nanos(),
    }
}

fn invalid(message: String) -> WitError {
    error(ErrorKind::InvalidInput, message)
}

fn kind_name(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Counter => "counter",
        MetricKind::Gauge => "gauge",
        MetricKind::Histogram => "histogram",
        MetricKind::Summary => "summary",
    }
}

/// The prefix of the host's own metrics, which tenants' metric names may not use.
pub const HOST_PREFIX: &str = "switchyard_";

/// Checks a metric name against the Prometheus rule.
fn check_name(name: &str) -> Result<(), WitError> {
    if name.starts_with(HOST_PREFIX) {
        return Err(invalid(format!(
            "metric name {name:?} is not valid: the `{HOST_PREFIX}` prefix is the host's own"
        )));
    }
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok
        && name.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    {
        Ok(())
    } else {
        Err(invalid(format!(
            "metric name {name:?} is not valid: use 1 to 128 characters of [a-zA-Z_:][a-zA-Z0-9_:]*"
        )))
    }
}

/// Checks tags and sorts them by name; `at` names them in errors.
fn check_tags(at: &str, tags: &Tags) -> Result<Tags, WitError> {
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!(
            "{at} has {} entries; the most is {MAX_TAGS}",
            tags.len()
        )));
    }
    let mut sorted = tags.clone();
    sorted.sort();
    for (i, (k, v)) in sorted.iter().enumerate() {
        let mut chars = k.chars();
        let ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !k.starts_with("__")
            && k != "tenant";
        if !ok {
            return Err(invalid(format!(
                "{at}: tag name {k:?} is not valid: use [a-zA-Z_][a-zA-Z0-9_]*, not starting with __, and not `tenant` (the host adds it)"
            )));
        }
        if v.len() > 1024 {
            return Err(invalid(format!(
                "{at}: tag {k:?} is longer than 1024 bytes"
            )));
        }
        if i > 0 && sorted[i - 1].0 == *k {
            return Err(invalid(format!("{at}: tag {k:?} is given twice")));
        }
    }
    Ok(sorted)
}

impl TenantMonitor {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The tenant's Sentry forwarder, if its binding names a DSN.
    pub(crate) fn sentry(&self) -> Option<std::sync::Arc<super::sentry::Forwarder>> {
        self.sentry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sets (or, with `None`, removes) the tenant's Sentry forwarder; answers the one it had.
    pub(crate) fn set_sentry(
        &self,
        forwarder: Option<std::sync::Arc<super::sentry::Forwarder>>,
    ) -> Option<std::sync::Arc<super::sentry::Forwarder>> {
        std::mem::replace(
            &mut *self.sentry.lock().unwrap_or_else(|p| p.into_inner()),
            forwarder,
        )
    }

    fn record(
        &self,
        name: &str,
        kind: MetricKind,
        value: f64,
        tags: &Tags,
    ) -> Result<(), WitError> {
        check_name(name)?;
        let tags = check_tags("tags", tags)?;
        self.record_checked(name, kind, value, tags)
    }

    /// Records one of the host's own metrics (names and tags chosen by the host).
    pub(crate) fn record_host(
        &self,
        name: &str,
        kind: MetricKind,
        value: f64,
        tags: &[(&str, &str)],
    ) {
        let mut tags: Tags = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tags.sort();
        if let Err(e) = self.record_checked(name, kind, value, tags) {
            tracing::debug!(metric = name, error = %e.message, "host metric not recorded");
        }
    }

    fn record_checked(
        &self,
        name: &str,
        kind: MetricKind,
        value: f64,
        tags: Tags,
    ) -> Result<(), WitError> {
        if !value.is_finite() {
            return Err(invalid(format!(
                "value must be a finite number, not {value}"
            )));
        }
        if kind == MetricKind::Counter && value < 0.0 {
            return Err(invalid(format!(
                "a counter only goes up: value must be >= 0, not {value}"
            )));
        }
        let mut state = self.lock();
        let State {
            metrics, series, ..
        } = &mut *state;
        if let Some(existing) = metrics.get(name) {
            if existing.kind != kind {
                return Err(error(
                    ErrorKind::Conflict,
                    format!(
                        "metric {name:?} is a {}, not a {}",
                        kind_name(existing.kind),
                        kind_name(kind)
                    ),
                ));
            }
        }
        let metric = metrics.entry(name.to_string()).or_insert_with(|| Metric {
            kind,
            series: BTreeMap::new(),
        });
        if !metric.series.contains_key(&tags) {
            if *series >= MAX_SERIES {
                return Err(error(
                    ErrorKind::TooLarge,
                    format!(
                        "the tenant has {MAX_SERIES} metric series already (too many tag values?)"
                    ),
                ));
            }
            *series += 1;
        }
        let s = metric.series.entry(tags).or_insert_with(|| match kind {
            MetricKind::Counter | MetricKind::Gauge => Series::Value(0.0),
            MetricKind::Histogram => Series::Histogram {
                counts: [0; BUCKETS.len()],
                sum: 0.0,
                count: 0,
            },
            MetricKind::Summary => Series::Summary {
                window: VecDeque::new(),
                sum: 0.0,
                count: 0,
            },
        });
        match s {
            Series::Value(v) if kind == MetricKind::Counter => *v += value,
            Series::Value(v) => *v = value,
            Series::Histogram { counts, sum, count } => {
                for (i, bound) in BUCKETS.iter().enumerate() {
                    if value <= *bound {
                        counts[i] += 1;
                    }
                }
                *sum += value;
                *count += 1;
            }
            Series::Summary { window, sum, count } => {
                if window.len() == SUMMARY_WINDOW {
                    window.pop_front();
                }
                window.push_back(value);
                *sum += value;
                *count += 1;
            }
        }
        Ok(())
    }

    fn snapshots(&self, prefix: Option<&str>) -> Vec<MetricSnapshot> {
        let state = self.lock();
        let mut out = Vec::new();
        for (name, metric) in &state.metrics {
            if prefix.is_some_and(|p| !name.starts_with(p)) {
                continue;
            }
            for (tags, series) in &metric.series {
                out.push(snapshot(name, metric.kind, tags, series));
            }
        }
        out
    }
}

fn snapshot(name: &str, kind: MetricKind, tags: &Tags, series: &Series) -> MetricSnapshot {
    let mut s = MetricSnapshot {
        name: name.to_string(),
        kind,
        tags: tags.clone(),
        value: 0.0,
        count: 0,
        buckets: Vec::new(),
        quantiles: Vec::new(),
    };
    match series {
        Series::Value(v) => s.value = *v,
        Series::Histogram { counts, sum, count } => {
            s.value = *sum;
            s.count = *count;
            s.buckets = BUCKETS
                .iter()
                .copied()
                .zip(counts.iter().copied())
                .collect();
        }
        Series::Summary { window, sum, count } => {
            s.value = *sum;
            s.count = *count;
            let mut sorted: Vec<f64> = window.iter().copied().collect();
            sorted.sort_by(f64::total_cmp);
            s.quantiles = QUANTILES
                .iter()
                .map(|q| {
                    let rank =
                        ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
                    (*q, sorted.get(rank - 1).copied().unwrap_or(f64::NAN))
                })
                .collect();
        }
    }
    s
}

/// The host's own metrics, then every tenant's, in the Prometheus text format (version
/// 0.0.4). Tenants' series get a `tenant` label (the host's carry theirs in their tags). A
/// name two tenants use with different kinds is written once per kind, the later kinds under
/// `<name>_<kind>`, so the output stays valid.
pub fn render_prometheus<'a>(
    host: &TenantMonitor,
    tenants: impl Iterator<Item = (&'a str, &'a TenantMonitor)>,
) -> String {
    let mut out = String::new();
    for (name, metric) in &host.lock().metrics {
        let _ = writeln!(out, "# TYPE {name} {}", kind_name(metric.kind));
        for (tags, series) in &metric.series {
            write_series(
                &mut out,
                name,
                None,
                &snapshot(name, metric.kind, tags, series),
            );
        }
    }
    // name -> kind -> [(tenant, tags, snapshot)]
    let mut families: BTreeMap<String, Vec<(MetricKind, String, MetricSnapshot)>> = BTreeMap::new();
    for (tenant, monitor) in tenants {
        for snap in monitor.snapshots(None) {
            families.entry(snap.name.clone()).or_default().push((
                snap.kind,
                tenant.to_string(),
                snap,
            ));
        }
    }
    for (name, series) in families {
        let first_kind = series[0].0;
        let mut kinds: Vec<MetricKind> = vec![first_kind];
        for (k, _, _) in &series {
            if !kinds.contains(k) {
                kinds.push(*k);
            }
        }
        for (i, kind) in kinds.iter().enumerate() {
            let family = if i == 0 {
                name.clone()
            } else {
                format!("{name}_{}", kind_name(*kind))
            };
            let _ = writeln!(out, "# TYPE {family} {}", kind_name(*kind));
            for (_, tenant, snap) in series.iter().filter(|(k, _, _)| k == kind) {
                write_series(&mut out, &family, Some(tenant), snap);
            }
        }
    }
    out
}

fn labels(tenant: Option<&str>, tags: &Tags, extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = tenant
        .map(|t| format!("tenant=\"{}\"", escape(t)))
        .into_iter()
        .collect();
    for (k, v) in tags {
        parts.push(format!("{k}=\"{}\"", escape(v)));
    }
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("{{{}}}", parts.join(","))
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

fn write_series(out: &mut String, family: &str, tenant: Option<&str>, s: &MetricSnapshot) {
    match s.kind {
        MetricKind::Counter | MetricKind::Gauge => {
            let _ = writeln!(
                out,
                "{family}{} {}",
                labels(tenant, &s.tags, None),
                number(s.value)
            );
        }
        MetricKind::Histogram => {
            for (bound, count) in &s.buckets {
                let _ = writeln!(
                    out,
                    "{family}_bucket{} {count}",
                    labels(tenant, &s.tags, Some(("le", number(*bound))))
                );
            }
            let _ = writeln!(
                out,
                "{family}_bucket{} {}",
                labels(tenant, &s.tags, Some(("le", "+Inf".into()))),
                s.count
            );
            let _ = writeln!(
                out,
                "{family}_sum{} {}",
                labels(tenant, &s.tags, None),
                number(s.value)
            );
            let _ = writeln!(
                out,
                "{family}_count{} {}",
                labels(tenant, &s.tags, None),
                s.count
            );
        }
        MetricKind::Summary => {
            for (q, v) in &s.quantiles {
                let _ = writeln!(
                    out,
                    "{family}{} {}",
                    labels(tenant, &s.tags, Some(("quantile", number(*q)))),
                    number(*v)
                );
            }
            let _ = writeln!(
                out,
                "{family}_sum{} {}",
                labels(tenant, &s.tags, None),
                number(s.value)
            );
            let _ = writeln!(
                out,
                "{family}_count{} {}",
                labels(tenant, &s.tags, None),
                s.count
            );
        }
    }
}

fn check_json_object(what: &str, text: Option<&str>) -> Result<(), WitError> {
    match text {
        None => Ok(()),
        Some(t) => match serde_json::from_str::<serde_json::Value>(t) {
            Ok(serde_json::Value::Object(_)) => Ok(()),
            _ => Err(invalid(format!("{what} must be a JSON object"))),
        },
    }
}

fn check_event(event: &ErrorEvent) -> Result<(), WitError> {
    if event.kind.trim().is_empty() {
        return Err(invalid("event.kind is empty".into()));
    }
    if event.message.len() > 64 * 1024 {
        return Err(error(
            ErrorKind::TooLarge,
            "event.message is longer than 64 KiB",
        ));
    }
    check_tags("event.tags", &event.tags)?;
    check_json_object("event.extra", event.extra.as_deref())?;
    for (i, b) in event.breadcrumbs.iter().enumerate() {
        check_breadcrumb(&format!("event.breadcrumbs[{i}]"), b)?;
    }
    Ok(())
}

fn check_breadcrumb(at: &str, b: &Breadcrumb) -> Result<(), WitError> {
    if b.category.is_empty() {
        return Err(invalid(format!("{at}.category is empty")));
    }
    check_json_object(&format!("{at}.data"), b.data.as_deref())
}

fn page_bounds(page: &PageRequest) -> Result<(usize, usize), WitError> {
    let offset = match &page.cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .map_err(|_| invalid(format!("page.cursor {c:?} is not a cursor this gave")))?,
    };
    Ok((offset, page.limit.unwrap_or(20).clamp(1, 100) as usize))
}

impl CallState {
    fn monitor(&self) -> Result<std::sync::Arc<TenantMonitor>, WitError> {
        self.native.monitoring.clone().ok_or_else(|| {
            error(
                ErrorKind::Denied,
                "this binding has no host monitoring backend (set `backend` in its configuration)",
            )
        })
    }
}

impl Host for CallState {
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
            return Err(invalid("span name must be 1 to 256 bytes".into()));
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
            tenant = %self.who.tenant, error_id = %id, kind = %event.kind,
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
            return Err(invalid("health check name must be 1 to 128 bytes".into()));
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

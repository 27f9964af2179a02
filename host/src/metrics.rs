//! Metric registries and the Prometheus text format: the host's own `switchyard_*` metrics and
//! each tenant's monitoring metrics are kept in a [`Registry`] and rendered by
//! [`render_prometheus`] for `/metrics`.
//!
//! A leaf module: it knows nothing of contracts or calls. The monitoring contract's host-native
//! backend (`native::monitoring`) stores tenants' metrics in a registry of its own; the call
//! path records the host's metrics straight into the runtime's registry.
//!
//! The text format is written here rather than with the `prometheus` or `prometheus-client`
//! crates: those register metric families up front with fixed names and label sets, while
//! tenants create metrics by name at runtime with their own tags.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Mutex;

/// A series' tags, sorted by name.
pub type Tags = Vec<(String, String)>;

/// Histogram bucket upper bounds (Prometheus' defaults, in seconds or any unit).
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Summary quantiles.
pub const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];
/// Observations a summary keeps for its quantiles.
pub const SUMMARY_WINDOW: usize = 1024;
/// Series per registry.
pub const MAX_SERIES: usize = 10_000;

/// What a metric measures, and so how its observations add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up; observations add.
    Counter,
    /// The last observation.
    Gauge,
    /// Observations counted into [`BUCKETS`].
    Histogram,
    /// Observations kept in a window for [`QUANTILES`].
    Summary,
}

impl Kind {
    /// The kind's name in the Prometheus text format.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
        }
    }
}

/// Why an observation was not recorded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    /// The value is NaN or infinite.
    #[error("value must be a finite number, not {0}")]
    NotFinite(f64),
    /// A counter was given a negative value.
    #[error("a counter only goes up: value must be >= 0, not {0}")]
    NegativeCounter(f64),
    /// The name is taken by a metric of another kind.
    #[error("metric {name:?} is a {}, not a {}", is.as_str(), asked.as_str())]
    KindConflict {
        /// The metric's name.
        name: String,
        /// Its kind.
        is: Kind,
        /// The kind asked for.
        asked: Kind,
    },
    /// The registry holds [`MAX_SERIES`] series already.
    #[error("the tenant has {MAX_SERIES} metric series already (too many tag values?)")]
    TooManySeries,
}

/// One series as it stands now.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The metric's name.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// The series' tags, sorted by name.
    pub tags: Tags,
    /// A counter's or gauge's value; a histogram's or summary's sum.
    pub value: f64,
    /// Observations of a histogram or summary.
    pub count: u64,
    /// A histogram's (upper bound, observations at or below it).
    pub buckets: Vec<(f64, u64)>,
    /// A summary's (quantile, value).
    pub quantiles: Vec<(f64, f64)>,
}

/// A set of named metrics, each with series by tags.
#[derive(Default)]
pub struct Registry {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    metrics: BTreeMap<String, Metric>,
    series: usize,
}

struct Metric {
    kind: Kind,
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

impl Series {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Counter | Kind::Gauge => Series::Value(0.0),
            Kind::Histogram => Series::Histogram {
                counts: [0; BUCKETS.len()],
                sum: 0.0,
                count: 0,
            },
            Kind::Summary => Series::Summary {
                window: VecDeque::new(),
                sum: 0.0,
                count: 0,
            },
        }
    }

    fn observe(&mut self, kind: Kind, value: f64) {
        match self {
            Series::Value(v) if kind == Kind::Counter => *v += value,
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
    }
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records `value` in the series of `name` with `tags` (sorted by name, checked by the
    /// caller), creating the metric and the series as needed.
    pub fn record(
        &self,
        name: &str,
        kind: Kind,
        value: f64,
        tags: Tags,
    ) -> Result<(), RecordError> {
        if !value.is_finite() {
            return Err(RecordError::NotFinite(value));
        }
        if kind == Kind::Counter && value < 0.0 {
            return Err(RecordError::NegativeCounter(value));
        }
        let mut state = self.lock();
        let State { metrics, series } = &mut *state;
        if let Some(existing) = metrics.get(name) {
            if existing.kind != kind {
                return Err(RecordError::KindConflict {
                    name: name.to_string(),
                    is: existing.kind,
                    asked: kind,
                });
            }
        }
        let metric = metrics.entry(name.to_string()).or_insert_with(|| Metric {
            kind,
            series: BTreeMap::new(),
        });
        if !metric.series.contains_key(&tags) {
            if *series >= MAX_SERIES {
                return Err(RecordError::TooManySeries);
            }
            *series += 1;
        }
        metric
            .series
            .entry(tags)
            .or_insert_with(|| Series::new(kind))
            .observe(kind, value);
        Ok(())
    }

    /// Records one of the host's own metrics (names and tags chosen by the host); a failure
    /// is logged at debug level, never returned.
    pub fn record_host(&self, name: &str, kind: Kind, value: f64, tags: &[(&str, &str)]) {
        let mut tags: Tags = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tags.sort();
        if let Err(e) = self.record(name, kind, value, tags) {
            tracing::debug!(metric = name, error = %e, "host metric not recorded");
        }
    }

    /// Every series of the metrics whose name starts with `prefix` (all without one).
    pub fn snapshots(&self, prefix: Option<&str>) -> Vec<Snapshot> {
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

fn snapshot(name: &str, kind: Kind, tags: &Tags, series: &Series) -> Snapshot {
    let mut s = Snapshot {
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
    host: &Registry,
    tenants: impl Iterator<Item = (&'a str, &'a Registry)>,
) -> String {
    let mut out = String::new();
    let mut family = None;
    for snap in host.snapshots(None) {
        if family.as_deref() != Some(snap.name.as_str()) {
            let _ = writeln!(out, "# TYPE {} {}", snap.name, snap.kind.as_str());
            family = Some(snap.name.clone());
        }
        write_series(&mut out, &snap.name, None, &snap);
    }
    // name -> [(kind, tenant, snapshot)]
    let mut families: BTreeMap<String, Vec<(Kind, String, Snapshot)>> = BTreeMap::new();
    for (tenant, registry) in tenants {
        for snap in registry.snapshots(None) {
            families.entry(snap.name.clone()).or_default().push((
                snap.kind,
                tenant.to_string(),
                snap,
            ));
        }
    }
    for (name, series) in families {
        let mut kinds: Vec<Kind> = Vec::new();
        for (k, _, _) in &series {
            if !kinds.contains(k) {
                kinds.push(*k);
            }
        }
        for (i, kind) in kinds.iter().enumerate() {
            let family = if i == 0 {
                name.clone()
            } else {
                format!("{name}_{}", kind.as_str())
            };
            let _ = writeln!(out, "# TYPE {family} {}", kind.as_str());
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
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

fn write_series(out: &mut String, family: &str, tenant: Option<&str>, s: &Snapshot) {
    let plain = labels(tenant, &s.tags, None);
    match s.kind {
        Kind::Counter | Kind::Gauge => {
            let _ = writeln!(out, "{family}{plain} {}", number(s.value));
            return;
        }
        Kind::Histogram => {
            for (bound, count) in &s.buckets {
                let le = labels(tenant, &s.tags, Some(("le", number(*bound))));
                let _ = writeln!(out, "{family}_bucket{le} {count}");
            }
            let le = labels(tenant, &s.tags, Some(("le", "+Inf".into())));
            let _ = writeln!(out, "{family}_bucket{le} {}", s.count);
        }
        Kind::Summary => {
            for (q, v) in &s.quantiles {
                let quantile = labels(tenant, &s.tags, Some(("quantile", number(*q))));
                let _ = writeln!(out, "{family}{quantile} {}", number(*v));
            }
        }
    }
    let _ = writeln!(out, "{family}_sum{plain} {}", number(s.value));
    let _ = writeln!(out, "{family}_count{plain} {}", s.count);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_gauges_replace_and_kinds_do_not_mix() {
        let r = Registry::default();
        let tags = vec![("a".to_string(), "1".to_string())];
        assert_eq!(r.record("c", Kind::Counter, 2.0, tags.clone()), Ok(()));
        assert_eq!(r.record("c", Kind::Counter, 3.0, tags.clone()), Ok(()));
        assert_eq!(r.record("g", Kind::Gauge, 2.0, vec![]), Ok(()));
        assert_eq!(r.record("g", Kind::Gauge, 7.0, vec![]), Ok(()));
        let snaps = r.snapshots(None);
        assert_eq!(snaps[0].value, 5.0);
        assert_eq!(snaps[1].value, 7.0);
        assert!(matches!(
            r.record("c", Kind::Gauge, 1.0, tags),
            Err(RecordError::KindConflict { .. })
        ));
        assert_eq!(
            r.record("c", Kind::Counter, -1.0, vec![]),
            Err(RecordError::NegativeCounter(-1.0))
        );
        assert!(matches!(
            r.record("g", Kind::Gauge, f64::NAN, vec![]),
            Err(RecordError::NotFinite(_))
        ));
    }

    #[test]
    fn the_text_format_has_types_labels_buckets_and_tenants() {
        let host = Registry::default();
        host.record_host(
            "switchyard_x_total",
            Kind::Counter,
            1.0,
            &[("tenant", "a\"b")],
        );
        let t = Registry::default();
        t.record("lat", Kind::Histogram, 0.2, vec![]).ok();
        t.record("q", Kind::Summary, 4.0, vec![]).ok();
        let text = render_prometheus(&host, [("acme", &t)].into_iter());
        assert!(
            text.contains("# TYPE switchyard_x_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("switchyard_x_total{tenant=\"a\\\"b\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("lat_bucket{tenant=\"acme\",le=\"0.25\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("lat_bucket{tenant=\"acme\",le=\"0.1\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("lat_count{tenant=\"acme\"} 1\n"), "{text}");
        assert!(
            text.contains("q{tenant=\"acme\",quantile=\"0.5\"} 4\n"),
            "{text}"
        );
    }

    #[test]
    fn the_same_name_in_two_kinds_is_written_twice() {
        let (a, b) = (Registry::default(), Registry::default());
        a.record("m", Kind::Counter, 1.0, vec![]).ok();
        b.record("m", Kind::Gauge, 2.0, vec![]).ok();
        let text = render_prometheus(&Registry::default(), [("a", &a), ("b", &b)].into_iter());
        assert!(text.contains("# TYPE m counter\n"), "{text}");
        assert!(
            text.contains("# TYPE m_gauge gauge\nm_gauge{tenant=\"b\"} 2\n"),
            "{text}"
        );
    }
}

//! [`Registry`]: named metrics of four kinds, each with series by tags, and their
//! [`Snapshot`]s.

use std::collections::{BTreeMap, VecDeque};
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

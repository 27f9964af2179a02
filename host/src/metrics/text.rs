//! The Prometheus text format (version 0.0.4) of the host's and the tenants' registries.
//!
//! Tenants choose metric names and tags, so the writer keeps the exposition valid whatever
//! they chose:
//!
//! - every sample name is written by one family only: a family whose names (with `_bucket`,
//!   `_sum` and `_count` for histograms and summaries) would meet another's is renamed
//!   (`<name>_<kind>` for a name two tenants use with different kinds, then `_2`, `_3`...),
//!   and the host's own `switchyard_*` families always keep their names;
//! - a tag whose name the writer uses itself (`tenant`, a histogram's `le`, a summary's
//!   `quantile`) is written as `exported_<name>`, as Prometheus does when it meets a clash;
//! - names are reduced to the characters the format allows, and label values escaped.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use super::registry::{Kind, Registry, Snapshot, Tags};

/// The host's own metrics, then every tenant's, in the Prometheus text format. Tenants'
/// series get a `tenant` label (the host's carry theirs in their tags).
pub fn render_prometheus<'a>(
    host: &Registry,
    tenants: impl Iterator<Item = (&'a str, &'a Registry)>,
) -> String {
    let mut out = String::new();
    let mut taken = HashSet::new();
    let mut host_families: BTreeMap<String, Vec<Snapshot>> = BTreeMap::new();
    for snap in host.snapshots(None) {
        host_families
            .entry(metric_name(&snap.name))
            .or_default()
            .push(snap);
    }
    for (name, series) in &host_families {
        let kind = series[0].kind;
        taken.extend(sample_names(name, kind));
        let _ = writeln!(out, "# TYPE {name} {}", kind.as_str());
        for snap in series.iter().filter(|s| s.kind == kind) {
            write_series(&mut out, name, None, snap);
        }
    }
    // name -> [(kind, tenant, snapshot)]
    let mut families: BTreeMap<String, Vec<(Kind, String, Snapshot)>> = BTreeMap::new();
    for (tenant, registry) in tenants {
        for snap in registry.snapshots(None) {
            families.entry(metric_name(&snap.name)).or_default().push((
                snap.kind,
                tenant.to_string(),
                snap,
            ));
        }
    }
    // Each name's first kind claims its own name first; other kinds are named after.
    let mut named: Vec<Named<'_>> = Vec::new();
    for pass in [true, false] {
        for (name, series) in &families {
            let mut kinds: Vec<Kind> = Vec::new();
            for (k, _, _) in series {
                if !kinds.contains(k) {
                    kinds.push(*k);
                }
            }
            for (i, kind) in kinds.into_iter().enumerate() {
                if (i == 0) != pass {
                    continue;
                }
                let base = if i == 0 {
                    name.clone()
                } else {
                    format!("{name}_{}", kind.as_str())
                };
                let family = free_name(&base, kind, &mut taken);
                named.push((name.clone(), kind, series, family));
            }
        }
    }
    named.sort_by(|a, b| a.3.cmp(&b.3));
    for (_, kind, series, family) in named {
        let _ = writeln!(out, "# TYPE {family} {}", kind.as_str());
        for (_, tenant, snap) in series.iter().filter(|(k, _, _)| *k == kind) {
            write_series(&mut out, &family, Some(tenant), snap);
        }
    }
    out
}

/// A tenant family as named in the output: (its name, its kind, its series, the name written).
type Named<'a> = (String, Kind, &'a [(Kind, String, Snapshot)], String);

/// The sample names a family of `kind` called `name` writes (and its own name).
fn sample_names(name: &str, kind: Kind) -> Vec<String> {
    match kind {
        Kind::Counter | Kind::Gauge => vec![name.to_string()],
        Kind::Histogram => ["", "_bucket", "_sum", "_count"]
            .iter()
            .map(|s| format!("{name}{s}"))
            .collect(),
        Kind::Summary => ["", "_sum", "_count"]
            .iter()
            .map(|s| format!("{name}{s}"))
            .collect(),
    }
}

/// `base`, or `base_2`, `base_3`... : the first whose sample names are all free; claims them.
fn free_name(base: &str, kind: Kind, taken: &mut HashSet<String>) -> String {
    let mut candidate = base.to_string();
    let mut n = 2;
    while sample_names(&candidate, kind)
        .iter()
        .any(|s| taken.contains(s))
    {
        candidate = format!("{base}_{n}");
        n += 1;
    }
    taken.extend(sample_names(&candidate, kind));
    candidate
}

/// `name` with every character the format does not allow in a metric name replaced by `_`.
fn metric_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':') {
        out.insert(0, '_');
    }
    out
}

/// `name` as a label name: `[a-zA-Z_][a-zA-Z0-9_]*`, never starting with `__` (reserved).
fn label_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') || out.starts_with("__") {
        out.insert(0, 'x');
    }
    out
}

/// The `{...}` label set: `tenant`, the tags, then the writer's own label for `kind` (`le`
/// for a histogram, `quantile` for a summary) when `own` gives its value. A tag that meets
/// one of the writer's names (whether or not this sample carries it, so that every sample of
/// a series has the same labels), or another tag once cleaned, is prefixed with `exported_`
/// until it is unique.
fn labels(tenant: Option<&str>, tags: &Tags, kind: Kind, own: Option<String>) -> String {
    let own_name = match kind {
        Kind::Histogram => Some("le"),
        Kind::Summary => Some("quantile"),
        Kind::Counter | Kind::Gauge => None,
    };
    let mut used: HashSet<String> = own_name.map(str::to_string).into_iter().collect();
    let mut parts: Vec<String> = Vec::new();
    if let Some(t) = tenant {
        used.insert("tenant".into());
        parts.push(format!("tenant=\"{}\"", escape(t)));
    }
    for (k, v) in tags {
        let mut name = label_name(k);
        while used.contains(&name) {
            name = format!("exported_{name}");
        }
        parts.push(format!("{name}=\"{}\"", escape(v)));
        used.insert(name);
    }
    if let (Some(k), Some(v)) = (own_name, own) {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("{{{}}}", parts.join(","))
}

/// A label value with `\`, `"` and line feeds escaped, as the format requires.
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
    let plain = labels(tenant, &s.tags, s.kind, None);
    match s.kind {
        Kind::Counter | Kind::Gauge => {
            let _ = writeln!(out, "{family}{plain} {}", number(s.value));
            return;
        }
        Kind::Histogram => {
            for (bound, count) in &s.buckets {
                let le = labels(tenant, &s.tags, s.kind, Some(number(*bound)));
                let _ = writeln!(out, "{family}_bucket{le} {count}");
            }
            let le = labels(tenant, &s.tags, s.kind, Some("+Inf".into()));
            let _ = writeln!(out, "{family}_bucket{le} {}", s.count);
        }
        Kind::Summary => {
            for (q, v) in &s.quantiles {
                let quantile = labels(tenant, &s.tags, s.kind, Some(number(*q)));
                let _ = writeln!(out, "{family}{quantile} {}", number(*v));
            }
        }
    }
    let _ = writeln!(out, "{family}_sum{plain} {}", number(s.value));
    let _ = writeln!(out, "{family}_count{plain} {}", s.count);
}

//! Helpers shared by the benches: component paths, criterion settings, reading criterion's
//! estimates back for the closing summary, and formatting.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use criterion::Criterion;

/// The PostHog project key the mock expects.
pub const API_KEY: &str = "phc_bench_key";

/// The workspace's target directory (where `make adapters` puts components and criterion its
/// reports).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The path of a component built by `make adapters`; exits with a hint when it is missing.
pub fn component(name: &str) -> PathBuf {
    let dir = std::env::var_os("SWITCHYARD_COMPONENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("components"));
    let path = dir.join(format!("{name}.wasm"));
    if !path.exists() {
        eprintln!(
            "component {} is missing: run `make adapters` (or `make bench`) first",
            path.display()
        );
        std::process::exit(2);
    }
    path
}

/// Short runs: the whole `make bench` stays within a few minutes on 2 cores.
pub fn criterion() -> Criterion {
    Criterion::default()
        .output_directory(&target_dir().join("criterion"))
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args()
}

/// The time per iteration criterion estimated for `group/id` in this run, in nanoseconds: the
/// slope of the linear regression when it has one (fixed per-sample costs drop out), else the
/// median. `None` when the bench did not run (filtered out).
pub fn estimate_ns(group: &str, id: &str) -> Option<f64> {
    let path = target_dir()
        .join("criterion")
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    // Only figures written by this process count, not a previous run's.
    if modified < *START {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let pick = |k: &str| json.get(k)?.get("point_estimate")?.as_f64();
    pick("slope").or_else(|| pick("median"))
}

static START: std::sync::LazyLock<std::time::SystemTime> =
    std::sync::LazyLock::new(std::time::SystemTime::now);

/// Notes the process start, so [`estimate_ns`] ignores older reports. Call first in `main`.
pub fn mark_start() {
    std::sync::LazyLock::force(&START);
}

/// `1.23 µs`-style formatting of nanoseconds.
pub fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// Prints one summary line `label = a / b` when both figures exist.
pub fn ratio_line(label: &str, a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => {
            let r = a / b;
            let inverse = if r < 0.5 {
                format!(", i.e. 1/{:.0}", 1.0 / r)
            } else {
                String::new()
            };
            println!(
                "  {label} = {}{what}   ({} vs {}{inverse})",
                fmt_ratio(r),
                fmt_ns(a),
                fmt_ns(b)
            )
        }
        _ => println!("  {label}: not measured in this run"),
    }
}

/// Two decimals, three significant digits below 0.1.
pub fn fmt_ratio(r: f64) -> String {
    if r < 0.1 {
        format!("{r:.3}")
    } else {
        format!("{r:.2}")
    }
}

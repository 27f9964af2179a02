//! A hostile tenant next to a quiet one: does the quiet one lose anything, how much slower
//! does it get, and does the host's memory stay bounded?
//!
//! Not a criterion bench: it runs for a fixed time (`SOAK_SECS`, 60 by default) and reports
//! what happened. One runtime with the host's defaults and two tenants bound to
//! `test-misbehave` (memory cap 32 MiB, deadline 500 ms):
//!
//! 1. **alone**: the quiet tenant calls `track` from 4 tasks, each one call every 5 ms (800
//!    calls a second in all, a small part of what the machine can serve: a quiet tenant does
//!    not fill the CPUs on its own), for a tenth of the time; its latencies are the baseline;
//! 2. **slow flood** (half the time): 70 tasks of the noisy tenant send slow calls (`sleep`
//!    300 ms) back to back, more than the pool's 64 instances, while the quiet tenant calls
//!    as in 1;
//! 3. **hostile mix** (the other half): 48 noisy tasks loop over memory bombs (`alloc`),
//!    endless loops (`loop`), slow calls, panics and floods of log lines (`chatter`): on a
//!    2-core machine, CPU the quiet tenant must share.
//!
//! Prints, per phase, the quiet tenant's calls, errors, median and p99 (and the p99's ratio to
//! running alone), the noisy tenant's outcomes, and the process's peak resident memory
//! (VmHWM) and its resident memory at the end (VmRSS).

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use switchyard_host::services::analytics::Event;
use switchyard_host::{BindingSpec, ComponentSource, Limits, Runtime, Service};

const QUIET_TASKS: usize = 4;
const NOISY_TASKS: usize = 48;
/// How often each quiet task starts a call.
const QUIET_EVERY: Duration = Duration::from_millis(5);

fn spec() -> BindingSpec {
    BindingSpec::new(ComponentSource::path(common::component("test-misbehave"))).limits(Limits {
        deadline_ms: 500,
        memory_mib: 32,
        ..Limits::default()
    })
}

/// Resident memory figures of this process, in KiB: (VmHWM, VmRSS).
fn memory_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The quiet tenant's calls for `run`: (latencies in ns, errors).
async fn quiet(rt: &Runtime, run: Duration) -> (Vec<u64>, usize) {
    let until = Instant::now() + run;
    let results = Arc::new(Mutex::new((Vec::new(), 0usize)));
    let tasks: Vec<_> = (0..QUIET_TASKS)
        .map(|_| {
            let (rt, results) = (rt.clone(), results.clone());
            tokio::spawn(async move {
                let a = rt.analytics("quiet").expect("quiet binding");
                let mut pace = tokio::time::interval(QUIET_EVERY);
                pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                while Instant::now() < until {
                    pace.tick().await;
                    let started = Instant::now();
                    let ok = a.track(&Event::new("ok", "u")).await.is_ok();
                    let ns = started.elapsed().as_nanos() as u64;
                    let mut r = results.lock().expect("results");
                    r.0.push(ns);
                    r.1 += usize::from(!ok);
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let mut r = results.lock().expect("results");
    r.0.sort_unstable();
    (std::mem::take(&mut r.0), r.1)
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64
}

fn main() {
    let secs: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    tokio.block_on(async move {
        let rt = Runtime::builder()
            .binding("quiet", Service::Analytics, spec())
            .binding("noisy", Service::Analytics, spec())
            .build()
            .await
            .expect("runtime");
        let (alone, alone_errors) = quiet(&rt, Duration::from_secs((secs / 10).max(3))).await;
        let (_, rss_start) = memory_kb();

        println!("\nsoak: {secs} s, quiet tenant {QUIET_TASKS} tasks");
        println!(
            "quiet alone:        {:>8} calls  {:>4} errors  median {}  p99 {}",
            alone.len(),
            alone_errors,
            common::fmt_ns(pct(&alone, 0.5)),
            common::fmt_ns(pct(&alone, 0.99))
        );
        let slow = vec![Event::new("sleep", "u").properties(json!({"ms": 300}))];
        let hostile = vec![
            Event::new("alloc", "u"),
            Event::new("loop", "u"),
            Event::new("sleep", "u").properties(json!({"ms": 300})),
            Event::new("panic", "u"),
            Event::new("chatter", "u").properties(json!({"lines": 5000})),
        ];
        for (phase, tasks, attacks) in [("slow flood", 70, slow), ("hostile mix", NOISY_TASKS, hostile)] {
            let stop = Arc::new(AtomicBool::new(false));
            let outcomes = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
            let noisy: Vec<_> = (0..tasks)
                .map(|i| {
                    let (rt, stop, outcomes) = (rt.clone(), stop.clone(), outcomes.clone());
                    let attacks = attacks.clone();
                    tokio::spawn(async move {
                        let a = rt.analytics("noisy").expect("noisy binding");
                        let mut n = i;
                        while !stop.load(Ordering::Relaxed) {
                            let attack = &attacks[n % attacks.len()];
                            n += 1;
                            let outcome = match a.track(attack).await {
                                Ok(()) => "ok".to_string(),
                                Err(e) => e.code().to_string(),
                            };
                            *outcomes
                                .lock()
                                .expect("outcomes")
                                .entry(format!("{} -> {outcome}", attack.name))
                                .or_default() += 1;
                        }
                    })
                })
                .collect();
            let (attacked, errors) = quiet(&rt, Duration::from_secs(secs / 2)).await;
            stop.store(true, Ordering::Relaxed);
            for t in noisy {
                let _ = t.await;
            }
            println!(
                "quiet, {phase:<11} ({tasks} noisy tasks): {:>8} calls  {:>4} errors  median {}  p99 {}  (p99 / alone: {})",
                attacked.len(),
                errors,
                common::fmt_ns(pct(&attacked, 0.5)),
                common::fmt_ns(pct(&attacked, 0.99)),
                common::fmt_ratio(pct(&attacked, 0.99) / pct(&alone, 0.99))
            );
            for (what, n) in outcomes.lock().expect("outcomes").iter() {
                println!("  noisy {what:<32} {n}");
            }
        }
        let (peak, end) = memory_kb();
        println!(
            "resident memory: {} MiB after the quiet baseline, peak {} MiB, {} MiB at the end",
            rss_start / 1024,
            peak / 1024,
            end / 1024
        );
    });
}

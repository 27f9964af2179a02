//! The cost of idle tenants as bindings grow: 100, 1,000 and 10,000 bindings of the same
//! component (test-misbehave; identical components are compiled once and shared).
//!
//! Not a criterion bench: it measures memory. Each size runs in a child process of its own (this
//! executable re-run with `--child N`), so memory freed by a previous size cannot hide growth.
//! In the child, on one runtime with the host's defaults (pooling allocator, sized for 64
//! instances running at once: idle bindings hold no instance):
//!
//! 1. one binding is added (the component compiles) and called 2,000 times: the baseline call
//!    latency with a single binding;
//! 2. N more bindings are added with `rt.add_binding`, timed; resident memory (VmRSS from
//!    /proc/self/status) is read before and after, the growth divided by N;
//! 3. 2,000 calls of `health`, each on a tenant picked at random among the N, timed one by one;
//! 4. the process's CPU time over 2 s with every binding idle (the host's background tick
//!    visits every binding every 250 ms).
//!
//! Prints a table and the ratios: time and memory per added binding, and the call latency
//! among N bindings against the single-binding baseline.

mod common;

use std::time::{Duration, Instant};

use switchyard_host::{BindingSpec, ComponentSource, Runtime, RuntimeOptions, Service};

const SIZES: [u64; 3] = [100, 1_000, 10_000];
const CALLS: usize = 2_000;

/// One child's figures.
#[derive(Debug, Clone, Copy)]
struct Row {
    n: u64,
    add_ns: f64,
    rss_before_kb: u64,
    rss_after_kb: u64,
    base_median_ns: f64,
    base_p99_ns: f64,
    call_median_ns: f64,
    call_p99_ns: f64,
    idle_cpu_pct: f64,
}

impl Row {
    fn to_line(self) -> String {
        format!(
            "ROW {} {} {} {} {} {} {} {} {}",
            self.n,
            self.add_ns,
            self.rss_before_kb,
            self.rss_after_kb,
            self.base_median_ns,
            self.base_p99_ns,
            self.call_median_ns,
            self.call_p99_ns,
            self.idle_cpu_pct
        )
    }

    fn parse(line: &str) -> Option<Row> {
        let f: Vec<&str> = line.strip_prefix("ROW ")?.split_whitespace().collect();
        let num = |i: usize| f.get(i)?.parse::<f64>().ok();
        Some(Row {
            n: num(0)? as u64,
            add_ns: num(1)?,
            rss_before_kb: num(2)? as u64,
            rss_after_kb: num(3)? as u64,
            base_median_ns: num(4)?,
            base_p99_ns: num(5)?,
            call_median_ns: num(6)?,
            call_p99_ns: num(7)?,
            idle_cpu_pct: num(8)?,
        })
    }

    fn rss_per_binding_bytes(&self) -> f64 {
        (self.rss_after_kb.saturating_sub(self.rss_before_kb) * 1024) as f64 / self.n as f64
    }

    fn add_per_binding_ns(&self) -> f64 {
        self.add_ns / self.n as f64
    }
}

fn vm_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// utime + stime of this process, in clock ticks (100 per second on Linux).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the command.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// xorshift64*: reproducible picks without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_nanos() as f64
}

async fn time_calls(rt: &Runtime, mut tenant: impl FnMut() -> String) -> (f64, f64) {
    let mut times = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let name = tenant();
        let start = Instant::now();
        let status = rt
            .analytics(&name)
            .expect("binding")
            .health()
            .await
            .expect("health answers");
        times.push(start.elapsed());
        assert!(status.ok);
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

async fn child(n: u64) -> Row {
    let path = common::component("test-misbehave");
    let spec = BindingSpec::new(ComponentSource::path(path));
    let rt = Runtime::new(RuntimeOptions {
        max_instances: 64,
        ..RuntimeOptions::default()
    })
    .expect("runtime");
    rt.add_binding("baseline", Service::Analytics, spec.clone())
        .await
        .expect("baseline binding");
    // Warm up, then the single-binding baseline.
    time_calls(&rt, || "baseline".to_string()).await;
    let (base_median_ns, base_p99_ns) = time_calls(&rt, || "baseline".to_string()).await;

    let names: Vec<String> = (0..n).map(|i| format!("tenant-{i:05}")).collect();
    let rss_before_kb = vm_rss_kb();
    let start = Instant::now();
    for name in &names {
        rt.add_binding(name, Service::Analytics, spec.clone())
            .await
            .expect("add binding");
    }
    let add_ns = start.elapsed().as_nanos() as f64;
    let rss_after_kb = vm_rss_kb();

    let mut rng = Rng(0x5eed_1234_abcd_9876 ^ n);
    let (call_median_ns, call_p99_ns) =
        time_calls(&rt, || names[rng.below(n) as usize].clone()).await;

    let idle = Duration::from_secs(2);
    let ticks_before = cpu_ticks();
    tokio::time::sleep(idle).await;
    let idle_ticks = cpu_ticks() - ticks_before;
    let idle_cpu_pct = idle_ticks as f64 / 100.0 / idle.as_secs_f64() * 100.0;

    rt.shutdown().await;
    Row {
        n,
        add_ns,
        rss_before_kb,
        rss_after_kb,
        base_median_ns,
        base_p99_ns,
        call_median_ns,
        call_p99_ns,
        idle_cpu_pct,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let n: u64 = args[i + 1].parse().expect("--child N");
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        println!("{}", tokio.block_on(child(n)).to_line());
        return;
    }
    // `cargo bench -- --list` and friends: there is nothing to list or filter here.
    if args.iter().any(|a| a == "--list") {
        println!("tenants: bench");
        return;
    }
    common::component("test-misbehave");

    let exe = std::env::current_exe().expect("current exe");
    let mut rows = Vec::new();
    for n in SIZES {
        eprintln!("tenants: {n} bindings ...");
        let out = std::process::Command::new(&exe)
            .args(["--child", &n.to_string()])
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("child runs");
        assert!(out.status.success(), "child for {n} bindings failed");
        let text = String::from_utf8_lossy(&out.stdout);
        let row = text
            .lines()
            .find_map(Row::parse)
            .unwrap_or_else(|| panic!("no result from child for {n}: {text}"));
        rows.push(row);
    }

    println!(
        "\n{:>8} | {:>12} | {:>12} | {:>12} | {:>16} | {:>22} | {:>10}",
        "bindings",
        "add all",
        "add / each",
        "RSS growth",
        "RSS / binding",
        "call median (p99)",
        "idle CPU"
    );
    for r in &rows {
        println!(
            "{:>8} | {:>12} | {:>12} | {:>9.1} MB | {:>13.1} KB | {:>22} | {:>9.1}%",
            r.n,
            common::fmt_ns(r.add_ns),
            common::fmt_ns(r.add_per_binding_ns()),
            (r.rss_after_kb.saturating_sub(r.rss_before_kb)) as f64 / 1024.0,
            r.rss_per_binding_bytes() / 1024.0,
            format!(
                "{} ({})",
                common::fmt_ns(r.call_median_ns),
                common::fmt_ns(r.call_p99_ns)
            ),
            r.idle_cpu_pct
        );
    }
    println!(
        "baseline (1 binding, same process): call median {} (p99 {})",
        rows.iter()
            .map(|r| common::fmt_ns(r.base_median_ns))
            .collect::<Vec<_>>()
            .join(" / "),
        rows.iter()
            .map(|r| common::fmt_ns(r.base_p99_ns))
            .collect::<Vec<_>>()
            .join(" / "),
    );

    println!("\nSummary (idle tenants, same component):");
    let first = rows[0];
    let last = rows[rows.len() - 1];
    for r in &rows {
        println!(
            "  {} bindings: {:.1} KB RSS and {} to add, per binding; call on a random tenant / call with 1 binding = {}   ({} vs {})",
            r.n,
            r.rss_per_binding_bytes() / 1024.0,
            common::fmt_ns(r.add_per_binding_ns()),
            common::fmt_ratio(r.call_median_ns / r.base_median_ns),
            common::fmt_ns(r.call_median_ns),
            common::fmt_ns(r.base_median_ns)
        );
    }
    common::ratio_line(
        &format!("add time per binding: {} / {}", last.n, first.n),
        Some(last.add_per_binding_ns()),
        Some(first.add_per_binding_ns()),
        "x",
    );
    common::ratio_line(
        &format!("call latency (median): {} / {} bindings", last.n, first.n),
        Some(last.call_median_ns),
        Some(first.call_median_ns),
        "x",
    );
}

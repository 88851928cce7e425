//! Latency histograms, progress counters, CPU accounting and the summary / JSON output.

use hdrhistogram::Histogram;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Highest latency we can record: 60 s, in µs.
const MAX_US: u64 = 60_000_000;

/// Latencies (µs) and errors of one operation, kept per client and merged at the end.
#[derive(Clone)]
pub struct Op {
    /// Name printed first on the summary line, e.g. `submit` or `lifecycle.receive`.
    pub name: String,
    /// Successful operations' latencies in µs.
    pub hist: Histogram<u64>,
    /// Failed operations.
    pub errors: u64,
}

impl Op {
    /// An empty record.
    pub fn new(name: impl Into<String>) -> Op {
        Op {
            name: name.into(),
            hist: Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds"),
            errors: 0,
        }
    }

    /// Records one success that took `d`.
    #[inline]
    pub fn ok(&mut self, d: Duration) {
        let us = (d.as_micros() as u64).clamp(1, MAX_US);
        // Saturating: a value over the bound is clamped above, so this cannot fail.
        let _ = self.hist.record(us);
    }

    /// Records one failure.
    #[inline]
    pub fn err(&mut self) {
        self.errors += 1;
    }

    /// Adds another client's record of the same operation.
    pub fn merge(&mut self, other: &Op) {
        self.hist.add(&other.hist).expect("same histogram bounds");
        self.errors += other.errors;
    }
}

/// Merges per-client records (each a list of operations in the same order).
pub fn merge_all(per_client: Vec<Vec<Op>>) -> Vec<Op> {
    let mut it = per_client.into_iter();
    let Some(mut total) = it.next() else {
        return vec![];
    };
    for c in it {
        for (t, o) in total.iter_mut().zip(c.iter()) {
            t.merge(o);
        }
    }
    total
}

/// Live counters shared by the clients, read by the progress printer.
#[derive(Default)]
pub struct Live {
    /// Successful operations so far, warm-up included (the mode's main operation).
    pub ok: AtomicU64,
    /// Failed operations so far.
    pub errors: AtomicU64,
    shown: AtomicUsize,
}

/// How many failing responses are printed in full.
const SHOW_ERRORS: usize = 5;

impl Live {
    /// Prints the first few errors (`what` says which request and why).
    pub fn report_error(&self, what: impl FnOnce() -> String) {
        if self.shown.fetch_add(1, Ordering::Relaxed) < SHOW_ERRORS {
            eprintln!("  error: {}", what());
        }
    }
}

/// Shortens a response body for an error message.
pub fn snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    let s = s.trim();
    if s.chars().count() > 400 {
        format!("{}...", s.chars().take(400).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Prints `done` and the recent rate every two seconds until `stop` is set.
pub fn spawn_progress(
    mode: &'static str,
    live: std::sync::Arc<Live>,
    total: Option<u64>,
) -> (
    tokio::task::JoinHandle<()>,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let h = tokio::spawn(async move {
        let start = Instant::now();
        let mut last = (0u64, Instant::now());
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        tick.tick().await;
        loop {
            tick.tick().await;
            if s.load(Ordering::Relaxed) {
                break;
            }
            let ok = live.ok.load(Ordering::Relaxed);
            let errors = live.errors.load(Ordering::Relaxed);
            let now = Instant::now();
            let rate = (ok - last.0) as f64 / now.duration_since(last.1).as_secs_f64();
            last = (ok, now);
            let elapsed = start.elapsed().as_secs_f64();
            match total {
                Some(t) if ok > 0 => {
                    let left = t.saturating_sub(ok) as f64 / (ok as f64 / elapsed);
                    println!(
                        "  [{elapsed:6.1}s] {mode}: {ok}/{t} ({:.1}%) {rate:.0}/s errors={errors} eta={left:.0}s",
                        100.0 * ok as f64 / t as f64
                    );
                }
                _ => println!("  [{elapsed:6.1}s] {mode}: {ok} ok, {rate:.0}/s, errors={errors}"),
            }
        }
    });
    (h, stop)
}

/// CPU seconds (user + system) used so far by a process, from /proc (Linux only).
pub fn cpu_secs(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let s = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux we run on.
    Some((utime + stime) / 100.0)
}

/// CPU used by this process (and optionally the server) over a run.
pub struct CpuMeter {
    server: Option<u32>,
    start: Instant,
    me: Option<f64>,
    srv: Option<f64>,
}

impl CpuMeter {
    /// Starts measuring.
    pub fn start(server: Option<u32>) -> CpuMeter {
        CpuMeter {
            server,
            start: Instant::now(),
            me: cpu_secs(None),
            srv: server.and_then(|p| cpu_secs(Some(p))),
        }
    }

    /// (load generator %, server %) of one core since the start.
    pub fn stop(&self) -> (Option<f64>, Option<f64>) {
        let wall = self.start.elapsed().as_secs_f64().max(1e-9);
        let pct = |a: Option<f64>, b: Option<f64>| Some(100.0 * (b? - a?) / wall);
        (
            pct(self.me, cpu_secs(None)),
            pct(self.srv, self.server.and_then(|p| cpu_secs(Some(p)))),
        )
    }
}

/// Context written along each JSON result line.
pub struct RunInfo<'a> {
    /// Mode name.
    pub mode: &'a str,
    /// Free label (backend, machine, ...).
    pub label: Option<&'a str>,
    /// Target: base URL or database URL.
    pub target: &'a str,
    /// Concurrent clients (or jobs in flight).
    pub clients: usize,
    /// Wall time of the measured part.
    pub secs: f64,
    /// CPU of the load generator and the server, % of one core.
    pub cpu: (Option<f64>, Option<f64>),
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Prints one summary line per operation, appends JSON lines to `out`, and returns the lines.
pub fn report(info: &RunInfo, ops: &[Op], out: Option<&Path>) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut json = String::new();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for o in ops {
        let n = o.hist.len();
        let rate = n as f64 / info.secs.max(1e-9);
        let (p50, p99) = if n == 0 {
            (0.0, 0.0)
        } else {
            (
                ms(o.hist.value_at_quantile(0.50)),
                ms(o.hist.value_at_quantile(0.99)),
            )
        };
        let line = format!(
            "{} ops={n} secs={:.2} rate={rate:.1}/s p50={p50:.2}ms p99={p99:.2}ms errors={}",
            o.name, info.secs, o.errors
        );
        println!("{line}");
        lines.push(line);
        let q = |x: f64| {
            if n == 0 {
                0.0
            } else {
                ms(o.hist.value_at_quantile(x))
            }
        };
        let v = serde_json::json!({
            "at": now,
            "mode": info.mode,
            "op": o.name,
            "label": info.label,
            "target": info.target,
            "clients": info.clients,
            "ops": n,
            "secs": round3(info.secs),
            "rate": round3(rate),
            "mean_ms": round3(if n == 0 { 0.0 } else { o.hist.mean() / 1000.0 }),
            "p50_ms": round3(p50),
            "p90_ms": round3(q(0.90)),
            "p99_ms": round3(p99),
            "p999_ms": round3(q(0.999)),
            "max_ms": round3(if n == 0 { 0.0 } else { ms(o.hist.max()) }),
            "errors": o.errors,
            "bench_cpu_pct": info.cpu.0.map(round3),
            "server_cpu_pct": info.cpu.1.map(round3),
        });
        json.push_str(&v.to_string());
        json.push('\n');
    }
    match info.cpu {
        (Some(me), Some(srv)) => {
            println!("  cpu: load generator {me:.0}% of a core, server {srv:.0}%")
        }
        (Some(me), None) => println!("  cpu: load generator {me:.0}% of a core"),
        _ => {}
    }
    if let Some(path) = out {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("opening {}: {e}", path.display()))?;
        f.write_all(json.as_bytes())?;
    }
    Ok(lines)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

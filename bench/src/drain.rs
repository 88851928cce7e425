//! `drain`: request latency without and during the drain of an outbox backlog (issue 7).
//!
//! On a database whose `dvcqg.sync` backlog `fill` built (one message per counter dossier), it
//! runs the real binary: the sandbox national portal as its own process (`motcua sandbox
//! dvcqg`: the outside world), then `motcua serve` with the dispatcher off, under an open-loop
//! request load at a fixed rate for a baseline window; then `motcua serve` again on the same
//! database with the dispatcher on and pointed at the portal, under the same load, until the
//! portal holds every dossier of the backlog. No request waits for another's answer: each is
//! sent when due on a connection of its own (from a pool that grows as needed), so a stalled
//! server still shows in full in the latency, which counts from when the request was sent; how
//! late the generator itself sent it (tokio's timer has millisecond ticks: up to a millisecond
//! or two) is reported apart as `lag`, so that it does not pass for the server's.
//!
//! Summary: one line per operation and phase (`drain.baseline.*`, `drain.during.*`), then
//! `drain ops=MESSAGES secs=S rate=R/s ... p99_baseline=.. p99_during=.. p99_ratio=..`.

use crate::http;
use crate::lookup::Rng;
use crate::stats::{self, Op};
use anyhow::{Context, bail};
use motcua_integrations::dvcqg::TOPIC;
use motcua_store::Store;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Options of the run.
pub struct DrainArgs {
    pub motcua: PathBuf,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub codes: PathBuf,
    pub rate: f64,
    pub warmup: Duration,
    pub window: Duration,
    pub limit: Duration,
    pub port: u16,
    pub portal_port: u16,
    pub concurrency: usize,
    pub batch: u32,
    /// Dossiers per portal request (`[integrations.dvcqg] batch`).
    pub portal_batch: usize,
    pub threads: usize,
    pub nice: i32,
    /// The dispatcher's threads in SCHED_IDLE instead of at `nice`.
    pub idle: bool,
    /// Most portal deliveries started per second (0: no limit).
    pub rate_limit: u32,
    /// How long a delivered message waits for others to share its acknowledgement (ms).
    pub ack_linger_ms: u64,
    pub portal_nice: i32,
    /// The sandbox portal in SCHED_IDLE (through `chrt -i 0`) instead of at `portal_nice`.
    pub portal_idle: bool,
    /// The dispatcher yields to requests (decision 0038).
    pub yield_to_requests: bool,
    /// How much slower requests may run before the drain gives way.
    pub yield_tolerance: f64,
    /// How often the drain's deliveries in flight are adjusted, in milliseconds.
    pub yield_every_ms: u64,
    pub inbox_percent: u64,
    pub write_percent: u64,
    pub desk: String,
    pub submit_desk: String,
    pub citizen: String,
    pub password: String,
    pub label: Option<String>,
    pub out: Option<PathBuf>,
    /// Hold and release the drain by turns of this long during the measured window, and
    /// compare the requests of the two kinds of turns (decision 0053).
    pub alternate: Option<Duration>,
    /// The first part of each turn, not recorded.
    pub settle: Duration,
    /// The administrator who holds and releases.
    pub admin: String,
}

/// Requests in flight beyond which a due request is dropped and counted as an error (the
/// server has stalled; the run is already failing its latency).
const MAX_IN_FLIGHT: u64 = 4096;

/// A child process killed (TERM, then KILL) when dropped.
struct Proc {
    child: Child,
    what: &'static str,
    log: PathBuf,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Asks it to stop (SIGTERM) and waits up to 10 s, then kills it.
    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("drain: {} did not stop in 10 s; killing it", self.what);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Ok(Some(st)) = self.child.try_wait() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            bail!(
                "{} exited ({st}); the end of its log {}:\n{}",
                self.what,
                self.log.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `motcua ARGS` in `dir` with its output in `log`, without our `MOTCUA_*` variables
/// (the server reads them as settings and refuses unknown ones).
fn spawn(
    motcua: &Path,
    nice: i32,
    idle: bool,
    dir: &Path,
    log: PathBuf,
    what: &'static str,
    args: &[String],
) -> anyhow::Result<Proc> {
    let out = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
    let mut cmd = if idle {
        // chrt(1) execs motcua too; every thread it starts inherits the class.
        let mut c = Command::new("chrt");
        c.arg("-i").arg("0").arg(motcua);
        c
    } else if nice > 0 {
        // nice(1) execs motcua, so the child's pid is motcua's.
        let mut c = Command::new("nice");
        c.arg("-n").arg(nice.to_string()).arg(motcua);
        c
    } else {
        Command::new(motcua)
    };
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    for (k, _) in std::env::vars() {
        if k.starts_with("MOTCUA_") {
            cmd.env_remove(k);
        }
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {} ({})", motcua.display(), what))?;
    Ok(Proc { child, what, log })
}

/// Waits until `url` answers 2xx (the process must stay alive meanwhile).
/// Fails when something already listens on `port`: a server left running from an earlier
/// run would answer in place of the one this command starts, and its figures would be
/// measured instead.
fn port_free(port: u16, what: &str) -> anyhow::Result<()> {
    match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => Ok(()),
        Err(e) => bail!(
            "127.0.0.1:{port}, the port of {what}, is taken ({e}): stop what listens there or pick another port"
        ),
    }
}

async fn wait_up(p: &mut Proc, c: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    for _ in 0..1200 {
        if let Ok(r) = c.get(url).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        p.check_alive()?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{} did not answer {url} within 120 s", p.what)
}

async fn pending(url: &str) -> anyhow::Result<u64> {
    let store = Store::open(url)
        .await
        .with_context(|| format!("opening {url}"))?;
    let n = store
        .outbox_depths()
        .await?
        .iter()
        .find(|d| d.topic == TOPIC)
        .map_or(0, |d| d.pending);
    drop(store);
    // Let the SQLite writer thread close its connection before a server opens the file.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(n)
}

/// What the portal holds (`GET /_sandbox/state`).
async fn portal_state(c: &reqwest::Client, base: &str) -> anyhow::Result<serde_json::Value> {
    http::get_json(c, &format!("{base}/_sandbox/state")).await
}

/// One kind of request of the mix, prebuilt.
struct Kind {
    name: &'static str,
    method: &'static str,
    auth: Option<Vec<u8>>,
    body: Option<Vec<u8>>,
    ok: u16,
}

/// The request mix and where to send it.
struct Load {
    addr: std::net::SocketAddr,
    host: String,
    prefix: String,
    codes: Vec<String>,
    lookup: Kind,
    inbox: Kind,
    submit: Kind,
    inbox_percent: u64,
    write_percent: u64,
}

/// Per-operation records of one phase, shared by the request tasks.
struct Records {
    ops: Mutex<Vec<Op>>,
    shown: AtomicU64,
}

impl Records {
    fn new(phase: &str) -> Records {
        Records {
            ops: Mutex::new(
                ["all", "lookup", "inbox", "submit", "lag"]
                    .iter()
                    .map(|k| Op::new(format!("drain.{phase}.{k}")))
                    .collect(),
            ),
            shown: AtomicU64::new(0),
        }
    }

    fn index(kind: &str) -> usize {
        match kind {
            "lookup" => 1,
            "inbox" => 2,
            _ => 3,
        }
    }

    /// Records one request: its latency from when it was sent, and in `lag` how long after
    /// it was due the generator sent it (its own timer and scheduling, not the server's).
    fn record(&self, kind: &str, r: Result<Duration, String>, lag: Duration) {
        let Ok(mut ops) = self.ops.lock() else {
            return;
        };
        let i = Records::index(kind);
        ops[4].ok(lag);
        match r {
            Ok(d) => {
                ops[0].ok(d);
                ops[i].ok(d);
            }
            Err(e) => {
                ops[0].err();
                ops[i].err();
                if self.shown.fetch_add(1, Ordering::Relaxed) < 5 {
                    eprintln!("  error: {kind}: {e}");
                }
            }
        }
    }

    fn take(&self) -> Vec<Op> {
        self.ops.lock().map(|o| o.clone()).unwrap_or_default()
    }
}

/// Where the load's requests are recorded: one set of records, or (with `--alternate`) one per
/// state of the drain, the set in force chosen as each request is sent.
struct Phases {
    recs: Vec<Arc<Records>>,
    /// Index into `recs` of the set in force; [`OFF`] while the drain settles after a change.
    current: AtomicUsize,
    /// Requests sent and not answered yet.
    in_flight: AtomicU64,
}

/// [`Phases::current`] while no set is in force.
const OFF: usize = usize::MAX;

impl Phases {
    /// Every request into `recs[0]`, and the rest (if any) chosen by [`Phases::switch`].
    fn new(recs: Vec<Arc<Records>>) -> Arc<Phases> {
        Arc::new(Phases {
            recs,
            current: AtomicUsize::new(0),
            in_flight: AtomicU64::new(0),
        })
    }

    /// The set in force now, if any.
    fn now(&self) -> Option<&Arc<Records>> {
        self.recs.get(self.current.load(Ordering::Relaxed))
    }

    /// Records into `recs[i]` from now on ([`OFF`]: nowhere).
    fn switch(&self, i: usize) {
        self.current.store(i, Ordering::Relaxed);
    }
}

/// Sends the mix at `rate` requests per second, open loop, until `stop`; records requests due
/// at or after `measure_from`. No request waits for another's answer (each has its own task
/// and connection), so an answer's latency counts from when the request was sent; how late
/// the generator sent it after it was due (tokio's timer ticks by the millisecond) is recorded
/// apart, as `lag`.
async fn run_load(
    load: Arc<Load>,
    rate: f64,
    measure_from: Instant,
    stop: Arc<AtomicBool>,
    phases: Arc<Phases>,
) {
    let pool: Arc<Mutex<Vec<crate::raw::Conn>>> = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let mut rng = Rng(0x5eed ^ start.elapsed().as_nanos() as u64 ^ 0x9E37_79B9);
    let mut i: u64 = 0;
    let mut tasks = tokio::task::JoinSet::new();
    while !stop.load(Ordering::Relaxed) {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        let now = Instant::now();
        if due > now {
            tokio::time::sleep_until(due.into()).await;
            continue;
        }
        i += 1;
        while tasks.try_join_next().is_some() {}
        let rec = (due >= measure_from)
            .then(|| phases.now().cloned())
            .flatten();
        let roll = rng.below(100) as u64;
        let kind = if roll < load.write_percent {
            &load.submit
        } else if roll < load.write_percent + load.inbox_percent {
            &load.inbox
        } else {
            &load.lookup
        };
        if phases.in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
            if let Some(rec) = &rec {
                rec.record(
                    kind.name,
                    Err("dropped: too many requests in flight".into()),
                    due.elapsed(),
                );
            }
            continue;
        }
        let mut req = Vec::with_capacity(512);
        let path = match kind.name {
            "lookup" => format!(
                "{}/api/v1/public/status/{}",
                load.prefix,
                load.codes[rng.below(load.codes.len())]
            ),
            "inbox" => format!("{}/api/v1/inbox?limit=50", load.prefix),
            _ => format!("{}/api/v1/dossiers", load.prefix),
        };
        crate::raw::build(
            &mut req,
            kind.method,
            &path,
            &load.host,
            kind.auth.as_deref(),
            kind.body.as_deref(),
        );
        let (name, ok) = (kind.name, kind.ok);
        let (pool, phases, addr) = (pool.clone(), phases.clone(), load.addr);
        phases.in_flight.fetch_add(1, Ordering::Relaxed);
        tasks.spawn(async move {
            let conn = pool.lock().ok().and_then(|mut p| p.pop());
            let mut conn = conn.unwrap_or_else(|| crate::raw::Conn::new(addr));
            let sent = Instant::now();
            let r = match conn.send(&req).await {
                Ok((st, _)) if st == ok => Ok(sent.elapsed()),
                Ok((st, body)) => Err(format!("{path} -> {st}: {}", stats::snippet(body))),
                Err(e) => Err(format!("{path}: {e}")),
            };
            if let Ok(mut p) = pool.lock() {
                p.push(conn);
            }
            phases.in_flight.fetch_sub(1, Ordering::Relaxed);
            if let Some(rec) = rec {
                rec.record(name, r, sent.saturating_duration_since(due));
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Starts the load on its own task; returns the stop flag and the task.
fn start_load(
    load: &Arc<Load>,
    rate: f64,
    measure_from: Instant,
    phases: &Arc<Phases>,
) -> (Arc<AtomicBool>, tokio::task::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let h = tokio::spawn(run_load(
        load.clone(),
        rate,
        measure_from,
        stop.clone(),
        phases.clone(),
    ));
    (stop, h)
}

/// The p99 of every request of a phase, in milliseconds (0 when none was measured).
fn p99_ms(ops: &[Op]) -> f64 {
    p99_of(ops, 0)
}

/// The p99 of the requests recorded at `i` (see [`Records::index`]), in milliseconds.
fn p99_of(ops: &[Op], i: usize) -> f64 {
    ops.get(i)
        .filter(|o| !o.hist.is_empty())
        .map_or(0.0, |o| o.hist.value_at_quantile(0.99) as f64 / 1000.0)
}

/// The server's `/metrics` text, if it answers.
async fn metrics_text(c: &reqwest::Client, base: &str) -> Option<String> {
    c.get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()
}

/// The routes of the load's request kinds, as the server's metrics name them.
const KIND_ROUTES: [(&str, &str, &str); 3] = [
    ("lookup", "GET", "/api/v1/public/status/{code}"),
    ("inbox", "GET", "/api/v1/inbox"),
    ("submit", "POST", "/api/v1/dossiers"),
];

/// The bucket bound (ms) under which the server answered 99 % of `method route`, from its
/// `motcua_http_request_duration_seconds` histogram (time in the handler, until the response
/// starts; the phase's warm-up included).
fn server_p99_le(metrics: &str, method: &str, route: &str) -> Option<f64> {
    let prefix = format!(
        "motcua_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\""
    );
    let mut buckets: Vec<(f64, f64)> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| {
            let (le, count) = rest.split_once("\"}")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    buckets
        .iter()
        .find(|(_, n)| *n >= 0.99 * total)
        .map(|(le, _)| le * 1000.0)
}

/// `kind:BASELINE/DURING` per kind, each the server's p99 bucket bound in ms (`?` where a
/// phase's metrics are missing).
fn server_p99s(base: Option<&str>, during: Option<&str>) -> String {
    let show = |m: Option<&str>, method, route| {
        m.and_then(|m| server_p99_le(m, method, route))
            .map_or("?".to_string(), |v| format!("{v}"))
    };
    KIND_ROUTES
        .iter()
        .map(|(k, method, route)| {
            format!(
                "{k}:{}/{}",
                show(base, method, route),
                show(during, method, route)
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Each kind's p99 during the drain over its p99 in the baseline, `kind:ratio` joined by
/// commas (kinds measured in both phases only). The p99 of all requests falls between the
/// reads' and the submissions' distributions (2 % of the requests, each waiting for an
/// fsync), so it moves with the disk; each kind's own ratio says which moved.
fn ratios_by_kind(base: &[Op], during: &[Op]) -> String {
    KIND_ROUTES
        .iter()
        .filter_map(|(k, _, _)| {
            let i = Records::index(k);
            let (b, d) = (p99_of(base, i), p99_of(during, i));
            (b > 0.0 && d > 0.0).then(|| format!("{k}:{:.2}", d / b))
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn read_codes(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading codes from {}", path.display()))?;
    let codes: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if codes.is_empty() {
        bail!("{} holds no dossier codes", path.display());
    }
    Ok(codes)
}

/// Runs the baseline and the drain; prints and returns the summary lines.
pub async fn run(a: &DrainArgs) -> anyhow::Result<Vec<String>> {
    if !(a.rate > 0.0 && a.rate.is_finite()) {
        bail!("--rate must be a positive number of requests per second");
    }
    if a.inbox_percent + a.write_percent > 100 {
        bail!("--inbox-percent + --write-percent must be at most 100");
    }
    if !(0..=19).contains(&a.nice) || !(0..=19).contains(&a.portal_nice) {
        bail!("--nice and --portal-nice must be 0-19");
    }
    if let Some(p) = a.alternate
        && p <= a.settle
    {
        bail!(
            "--alternate ({p:?}) must be longer than --settle ({:?}): nothing would be measured",
            a.settle
        );
    }
    let motcua = std::fs::canonicalize(&a.motcua).with_context(|| {
        format!(
            "no motcua binary at {} (build it: cargo build --release -p motcua)",
            a.motcua.display()
        )
    })?;
    std::fs::create_dir_all(&a.data_dir)?;
    let data_dir = std::fs::canonicalize(&a.data_dir)?;
    let db_url = a
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/motcua.db", data_dir.display()));
    crate::fill::check_local(&db_url)?;
    let codes = read_codes(&a.codes)?;
    let backlog = pending(&db_url).await?;
    if backlog == 0 {
        bail!(
            "no pending {TOPIC} messages in {db_url}: build a backlog with `motcua-bench fill` first"
        );
    }
    let work = std::env::temp_dir().join(format!("motcua-drain-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let base = format!("http://127.0.0.1:{}", a.port);
    let portal_base = format!("http://127.0.0.1:{}", a.portal_port);
    // The dispatcher off; then on, towards the portal. Every other setting as `serve`'s.
    let off = work.join("baseline.toml");
    std::fs::write(&off, "[integrations.dispatcher]\nenabled = false\n")?;
    let on = work.join("drain.toml");
    std::fs::write(
        &on,
        format!(
            "[integrations.dispatcher]\nbatch = {}\nthreads = {}\nnice = {}\n\
             idle = {}\nack_linger_ms = {}\nhold_check_ms = 100\n\
             yield_to_requests = {}\nyield_tolerance = {}\nyield_every_ms = {}\n\
             [integrations.dvcqg]\nbase_url = \"{portal_base}\"\nbatch = {}\n\
             [integrations.dvcqg_delivery]\nconcurrency = {}\nrate_per_sec = {}\n\
             retry = {{ base_ms = 100, max_ms = 2000, max_attempts = 100 }}\n",
            a.batch,
            a.threads,
            a.nice,
            a.idle,
            a.ack_linger_ms,
            a.yield_to_requests,
            a.yield_tolerance,
            a.yield_every_ms,
            a.portal_batch,
            a.concurrency,
            a.rate_limit
        ),
    )?;
    let serve_args = |config: &Path| -> Vec<String> {
        let mut v = vec![
            "--config".to_string(),
            config.display().to_string(),
            "serve".into(),
            "--listen".into(),
            format!("127.0.0.1:{}", a.port),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--no-seed".into(),
        ];
        if let Some(u) = &a.database_url {
            v.push("--database-url".into());
            v.push(u.clone());
        }
        v
    };
    let c = http::client();
    println!(
        "drain: {backlog} pending {TOPIC} messages in {db_url}; {:.0} requests/s ({}% inbox, {}% submissions, the rest lookups of {} codes)",
        a.rate,
        a.inbox_percent,
        a.write_percent,
        codes.len()
    );

    port_free(a.port, "the server (--port)")?;
    port_free(a.portal_port, "the sandbox portal (--portal-port)")?;
    // The outside world, in its own process.
    let mut portal = spawn(
        &motcua,
        a.portal_nice,
        a.portal_idle,
        &work,
        work.join("portal.log"),
        "the sandbox portal",
        &[
            "sandbox".into(),
            "dvcqg".into(),
            "--listen".into(),
            format!("127.0.0.1:{}", a.portal_port),
        ],
    )?;
    wait_up(&mut portal, &c, &format!("{portal_base}/_sandbox/state")).await?;

    // Baseline: the dispatcher off.
    let mut server = spawn(
        &motcua,
        0,
        false,
        &work,
        work.join("server-baseline.log"),
        "motcua serve (dispatcher off)",
        &serve_args(&off),
    )?;
    wait_up(&mut server, &c, &format!("{base}/healthz")).await?;
    let load = Arc::new(prepare(a, &c, &base, codes).await?);
    println!(
        "  baseline: dispatcher off, {:?} warm-up then {:?} measured",
        a.warmup, a.window
    );
    let rec = Arc::new(Records::new("baseline"));
    let from = Instant::now() + a.warmup;
    let cpu = stats::CpuMeter::start(Some(server.pid()));
    let (stop, h) = start_load(&load, a.rate, from, &Phases::new(vec![rec.clone()]));
    tokio::time::sleep(a.warmup + a.window).await;
    stop.store(true, Ordering::Relaxed);
    h.await?;
    let base_cpu = cpu.stop();
    let base_secs = from.elapsed().as_secs_f64();
    server.check_alive()?;
    let base_metrics = metrics_text(&c, &base).await;
    server.stop();
    let base_ops = rec.take();
    let mut lines = stats::report(
        &stats::RunInfo {
            mode: "drain",
            label: a.label.as_deref(),
            target: &base,
            clients: 0,
            secs: base_secs,
            cpu: base_cpu,
        },
        &base_ops,
        a.out.as_deref(),
    )?;

    // The drain: the dispatcher on, the same load.
    println!(
        "  drain: dispatcher on ({} threads {}, {} deliveries in flight of up to {} dossiers, claims of {}, {}, acknowledgements lingering {} ms, {}), same load",
        a.threads,
        if a.idle {
            "in SCHED_IDLE".to_string()
        } else {
            format!("at nice +{}", a.nice)
        },
        a.concurrency,
        a.portal_batch,
        a.batch,
        if a.rate_limit == 0 {
            "no rate limit".to_string()
        } else {
            format!("at most {}/s", a.rate_limit)
        },
        a.ack_linger_ms,
        if a.yield_to_requests {
            "yielding to requests"
        } else {
            "not yielding to requests"
        }
    );
    port_free(a.port, "the server (--port)")?;
    let started = Instant::now();
    let mut server = spawn(
        &motcua,
        0,
        false,
        &work,
        work.join("server-drain.log"),
        "motcua serve (dispatcher on)",
        &serve_args(&on),
    )?;
    wait_up(&mut server, &c, &format!("{base}/healthz")).await?;
    let rec = Arc::new(Records::new("during"));
    let held_rec = Arc::new(Records::new("held"));
    let phases = Phases::new(vec![rec.clone(), held_rec.clone()]);
    let from = Instant::now() + a.warmup;
    let cpu = stats::CpuMeter::start(Some(server.pid()));
    let portal_cpu = stats::CpuMeter::start(Some(portal.pid()));
    let (stop, h) = start_load(&load, a.rate, from, &phases);
    // With --alternate: the drain held and released by turns through the operators' API, the
    // requests of each turn recorded apart once it has settled.
    let toggler = match a.alternate {
        Some(period) => {
            let admin = http::login(&c, &base, &a.admin, &a.password).await?;
            let done = Arc::new(AtomicBool::new(false));
            let task = tokio::spawn(alternate(
                c.clone(),
                base.clone(),
                admin.auth,
                phases.clone(),
                from,
                a.window,
                period,
                a.settle,
                done.clone(),
            ));
            Some((done, task))
        }
        None => None,
    };
    let mut held = 0;
    let mut last_print = Instant::now();
    while started.elapsed() < a.limit {
        tokio::time::sleep(Duration::from_millis(250)).await;
        server.check_alive()?;
        held = portal_state(&c, &portal_base).await?["dossiers"]
            .as_u64()
            .unwrap_or(0);
        if held >= backlog {
            break;
        }
        if last_print.elapsed() >= Duration::from_secs(5) {
            last_print = Instant::now();
            println!(
                "  [{:6.1}s] drain: {held}/{backlog} on the portal, {:.0}/s",
                started.elapsed().as_secs_f64(),
                held as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let drain_secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    h.await?;
    let turns = match toggler {
        Some((done, task)) => {
            done.store(true, Ordering::Relaxed);
            task.await?;
            Some(turns_done(a, from))
        }
        None => None,
    };
    let during_cpu = cpu.stop();
    let portal_cpu = portal_cpu.stop().1;
    let during_secs = from.elapsed().as_secs_f64();
    // The server's own view of the drain (claims, deliveries, the writer), for reading later.
    let during_metrics = metrics_text(&c, &base).await;
    if let Some(text) = &during_metrics {
        // Beside the data directory: the work directory goes at the end.
        let path = data_dir.with_extension("drain-metrics.txt");
        std::fs::write(&path, text)?;
        println!(
            "drain: the server's metrics at the end are in {}",
            path.display()
        );
    }
    server.stop();
    let during_ops = rec.take();
    // The held turns (with --alternate) were measured in the same window on the same server.
    let during_info = stats::RunInfo {
        mode: "drain",
        label: a.label.as_deref(),
        target: &base,
        clients: 0,
        secs: during_secs,
        cpu: during_cpu,
    };
    lines.extend(stats::report(&during_info, &during_ops, a.out.as_deref())?);
    let st = portal_state(&c, &portal_base).await?;
    portal.stop();
    let left = pending(&db_url).await?;
    let (p99_base, p99_during) = (p99_ms(&base_ops), p99_ms(&during_ops));
    let ratio = if p99_base > 0.0 {
        p99_during / p99_base
    } else {
        0.0
    };
    let by_kind = ratios_by_kind(&base_ops, &during_ops);
    // Interleaved: the same server and minutes, the drain running against it held.
    let held_ops = held_rec.take();
    let p99_held = p99_ms(&held_ops);
    let interleaved = match turns {
        Some(n) if p99_held > 0.0 => {
            lines.extend(stats::report(&during_info, &held_ops, a.out.as_deref())?);
            format!(
                " turns={n} p99_held={p99_held:.2}ms p99_ratio_interleaved={:.2} p99_ratio_interleaved_by_kind={}",
                p99_during / p99_held,
                ratios_by_kind(&held_ops, &during_ops)
            )
        }
        _ => String::new(),
    };
    let server_p99 = server_p99s(base_metrics.as_deref(), during_metrics.as_deref());
    let line = format!(
        "drain ops={held} secs={drain_secs:.1} rate={:.0}/s backlog={backlog} left={left} \
         p99_baseline={p99_base:.2}ms p99_during={p99_during:.2}ms p99_ratio={ratio:.2} \
         p99_ratio_by_kind={by_kind} server_p99_le_ms={server_p99} request_rate={:.0}/s server_cpu_baseline={:.0}% server_cpu_during={:.0}% portal_cpu={:.0}% portal_nice={} \
         portal_idle={} yield={} idle={} rate_limit={} ack_linger_ms={} portal_batch={} duplicates={} out_of_order={}{interleaved}",
        held as f64 / drain_secs,
        a.rate,
        base_cpu.1.unwrap_or(0.0),
        during_cpu.1.unwrap_or(0.0),
        portal_cpu.unwrap_or(0.0),
        a.portal_nice,
        a.portal_idle,
        a.yield_to_requests,
        a.idle,
        a.rate_limit,
        a.ack_linger_ms,
        a.portal_batch,
        st["duplicates"].as_u64().unwrap_or(0),
        st["out_of_order"].as_u64().unwrap_or(0),
    );
    println!("{line}");
    if let Some(out) = &a.out {
        use std::io::Write;
        let v = serde_json::json!({
            "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "mode": "drain",
            "op": "drain",
            "label": a.label,
            "target": db_url,
            "backlog": backlog,
            "delivered": held,
            "left": left,
            "secs": drain_secs,
            "rate": held as f64 / drain_secs,
            "request_rate": a.rate,
            "p99_baseline_ms": p99_base,
            "p99_during_ms": p99_during,
            "p99_ratio": ratio,
            "p99_ratio_by_kind": by_kind,
            "server_p99_le_ms": server_p99,
            "nice": a.nice,
            "portal_nice": a.portal_nice,
            "portal_idle": a.portal_idle,
            "yield_to_requests": a.yield_to_requests,
            "idle": a.idle,
            "rate_limit": a.rate_limit,
            "ack_linger_ms": a.ack_linger_ms,
            "portal_batch": a.portal_batch,
            "threads": a.threads,
            "duplicates": st["duplicates"],
            "out_of_order": st["out_of_order"],
            "alternate_secs": a.alternate.map(|d| d.as_secs_f64()),
            "turns": turns,
            "p99_held_ms": (p99_held > 0.0).then_some(p99_held),
            "p99_ratio_interleaved": (p99_held > 0.0).then(|| p99_during / p99_held),
            "p99_ratio_interleaved_by_kind": (p99_held > 0.0)
                .then(|| ratios_by_kind(&held_ops, &during_ops)),
        });
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out)?;
        writeln!(f, "{v}")?;
    }
    lines.push(line);
    let _ = std::fs::remove_dir_all(&work);
    if held < backlog {
        bail!(
            "the portal holds {held} of {backlog} dossiers after {:?} (--limit)",
            a.limit
        );
    }
    Ok(lines)
}

/// The target the drain delivers to, held and released by turns (decision 0053): from
/// `from` until `window` has passed, `period` held, then `period` running, and so on; the
/// first `settle` of each turn is not recorded (the dispatcher notices a hold within its
/// `hold_check_ms`, and deliveries in flight finish). Released at the end, also when aborted.
#[allow(clippy::too_many_arguments)]
async fn alternate(
    c: reqwest::Client,
    base: String,
    admin: reqwest::header::HeaderValue,
    phases: Arc<Phases>,
    from: Instant,
    window: Duration,
    period: Duration,
    settle: Duration,
    done: Arc<AtomicBool>,
) {
    let url = format!("{base}/api/v1/admin/outbox/holds/{TOPIC}");
    let send = |hold: bool| {
        let req = if hold {
            c.put(&url)
                .json(&serde_json::json!({"reason": "motcua-bench drain --alternate"}))
        } else {
            c.delete(&url)
        };
        let (url, admin) = (url.clone(), admin.clone());
        async move {
            match req
                .header(reqwest::header::AUTHORIZATION, admin)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => eprintln!("  alternate: {url} -> {}", r.status()),
                Err(e) => eprintln!("  alternate: {url}: {e}"),
            }
        }
    };
    // Sleeps until `t`, or until the drain is over: false then.
    let wait = |t: Instant| {
        let done = done.clone();
        async move {
            while Instant::now() < t {
                if done.load(Ordering::Relaxed) {
                    return false;
                }
                let step = t.saturating_duration_since(Instant::now());
                tokio::time::sleep(step.min(Duration::from_millis(50))).await;
            }
            !done.load(Ordering::Relaxed)
        }
    };
    phases.switch(OFF);
    let mut held = false;
    if wait(from).await {
        while from.elapsed() < window {
            held = !held;
            phases.switch(OFF);
            send(held).await;
            let turn = Instant::now();
            if !wait(turn + settle.min(period)).await {
                break;
            }
            phases.switch(if held { 1 } else { 0 });
            if !wait(turn + period).await {
                break;
            }
        }
    }
    phases.switch(OFF);
    // Never leave the target held.
    if held {
        send(false).await;
    }
}

/// Whole turns of `--alternate` within the measured window.
fn turns_done(a: &DrainArgs, from: Instant) -> u64 {
    let period = a
        .alternate
        .unwrap_or(Duration::from_secs(1))
        .max(Duration::from_millis(1));
    let measured = from.elapsed().min(a.window);
    (measured.as_secs_f64() / period.as_secs_f64()) as u64
}

/// Logs in, picks the submission's procedure and uploads its file, prebuilds the requests.
async fn prepare(
    a: &DrainArgs,
    c: &reqwest::Client,
    base: &str,
    codes: Vec<String>,
) -> anyhow::Result<Load> {
    let desk = http::login(c, base, &a.desk, &a.password).await?;
    let (lookup_auth, inbox_auth) = (None, Some(desk.auth.as_bytes().to_vec()));
    let submit = if a.write_percent > 0 {
        // Submissions go to another desk than the one whose inbox is read, so that inbox
        // stays the same size through both phases.
        let agency = http::login(c, base, &a.submit_desk, &a.password)
            .await?
            .agency
            .ok_or_else(|| anyhow::anyhow!("{} has no agency", a.submit_desk))?;
        let citizen = http::login(c, base, &a.citizen, &a.password).await?;
        let procedure = http::find_procedure(c, base, &agency, false).await?;
        let required = http::required_documents(c, base, &citizen, &procedure).await?;
        Kind {
            name: "submit",
            method: "POST",
            auth: Some(citizen.auth.as_bytes().to_vec()),
            body: Some(crate::submit::submit_body(&procedure, &agency, &required)),
            ok: 201,
        }
    } else {
        Kind {
            name: "submit",
            method: "POST",
            auth: None,
            body: None,
            ok: 201,
        }
    };
    let (addr, host) = crate::raw::resolve(base).await?;
    Ok(Load {
        addr,
        host,
        prefix: crate::submit::url_path(base),
        codes,
        lookup: Kind {
            name: "lookup",
            method: "GET",
            auth: lookup_auth,
            body: None,
            ok: 200,
        },
        inbox: Kind {
            name: "inbox",
            method: "GET",
            auth: inbox_auth,
            body: None,
            ok: 200,
        },
        submit,
        inbox_percent: a.inbox_percent,
        write_percent: a.write_percent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_refused_before_anything_starts() {
        let held = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        let e = port_free(port, "the server (--port)")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("127.0.0.1:{port}")) && e.contains("--port"),
            "{e}"
        );
        drop(held);
        port_free(port, "the server (--port)").unwrap();
    }

    #[test]
    fn the_server_p99_is_read_from_its_histogram() {
        let route = "/api/v1/public/status/{code}";
        let line = |le: &str, n: u64| {
            format!(
                "motcua_http_request_duration_seconds_bucket{{method=\"GET\",route=\"{route}\",le=\"{le}\"}} {n}\n"
            )
        };
        // 1,000 lookups: 980 under 0.25 ms, 995 under 0.5 ms.
        let text = [
            line("0.0001", 500),
            line("0.00025", 980),
            line("0.0005", 995),
            line("0.001", 1000),
            line("+Inf", 1000),
        ]
        .concat();
        assert_eq!(server_p99_le(&text, "GET", route), Some(0.5));
        assert_eq!(server_p99_le(&text, "POST", route), None);
        assert_eq!(server_p99_le("garbage", "GET", route), None);
        assert_eq!(
            server_p99s(Some(&text), None),
            "lookup:0.5/?,inbox:?/?,submit:?/?"
        );
    }

    #[test]
    fn each_kind_gets_its_own_p99_ratio() {
        let phase = |name: &str, ms: &[(&str, u64)]| {
            let r = Records::new(name);
            for (kind, ms) in ms {
                r.record(kind, Ok(Duration::from_millis(*ms)), Duration::ZERO);
            }
            r.take()
        };
        let base = phase("baseline", &[("lookup", 2), ("submit", 10)]);
        let during = phase("during", &[("lookup", 3), ("submit", 10), ("inbox", 4)]);
        // The inbox was not measured in the baseline: left out, not divided by zero.
        assert_eq!(ratios_by_kind(&base, &during), "lookup:1.50,submit:1.00");
        assert!((p99_ms(&during) - 10.0).abs() < 0.01, "{}", p99_ms(&during));
        assert_eq!(ratios_by_kind(&[], &during), "");
    }

    fn args() -> DrainArgs {
        DrainArgs {
            motcua: PathBuf::from("/nonexistent/motcua"),
            data_dir: std::env::temp_dir().join("motcua-drain-test-unused"),
            database_url: None,
            codes: PathBuf::from("/nonexistent/codes.txt"),
            rate: 1000.0,
            warmup: Duration::from_secs(1),
            window: Duration::from_secs(1),
            limit: Duration::from_secs(1),
            port: 1,
            portal_port: 2,
            concurrency: 1,
            batch: 1,
            portal_batch: 1,
            threads: 1,
            nice: 10,
            idle: false,
            rate_limit: 0,
            ack_linger_ms: 25,
            portal_nice: 0,
            portal_idle: false,
            yield_to_requests: false,
            yield_tolerance: 0.1,
            yield_every_ms: 250,
            inbox_percent: 10,
            write_percent: 2,
            desk: "motcua.tinh".into(),
            submit_desk: "motcua.xa".into(),
            citizen: "congdan".into(),
            password: "x".into(),
            label: None,
            out: None,
            alternate: None,
            settle: Duration::from_secs(1),
            admin: "quantri".into(),
        }
    }

    /// Bad options are refused with a clear message before anything starts.
    #[tokio::test]
    async fn bad_options_are_refused_before_anything_starts() {
        let err = |a: DrainArgs| async move { run(&a).await.unwrap_err().to_string() };
        let mut a = args();
        a.rate = 0.0;
        assert!(err(a).await.contains("--rate"));
        let mut a = args();
        a.inbox_percent = 90;
        a.write_percent = 20;
        assert!(err(a).await.contains("at most 100"));
        let mut a = args();
        a.nice = 20;
        assert!(err(a).await.contains("0-19"));
        let mut a = args();
        a.alternate = Some(Duration::from_millis(500));
        assert!(err(a).await.contains("longer than --settle"));
        assert!(err(args()).await.contains("no motcua binary"));
    }
}

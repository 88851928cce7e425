//! `motcua-bench`: load generator for motcua's HTTP API (`submit`, `lifecycle`, `lookup`), a
//! direct database filler (`fill`), the outbox dispatcher's throughput (`outbox`) and request
//! latency during a backlog's drain (`drain`). Every mode ends with one summary line per measured
//! operation, `MODE ops=N secs=S rate=R/s p50=..ms p99=..ms errors=E`, and appends JSON lines to
//! `--out FILE` when given. See docs/benchmarks.md.

mod closed_loop;
mod drain;
mod fill;
mod http;
mod inbox;
mod lifecycle;
mod lookup;
mod outbox;
mod raw;
mod reports;
mod search;
mod search_http;
mod stats;
mod submit;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

// The server's allocator (decision 0008): the in-process modes (`reports --rebuild`, `search`,
// `fill`) run the server's own code and must measure it as `motcua` runs it. Under glibc's
// allocator the counter rebuild took 4.4-4.9 s where `motcua verify stats --rebuild` took 2.6 s
// (event text read on one thread and freed on the folding threads contends on glibc's arenas).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "motcua-bench",
    version,
    about = "Benchmarks for motcua (targets 127.0.0.1 only)"
)]
struct Cli {
    /// Worker threads of the load generator's runtime (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Citizens submit online dossiers in closed loops (W1).
    Submit {
        #[command(flatten)]
        c: CommonArgs,
    },
    /// Whole dossier lives at a commune: submit, receive, assign, appraise, approve, result (W2).
    Lifecycle {
        #[command(flatten)]
        c: CommonArgs,
        /// Commune leader.
        #[arg(long, default_value = "lanhdao.xa")]
        leader: String,
        /// Commune specialist.
        #[arg(long, default_value = "chuyenvien.xa")]
        specialist: String,
    },
    /// Catalogue searches over HTTP against a running server (`search`'s queries: the API's
    /// search, and in the typing mix the page's suggestion fragment).
    SearchHttp {
        #[command(flatten)]
        c: CommonArgs,
        /// procedures.jsonl.gz the queries are made from (import it into the server first).
        #[arg(
            long,
            default_value = "../shared/data/vn-tthc-dvcqg-2026/procedures.jsonl.gz"
        )]
        catalogue: PathBuf,
        /// Query mix, as for `search`.
        #[arg(long, value_enum, default_value_t = search::Mix::Classic)]
        mix: search::Mix,
        /// Results per search.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Public status lookups by dossier code, no login (W3).
    Lookup {
        #[command(flatten)]
        c: CommonArgs,
        /// File of dossier codes, one per line (written by `fill --codes`).
        #[arg(long)]
        codes: PathBuf,
    },
    /// Times the standard report from the counters (month, year, province), warm; optionally the
    /// full rebuild of every counter from the events (W5).
    Reports {
        /// sqlite://PATH or postgres://... (a database filled by `fill`).
        #[arg(long)]
        database_url: String,
        /// Timed runs of each report.
        #[arg(long, default_value_t = 200)]
        repeat: usize,
        /// Also rebuild every counter from the events and time it.
        #[arg(long)]
        rebuild: bool,
        /// Then verify every log and counter (single-threaded; fails on any difference).
        #[arg(long)]
        verify: bool,
        /// Measure without first folding the counter shards of past days (PostgreSQL; what a
        /// running server does in the background, decision 0037).
        #[arg(long)]
        no_fold: bool,
        /// Free label written to the JSON results.
        #[arg(long)]
        label: Option<String>,
        /// Append JSON result lines here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Catalogue search throughput and latency, in process (issue 3).
    Search {
        /// The national catalogue file (procedures.jsonl.gz).
        #[arg(
            long,
            default_value = "../shared/data/vn-tthc-dvcqg-2026/procedures.jsonl.gz"
        )]
        catalogue: PathBuf,
        /// Grow the catalogue to this many procedures with synthetic ones (0: as is).
        #[arg(long, default_value_t = 0)]
        grow: usize,
        /// Write the grown catalogue here as national records (procedures.jsonl.gz, for
        /// `motcua import procedures` and `search-http`) and stop.
        #[arg(long)]
        write_grown: Option<PathBuf>,
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Measured time, e.g. 10s.
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        duration: Duration,
        /// Results per query.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Query mix: `classic` (the default: the mix of every figure so far) or `typing`, which
        /// adds suggestions of half-typed words and names typed with their diacritics.
        #[arg(long, value_enum, default_value_t = search::Mix::Classic)]
        mix: search::Mix,
        /// First run every query of the mix once, alone, and print each kind's mean and
        /// slowest time (where a search's time goes).
        #[arg(long)]
        per_kind: bool,
        /// With `--per-kind`: print each query whose first hit is not a procedure named as
        /// meant, with that first hit (what to look at to improve the ranking).
        #[arg(long)]
        misses: bool,
        /// Send only queries of these kinds (comma-separated: code, fragment, name, typo,
        /// accented, suggest), to time or profile one kind alone.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<String>,
        /// Free label for the JSON output.
        #[arg(long)]
        label: Option<String>,
        /// Append JSON lines here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Writes counter dossiers straight into a database through the store.
    Fill {
        /// sqlite://PATH or postgres://... (seeded with the demo province if its catalogue is empty).
        #[arg(long)]
        database_url: String,
        /// How many dossiers.
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
        /// Commands in flight (the SQLite writer commits up to 512 per transaction).
        #[arg(long, default_value_t = 512)]
        concurrency: usize,
        /// Write the issued dossier codes here, one per line.
        #[arg(long)]
        codes: Option<PathBuf>,
        /// Desk officer who files them (a commune's).
        #[arg(long, default_value = "motcua.xa")]
        desk: String,
        /// Procedure code (default: the first one received at the desk's agency that needs no
        /// other agency).
        #[arg(long)]
        procedure: Option<String>,
        /// Free label written to the JSON results (e.g. `sqlite`).
        #[arg(long)]
        label: Option<String>,
        /// Append JSON result lines to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The realistic mix of issue 6 instead (every procedure at every desk, channels mixed,
        /// submissions over `--days`, lifecycles ending in every state); `--desk`,
        /// `--procedure` and `--codes` do not apply.
        #[arg(long)]
        realistic: bool,
        /// With `--realistic`: submissions are spread over this many days before now.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// With `--realistic`: seed of the mix.
        #[arg(long, default_value_t = 6)]
        seed: u64,
    },
    /// Builds the inbox benchmark's database: many agencies, one desk officer in each of the
    /// first `--staff`, and counter dossiers of which `--open-percent` % stay open (issue 5).
    InboxFill {
        /// sqlite://PATH or postgres://... (seeded with the demo province if its catalogue is empty).
        #[arg(long)]
        database_url: String,
        /// How many dossiers.
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
        /// Agencies with a desk (the demo's commune desks, then synthetic ones).
        #[arg(long, default_value_t = 1000)]
        agencies: usize,
        /// Share of dossiers left open, in percent (the others are withdrawn).
        #[arg(long, default_value_t = 20)]
        open_percent: u64,
        /// Desk officers created (`bench.motcua.0` ...), one per agency.
        #[arg(long, default_value_t = 100)]
        staff: usize,
        /// Commands in flight.
        #[arg(long, default_value_t = 512)]
        concurrency: usize,
        /// Password of the officers.
        #[arg(long, default_value = "motcua@2026")]
        password: String,
        /// Free label written to the JSON results.
        #[arg(long)]
        label: Option<String>,
        /// Append JSON result lines to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Staff read their inboxes with writes mixed in, each write checked in the next read
    /// (issue 5; needs a database built by `inbox-fill`).
    Inbox {
        /// Base URL of the server (127.0.0.1 only).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Concurrent officers (`bench.motcua.0` ... must exist).
        #[arg(long, default_value_t = 100)]
        clients: usize,
        /// How long to measure.
        #[arg(long, default_value = "20s", value_parser = parse_duration)]
        duration: Duration,
        /// Load before measuring.
        #[arg(long, default_value = "2s", value_parser = parse_duration)]
        warmup: Duration,
        /// Password of the officers.
        #[arg(long, default_value = "motcua@2026")]
        password: String,
        /// Share of requests that write, in percent.
        #[arg(long, default_value_t = 10)]
        write_percent: u64,
        /// Procedure the officers receive (the one `inbox-fill` printed).
        #[arg(long)]
        procedure: String,
        /// Offered load in requests per second, shared evenly by the officers: each sends its
        /// next request on a fixed schedule (open loop) and a late answer counts from when the
        /// request was due. Without it, each officer sends again as soon as it is answered
        /// (closed loop: the server's saturation throughput).
        #[arg(long)]
        rate: Option<f64>,
        /// PID of the server, to report its CPU use over the run.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Free label written to the JSON results.
        #[arg(long)]
        label: Option<String>,
        /// Append JSON result lines to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Drains a database's national-portal backlog into the sandbox portal (dispatcher rate).
    Outbox {
        #[command(flatten)]
        a: OutboxArgs,
    },
    /// Request latency under a fixed-rate load without, then during, the drain of a
    /// database's national-portal backlog by `motcua serve` into the sandbox portal (issue 7).
    Drain {
        #[command(flatten)]
        a: DrainArgs,
    },
}

#[derive(Args, Clone)]
struct DrainArgs {
    /// The motcua binary (default: `motcua` beside this program).
    #[arg(long)]
    motcua: Option<PathBuf>,
    /// The server's data directory (holding motcua.db unless --database-url says otherwise).
    #[arg(long)]
    data_dir: PathBuf,
    /// The database holding the backlog (default: sqlite://DATA_DIR/motcua.db).
    #[arg(long)]
    database_url: Option<String>,
    /// Dossier codes to look up, one per line (written by `fill --codes`).
    #[arg(long)]
    codes: PathBuf,
    /// Requests per second, sent open loop (at fixed times, whatever the answers).
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Share of requests that read the desk officer's inbox, in percent.
    #[arg(long, default_value_t = 10)]
    inbox_percent: u64,
    /// Share of requests that submit an online dossier, in percent (the rest are lookups).
    #[arg(long, default_value_t = 2)]
    write_percent: u64,
    /// Load before measuring, in each phase (the server has just started).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    warmup: Duration,
    /// Measured baseline (dispatcher off).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    window: Duration,
    /// Give up the drain after this long.
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    limit: Duration,
    /// Port of the server.
    #[arg(long, default_value_t = 18080)]
    port: u16,
    /// Port of the sandbox portal.
    #[arg(long, default_value_t = 18090)]
    portal_port: u16,
    /// Portal deliveries in flight (`[integrations.dvcqg_delivery] concurrency`).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Messages claimed at once (`[integrations.dispatcher] batch`).
    #[arg(long, default_value_t = 256)]
    batch: u32,
    /// Dossiers per portal request (`[integrations.dvcqg] batch`; 1: one at a time).
    #[arg(long, default_value_t = 20)]
    portal_batch: usize,
    /// Dispatcher threads (`[integrations.dispatcher] threads`).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Niceness added to the dispatcher's threads (`[integrations.dispatcher] nice`, 0-19).
    #[arg(long, default_value_t = 10)]
    nice: i32,
    /// The dispatcher's threads in Linux's SCHED_IDLE class (`[integrations.dispatcher] idle =
    /// true`) instead of at `--nice`.
    #[arg(long)]
    idle: bool,
    /// Most portal deliveries started per second (`[integrations.dvcqg_delivery]
    /// rate_per_sec`; 0: no limit).
    #[arg(long, default_value_t = 0)]
    rate_limit: u32,
    /// `[integrations.dispatcher] ack_linger_ms` (how long a delivered message waits for others
    /// to share its acknowledgement).
    #[arg(long, default_value_t = 25)]
    ack_linger_ms: u64,
    /// Niceness of the sandbox portal's process (0: it competes with the server for the
    /// cores as an equal; a real portal runs on other machines).
    #[arg(long, default_value_t = 0)]
    portal_nice: i32,
    /// The sandbox portal's process in Linux's SCHED_IDLE class (started through `chrt -i 0`):
    /// it runs only on CPU time the server and the load generator leave, the closest this
    /// machine comes to a portal on other machines.
    #[arg(long)]
    portal_idle: bool,
    /// The dispatcher yields to requests (`[integrations.dispatcher] yield_to_requests =
    /// true`; decision 0038, experimental, off by default).
    #[arg(long = "yield")]
    yield_to_requests: bool,
    /// `[integrations.dispatcher] yield_tolerance` (how much slower requests may run before
    /// the drain gives way).
    #[arg(long, default_value_t = 0.1)]
    yield_tolerance: f64,
    /// `[integrations.dispatcher] yield_every_ms`.
    #[arg(long, default_value_t = 250)]
    yield_every_ms: u64,
    /// Desk officer whose inbox is read.
    #[arg(long, default_value = "motcua.tinh")]
    desk: String,
    /// Desk officer whose agency receives the submissions.
    #[arg(long, default_value = "motcua.xa")]
    submit_desk: String,
    /// Citizen who submits.
    #[arg(long, default_value = "congdan")]
    citizen: String,
    /// Password of the demo accounts.
    #[arg(long, default_value = "motcua@2026")]
    password: String,
    /// Free label written to the JSON results.
    #[arg(long)]
    label: Option<String>,
    /// Append JSON result lines here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also hold and release the drain by turns of this long (e.g. `5s`) through the
    /// operators' API during the measured window, and compare the requests of the two kinds
    /// of turns: the same server and minutes, so the host's drift cancels out (decision 0053).
    #[arg(long, value_parser = parse_duration)]
    alternate: Option<Duration>,
    /// The first part of each turn left out of the records while the drain stops or starts.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    settle: Duration,
    /// The administrator who holds and releases the drain (`--alternate`).
    #[arg(long, default_value = "quantri")]
    admin: String,
}

#[derive(Args, Clone)]
struct OutboxArgs {
    /// Database holding the backlog (build it with `fill`).
    #[arg(long)]
    database_url: String,
    /// Deliveries in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Messages claimed at once.
    #[arg(long, default_value_t = 512)]
    batch: u32,
    /// Dossiers per portal request (1: one at a time).
    #[arg(long, default_value_t = 20)]
    portal_batch: usize,
    /// Stop after this long even if not drained, e.g. `30s`.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    limit: Duration,
}

#[derive(Args, Clone)]
struct CommonArgs {
    /// Base URL of the server (127.0.0.1 only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Concurrent clients, each in a closed loop on its own keep-alive connection.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// How long to measure, e.g. `20s`, `500ms`, `2m`.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    duration: Duration,
    /// Load before measuring (not recorded), e.g. `2s`.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    warmup: Duration,
    /// Password of the demo accounts.
    #[arg(long, default_value = "motcua@2026")]
    password: String,
    /// Citizen who submits.
    #[arg(long, default_value = "congdan")]
    citizen: String,
    /// Desk officer of the commune whose procedures are used.
    #[arg(long, default_value = "motcua.xa")]
    desk: String,
    /// Receiving agency (default: the desk officer's).
    #[arg(long)]
    agency: Option<String>,
    /// Procedure code (default: found through the catalogue API).
    #[arg(long)]
    procedure: Option<String>,
    /// PID of the server, to report its CPU use over the run.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Free label written to the JSON results (e.g. `sqlite`).
    #[arg(long)]
    label: Option<String>,
    /// Append JSON result lines to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Settings of an HTTP mode, resolved.
pub struct Common {
    pub base: String,
    pub clients: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub password: String,
    pub citizen: String,
    pub desk: String,
    pub leader: String,
    pub specialist: String,
    pub agency: Option<String>,
    pub procedure: Option<String>,
    pub server_pid: Option<u32>,
    pub label: Option<String>,
    pub out: Option<PathBuf>,
}

impl Common {
    fn new(a: CommonArgs) -> anyhow::Result<Common> {
        if a.clients == 0 {
            anyhow::bail!("--clients must be at least 1");
        }
        Ok(Common {
            base: http::local_base(&a.url)?,
            clients: a.clients,
            duration: a.duration,
            warmup: a.warmup,
            password: a.password,
            citizen: a.citizen,
            desk: a.desk,
            leader: String::new(),
            specialist: String::new(),
            agency: a.agency,
            procedure: a.procedure,
            server_pid: a.server_pid,
            label: a.label,
            out: a.out,
        })
    }
}

/// `20s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 20s)"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        u => return Err(format!("unknown unit `{u}` in `{s}`: use ms, s, m or h")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("`{s}` is not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// When the clients measure and when they stop.
#[derive(Clone)]
pub struct Deadline(Arc<(Instant, Instant)>);

impl Deadline {
    /// Measuring starts after `warmup` and lasts `duration`.
    pub fn new(warmup: Duration, duration: Duration) -> Deadline {
        let from = Instant::now() + warmup;
        Deadline(Arc::new((from, from + duration)))
    }

    /// Whether clients should stop starting new work.
    #[inline]
    pub fn over(&self) -> bool {
        Instant::now() >= self.0.1
    }

    /// Whether work started at `t` is measured (not warm-up).
    #[inline]
    pub fn measuring(&self, t: Instant) -> bool {
        t >= self.0.0
    }

    /// Seconds from the start of measuring until now (call when every client has finished).
    pub fn measured_secs(&self) -> f64 {
        Instant::now()
            .saturating_duration_since(self.0.0)
            .as_secs_f64()
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = cli.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.build()?;
    rt.block_on(async move {
        match cli.mode {
            Mode::Submit { c } => submit::run(&Common::new(c)?).await,
            Mode::Lifecycle {
                c,
                leader,
                specialist,
            } => {
                let mut c = Common::new(c)?;
                c.leader = leader;
                c.specialist = specialist;
                lifecycle::run(&c).await
            }
            Mode::Lookup { c, codes } => lookup::run(&Common::new(c)?, &codes).await,
            Mode::SearchHttp {
                c,
                catalogue,
                mix,
                limit,
            } => search_http::run(&Common::new(c)?, &catalogue, mix, limit.max(1)).await,
            Mode::Reports {
                database_url,
                repeat,
                rebuild,
                no_fold,
                verify,
                label,
                out,
            } => {
                reports::run(&reports::ReportArgs {
                    database_url,
                    repeat,
                    rebuild,
                    verify,
                    fold: !no_fold,
                    label,
                    out,
                })
                .await
            }
            Mode::InboxFill {
                database_url,
                count,
                agencies,
                open_percent,
                staff,
                concurrency,
                password,
                label,
                out,
            } => {
                inbox::fill(&inbox::FillArgs {
                    database_url,
                    count,
                    agencies: agencies.max(1),
                    open_percent,
                    staff,
                    concurrency: concurrency.max(1),
                    password,
                    label,
                    out,
                })
                .await
            }
            Mode::Inbox {
                url,
                clients,
                duration,
                warmup,
                password,
                write_percent,
                procedure,
                rate,
                server_pid,
                label,
                out,
            } => {
                if clients == 0 || write_percent > 100 {
                    anyhow::bail!("--clients must be at least 1 and --write-percent 0-100");
                }
                if let Some(r) = rate
                    && !(r > 0.0 && r.is_finite())
                {
                    anyhow::bail!("--rate must be a positive number of requests per second");
                }
                inbox::run(&inbox::RunArgs {
                    base: http::local_base(&url)?,
                    clients,
                    duration,
                    warmup,
                    password,
                    write_percent,
                    procedure,
                    rate,
                    server_pid,
                    label,
                    out,
                })
                .await
            }
            Mode::Outbox { a } => {
                outbox::run(&outbox::OutboxArgs {
                    database_url: a.database_url,
                    concurrency: a.concurrency.max(1),
                    batch: a.batch.max(1),
                    portal_batch: a.portal_batch.max(1),
                    limit: a.limit,
                })
                .await
            }
            Mode::Drain { a } => {
                let motcua = match a.motcua {
                    Some(p) => p,
                    None => std::env::current_exe()?
                        .parent()
                        .map(|d| d.join("motcua"))
                        .ok_or_else(|| anyhow::anyhow!("where is this program?"))?,
                };
                drain::run(&drain::DrainArgs {
                    motcua,
                    data_dir: a.data_dir,
                    database_url: a.database_url,
                    codes: a.codes,
                    rate: a.rate,
                    warmup: a.warmup,
                    window: a.window,
                    limit: a.limit,
                    port: a.port,
                    portal_port: a.portal_port,
                    concurrency: a.concurrency.max(1),
                    batch: a.batch.max(1),
                    portal_batch: a.portal_batch.max(1),
                    threads: a.threads.max(1),
                    nice: a.nice,
                    idle: a.idle,
                    rate_limit: a.rate_limit,
                    ack_linger_ms: a.ack_linger_ms,
                    portal_nice: a.portal_nice,
                    portal_idle: a.portal_idle,
                    yield_to_requests: a.yield_to_requests,
                    yield_tolerance: a.yield_tolerance,
                    yield_every_ms: a.yield_every_ms,
                    inbox_percent: a.inbox_percent,
                    write_percent: a.write_percent,
                    desk: a.desk,
                    submit_desk: a.submit_desk,
                    citizen: a.citizen,
                    password: a.password,
                    label: a.label,
                    out: a.out,
                    alternate: a.alternate,
                    settle: a.settle,
                    admin: a.admin,
                })
                .await
            }
            Mode::Search {
                catalogue,
                write_grown,
                grow,
                clients,
                duration,
                limit,
                mix,
                per_kind,
                misses,
                kinds,
                label,
                out,
            } => tokio::task::spawn_blocking(move || {
                if let Some(out) = write_grown {
                    return search::write_grown(&catalogue, grow, &out);
                }
                search::run(&search::SearchArgs {
                    catalogue,
                    grow,
                    clients: clients.max(1),
                    duration,
                    limit: limit.max(1),
                    mix,
                    per_kind,
                    misses,
                    kinds,
                    label,
                    out,
                })
            })
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r),
            Mode::Fill {
                realistic: true,
                database_url,
                count,
                concurrency,
                codes,
                procedure,
                label,
                out,
                days,
                seed,
                ..
            } => {
                if codes.is_some() || procedure.is_some() {
                    anyhow::bail!("--codes and --procedure do not apply to --realistic");
                }
                fill::run_realistic(&fill::RealisticArgs {
                    database_url,
                    count,
                    concurrency: concurrency.max(1),
                    days,
                    seed,
                    label,
                    out,
                })
                .await
            }
            Mode::Fill {
                database_url,
                count,
                concurrency,
                codes,
                desk,
                procedure,
                label,
                out,
                ..
            } => {
                fill::run(&fill::FillArgs {
                    database_url,
                    count,
                    concurrency: concurrency.max(1),
                    codes,
                    desk,
                    procedure,
                    label,
                    out,
                })
                .await
            }
        }
    })?;
    // Idle keep-alive connections and the progress printer may still be around: do not wait.
    rt.shutdown_timeout(Duration::from_millis(100));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("20"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("3x").is_err());
    }
}

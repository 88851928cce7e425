//! `motcua`: the one binary. `serve` (the default) runs the system; `migrate`, `seed`,
//! `verify`, `outbox`, `reconcile` and `sandbox` are operator commands.

use anyhow::Context;
use clap::{Parser, Subcommand};
use motcua::config::Settings;
use motcua::seed;
use motcua_store::Store;
use std::path::PathBuf;

// glibc's allocator spent ~15 % of the server's CPU under load (memory allocated on the HTTP
// workers and freed on the SQLite writer thread): see docs/decisions/0008-allocator.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "motcua",
    version,
    about = "One-stop administrative procedures (một cửa)"
)]
struct Cli {
    /// TOML settings file (default: ./motcua.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

/// Flags that override settings.
#[derive(clap::Args, Default, Clone)]
struct Overrides {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, global = true)]
    listen: Option<String>,
    /// Data directory (default ./motcua-data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://...
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server (migrates, seeds the demo province when empty, prints demo logins).
    Serve {
        #[command(flatten)]
        o: Overrides,
        /// Do not seed demo data.
        #[arg(long)]
        no_seed: bool,
    },
    /// Create or upgrade the database schema.
    Migrate {
        #[command(flatten)]
        o: Overrides,
    },
    /// Seed the demo province (idempotent).
    Seed {
        #[command(flatten)]
        o: Overrides,
    },
    /// Check every dossier's hash chain, state and the statistics counters against the logs.
    /// `verify stats` reports only the statistics: every counter rebuilt from the event log and
    /// compared with the live one.
    Verify {
        #[command(flatten)]
        o: Overrides,
        /// `stats`: the statistics counters only.
        what: Option<VerifyWhat>,
        /// Rebuild every counter from the logs first (after an upgrade that adds figures).
        #[arg(long)]
        rebuild: bool,
    },
    /// Messages to outside systems: list, dead letters, retry, queues.
    Outbox {
        #[command(flatten)]
        o: Overrides,
        #[command(subcommand)]
        action: motcua::ops::OutboxCmd,
    },
    /// Per target and local day: written, acknowledged, failed, and what the target accepted;
    /// exits with 1 on any unexplained difference.
    Reconcile {
        #[command(flatten)]
        o: Overrides,
        /// What to reconcile: `outbox` (the default: messages to outside systems) or
        /// `payments` (payments recorded paid against the dossiers' histories, one day).
        #[arg(default_value = "outbox")]
        what: ReconcileWhat,
        /// The day of `payments` (YYYY-MM-DD, default: today in Vietnam).
        #[arg(long)]
        day: Option<chrono::NaiveDate>,
        /// First day (YYYY-MM-DD, default: --to).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day (YYYY-MM-DD, default: today in Vietnam).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
    },
    /// The national portal's online dossiers: `pull` takes the new ones once (as the poller in
    /// `serve` does every `poll_secs` when `[integrations.dvcqg_intake] enabled`).
    Dvcqg {
        #[command(flatten)]
        o: Overrides,
        #[command(subcommand)]
        action: DvcqgCmd,
    },
    /// Local servers that speak outside systems' protocols, with failure injection.
    Sandbox {
        #[command(subcommand)]
        which: motcua::ops::SandboxCmd,
    },
    /// Import data from files.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
}

/// `motcua dvcqg ...`
#[derive(Subcommand)]
enum DvcqgCmd {
    /// Pull once: list, take what is new, acknowledge; exits with 1 if anything failed.
    Pull,
}

/// What `reconcile` compares.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum ReconcileWhat {
    /// Outbox messages against what the targets accepted.
    Outbox,
    /// Payments recorded paid against the fees in the dossiers' histories.
    Payments,
}

/// What `verify` checks.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum VerifyWhat {
    /// The statistics counters against the event logs.
    Stats,
}

/// What `import` reads.
#[derive(Subcommand)]
enum ImportWhat {
    /// The national procedure catalogue: procedures.jsonl(.gz) or a danh-sach-*.csv list.
    Procedures {
        /// The file.
        file: PathBuf,
        /// Refuse the whole file if any record is bad (default: report and skip them).
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        o: Overrides,
    },
}

fn settings(cli_file: Option<&PathBuf>, o: &Overrides) -> anyhow::Result<Settings> {
    let mut s = Settings::load(cli_file).context("reading settings")?;
    if let Some(l) = &o.listen {
        s.listen = l.clone();
    }
    if let Some(d) = &o.data_dir {
        s.data_dir = d.clone();
    }
    if let Some(u) = &o.database_url {
        s.database_url = u.clone();
    }
    Ok(s)
}

async fn open(s: &Settings) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&s.data_dir)
        .with_context(|| format!("creating data directory {}", s.data_dir.display()))?;
    let url = s.database_url();
    Store::open(&url)
        .await
        .with_context(|| format!("opening database {url}"))
}

async fn run_seed(store: &Store) -> anyhow::Result<seed::SeedReport> {
    let report = seed::seed(store, &motcua_web::auth::hash_password).await?;
    tracing::info!(
        units = report.admin_units,
        agencies = report.agencies,
        procedures = report.procedures,
        inter_agency = report.inter_agency_procedures,
        users_created = report.users_created,
        "demo province seeded"
    );
    Ok(report)
}

fn print_logins() {
    println!("Demo accounts (password for all: see below; change them before real use):");
    for l in seed::demo_logins() {
        println!(
            "  {:<18} {:<10} {:<14} {}{}",
            l.username,
            l.password,
            l.role.as_str(),
            l.name,
            l.agency.map(|a| format!(" @ {a}")).unwrap_or_default()
        );
        for (role, agency) in &l.also {
            println!(
                "  {:<18} {:<10} {:<14} (also) @ {agency}",
                "",
                "",
                role.as_str()
            );
        }
    }
}

fn print_import(r: &motcua::catalogue::import::ImportReport) {
    for x in &r.rejected {
        println!("REJECTED line {} {}: {}", x.line, x.code, x.reason);
    }
    for (field, n) in &r.clean {
        println!("  parsed cleanly: {field:<12} {n:>6} of {}", r.parsed);
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let cmd = cli.command.unwrap_or(Cmd::Serve {
        o: Overrides::default(),
        no_seed: false,
    });
    let o = match &cmd {
        Cmd::Serve { o, .. } | Cmd::Migrate { o } | Cmd::Seed { o } | Cmd::Verify { o, .. } => {
            o.clone()
        }
        Cmd::Outbox { o, .. } | Cmd::Reconcile { o, .. } | Cmd::Dvcqg { o, .. } => o.clone(),
        Cmd::Sandbox { .. } => Overrides::default(),
        Cmd::Import {
            what: ImportWhat::Procedures { o, .. },
        } => o.clone(),
    };
    let s = settings(cli.config.as_ref(), &o)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&s.log)),
        )
        .init();
    match cmd {
        Cmd::Migrate { .. } => {
            open(&s).await?;
            println!("migrated {}", s.database_url());
        }
        Cmd::Seed { .. } => {
            let store = open(&s).await?;
            let r = run_seed(&store).await?;
            println!(
                "seeded: {} admin units, {} agencies, {} procedures ({} inter-agency), {} users created",
                r.admin_units, r.agencies, r.procedures, r.inter_agency_procedures, r.users_created
            );
            print_logins();
        }
        Cmd::Verify { what, rebuild, .. } => {
            let store = open(&s).await?;
            if rebuild {
                let t = std::time::Instant::now();
                let r = store.rebuild_counters().await?;
                println!(
                    "rebuilt {} counter rows from {} dossiers, {} events in {:.1} s ({} stored rows corrected)",
                    r.counter_rows,
                    r.dossiers,
                    r.events,
                    t.elapsed().as_secs_f64(),
                    r.changed_rows
                );
            }
            // The statistics alone are folded on every core; the whole check is one pass.
            let r = if what == Some(VerifyWhat::Stats) {
                store.verify_counters().await?
            } else {
                store.verify().await?
            };
            for p in &r.problems {
                println!("PROBLEM {p}");
            }
            println!(
                "verified {} {} dossiers, {} events: {} problems",
                if what == Some(VerifyWhat::Stats) {
                    "the statistics of"
                } else {
                    ""
                },
                r.dossiers,
                r.events,
                r.problems.len()
            );
            if !r.problems.is_empty() {
                std::process::exit(1);
            }
        }
        Cmd::Outbox { action, .. } => {
            let store = open(&s).await?;
            let code = motcua::ops::outbox(&store, action).await?;
            if code != 0 {
                std::process::exit(code);
            }
        }
        Cmd::Reconcile {
            what: ReconcileWhat::Payments,
            day,
            ..
        } => {
            let store = open(&s).await?;
            let code = motcua::ops::reconcile_payments(&store, day).await?;
            if code != 0 {
                std::process::exit(code);
            }
        }
        Cmd::Reconcile { from, to, .. } => {
            let store = open(&s).await?;
            let code = motcua::ops::run_reconcile(&store, &s.integrations, from, to).await?;
            if code != 0 {
                std::process::exit(code);
            }
        }
        Cmd::Sandbox { which } => motcua::ops::sandbox(which, &s.integrations).await?,
        Cmd::Dvcqg {
            action: DvcqgCmd::Pull,
            ..
        } => {
            let intake = s.integrations.intake();
            anyhow::ensure!(
                !intake.base_url.is_empty(),
                "no portal address: set [integrations.dvcqg] base_url or MOTCUA_DVCQG_URL"
            );
            let store = open(&s).await?;
            let files = s.files().context("opening the file storage")?;
            let state = motcua_web::AppState::new(store).with_files(files);
            let portal =
                motcua_web::intake::Portal::new(intake.clone()).map_err(anyhow::Error::msg)?;
            let r = motcua_web::intake::pull_once(&state, &portal, &intake).await;
            for e in &r.errors {
                println!("ERROR {e}");
            }
            println!("{}", r.summary());
            if !r.errors.is_empty() || r.ack_failed > 0 {
                std::process::exit(1);
            }
        }
        Cmd::Import {
            what: ImportWhat::Procedures { file, strict, .. },
        } => {
            let store = open(&s).await?;
            let started = std::time::Instant::now();
            let opts = motcua::catalogue::import::ImportOptions {
                strict,
                actor: format!("import:{}", file.display()),
                now: chrono::Utc::now(),
            };
            match motcua::catalogue::import::import_file(&store, &file, &opts).await {
                Ok(r) => {
                    print_import(&r);
                    println!("{} in {:.2?}", r.summary(), started.elapsed());
                }
                Err(motcua::catalogue::import::ImportError::Strict(r)) => {
                    print_import(&r);
                    println!("{}", r.summary());
                    anyhow::bail!(
                        "refused (--strict): {} bad records, nothing written",
                        r.rejected.len()
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        Cmd::Serve { no_seed, .. } => {
            let public_url = s.public_url().map_err(anyhow::Error::msg)?;
            let store = open(&s).await?;
            let _ = motcua_web::prometheus_handle();
            if s.seed_demo && !no_seed {
                run_seed(&store).await?;
                print_logins();
            }
            let listener = tokio::net::TcpListener::bind(&s.listen)
                .await
                .with_context(|| format!("listening on {}", s.listen))?;
            println!(
                "motcua is serving http://{} (database: {})",
                listener.local_addr()?,
                store.backend()
            );
            // Delivery to outside systems runs beside the requests, never inside them.
            let dispatcher = motcua::integrations::start(&store, &s)?;
            // Say which notices go out; the others wait in the outbox until configured.
            let email = s.email();
            if email.smtp_url.is_empty() {
                println!("e-mail to applicants: off (no smtp_url; messages wait in the outbox)");
            } else {
                println!("e-mail to applicants: {email:?}");
            }
            if s.sms_url.trim().is_empty() {
                println!("SMS to applicants: off (no sms_url; messages wait in the outbox)");
            } else {
                println!("SMS to applicants: {}", s.sms_url.trim());
            }
            if s.integrations.zalo.url.is_empty() {
                println!(
                    "Zalo notices to applicants who chose them: off (no integrations.zalo.url; messages wait in the outbox)"
                );
            } else {
                println!(
                    "Zalo notices to applicants who chose them: {:?}",
                    s.integrations.zalo
                );
            }
            match (
                s.integrations.vnpost.base_url.is_empty(),
                s.integrations.vnpost.secret.is_empty(),
            ) {
                (true, true) => println!(
                    "postal service: off (no integrations.vnpost.base_url; orders wait in the outbox; no MOTCUA_VNPOST_SECRET: status callbacks refused)"
                ),
                _ => println!("postal service: {:?}", s.integrations.vnpost),
            }
            let postal = motcua::integrations::postal_callback(&s.integrations.vnpost)?;
            let identity: Option<std::sync::Arc<dyn motcua_web::identity::IdentityProvider>> = if s
                .identity
                .url
                .trim()
                .is_empty()
            {
                println!(
                    "identity lookups at the counter: this system's own records (no identity.url)"
                );
                None
            } else {
                println!(
                    "identity lookups at the counter: national population database {:?}",
                    s.identity
                );
                Some(std::sync::Arc::new(
                    motcua_web::population::PopulationDb::new(s.identity.clone(), store.clone())
                        .map_err(anyhow::Error::msg)?,
                ))
            };
            let files = s.files().context("opening the file storage")?;
            println!("uploaded files: {}", files.blobs.describe());
            let https = public_url.starts_with("https://");
            let mut state = motcua_web::AppState::new(store)
                .with_public_url(public_url)
                .with_files(files)
                // An https:// public address means cookies must never travel in clear.
                .with_secure_cookies(s.secure_cookies || https)
                .with_postal(postal)
                .with_feedback_limits(s.feedback);
            if let Some(p) = identity {
                state = state.with_identity(p);
            }
            if s.integrations.payment.base_url.trim().is_empty() {
                println!(
                    "online payment of fees: off (no integrations.payment.base_url; counter payments only)"
                );
            } else {
                println!(
                    "online payment of fees: national payment platform {:?}",
                    s.integrations.payment
                );
                state = state.with_payment(
                    motcua_web::payment::Platform::new(s.integrations.payment.clone())
                        .map_err(anyhow::Error::msg)?,
                );
            }
            // Online dossiers filed on the national portal, pulled beside the requests.
            let intake = s.integrations.intake();
            let poller = if intake.enabled && !intake.base_url.is_empty() {
                println!("intake from the national portal: {intake:?}");
                Some(
                    motcua_web::intake::spawn_poller(state.clone(), intake)
                        .map_err(anyhow::Error::msg)?,
                )
            } else {
                println!(
                    "intake from the national portal: off ([integrations.dvcqg_intake] enabled = false or no portal address)"
                );
                None
            };
            motcua_web::serve(listener, state).await?;
            if let Some(p) = poller {
                p.abort();
            }
            if let Some(d) = dispatcher {
                d.stop().await;
            }
        }
    }
    Ok(())
}

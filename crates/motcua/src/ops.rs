//! Operator commands for the outside systems: `motcua outbox ...`, `motcua reconcile`,
//! `motcua sandbox ...`.

use crate::integrations::IntegrationSettings;
use anyhow::Context;
use chrono::NaiveDate;
use clap::Subcommand;
use motcua_integrations::reconcile::{RemoteCounts, local_day, reconcile};
use motcua_integrations::sandbox::emc::{EmcFaults, EmcSandbox};
use motcua_integrations::sandbox::population::{PopulationFaults, PopulationSandbox};
use motcua_integrations::sandbox::sms::{SmsFaults, SmsSandbox};
use motcua_integrations::sandbox::vnpost::{VnpostFaults, VnpostSandbox};
use motcua_integrations::sandbox::zalo::{ZaloFaults, ZaloSandbox};
use motcua_integrations::sandbox::{Faults, InboundFaults, InboundPaths, SandboxHandle};
use motcua_store::{OutboxEntry, OutboxQuery, OutboxStatus, Store};

/// `motcua outbox ...`
#[derive(Subcommand, Clone)]
pub enum OutboxCmd {
    /// Messages, oldest first.
    List {
        /// pending, done or dead.
        #[arg(long)]
        status: Option<String>,
        /// Only this target (e.g. dvcqg.sync).
        #[arg(long)]
        topic: Option<String>,
        /// Only ids after this one.
        #[arg(long)]
        after: Option<i64>,
        /// At most this many (up to 1,000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Dead letters, with their last error.
    Dead {
        /// Only this target.
        #[arg(long)]
        topic: Option<String>,
    },
    /// Sends one dead letter back to the queue.
    Retry {
        /// Message id.
        id: i64,
    },
    /// Sends every dead letter (of one target) back to the queue.
    RetryAll {
        /// Only this target.
        #[arg(long)]
        topic: Option<String>,
    },
    /// Each target's queue: pending, dead, age of the oldest message, and whether it is held.
    Queues,
    /// Holds the deliveries to one target (decision 0053): no node claims its messages until
    /// `motcua outbox release`; they wait in order, their attempts untouched.
    Hold {
        /// The target: dvcqg.sync, emc.tracking, email, sms, zalo or vnpost.order.
        topic: String,
        /// Why, shown to every operator (e.g. the portal's announced maintenance window).
        #[arg(long)]
        reason: String,
    },
    /// Lifts the hold on one target: its messages go again, oldest first.
    Release {
        /// The target.
        topic: String,
    },
    /// The held targets: who held each, since when and why.
    Holds,
    /// Deletes delivered messages acknowledged more than `--older-than-days` days ago
    /// (pending and dead ones stay; the per-day counts of `motcua reconcile` stay).
    Prune {
        /// Age in days of the acknowledgement (default 30; 0 deletes every delivered message).
        #[arg(long, default_value_t = 30)]
        older_than_days: u32,
    },
}

fn line(e: &OutboxEntry) -> String {
    format!(
        "{:>8} {:<7} {:<18} {:<40} attempts={} created={}{}",
        e.id,
        e.status.as_str(),
        e.topic,
        e.key,
        e.attempts,
        e.created_at.format("%Y-%m-%d %H:%M:%S"),
        e.last_error
            .as_ref()
            .map(|l| format!(" last_error={l:?}"))
            .unwrap_or_default()
    )
}

fn hold_line(h: &motcua_store::OutboxHold) -> String {
    format!(
        "{:<18} by={} since={} reason={:?}",
        h.topic,
        h.by,
        h.at.format("%Y-%m-%d %H:%M:%S UTC"),
        h.reason
    )
}

/// The operator at the command line, as the audit trail names them.
fn cli_operator() -> String {
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "operator".into());
    format!("cli:{user}")
}

async fn cli_audit(store: &Store, by: &str, action: &str, detail: String) -> anyhow::Result<()> {
    store
        .append_audit(motcua_store::AuditEntry {
            at: chrono::Utc::now(),
            user_id: None,
            username: by.to_string(),
            action: action.into(),
            dossier_id: None,
            detail,
        })
        .await?;
    Ok(())
}

/// Runs an outbox command; the exit code is 1 when a retry found nothing to retry, a hold
/// found the target held already, or a release found it not held.
pub async fn outbox(store: &Store, cmd: OutboxCmd) -> anyhow::Result<i32> {
    match cmd {
        OutboxCmd::List {
            status,
            topic,
            after,
            limit,
        } => {
            let status = status
                .map(|s| {
                    OutboxStatus::parse(&s)
                        .with_context(|| format!("status `{s}`: use pending, done or dead"))
                })
                .transpose()?;
            let items = store
                .outbox_list(OutboxQuery {
                    status,
                    topic,
                    after_id: after,
                    limit: Some(limit),
                })
                .await?;
            for e in &items {
                println!("{}", line(e));
            }
            println!("{} messages", items.len());
        }
        OutboxCmd::Dead { topic } => {
            let mut after = None;
            let mut n = 0;
            loop {
                let items = store
                    .outbox_list(OutboxQuery {
                        status: Some(OutboxStatus::Dead),
                        topic: topic.clone(),
                        after_id: after,
                        limit: Some(1_000),
                    })
                    .await?;
                for e in &items {
                    println!("{}", line(e));
                }
                n += items.len();
                match items.last() {
                    Some(l) if items.len() == 1_000 => after = Some(l.id),
                    _ => break,
                }
            }
            println!("{n} dead letters");
        }
        OutboxCmd::Retry { id } => {
            let n = store
                .outbox_retry(Some(id), None, chrono::Utc::now())
                .await?;
            if n == 0 {
                eprintln!("message {id} is not a dead letter (or does not exist)");
                return Ok(1);
            }
            println!("message {id} is pending again");
        }
        OutboxCmd::RetryAll { topic } => {
            let n = store.outbox_retry(None, topic, chrono::Utc::now()).await?;
            println!("{n} dead letters are pending again");
        }
        OutboxCmd::Queues => {
            let now = chrono::Utc::now();
            let holds = store.outbox_holds().await?;
            for d in store.outbox_depths().await? {
                println!(
                    "{:<18} pending={} dead={} oldest_age={}s{}",
                    d.topic,
                    d.pending,
                    d.dead,
                    d.oldest_at.map_or(0, |o| (now - o).num_seconds().max(0)),
                    if holds.iter().any(|h| h.topic == d.topic) {
                        " HELD"
                    } else {
                        ""
                    }
                );
            }
        }
        OutboxCmd::Hold { topic, reason } => {
            motcua_store::holds::check(&topic, &reason).map_err(|m| anyhow::anyhow!(m))?;
            let by = cli_operator();
            let (h, placed) = store
                .outbox_hold(motcua_store::OutboxHold {
                    topic,
                    by: by.clone(),
                    at: chrono::Utc::now(),
                    reason,
                })
                .await?;
            if !placed {
                println!("{} was held already: {}", h.topic, hold_line(&h));
                return Ok(1);
            }
            cli_audit(
                store,
                &by,
                "outbox_hold",
                format!("{}: {}", h.topic, h.reason),
            )
            .await?;
            println!("held: {}", hold_line(&h));
        }
        OutboxCmd::Release { topic } => {
            let Some(h) = store.outbox_release(&topic).await? else {
                eprintln!("{topic} is not held");
                return Ok(1);
            };
            let detail = format!("{} (held by {} since {})", h.topic, h.by, h.at);
            cli_audit(store, &cli_operator(), "outbox_release", detail).await?;
            println!("released: {}", h.topic);
        }
        OutboxCmd::Holds => {
            let holds = store.outbox_holds().await?;
            for h in &holds {
                println!("{}", hold_line(h));
            }
            println!("{} held", holds.len());
        }
        OutboxCmd::Prune { older_than_days } => {
            let n = motcua_integrations::dispatcher::prune_once(store, older_than_days).await?;
            println!(
                "{n} delivered messages deleted (acknowledged over {older_than_days} days ago)"
            );
        }
    }
    Ok(0)
}

/// `motcua reconcile`: prints one line per target and day; exit code 1 if anything is
/// unexplained.
pub async fn run_reconcile(
    store: &Store,
    s: &IntegrationSettings,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> anyhow::Result<i32> {
    let today = local_day(chrono::Utc::now());
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to);
    anyhow::ensure!(from <= to, "--from must not be after --to");
    let remote = RemoteCounts::new(&s.dvcqg).with_emc(&s.emc);
    let lines = reconcile(store, &remote, from, to).await?;
    let mut bad = 0;
    println!(
        "{:<10} {:<18} {:>8} {:>8} {:>8} {:>6} {:>8} {:>7} {:>6} {:>8} {:>7} {:>11}",
        "day",
        "target",
        "created",
        "done",
        "pending",
        "dead",
        "acked",
        "failed",
        "died",
        "retried",
        "remote",
        "unexplained"
    );
    for l in &lines {
        let o = &l.ours;
        println!(
            "{:<10} {:<18} {:>8} {:>8} {:>8} {:>6} {:>8} {:>7} {:>6} {:>8} {:>7} {:>11}",
            o.day,
            o.topic,
            o.created,
            o.created_done,
            o.created_pending,
            o.created_dead,
            o.acked,
            o.failed,
            o.dead_lettered,
            o.retried,
            l.remote_accepted.map_or("-".into(), |r| r.to_string()),
            l.unexplained
        );
        bad += l.unexplained;
    }
    println!(
        "reconciled {} target-days from {from} to {to}: {bad} unexplained differences",
        lines.len()
    );
    Ok(if bad == 0 { 0 } else { 1 })
}

/// `motcua reconcile payments [--day]`: per method, payments recorded paid that day against
/// the fees recorded in the dossiers' histories, and every difference; exit code 1 if any.
pub async fn reconcile_payments(store: &Store, day: Option<NaiveDate>) -> anyhow::Result<i32> {
    let day = day.unwrap_or_else(|| local_day(chrono::Utc::now()));
    let r = motcua_web::payment::reconcile(store, day).await?;
    println!(
        "{:<10} {:<9} {:>8} {:>16} {:>8} {:>16}",
        "day", "method", "paid", "amount", "in logs", "amount"
    );
    for m in motcua_domain::payment::PaymentMethod::ALL {
        let p = r.payments.iter().find(|t| t.method == m);
        let e = r.events.iter().find(|t| t.method == m);
        if p.is_none() && e.is_none() {
            continue;
        }
        println!(
            "{:<10} {:<9} {:>8} {:>16} {:>8} {:>16}",
            day,
            m.as_str(),
            p.map_or(0, |t| t.count),
            p.map_or(0, |t| t.amount_vnd),
            e.map_or(0, |t| t.count),
            e.map_or(0, |t| t.amount_vnd)
        );
    }
    for d in &r.differences {
        println!(
            "DIFFERENCE {} dossier {}: {}",
            d.reference, d.dossier_id, d.what
        );
    }
    println!(
        "reconciled payments of {day}: {} differences",
        r.differences.len()
    );
    Ok(if r.differences.is_empty() { 0 } else { 1 })
}

/// `motcua sandbox ...`
#[derive(Subcommand, Clone)]
pub enum SandboxCmd {
    /// A local national public service portal (dossier sync protocol), until ctrl-c.
    Dvcqg {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// Answer every request this many milliseconds late.
        #[arg(long, default_value_t = 0)]
        slow_ms: u64,
        /// Percentage of requests answered with HTTP 500.
        #[arg(long, default_value_t = 0)]
        fail_5xx: u8,
        /// Percentage of requests answered with a malformed body (after doing the work).
        #[arg(long, default_value_t = 0)]
        malformed: u8,
        /// Percentage of requests refused as invalid (their messages become dead letters).
        #[arg(long, default_value_t = 0)]
        reject: u8,
        /// Start down (503) until `POST /_sandbox/faults` brings it up.
        #[arg(long)]
        down: bool,
        /// Inbound side: percentage of list calls answered with a malformed list.
        #[arg(long, default_value_t = 0)]
        malformed_list: u8,
        /// Inbound side: list every waiting dossier twice.
        #[arg(long)]
        duplicates: bool,
        /// Inbound side: percentage of acknowledgements failing (HTTP 500).
        #[arg(long, default_value_t = 0)]
        ack_fail: u8,
        /// Inbound side: percentage of file downloads failing (HTTP 503).
        #[arg(long, default_value_t = 0)]
        file_fail: u8,
    },
    /// A local EMC (`TrackingMCDT`), counting calls per day, until ctrl-c.
    Emc {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8094")]
        listen: std::net::SocketAddr,
        /// Percentage of calls answered with HTTP 500.
        #[arg(long, default_value_t = 0)]
        fail_5xx: u8,
        /// Start down (503).
        #[arg(long)]
        down: bool,
    },
    /// A local SMS gateway (the generic HTTP protocol of docs/integrations.md), until ctrl-c.
    Sms {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8091")]
        listen: std::net::SocketAddr,
        /// The shared secret it expects in `X-Motcua-Secret`.
        #[arg(long, default_value = "sandbox-secret")]
        secret: String,
        /// Percentage of messages answered with HTTP 500.
        #[arg(long, default_value_t = 0)]
        fail_5xx: u8,
        /// Start down (503) until `POST /_sandbox/faults` brings it up.
        #[arg(long)]
        down: bool,
    },
    /// A local national population-database lookup (synthetic citizens), until ctrl-c.
    Dancu {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8093")]
        listen: std::net::SocketAddr,
        /// The bearer token it expects.
        #[arg(long, default_value = "sandbox-token")]
        token: String,
        /// Answer every lookup this many milliseconds late.
        #[arg(long, default_value_t = 0)]
        slow_ms: u64,
        /// Percentage of lookups answered with HTTP 500.
        #[arg(long, default_value_t = 0)]
        fail_5xx: u8,
        /// Percentage of lookups answered with a malformed document.
        #[arg(long, default_value_t = 0)]
        malformed: u8,
        /// Start down (503) until `POST /_sandbox/faults` brings it up.
        #[arg(long)]
        down: bool,
    },
    /// A local national payment platform (INIT, pay page, callbacks, status, e-receipt),
    /// until ctrl-c.
    Thanhtoan {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8095")]
        listen: std::net::SocketAddr,
        /// Our partner code (`MaDoiTac`).
        #[arg(long, default_value = "MOTCUA")]
        partner: String,
        /// The shared secret of `MaXacThuc`.
        #[arg(long, default_value = "sandbox-secret")]
        secret: String,
        /// Answer every API call this many milliseconds late.
        #[arg(long, default_value_t = 0)]
        slow_ms: u64,
        /// Percentage of API calls answered with HTTP 500.
        #[arg(long, default_value_t = 0)]
        fail_5xx: u8,
        /// Percentage of API calls answered with a malformed body.
        #[arg(long, default_value_t = 0)]
        malformed: u8,
        /// Send every callback twice.
        #[arg(long)]
        duplicates: bool,
        /// Send a stale "failed" callback after each "paid" one.
        #[arg(long)]
        out_of_order: bool,
        /// Start down (503) until `POST /_sandbox/faults` brings it up.
        #[arg(long)]
        down: bool,
    },
    /// A local Zalo ZNS endpoint (`POST /message/template`, as Zalo's), until ctrl-c.
    Zalo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8092")]
        listen: std::net::SocketAddr,
        /// The OA access token it expects in the `access_token` header.
        #[arg(long, default_value = "sandbox-token")]
        token: String,
        /// Percentage of requests answered with HTTP 500.
        #[arg(long, default_value_t = 0)]
        fail_5xx: u8,
        /// Percentage of requests answered with Zalo's `error` -1 (unknown error).
        #[arg(long, default_value_t = 0)]
        unknown_error: u8,
        /// Start down (503) until `POST /_sandbox/faults` brings it up.
        #[arg(long)]
        down: bool,
    },
    /// A local post (VNPost through the LGSP): accepts orders, issues item codes and walks
    /// each order through its statuses, calling motcua's status callback; until ctrl-c.
    Buudien {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8096")]
        listen: std::net::SocketAddr,
        /// The shared secret (orders and callbacks are signed with it).
        #[arg(
            long,
            env = "MOTCUA_VNPOST_SECRET",
            hide_env_values = true,
            default_value = "sandbox-secret"
        )]
        secret: String,
        /// motcua's status callback (empty: orders are not walked).
        #[arg(
            long,
            default_value = "http://127.0.0.1:8080/api/v1/integrations/vnpost/status"
        )]
        callback: String,
        /// Pause between two statuses of an order, in milliseconds.
        #[arg(long, default_value_t = 3_000)]
        step_ms: u64,
        /// Answer every order this many milliseconds late.
        #[arg(long, default_value_t = 0)]
        slow_ms: u64,
        /// Percentage of orders answered with HTTP 500.
        #[arg(long, default_value_t = 0)]
        fail_5xx: u8,
        /// Percentage of orders answered with something that is not RespondLGSP.
        #[arg(long, default_value_t = 0)]
        malformed: u8,
        /// Percentage of new orders answered "already exists" (the order is kept).
        #[arg(long, default_value_t = 0)]
        exists: u8,
        /// Send every status callback twice.
        #[arg(long)]
        duplicate_callbacks: bool,
        /// Send consecutive statuses in the wrong order (their times stay true).
        #[arg(long)]
        out_of_order: bool,
        /// Start down (503) until `POST /_sandbox/faults` brings it up.
        #[arg(long)]
        down: bool,
    },
}

/// Waits for `server` to end or for ctrl-c or SIGTERM, whichever comes first.
async fn until_stopped(server: impl std::future::Future<Output = ()>) {
    tokio::select! {
        _ = server => {}
        _ = motcua_web::shutdown_signal() => {}
    }
}

/// Runs a sandbox until ctrl-c.
pub async fn sandbox(cmd: SandboxCmd, s: &IntegrationSettings) -> anyhow::Result<()> {
    match cmd {
        SandboxCmd::Dvcqg {
            listen,
            slow_ms,
            fail_5xx,
            malformed,
            reject,
            down,
            malformed_list,
            duplicates,
            ack_fail,
            file_fail,
        } => {
            anyhow::ensure!(
                [
                    fail_5xx,
                    malformed,
                    reject,
                    malformed_list,
                    ack_fail,
                    file_fail
                ]
                .iter()
                .all(|p| *p <= 100),
                "percentages are 0-100"
            );
            let paths = InboundPaths {
                list: s.dvcqg_intake.list_path.clone(),
                ack: s.dvcqg_intake.ack_path.clone(),
            };
            let h = SandboxHandle::start_with(listen, s.dvcqg.clone(), paths.clone())
                .await
                .with_context(|| format!("listening on {listen}"))?;
            h.set_inbound_faults(InboundFaults {
                malformed_list_percent: malformed_list,
                duplicates,
                ack_fail_percent: ack_fail,
                file_fail_percent: file_fail,
            });
            h.set_faults(Faults {
                down,
                slow_ms,
                fail_5xx_percent: fail_5xx,
                malformed_percent: malformed,
                reject_percent: reject,
            });
            let a = h.adapter_settings();
            println!("sandbox national portal at {}", a.base_url);
            println!(
                "  inbound:  file a dossier at {}/_sandbox/nop-ho-so (or POST /_sandbox/inbound); POST {} | {}; GET /_sandbox/inbound; POST /_sandbox/inbound/faults",
                a.base_url, paths.list, paths.ack
            );
            println!(
                "  protocol: POST {} | {} | {}",
                s.dvcqg.create_path, s.dvcqg.update_path, s.dvcqg.steps_path
            );
            println!(
                "  inspect:  GET /_sandbox/state, /_sandbox/dossiers/{{MaHoSo}}, /_sandbox/stats?day=YYYY-MM-DD"
            );
            println!(
                "  faults:   POST /_sandbox/faults {{\"down\":true,\"slow_ms\":0,\"fail_5xx_percent\":0,\"malformed_percent\":0,\"reject_percent\":0}}"
            );
            println!(
                "  point motcua at it: MOTCUA_DVCQG_URL={} (stats_url {})",
                a.base_url, a.stats_url
            );
            until_stopped(h.wait()).await;
            let sum = h.summary();
            println!(
                "sandbox stopped: {} requests, {} dossiers, {} steps, {} duplicates, {} out of order",
                sum.requests, sum.dossiers, sum.steps, sum.duplicates, sum.out_of_order
            );
        }
        SandboxCmd::Emc {
            listen,
            fail_5xx,
            down,
        } => {
            anyhow::ensure!(fail_5xx <= 100, "percentages are 0-100");
            let mut h = EmcSandbox::start(listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            h.set_faults(EmcFaults {
                down,
                fail_5xx_percent: fail_5xx,
            });
            let c = h.client_settings("sandbox");
            println!("sandbox EMC at {}", c.url);
            println!("  inspect:  GET /_sandbox/state, /_sandbox/stats?day=YYYY-MM-DD");
            println!("  faults:   POST /_sandbox/faults {{\"down\":true,\"fail_5xx_percent\":0}}");
            println!(
                "  point motcua at it: MOTCUA_EMC_URL={} and [integrations.emc] site_id, ok_field = \"status\", ok_values = [\"200\"], stats_url = \"{}\"",
                c.url, c.stats_url
            );
            until_stopped(h.wait()).await;
            let st = h.state();
            println!(
                "sandbox stopped: {} requests, {} calls, {} duplicates, {} injected failures",
                st.requests,
                st.calls.len(),
                st.duplicates,
                st.injected
            );
        }
        SandboxCmd::Sms {
            listen,
            secret,
            fail_5xx,
            down,
        } => {
            anyhow::ensure!(fail_5xx <= 100, "percentages are 0-100");
            let mut h = SmsSandbox::start(listen, &secret)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            h.set_faults(SmsFaults {
                down,
                fail_5xx_percent: fail_5xx,
            });
            let c = h.client_settings();
            println!("sandbox SMS gateway at {}", c.url);
            println!("  protocol: POST {{to, text, id}} with X-Motcua-Secret");
            println!("  inspect:  GET /_sandbox/messages");
            println!("  faults:   POST /_sandbox/faults {{\"down\":true,\"fail_5xx_percent\":0}}");
            println!(
                "  point motcua at it: MOTCUA_SMS_URL={} MOTCUA_SMS_SECRET=<the secret>",
                c.url
            );
            until_stopped(h.wait()).await;
            let st = h.state();
            println!(
                "sandbox stopped: {} requests, {} messages, {} duplicates, {} injected failures",
                st.requests,
                st.messages.len(),
                st.duplicates,
                st.injected
            );
        }
        SandboxCmd::Dancu {
            listen,
            token,
            slow_ms,
            fail_5xx,
            malformed,
            down,
        } => {
            anyhow::ensure!(fail_5xx <= 100 && malformed <= 100, "percentages are 0-100");
            let mut h = PopulationSandbox::start(listen, &token)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            h.set_faults(PopulationFaults {
                down,
                slow_ms,
                fail_5xx_percent: fail_5xx,
                malformed_percent: malformed,
            });
            println!("sandbox population-database lookup at {}", h.url());
            println!(
                "  protocol: POST {{\"SoDinhDanh\": ...}} with Authorization: Bearer <token>; XML answer"
            );
            for c in motcua_integrations::sandbox::population::samples() {
                println!(
                    "  knows {} {} {} {}",
                    c.so_dinh_danh, c.ho, c.chu_dem, c.ten
                );
            }
            println!("  inspect:  GET /_sandbox/requests; faults: POST /_sandbox/faults");
            println!(
                "  point motcua at it: MOTCUA_IDENTITY_URL={} MOTCUA_IDENTITY_TOKEN=<the token>",
                h.url()
            );
            until_stopped(h.wait()).await;
            let st = h.state();
            println!(
                "sandbox stopped: {} lookups, {} injected failures",
                st.requests, st.injected
            );
        }
        SandboxCmd::Thanhtoan {
            listen,
            partner,
            secret,
            slow_ms,
            fail_5xx,
            malformed,
            duplicates,
            out_of_order,
            down,
        } => {
            use motcua_integrations::sandbox::payment::{PaymentFaults, PaymentSandbox};
            anyhow::ensure!(fail_5xx <= 100 && malformed <= 100, "percentages are 0-100");
            let mut h = PaymentSandbox::start(listen, &partner, &secret)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            h.set_faults(PaymentFaults {
                down,
                slow_ms,
                fail_5xx_percent: fail_5xx,
                malformed_percent: malformed,
                duplicate_callbacks: duplicates,
                out_of_order,
            });
            println!("sandbox national payment platform at {}", h.url());
            println!(
                "  protocol: POST /thanhtoan/init, pay page /thanhtoan/pay/<MaThamChieu>, POST /thanhtoan/status, POST /thanhtoan/receipt (MaXacThuc = SHA-256 of |-joined fields and the secret)"
            );
            println!("  inspect:  GET /_sandbox/state; faults: POST /_sandbox/faults");
            println!(
                "  point motcua at it: MOTCUA_PAYMENT_URL={} MOTCUA_PAYMENT_SECRET=<the secret>, integrations.payment.partner_code = \"{partner}\"",
                h.url()
            );
            until_stopped(h.wait()).await;
            let st = h.state();
            println!(
                "sandbox stopped: {} payments started, {} callbacks sent, {} status queries, {} receipts, {} refused, {} injected failures",
                st.inits,
                st.callbacks_sent,
                st.status_queries,
                st.receipts,
                st.refused,
                st.injected
            );
        }
        SandboxCmd::Zalo {
            listen,
            token,
            fail_5xx,
            unknown_error,
            down,
        } => {
            anyhow::ensure!(
                fail_5xx <= 100 && unknown_error <= 100,
                "percentages are 0-100"
            );
            let mut h = ZaloSandbox::start(listen, &token)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            h.set_faults(ZaloFaults {
                down,
                fail_5xx_percent: fail_5xx,
                unknown_error_percent: unknown_error,
            });
            let c = h.client_settings();
            println!("sandbox Zalo ZNS endpoint at {}", c.url);
            println!(
                "  protocol: POST {{phone, template_id, template_data, tracking_id}} with header access_token"
            );
            println!("  numbers ending in 0000 have no Zalo account (error -118)");
            println!("  inspect:  GET /_sandbox/messages");
            println!(
                "  faults:   POST /_sandbox/faults {{\"down\":true,\"fail_5xx_percent\":0,\"unknown_error_percent\":0}}"
            );
            println!(
                "  point motcua at it: MOTCUA_ZALO_URL={} MOTCUA_ZALO_ACCESS_TOKEN=<the token>, and a default_template",
                c.url
            );
            let r = h.refreshing_settings();
            println!(
                "  or let motcua refresh its token here: [integrations.zalo] app_id = \"{}\", oauth_url = \"{}\", with MOTCUA_ZALO_SECRET_KEY={} MOTCUA_ZALO_REFRESH_TOKEN={} (single-use refresh tokens; POST /_sandbox/expire expires every access token)",
                r.app_id, r.oauth_url, r.secret_key, r.refresh_token
            );
            until_stopped(h.wait()).await;
            let st = h.state();
            println!(
                "sandbox stopped: {} requests, {} messages, {} duplicates, {} injected failures, {} token refreshes",
                st.requests,
                st.messages.len(),
                st.duplicates,
                st.injected,
                st.refreshes
            );
        }
        SandboxCmd::Buudien {
            listen,
            secret,
            callback,
            step_ms,
            slow_ms,
            fail_5xx,
            malformed,
            exists,
            duplicate_callbacks,
            out_of_order,
            down,
        } => {
            anyhow::ensure!(
                fail_5xx <= 100 && malformed <= 100 && exists <= 100,
                "percentages are 0-100"
            );
            let callback = Some(callback).filter(|c| !c.trim().is_empty());
            let mut h = VnpostSandbox::start(listen, &secret, callback.clone())
                .await
                .with_context(|| format!("listening on {listen}"))?;
            h.set_faults(VnpostFaults {
                down,
                slow_ms,
                fail_5xx_percent: fail_5xx,
                malformed_percent: malformed,
                exists_percent: exists,
                duplicate_callbacks,
                out_of_order,
                step_ms,
                no_walk: false,
            });
            let c = h.client_settings();
            println!(
                "sandbox post (VNPost/LGSP) at {}{}",
                c.base_url, c.order_path
            );
            println!(
                "  protocol: POST an order (CustomerCode {}, OrderNumber, Sender*/Receiver*, ...) signed in {}; answer RespondLGSP {{Status, Message}}",
                c.customer_code, c.signature_header
            );
            match &callback {
                Some(url) => println!("  walks each order through its statuses, calling {url}"),
                None => println!("  no callback: orders stay registered"),
            }
            println!("  inspect:  GET /_sandbox/orders; faults: POST /_sandbox/faults");
            println!(
                "  point motcua at it: MOTCUA_VNPOST_URL={} MOTCUA_VNPOST_SECRET=<the secret>, integrations.vnpost.customer_code = \"{}\"",
                c.base_url, c.customer_code
            );
            until_stopped(h.wait()).await;
            let st = h.state();
            println!(
                "sandbox stopped: {} requests, {} orders, {} duplicates, {} injected failures, {} callbacks",
                st.requests,
                st.orders.len(),
                st.duplicates,
                st.injected,
                st.callbacks.len()
            );
        }
    }
    Ok(())
}

//! `outbox`: dispatcher throughput. Starts the sandbox national portal and the outbox
//! dispatcher in this process over an existing database (build its backlog with `fill`: each
//! counter dossier leaves one `dvcqg.sync` message), and measures how fast the backlog drains:
//! `outbox ops=N secs=S rate=R/s`. The sandbox shares the machine's cores with the dispatcher
//! and the database.

use motcua_integrations::dispatcher::DispatcherSettings;
use motcua_integrations::dvcqg::{Dvcqg, DvcqgSettings, TOPIC};
use motcua_integrations::policy::RetryPolicy;
use motcua_integrations::sandbox::SandboxHandle;
use motcua_integrations::{Dispatcher, TargetSettings};
use motcua_store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of the run.
pub struct OutboxArgs {
    pub database_url: String,
    pub concurrency: usize,
    pub batch: u32,
    /// Dossiers per portal request.
    pub portal_batch: usize,
    pub limit: Duration,
}

async fn pending(store: &Store) -> anyhow::Result<u64> {
    Ok(store
        .outbox_depths()
        .await?
        .iter()
        .find(|d| d.topic == TOPIC)
        .map_or(0, |d| d.pending))
}

/// Drains the portal backlog of `a.database_url`; prints and returns the summary line.
pub async fn run(a: &OutboxArgs) -> anyhow::Result<Vec<String>> {
    let store = Store::open(&a.database_url).await?;
    let backlog = pending(&store).await?;
    anyhow::ensure!(
        backlog > 0,
        "no pending {TOPIC} messages: build a backlog with `motcua-bench fill` first"
    );
    let portal = SandboxHandle::start("127.0.0.1:0".parse()?, DvcqgSettings::default()).await?;
    let target = Dvcqg::new(DvcqgSettings {
        batch: a.portal_batch,
        ..portal.adapter_settings()
    })
    .map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let handle = Dispatcher::new(
        store.clone(),
        DispatcherSettings {
            poll_ms: 10,
            batch: a.batch,
            ..DispatcherSettings::default()
        },
    )
    .target(
        Arc::new(target),
        TargetSettings {
            concurrency: a.concurrency,
            retry: RetryPolicy {
                base_ms: 100,
                max_ms: 2_000,
                max_attempts: 100,
            },
            ..TargetSettings::default()
        },
    )
    .spawn();
    let mut last = backlog;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = pending(&store).await?;
        if now != last {
            eprintln!(
                "outbox: {} of {backlog} delivered, {:.0}/s",
                backlog - now,
                (backlog - now) as f64 / started.elapsed().as_secs_f64()
            );
            last = now;
        }
        if now == 0 || started.elapsed() > a.limit {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    handle.stop().await;
    let done = backlog - pending(&store).await?;
    let s = portal.summary();
    let line = format!(
        "outbox ops={done} secs={secs:.1} rate={:.0}/s backlog={backlog} concurrency={} portal_requests={} duplicates={} out_of_order={}",
        done as f64 / secs,
        a.concurrency,
        s.requests,
        s.duplicates,
        s.out_of_order
    );
    println!("{line}");
    Ok(vec![line])
}

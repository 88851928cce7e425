//! `lookup`: anyone checks a dossier's status by its code, without logging in (W3).

use crate::stats::{self, Live, Op};
use crate::{Common, Deadline};
use anyhow::{Context, bail};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// SplitMix64: a tiny, fast generator, one per client.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
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

pub async fn run(c: &Common, codes_file: &Path) -> anyhow::Result<Vec<String>> {
    let codes = Arc::new(read_codes(codes_file)?);
    println!(
        "lookup: {} codes from {}, {} clients for {:?} against {}",
        codes.len(),
        codes_file.display(),
        c.clients,
        c.duration,
        c.base
    );
    let (addr, host) = crate::raw::resolve(&c.base).await?;
    let prefix = Arc::new(format!(
        "{}/api/v1/public/status/",
        crate::submit::url_path(&c.base)
    ));
    let host = Arc::new(host);
    let live = Arc::new(Live::default());
    let deadline = Deadline::new(c.warmup, c.duration);
    let cpu = stats::CpuMeter::start(c.server_pid);
    let (progress, stop) = stats::spawn_progress("lookup", live.clone(), None);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let mut tasks = Vec::with_capacity(c.clients);
    for i in 0..c.clients {
        let (codes, prefix, host, live, deadline) = (
            codes.clone(),
            prefix.clone(),
            host.clone(),
            live.clone(),
            deadline.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut conn = crate::raw::Conn::new(addr);
            let mut rng = Rng(seed ^ ((i as u64 + 1) << 40));
            let mut op = Op::new("lookup");
            let mut path = String::with_capacity(prefix.len() + 48);
            let mut req = Vec::with_capacity(256);
            while !deadline.over() {
                let code = &codes[rng.below(codes.len())];
                path.clear();
                path.push_str(&prefix);
                path.push_str(code);
                req.clear();
                crate::raw::build(&mut req, "GET", &path, &host, None, None);
                let t0 = Instant::now();
                let measured = deadline.measuring(t0);
                match conn.send(&req).await {
                    Ok((200, _)) => {
                        if measured {
                            op.ok(t0.elapsed());
                        }
                        live.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok((st, body)) => {
                        op.err();
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        live.report_error(|| {
                            format!("lookup {code} -> {st}: {}", stats::snippet(body))
                        });
                    }
                    Err(e) => {
                        op.err();
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        live.report_error(|| format!("lookup {code}: {e}"));
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            vec![op]
        }));
    }
    let mut all = Vec::with_capacity(tasks.len());
    for t in tasks {
        all.push(t.await?);
    }
    let secs = deadline.measured_secs();
    stop.store(true, Ordering::Relaxed);
    progress.abort();
    let ops = stats::merge_all(all);
    stats::report(
        &stats::RunInfo {
            mode: "lookup",
            label: c.label.as_deref(),
            target: &c.base,
            clients: c.clients,
            secs,
            cpu: cpu.stop(),
        },
        &ops,
        c.out.as_deref(),
    )
}

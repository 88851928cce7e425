//! Clients in closed loops over raw keep-alive connections: the runner `submit`, `lookup` and
//! `search-http` share. Each client sends a request, waits for its answer, and sends the next.

use crate::stats::{self, Live, Op};
use crate::{Common, Deadline, raw};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Runs `c.clients` clients against `addr` for `c.warmup` then `c.duration`. Client `i` gets
/// its request writer from `writer(i)`: called before each request, it writes the whole
/// request into the (cleared) buffer. An answer with status `expect` is done, anything else an
/// error (the request line and the answer's start are reported). Prints the summary line of
/// `mode` against `target` and returns it.
pub async fn run<W, F>(
    c: &Common,
    addr: SocketAddr,
    mode: &'static str,
    target: &str,
    expect: u16,
    writer: F,
) -> anyhow::Result<Vec<String>>
where
    F: Fn(usize) -> W,
    W: FnMut(&mut Vec<u8>) + Send + 'static,
{
    let live = Arc::new(Live::default());
    let deadline = Deadline::new(c.warmup, c.duration);
    let cpu = stats::CpuMeter::start(c.server_pid);
    let (progress, stop) = stats::spawn_progress(mode, live.clone(), None);
    let mut tasks = Vec::with_capacity(c.clients);
    for i in 0..c.clients {
        let (live, deadline) = (live.clone(), deadline.clone());
        let mut write = writer(i);
        tasks.push(tokio::spawn(async move {
            let mut conn = raw::Conn::new(addr);
            let mut op = Op::new(mode);
            let mut req = Vec::with_capacity(512);
            while !deadline.over() {
                req.clear();
                write(&mut req);
                let t0 = Instant::now();
                let measured = deadline.measuring(t0);
                match conn.send(&req).await {
                    Ok((st, _)) if st == expect => {
                        if measured {
                            op.ok(t0.elapsed());
                        }
                        live.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok((st, body)) => {
                        op.err();
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        live.report_error(|| {
                            format!("{} -> {st}: {}", request_line(&req), stats::snippet(body))
                        });
                    }
                    Err(e) => {
                        op.err();
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        live.report_error(|| format!("{}: {e}", request_line(&req)));
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
            mode,
            label: c.label.as_deref(),
            target,
            clients: c.clients,
            secs,
            cpu: cpu.stop(),
        },
        &ops,
        c.out.as_deref(),
    )
}

/// The first line of a request ("GET /path HTTP/1.1"), for error reports.
fn request_line(req: &[u8]) -> String {
    let end = req.iter().position(|&b| b == b'\r').unwrap_or(req.len());
    String::from_utf8_lossy(&req[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_line_names_the_request() {
        let mut req = Vec::new();
        raw::build(&mut req, "GET", "/a?q=1", "h", None, None);
        assert_eq!(request_line(&req), "GET /a?q=1 HTTP/1.1");
        assert_eq!(request_line(b""), "");
    }
}

//! Local servers that speak outside systems' protocols, with failure injection, for tests,
//! demos (`motcua sandbox ...`) and benchmarks.

pub mod dvcqg;
pub mod emc;
pub mod inbound;
pub mod payment;
pub mod population;
pub mod sms;
pub mod vnpost;
pub mod zalo;

pub use dvcqg::{Faults, InboundPaths, SandboxHandle, Summary};
pub use inbound::{Filed, InboundFaults};

use std::net::SocketAddr;
use tokio::task::JoinHandle;

/// A sandbox's HTTP server: where it listens; it stops when dropped.
pub struct Served {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Served {
    /// Serves `app` on `addr` (port 0: any free port).
    pub async fn start(addr: SocketAddr, app: axum::Router) -> std::io::Result<Served> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Served { addr, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs until the server stops.
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

//! Adapters to the outside for motcua. Every message to an outside system is written to the
//! outbox in the same transaction as the event that causes it (see `motcua-store`); the
//! [`dispatcher`] delivers it at least once, in order per dossier and target, with retries,
//! exponential backoff and jitter, a per-target concurrency limit, a circuit breaker, timeouts,
//! idempotency keys and dead letters. [`dvcqg`] speaks the national public service portal's
//! protocol, and [`sandbox`] is a local server speaking it, with failure injection, for tests,
//! demos and benchmarks. [`email`] sends applicants' e-mails through SMTP and [`sms`] their
//! SMS through a gateway ([`sandbox::sms`] is a local one), [`zalo`] their Zalo notices through ZNS ([`sandbox::zalo`]), with
//! [`zalo_oauth`] keeping the Official Account's access token current. [`emc`] reports dossier events to EMC (`TrackingMCDT`, [`sandbox::emc`]).
//! [`vnpost`] sends orders to the public postal service ([`sandbox::vnpost`]). [`reconcile`] compares what we sent with what targets acknowledged.

pub mod background;
pub mod breaker;
pub mod dispatcher;
pub mod dvcqg;
pub mod email;
pub mod emc;
pub mod pacer;
pub mod policy;
pub mod reconcile;
pub mod sandbox;
pub mod sms;
pub mod target;
pub mod vnpost;
pub mod yielding;
pub mod zalo;
pub mod zalo_oauth;

pub use dispatcher::{Dispatcher, DispatcherSettings, TargetSettings};
pub use target::{DeliveryError, Target};

#[cfg(test)]
mod tests {
    /// Outbound HTTP speaks TLS (rustls): an `https://` address is dialled (here nobody
    /// answers: a connection error), not refused as a scheme the client cannot speak.
    #[tokio::test]
    async fn outbound_http_speaks_tls() {
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap();
        let e = http.get("https://127.0.0.1:9/").send().await.unwrap_err();
        assert!(e.is_connect(), "{e:?}");
        assert!(!e.is_builder(), "{e:?}");
    }
}

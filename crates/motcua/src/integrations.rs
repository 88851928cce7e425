//! Wiring of the outside systems into `motcua serve` and the operator commands: settings, the
//! dispatcher with its targets, and secrets from the environment.

use crate::config::Settings;
use motcua_integrations::dispatcher::DispatcherHandle;
use motcua_integrations::dvcqg::{Dvcqg, DvcqgSettings};
use motcua_integrations::email::Email;
use motcua_integrations::emc::{Emc, EmcSettings};
use motcua_integrations::sms::{HttpSms, SmsTarget};
use motcua_integrations::vnpost::{Vnpost, VnpostSettings};
use motcua_integrations::zalo::{ZaloSettings, Zns};
use motcua_integrations::{Dispatcher, DispatcherSettings, TargetSettings};
use motcua_store::Store;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `[integrations]` in the settings file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntegrationSettings {
    /// The outbox dispatcher.
    pub dispatcher: DispatcherSettings,
    /// The national public service portal (off while its `base_url` is empty).
    pub dvcqg: DvcqgSettings,
    /// Delivery limits for the portal.
    pub dvcqg_delivery: TargetSettings,
    /// Delivery limits for e-mails (the relay's settings are `smtp_url` and `mail_from`).
    pub email_delivery: TargetSettings,
    /// Delivery limits for SMS (the gateway's settings are `sms_url` and `sms_secret`).
    pub sms_delivery: TargetSettings,
    /// Zalo notices through ZNS (off while its `url` is empty).
    pub zalo: ZaloSettings,
    /// Delivery limits for Zalo notices.
    pub zalo_delivery: TargetSettings,
    /// Pulling online dossiers filed on the national portal (off unless `enabled`).
    pub dvcqg_intake: motcua_web::intake::IntakeSettings,
    /// EMC tracking (off while its `url` is empty).
    pub emc: EmcSettings,
    /// Delivery limits for EMC tracking calls.
    pub emc_delivery: TargetSettings,
    /// The national payment platform (online payment off while its `base_url` is empty;
    /// `MOTCUA_PAYMENT_SECRET`, `MOTCUA_PAYMENT_URL`).
    pub payment: motcua_web::payment::PaymentSettings,
    /// Orders to the public postal service (off while its `base_url` is empty; its status
    /// callback is off while its `secret` is).
    pub vnpost: VnpostSettings,
    /// Delivery limits for postal orders.
    pub vnpost_delivery: TargetSettings,
}

impl IntegrationSettings {
    /// Takes secrets and endpoints from the environment: `MOTCUA_DVCQG_TOKEN`,
    /// `MOTCUA_ZALO_ACCESS_TOKEN`, `MOTCUA_ZALO_SECRET_KEY`, `MOTCUA_ZALO_REFRESH_TOKEN` and
    /// `MOTCUA_VNPOST_SECRET` (never put them in a file that others read), `MOTCUA_DVCQG_URL`,
    /// `MOTCUA_DVCQG_STATS_URL`, `MOTCUA_ZALO_URL` and `MOTCUA_VNPOST_URL`.
    pub fn with_env(mut self) -> IntegrationSettings {
        if let Ok(t) = std::env::var("MOTCUA_VNPOST_SECRET")
            && !t.is_empty()
        {
            self.vnpost.secret = t;
        }
        if let Ok(u) = std::env::var("MOTCUA_VNPOST_URL")
            && !u.is_empty()
        {
            self.vnpost.base_url = u;
        }
        if let Ok(t) = std::env::var("MOTCUA_ZALO_ACCESS_TOKEN")
            && !t.is_empty()
        {
            self.zalo.access_token = t;
        }
        if let Ok(t) = std::env::var("MOTCUA_ZALO_SECRET_KEY")
            && !t.is_empty()
        {
            self.zalo.secret_key = t;
        }
        if let Ok(t) = std::env::var("MOTCUA_ZALO_REFRESH_TOKEN")
            && !t.is_empty()
        {
            self.zalo.refresh_token = t;
        }
        if let Ok(u) = std::env::var("MOTCUA_ZALO_URL")
            && !u.is_empty()
        {
            self.zalo.url = u;
        }
        if let Ok(t) = std::env::var("MOTCUA_DVCQG_TOKEN")
            && !t.is_empty()
        {
            self.dvcqg.token = Some(t);
        }
        if let Ok(u) = std::env::var("MOTCUA_DVCQG_URL")
            && !u.is_empty()
        {
            self.dvcqg.base_url = u;
        }
        if let Ok(u) = std::env::var("MOTCUA_DVCQG_STATS_URL")
            && !u.is_empty()
        {
            self.dvcqg.stats_url = u;
        }
        if let Ok(t) = std::env::var("MOTCUA_EMC_TOKEN")
            && !t.is_empty()
        {
            self.emc.token = Some(t);
        }
        if let Ok(u) = std::env::var("MOTCUA_EMC_URL")
            && !u.is_empty()
        {
            self.emc.url = u;
        }
        if let Ok(v) = std::env::var("MOTCUA_DVCQG_INTAKE")
            && !v.is_empty()
        {
            self.dvcqg_intake.enabled = v == "1" || v.eq_ignore_ascii_case("true");
        }
        if let Ok(t) = std::env::var("MOTCUA_PAYMENT_SECRET")
            && !t.is_empty()
        {
            self.payment.secret = t;
        }
        if let Ok(u) = std::env::var("MOTCUA_PAYMENT_URL")
            && !u.is_empty()
        {
            self.payment.base_url = u;
        }
        self
    }

    /// The intake settings in force: the portal's base URL and token where intake has none.
    pub fn intake(&self) -> motcua_web::intake::IntakeSettings {
        let mut i = self.dvcqg_intake.clone();
        if i.base_url.is_empty() {
            i.base_url = self.dvcqg.base_url.clone();
        }
        if i.token.is_none() {
            i.token = self.dvcqg.token.clone();
        }
        i
    }
}

/// Connections of the dispatcher's own pool on PostgreSQL: claims, acknowledgements,
/// failures, gauges and pruning of one node need few at once.
const DISPATCHER_CONNECTIONS: usize = 4;

/// Starts the dispatcher with every configured target: the national portal when its
/// `base_url` is set, e-mail when `smtp_url` is, SMS when `sms_url` is, Zalo when
/// `integrations.zalo.url` is, EMC when `integrations.emc.url` is. `None` when disabled or
/// no target is configured (messages then wait in the outbox, visible to operators).
///
/// It runs on its own runtime of `[integrations.dispatcher] threads` threads, `nice` levels
/// nicer than the caller's (decision 0029), with its own database connections on PostgreSQL
/// ([`Store::with_own_connections`]), so draining a backlog takes only the CPU the requests
/// leave. The handle owns that runtime: dropping it stops the dispatcher.
pub fn start(store: &Store, settings: &Settings) -> anyhow::Result<Option<DispatcherHandle>> {
    let s = &settings.integrations;
    if !s.dispatcher.enabled {
        return Ok(None);
    }
    let store = &store.with_own_connections(DISPATCHER_CONNECTIONS)?;
    // With `yield_to_requests` (off by default), deliveries give way when this server's
    // requests slow down (decision 0038).
    let mut d = Dispatcher::new(store.clone(), s.dispatcher.clone())
        .yielding_to(Arc::new(motcua_web::metrics_layer::served));
    let mut any = false;
    if !s.dvcqg.base_url.is_empty() {
        let target = Dvcqg::new(s.dvcqg.clone()).map_err(anyhow::Error::msg)?;
        d = d.target(Arc::new(target), s.dvcqg_delivery.clone());
        any = true;
    }
    let email = settings.email();
    if !email.smtp_url.is_empty() {
        let target = Email::new(&email).map_err(anyhow::Error::msg)?;
        d = d.target(Arc::new(target), s.email_delivery.clone());
        any = true;
    }
    let sms = settings.sms();
    if !sms.url.is_empty() {
        let target = SmsTarget(HttpSms::new(sms).map_err(anyhow::Error::msg)?);
        d = d.target(Arc::new(target), s.sms_delivery.clone());
        any = true;
    }
    if !s.zalo.url.is_empty() {
        let target = Zns::new(s.zalo.clone())
            .map_err(anyhow::Error::msg)?
            .with_store(store.clone());
        d = d.target(Arc::new(target), s.zalo_delivery.clone());
        any = true;
    }
    if !s.emc.url.is_empty() {
        let target = Emc::new(s.emc.clone()).map_err(anyhow::Error::msg)?;
        d = d.target(Arc::new(target), s.emc_delivery.clone());
        any = true;
    }
    if !s.vnpost.base_url.is_empty() {
        let target = Vnpost::new(s.vnpost.clone()).map_err(anyhow::Error::msg)?;
        d = d.target(Arc::new(target), s.vnpost_delivery.clone());
        any = true;
    }
    if !any {
        return Ok(None);
    }
    let rt = motcua_integrations::background::runtime(
        s.dispatcher.threads,
        s.dispatcher.nice,
        s.dispatcher.idle,
    )
    .map_err(|e| anyhow::anyhow!("starting the outbox dispatcher's runtime: {e}"))?;
    Ok(Some(d.spawn_on(rt.handle()).owning(rt)))
}

/// What the web layer needs for the post's status callbacks: the secret, the signature header
/// and the post's status codes (a code naming no state of ours is an error in the settings).
pub fn postal_callback(
    s: &VnpostSettings,
) -> anyhow::Result<motcua_web::api::postal::PostalCallback> {
    let mut status_codes = std::collections::BTreeMap::new();
    for (code, state) in &s.status_codes {
        let st = motcua_domain::dossier::PostalState::parse(state).ok_or_else(|| {
            anyhow::anyhow!(
                "integrations.vnpost.status_codes.{code}: `{state}` is none of registered, collected, in_transit, delivering, delivered, failed, returned"
            )
        })?;
        status_codes.insert(code.clone(), st);
    }
    Ok(motcua_web::api::postal::PostalCallback {
        secret: s.secret.clone(),
        signature_header: s.signature_header.clone(),
        status_codes,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;
    use figment::Figment;
    use figment::providers::{Format, Serialized, Toml};

    fn parse(toml: &str) -> Result<Settings, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(toml))
            .extract()
            .map_err(Box::new)
    }

    #[test]
    fn settings_from_toml_with_defaults_and_the_secret_redacted() {
        let s = parse(
            "[integrations.dvcqg]\nbase_url = \"http://portal\"\ntoken = \"s3cret-token\"\n\
             [integrations.dvcqg_delivery]\nconcurrency = 4\nretry = { base_ms = 10 }\n",
        )
        .unwrap();
        let i = &s.integrations;
        assert_eq!(i.dvcqg.base_url, "http://portal");
        assert_eq!(i.dvcqg.step_chunk, 10);
        assert_eq!(i.dvcqg_delivery.concurrency, 4);
        assert_eq!(i.dvcqg_delivery.retry.base_ms, 10);
        assert_eq!(i.dvcqg_delivery.retry.max_attempts, 12);
        assert!(i.dispatcher.enabled);
        assert!(
            !format!("{s:?}").contains("s3cret"),
            "the token never shows"
        );
        assert!(parse("[integrations.dvcqg]\nbase_ulr = \"x\"").is_err());
        assert!(
            Settings::default().integrations.dvcqg.base_url.is_empty(),
            "off by default"
        );
        // Intake borrows the portal's address and token unless it has its own.
        let s = parse(
            "[integrations.dvcqg]\nbase_url = \"http://portal\"\ntoken = \"s3cret-token\"\n\
             [integrations.dvcqg_intake]\nenabled = true\npoll_secs = 5\n\
             [integrations.dvcqg_intake.agencies]\n\"G22.99\" = \"000.00.01.H40\"\n\
             [integrations.emc]\nurl = \"http://emc/TrackingMCDT\"\nsite_id = \"lamdong\"\n",
        )
        .unwrap();
        let i = s.integrations.intake();
        assert!(i.enabled);
        assert_eq!(i.base_url, "http://portal");
        assert_eq!(i.token.as_deref(), Some("s3cret-token"));
        assert_eq!(i.poll_secs, 5);
        assert_eq!(i.agencies["G22.99"], "000.00.01.H40");
        assert_eq!(i.list_path, "/HoSo/LayDanhSachHoSo");
        assert_eq!(s.integrations.emc.site_id, "lamdong");
        assert!(!format!("{i:?}").contains("s3cret"));
        assert!(
            !Settings::default().integrations.intake().enabled,
            "intake off by default"
        );
    }

    /// Niceness of this process's threads named `name` (Linux `/proc`).
    #[cfg(target_os = "linux")]
    fn nice_of_threads(name: &str) -> Vec<i32> {
        let mut out = Vec::new();
        for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if comm.trim() != name {
                continue;
            }
            // A thread may end between the two reads (CI once saw it): it no longer counts.
            let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
                continue;
            };
            let Some(end) = stat.rfind(')') else { continue };
            // Fields after the command name: state is field 3, nice field 19.
            let rest = &stat[end + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            out.push(f[16].parse().unwrap());
        }
        out
    }

    /// `serve`'s dispatcher runs on its own threads, `nice` levels nicer than the server's,
    /// and they go when it stops.
    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_dispatcher_runs_on_its_own_nicer_threads() {
        use motcua_integrations::background::{THREAD_NAME, thread_nice};
        use motcua_integrations::dvcqg::DvcqgSettings;
        use motcua_integrations::sandbox::SandboxHandle;
        let store = motcua_store::Store::open("sqlite::memory:").await.unwrap();
        let portal = SandboxHandle::start("127.0.0.1:0".parse().unwrap(), DvcqgSettings::default())
            .await
            .unwrap();
        let mut s = Settings::default();
        s.integrations.dvcqg = portal.adapter_settings();
        s.integrations.dispatcher.threads = 2;
        s.integrations.dispatcher.nice = 5;
        let base = thread_nice().unwrap();
        assert!(
            nice_of_threads(THREAD_NAME).is_empty(),
            "no dispatcher thread before"
        );
        let d = super::start(&store, &s)
            .unwrap()
            .expect("the portal is set");
        // A thread is named when it is created and makes itself nicer a moment later, as it
        // starts: wait until every thread seen has started (or 2 s have passed).
        let want = (base + 5).min(19);
        let mut seen = Vec::new();
        for _ in 0..100 {
            seen = nice_of_threads(THREAD_NAME);
            if seen.len() >= 2 && seen.iter().all(|n| *n == want) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(seen.len() >= 2, "two worker threads: {seen:?}");
        assert!(
            seen.iter().all(|n| *n == want),
            "every dispatcher thread is 5 levels nicer than {base}: {seen:?}"
        );
        assert_eq!(thread_nice().unwrap(), base, "the server's threads are not");
        d.stop().await;
        for _ in 0..100 {
            if nice_of_threads(THREAD_NAME).is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            nice_of_threads(THREAD_NAME).is_empty(),
            "its threads end with it"
        );
        // The defaults: one thread, nice 10.
        let d = Settings::default().integrations.dispatcher;
        assert_eq!((d.threads, d.nice), (1, 10));
        assert!(parse("[integrations.dispatcher]\nthreads = 2\nnice = 15\n").is_ok());
    }

    #[test]
    fn postal_settings_with_the_secret_redacted_and_status_codes_checked() {
        let s = parse(
            "[integrations.vnpost]\nbase_url = \"http://lgsp\"\nsecret = \"buu-dien-s3cret\"\n\
             customer_code = \"C01\"\n[integrations.vnpost.status_codes]\n\"3\" = \"delivered\"\n",
        )
        .unwrap();
        let v = &s.integrations.vnpost;
        assert_eq!(v.base_url, "http://lgsp");
        assert_eq!(v.order_path, "/api/vnpost/order");
        assert!(
            !format!("{s:?}").contains("s3cret"),
            "the secret never shows"
        );
        let cb = super::postal_callback(v).unwrap();
        assert_eq!(
            cb.status_codes["3"],
            motcua_domain::dossier::PostalState::Delivered
        );
        assert!(!format!("{cb:?}").contains("s3cret"));
        let bad = parse("[integrations.vnpost.status_codes]\n\"9\" = \"lost\"\n").unwrap();
        assert!(super::postal_callback(&bad.integrations.vnpost).is_err());
        assert!(parse("[integrations.vnpost]\nbase_ulr = \"x\"").is_err());
        assert!(Settings::default().integrations.vnpost.base_url.is_empty());
    }
}

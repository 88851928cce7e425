//! HTTP for motcua: the JSON API under `/api/v1` (OpenAPI at `/api/openapi.json`), public pages,
//! health and metrics. Handlers call the store and the domain, never SQL.

pub mod api;
pub mod auth;
pub mod authz;
mod cache;
pub mod calendars;
pub mod catalogue;
mod dashboard;
pub mod error;
pub mod export;
mod form_pdf;
mod form_posts;
pub mod forms;
mod forms_page;
pub mod identity;
mod index_page;
pub mod intake;
pub mod metrics_layer;
mod open_data_page;
mod openapi;
mod pages;
pub mod payment;
pub mod population;
mod prefill;
pub mod queue;
pub mod session;
mod staff;
pub mod units;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use motcua_domain::calendar::Calendar;
use motcua_store::Store;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use metrics_layer::prometheus_handle;

/// Public address used when none is configured.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// Largest request body accepted by the API, in bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Working calendars in force (reloaded after edits and every minute).
    calendars: Arc<std::sync::RwLock<Arc<calendars::Calendars>>>,
    /// Token hash -> user, for a few seconds (login checks are on every request).
    pub(crate) tokens: Arc<cache::TtlCache<String, motcua_domain::agency::Actor>>,
    /// Procedure code -> published version, for a few seconds (read on every submission).
    pub(crate) procedures: Arc<cache::TtlCache<String, Arc<motcua_store::ProcedureRecord>>>,
    /// Administrative units for address fields (a few minutes).
    pub(crate) units: Arc<cache::TtlCache<(), Arc<units::Units>>>,
    /// The published catalogue and its search index (built in the background when the server
    /// starts, or by the first request that needs it, whichever comes first).
    catalogue: Arc<std::sync::RwLock<Option<Arc<catalogue::Catalogue>>>>,
    /// Held while the catalogue loads, so concurrent first requests load it once.
    catalogue_loading: Arc<tokio::sync::Mutex<()>>,
    /// Sign-in attempts per client address.
    pub(crate) login_limiter: Arc<session::LoginLimiter>,
    /// Public lookups per client address.
    pub(crate) lookup_limiter: Arc<session::RateLimiter>,
    /// Sign-up attempts per client address.
    pub(crate) signup_limiter: Arc<session::RateLimiter>,
    /// Mark cookies `Secure` even when no proxy says the request came over HTTPS.
    pub(crate) secure_cookies: bool,
    /// Base address the public reaches us at, without a trailing `/` (QR codes, links).
    public_url: Arc<str>,
    /// Uploaded files: the blob store and the size limits.
    pub files: Arc<api::files::Files>,
    /// Queue displays' live signal and the kiosk's per-client limit.
    pub(crate) queue: Arc<queue::Shared>,
    /// Who a personal ID belongs to (the local records by default).
    pub(crate) identity: Arc<dyn identity::IdentityProvider>,
    /// The national payment platform, when configured (online payment off otherwise).
    pub(crate) payment: payment::Shared,
    /// The post's status callbacks (off until a shared secret is configured).
    pub(crate) postal: Option<Arc<api::postal::PostalCallback>>,
    /// Time limits of feedback handling (the Decision 766 rules unless configured).
    feedback_limits: motcua_domain::feedback::FeedbackLimits,
}

impl AppState {
    /// State over a store with the Vietnamese default calendar.
    pub fn new(store: Store) -> AppState {
        let identity: Arc<dyn identity::IdentityProvider> =
            Arc::new(identity::LocalIdentity::new(store.clone()));
        AppState {
            store,
            calendars: Arc::new(std::sync::RwLock::new(Arc::new(
                calendars::Calendars::build(&Calendar::vietnam_default(), Vec::new()),
            ))),
            tokens: Arc::new(cache::TtlCache::new(
                std::time::Duration::from_secs(30),
                100_000,
            )),
            procedures: Arc::new(cache::TtlCache::new(
                std::time::Duration::from_secs(5),
                10_000,
            )),
            units: Arc::new(cache::TtlCache::new(std::time::Duration::from_secs(300), 1)),
            catalogue: Arc::new(std::sync::RwLock::new(None)),
            catalogue_loading: Arc::new(tokio::sync::Mutex::new(())),
            login_limiter: Arc::new(session::LoginLimiter::default()),
            lookup_limiter: Arc::new(session::RateLimiter::new(session::LOOKUPS_PER_WINDOW)),
            signup_limiter: Arc::new(session::RateLimiter::new(10)),
            secure_cookies: false,
            public_url: Arc::from(DEFAULT_PUBLIC_URL),
            files: Arc::new(api::files::Files::memory()),
            queue: Arc::new(queue::Shared::default()),
            identity,
            payment: None,
            postal: None,
            feedback_limits: Default::default(),
        }
    }

    /// Takes online payments through `platform` (the state starts without).
    pub fn with_payment(mut self, platform: payment::Platform) -> AppState {
        self.payment = Some(Arc::new(platform));
        self
    }

    /// Accepts the post's status callbacks signed with `callback.secret` (an empty secret
    /// leaves them off).
    pub fn with_postal(mut self, callback: api::postal::PostalCallback) -> AppState {
        self.postal = (!callback.secret.is_empty()).then(|| Arc::new(callback));
        self
    }

    /// Uses `limits` for feedback deadlines (the state starts with the Decision 766 rules).
    pub fn with_feedback_limits(
        mut self,
        limits: motcua_domain::feedback::FeedbackLimits,
    ) -> AppState {
        self.feedback_limits = limits;
        self
    }

    /// Time limits of feedback handling in force.
    pub fn feedback_limits(&self) -> motcua_domain::feedback::FeedbackLimits {
        self.feedback_limits
    }

    /// Uses `provider` to look personal IDs up (the state starts with the local records).
    pub fn with_identity(mut self, provider: Arc<dyn identity::IdentityProvider>) -> AppState {
        self.identity = provider;
        self
    }

    /// Uses `files` for uploads (the state starts with files kept in memory, for tests; the
    /// server passes the configured blob store).
    pub fn with_files(mut self, files: api::files::Files) -> AppState {
        self.files = Arc::new(files);
        self
    }

    /// Marks session cookies `Secure` (set when the public address is `https://`).
    pub fn with_secure_cookies(mut self, secure: bool) -> AppState {
        self.secure_cookies = secure;
        self
    }

    /// Sets the base address the public reaches us at (a trailing `/` is dropped).
    pub fn with_public_url(mut self, url: impl AsRef<str>) -> AppState {
        self.public_url = Arc::from(url.as_ref().trim_end_matches('/'));
        self
    }

    /// Base address the public reaches us at, without a trailing `/`.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The calendars in force.
    pub fn calendars(&self) -> Arc<calendars::Calendars> {
        match self.calendars.read() {
            Ok(c) => Arc::clone(&c),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// Rebuilds the calendars from the store's settings.
    pub async fn reload_calendars(&self) -> Result<(), motcua_store::StoreError> {
        let stored = self.store.calendar_settings().await?;
        let built = Arc::new(calendars::Calendars::build(
            &Calendar::vietnam_default(),
            stored,
        ));
        match self.calendars.write() {
            Ok(mut c) => *c = built,
            Err(p) => *p.into_inner() = built,
        }
        Ok(())
    }

    /// Forgets every cached session and token of a user, after an administrator disabled the
    /// account, changed its roles or its password: this node sees the change at once (see
    /// docs/decisions/0020-multi-role-accounts.md for other nodes).
    pub fn forget_user(&self, user_id: uuid::Uuid) {
        self.tokens.remove_where(|a| a.user_id == user_id);
    }

    /// The published version of a procedure (cached for a few seconds).
    pub async fn published_procedure(
        &self,
        code: &str,
    ) -> Result<Option<Arc<motcua_store::ProcedureRecord>>, motcua_store::StoreError> {
        if let Some(p) = self.procedures.get(&code.to_string()) {
            return Ok(Some(p));
        }
        let found = self.store.published_procedure(code).await?.map(Arc::new);
        if let Some(p) = &found {
            self.procedures.put(code.to_string(), Arc::clone(p));
        }
        Ok(found)
    }
}

impl AppState {
    /// The administrative units (cached for a few minutes).
    pub async fn units(&self) -> Result<Arc<units::Units>, motcua_store::StoreError> {
        if let Some(u) = self.units.get(&()) {
            return Ok(u);
        }
        let u = Arc::new(units::Units::new(self.store.admin_units().await?));
        self.units.put((), Arc::clone(&u));
        Ok(u)
    }

    /// Checks e-form values against a form (a version's own or the generic one, see
    /// `ProcedureVersion::form_or_generic`): the one server-side path every submission goes through (API, pages, the citizen
    /// portal). On success the values are normalised and limited to the visible fields.
    pub async fn check_form(
        &self,
        def: &motcua_domain::forms::FormDefinition,
        values: &serde_json::Value,
    ) -> Result<
        Result<motcua_domain::forms::Validated, Vec<motcua_domain::forms::FieldError>>,
        motcua_store::StoreError,
    > {
        let units = self.units().await?;
        Ok(motcua_domain::forms::validate(def, values, units.as_ref()))
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    // Install the recorder before the first request records anything.
    let _ = prometheus_handle();
    // Upload routes take files up to their limit; everything else keeps MAX_BODY.
    let upload_limit = state.files.body_limit();
    let api = Router::new()
        .route("/auth/token", post(api::auth::token))
        .route("/me", get(api::auth::me))
        .route("/agencies", get(api::catalogue::agencies))
        .route("/agencies/{code}/staff", get(api::admin::agency_staff))
        .route(
            "/admin/users",
            get(api::admin::list_users).post(api::admin::post_user),
        )
        .route(
            "/admin/users/{id}",
            get(api::admin::get_user).patch(api::admin::patch_user),
        )
        .route(
            "/admin/users/{id}/grants",
            post(api::admin::post_grant).delete(api::admin::delete_grant),
        )
        .route("/admin/users/{id}/disable", post(api::admin::disable))
        .route("/admin/users/{id}/enable", post(api::admin::enable))
        .route("/admin/users/{id}/password", post(api::admin::password))
        .route(
            "/admin/agencies",
            get(api::admin::list_agencies).post(api::admin::post_agency),
        )
        .route(
            "/admin/agencies/{code}",
            axum::routing::patch(api::admin::patch_agency),
        )
        .route("/dossiers/bulk", post(api::bulk::bulk))
        .route(payment::NOTIFY_PATH, post(payment::notify))
        .route("/procedures", get(api::catalogue::procedures))
        .route("/procedures/{code}", get(api::catalogue::procedure))
        .route("/procedures/search", get(api::catalogue::search))
        .route("/procedures/{code}/form", get(api::forms::procedure_form))
        .route(
            "/admin/procedures/{code}/drafts/{version}/form",
            axum::routing::put(api::forms::put_draft_form),
        )
        .route("/procedures/export.csv", get(api::catalogue::export_csv))
        .route("/procedures/export.json", get(api::catalogue::export_json))
        .route(
            "/admin/procedures/{code}/versions",
            get(api::catalogue_admin::versions),
        )
        .route(
            "/admin/procedures/{code}/drafts",
            post(api::catalogue_admin::create_draft),
        )
        .route(
            "/admin/procedures/{code}/drafts/{version}",
            axum::routing::patch(api::catalogue_admin::edit_draft),
        )
        .route(
            "/admin/procedures/{code}/drafts/{version}/diff",
            get(api::catalogue_admin::diff_draft),
        )
        .route(
            "/admin/procedures/{code}/drafts/{version}/publish",
            post(api::catalogue_admin::publish),
        )
        .route(
            "/admin/procedures/{code}/agencies",
            axum::routing::put(api::catalogue_admin::assign_agencies),
        )
        .route(
            "/dossiers",
            post(api::dossiers::submit).get(api::dossiers::list),
        )
        .route("/inbox", get(api::inbox::inbox))
        .route("/dossiers/by-code/{code}", get(api::dossiers::by_code))
        .route("/dossiers/{id}", get(api::dossiers::get_one))
        .route("/dossiers/{id}/history", get(api::dossiers::history))
        .route("/dossiers/{id}/actions/{action}", post(api::dossiers::act))
        .route(
            "/dossiers/{id}/documents/{kind}",
            get(api::documents::document),
        )
        .route(
            "/dossiers/{id}/files",
            post(api::files::attach)
                .layer(DefaultBodyLimit::max(upload_limit))
                .get(api::files::list),
        )
        .route("/dossiers/{id}/files/{key}", get(api::files::download))
        .route(
            "/files",
            post(api::files::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/me/files", get(api::files::my_files))
        .route("/me/files/{key}", get(api::files::my_file))
        .route("/public/status/{code}", get(api::dossiers::public_status))
        .route("/statistics/counters", get(api::stats::counters))
        .route("/reports/form06", get(api::reports::form06))
        .route("/reports/service-index", get(api::service_index::index))
        .route("/open-data/form06", get(api::open_data::form06))
        .route("/calendar", get(api::calendar::show))
        .route(
            "/calendar/settings",
            axum::routing::put(api::calendar::put_settings),
        )
        .route("/integrations/vnpost/status", post(api::postal::status))
        .route("/admin/outbox", get(api::outbox::list))
        .route("/admin/outbox/queues", get(api::outbox::queues))
        .route("/admin/outbox/days", get(api::outbox::days))
        .route("/admin/outbox/retry-all", post(api::outbox::retry_all))
        .route("/admin/outbox/holds", get(api::outbox::holds))
        .route(
            "/admin/outbox/holds/{topic}",
            axum::routing::put(api::outbox::hold).delete(api::outbox::release),
        )
        .route("/admin/outbox/{id}", get(api::outbox::get_one))
        .route("/admin/outbox/{id}/retry", post(api::outbox::retry))
        .route(
            "/feedback",
            post(api::feedback::create).get(api::feedback::agency_list),
        )
        .route("/feedback/mine", get(api::feedback::mine))
        .route("/feedback/{id}", get(api::feedback::get_one))
        .route("/feedback/{id}/classify", post(api::feedback::classify))
        .route(
            "/feedback/{id}/supply-info",
            post(api::feedback::supply_info),
        )
        .route("/feedback/{id}/answer", post(api::feedback::answer))
        .route("/feedback/{id}/publish", post(api::feedback::publish))
        .route("/feedback/{id}/rate", post(api::feedback::rate))
        .route("/feedback/{id}/reraise", post(api::feedback::reraise))
        .route("/public/feedback", get(api::feedback::public_list))
        .route("/queue/{centre}", get(api::queue::centre))
        .route("/queue/{centre}/stats", get(api::queue::stats))
        .route(
            "/queue/{centre}/counters/{number}",
            get(api::queue::counter),
        )
        .route(
            "/queue/{centre}/counters/{number}/actions/{action}",
            post(api::queue::act),
        )
        .fallback(api::not_found);
    let x_request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .nest("/api/v1", api)
        .route("/api/openapi.json", get(openapi::spec))
        .route("/healthz", get(api::health))
        .route("/metrics", get(metrics_layer::render))
        .route("/du-lieu-mo", get(open_data_page::page))
        .route("/bang-dieu-khien", get(dashboard::page))
        .route("/bang-dieu-khien/chi-so", get(index_page::page))
        .route(payment::RETURN_PATH, get(payment::browser_return))
        .route(
            "/can-bo/ho-so/{id}/ket-qua",
            post(staff::upload_result).layer(DefaultBodyLimit::max(
                upload_limit.saturating_mul(staff::MAX_RESULT_FILES),
            )),
        )
        .route(
            "/can-bo/ho-so/{id}/chuyen-buoc",
            post(staff::complete_step).layer(DefaultBodyLimit::max(
                upload_limit.saturating_mul(staff::MAX_RESULT_FILES),
            )),
        )
        .route(
            "/ca-nhan/ho-so/{id}/bo-sung",
            post(staff::supply_supplement).layer(DefaultBodyLimit::max(
                upload_limit.saturating_mul(staff::SUPPLEMENT_MAX_FILES),
            )),
        )
        .merge(staff::routes())
        .merge(forms_page::routes())
        .merge(form_pdf::routes())
        .merge(queue::pages::routes())
        .merge(pages::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(metrics_layer::track))
        .layer(CatchPanicLayer::new())
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .with_state(state)
}

/// Serves until ctrl-c / SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    state
        .reload_calendars()
        .await
        .map_err(std::io::Error::other)?;
    // Other nodes may edit the calendars: pick their edits up within a minute.
    let reloader = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = reloader.reload_calendars().await {
                tracing::warn!(error = %e, "reloading calendars failed");
            }
        }
    });
    // The catalogue and its search index are built now, in the background, rather than by the
    // first visitor's search (11 s for 100,000 procedures, reading them and then indexing;
    // searches meanwhile wait for it). Then imports and other nodes' publications: picked up within two minutes.
    let catalogue = state.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match catalogue.catalogue().await {
            Ok(_) => tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "catalogue and search index ready"
            ),
            Err(e) => tracing::warn!(error = %e, "loading the catalogue failed"),
        }
        let mut tick = tokio::time::interval(catalogue::RELOAD_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = catalogue.reload_catalogue().await {
                tracing::warn!(error = %e, "reloading the catalogue failed");
            }
        }
    });
    // PostgreSQL spreads each statistics counter over shard rows for its writers; once a day is
    // over, its rows are folded into one, so reports over past periods read one row per key
    // (decision 0037). Everything past at start, then the last week's days every half hour.
    if matches!(state.store, motcua_store::Store::Postgres(_)) {
        let store = state.store.clone();
        tokio::spawn(async move {
            let mut since = None;
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(30 * 60));
            loop {
                tick.tick().await;
                let today = motcua_store::outbox::local_day(chrono::Utc::now());
                let before = today - chrono::Days::new(1);
                match store.fold_counters(since, before).await {
                    Ok(n) => {
                        tracing::info!(rows = n, "statistics counter shards folded");
                        since = Some(before - chrono::Days::new(7));
                    }
                    Err(e) => tracing::warn!(error = %e, "folding counter shards failed"),
                }
            }
        });
    }
    // Payments the platform could not confirm: asked about again.
    payment::spawn_retries(state.clone());
    // The peer address keys the kiosk's per-client limit.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

/// Resolves when the process is asked to stop: ctrl-c (SIGINT) or SIGTERM, which systemd,
/// Docker and Kubernetes send. The server then stops taking connections and finishes the
/// requests in flight, and `motcua serve` stops the dispatcher, which acknowledges what it
/// delivered, before the process exits. (Before, SIGTERM ended the process at once: the
/// acknowledgements still lingering were lost and those messages went out again.)
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                return;
            }
            Err(e) => tracing::warn!(
                error = %e,
                "SIGTERM cannot be caught: only ctrl-c stops the server gracefully"
            ),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

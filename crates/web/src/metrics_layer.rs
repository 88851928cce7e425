//! Prometheus metrics: request counts and latencies per route, rendered at `/metrics`.

use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Requests answered by this process so far, and their total time in microseconds.
static SERVED: AtomicU64 = AtomicU64::new(0);
static SERVED_MICROS: AtomicU64 = AtomicU64::new(0);

/// How many requests this process has answered, and their total time in microseconds (until
/// the response starts): what the outbox dispatcher yields to (decision 0038).
///
/// The two are read apart: a reading may be off by the requests finishing meanwhile.
pub fn served() -> (u64, u64) {
    (
        SERVED.load(Ordering::Relaxed),
        SERVED_MICROS.load(Ordering::Relaxed),
    )
}

/// The process-wide Prometheus recorder (installed on first use).
pub fn prometheus_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0, 2.5,
            ])
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may exist in tests that embed us; ours then renders empty.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Records `motcua_http_requests_total` and `motcua_http_request_duration_seconds`.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let res = next.run(req).await;
    let took = start.elapsed();
    SERVED.fetch_add(1, Ordering::Relaxed);
    SERVED_MICROS.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    let status = res.status().as_u16().to_string();
    metrics::counter!("motcua_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("motcua_http_request_duration_seconds", "method" => method, "route" => route)
        .record(took.as_secs_f64());
    res
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "system", responses((status = 200, description = "Prometheus metrics", content_type = "text/plain")))]
pub async fn render() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        prometheus_handle().render(),
    )
}

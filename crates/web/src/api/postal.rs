//! The post's status callback: `POST /api/v1/integrations/vnpost/status`. The post (through
//! the provincial LGSP) reports where an order is; each new status becomes an event in the
//! dossier's history. Authenticated by a shared secret: the header named in the settings
//! (default `X-VNPost-Signature`) carries the HMAC-SHA256 of the raw body in hex (an optional
//! `sha256=` prefix is allowed). This scheme is ours until the LGSP's is confirmed
//! (docs/integrations.md). A forged or unsigned call stores nothing.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDateTime, Utc};
use motcua_domain::dossier::postal::{OrderRef, parse_order_number, postal_actor};
use motcua_domain::dossier::{Command, PostalState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;

/// What the callback needs to know (from `[integrations.vnpost]`).
#[derive(Clone)]
pub struct PostalCallback {
    /// The shared secret (never logged).
    pub secret: String,
    /// Header carrying the signature.
    pub signature_header: String,
    /// The post's status codes and our states (our own state names always work).
    pub status_codes: BTreeMap<String, PostalState>,
}

impl std::fmt::Debug for PostalCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostalCallback")
            .field("secret", &"[redacted]")
            .field("signature_header", &self.signature_header)
            .field("status_codes", &self.status_codes)
            .finish()
    }
}

/// A status report from the post.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct StatusReport {
    /// Our order number (`{dossier code}-TRAKQ`, `{dossier id}-THUGOM`).
    #[serde(rename = "OrderNumber")]
    pub order_number: String,
    /// The tracking number the post issued.
    #[serde(rename = "ItemCode", default)]
    pub item_code: Option<String>,
    /// The post's status code (text or number).
    #[serde(rename = "Status")]
    #[schema(value_type = String)]
    pub status: serde_json::Value,
    /// When it happened: `yyyyMMddHHmmss` in Vietnam's time, or RFC 3339.
    #[serde(rename = "StatusTime")]
    pub status_time: String,
    /// The post's note.
    #[serde(rename = "Note", default)]
    pub note: Option<String>,
}

/// The answer, in the LGSP's style.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusAnswer {
    /// "200".
    #[serde(rename = "Status")]
    pub status: &'static str,
    /// What happened.
    #[serde(rename = "Message")]
    pub message: String,
    /// Whether a new event was written (`false`: a repeat, nothing changed).
    pub recorded: bool,
}

/// Reads the post's time: `yyyyMMddHHmmss` (Vietnam, UTC+7) or RFC 3339.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S")
        .ok()
        .map(|t| (t - chrono::Duration::hours(7)).and_utc())
}

fn signed(cfg: &PostalCallback, headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(sig) = headers
        .get(cfg.signature_header.as_str())
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let sig = sig.trim();
    let sig = sig
        .strip_prefix("sha256=")
        .unwrap_or(sig)
        .to_ascii_lowercase();
    let want = motcua_domain::dossier::postal::hmac_sha256_hex(cfg.secret.as_bytes(), body);
    !cfg.secret.is_empty() && bool::from(sig.as_bytes().ct_eq(want.as_bytes()))
}

/// The post reports an order's status; a new one is written to the dossier's history (a
/// repeat changes nothing; an older status arriving late is recorded at its time without
/// moving the current state back).
#[utoipa::path(post, path = "/api/v1/integrations/vnpost/status", tag = "integrations",
    request_body = StatusReport,
    params(("X-VNPost-Signature" = String, Header, description = "HMAC-SHA256 of the body with the shared secret, hex")),
    responses((status = 200, body = StatusAnswer), (status = 400, body = crate::error::Problem),
        (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn status(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<StatusAnswer>, ApiError> {
    // Without a shared secret nobody can sign: every call is unauthenticated.
    let Some(cfg) = s.postal.as_deref() else {
        return Err(ApiError::unauthorized(
            "the post's callbacks are off: no shared secret is set (MOTCUA_VNPOST_SECRET)",
        ));
    };
    if !signed(cfg, &headers, &body) {
        metrics::counter!("motcua_vnpost_callbacks_total", "outcome" => "forged").increment(1);
        return Err(ApiError::unauthorized(format!(
            "missing or wrong signature in {}",
            cfg.signature_header
        )));
    }
    let r: StatusReport = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            e.to_string(),
        )
    })?;
    let code = r
        .status
        .as_str()
        .map_or_else(|| r.status.to_string(), str::to_string);
    let state = cfg
        .status_codes
        .get(code.trim())
        .copied()
        .or_else(|| PostalState::parse(code.trim()))
        .ok_or_else(|| {
            ApiError::invalid(
                "Status",
                format!("unknown status `{code}` (see integrations.vnpost.status_codes)"),
            )
        })?;
    let at = parse_time(&r.status_time).ok_or_else(|| {
        ApiError::invalid(
            "StatusTime",
            "must be yyyyMMddHHmmss (Vietnam time) or RFC 3339",
        )
    })?;
    let item_code = r
        .item_code
        .as_deref()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty());
    let not_ours =
        || ApiError::not_found(format!("no order {}", r.order_number)).field("OrderNumber");
    let (which, kind) = parse_order_number(&r.order_number).ok_or_else(not_ours)?;
    let dossier = match which {
        OrderRef::Id(id) => s.store.dossier(id).await?,
        OrderRef::Code(c) => s.store.dossier_by_code(&c).await?,
    }
    .ok_or_else(not_ours)?;
    let order = dossier
        .postal_orders
        .iter()
        .rev()
        .find(|o| o.kind == kind && o.order_number.eq_ignore_ascii_case(r.order_number.trim()))
        .ok_or_else(not_ours)?;
    if order.has(state, at) {
        metrics::counter!("motcua_vnpost_callbacks_total", "outcome" => "repeat").increment(1);
        return Ok(Json(StatusAnswer {
            status: "200",
            message: "Đã ghi nhận trước đó (already recorded)".into(),
            recorded: false,
        }));
    }
    let cmd = Command::RecordPostalStatus {
        order_number: order.order_number.clone(),
        item_code,
        state,
        status_code: code,
        happened_at: at,
    };
    let note = r
        .note
        .map(|n| n.trim().chars().take(1000).collect::<String>())
        .filter(|n| !n.is_empty());
    s.store
        .execute(crate::api::dossiers::job(
            &s,
            dossier.id,
            postal_actor(),
            cmd,
            note,
            None,
            None,
        ))
        .await?;
    metrics::counter!("motcua_vnpost_callbacks_total", "outcome" => "recorded").increment(1);
    Ok(Json(StatusAnswer {
        status: "200",
        message: "Đã ghi nhận (recorded)".into(),
        recorded: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_both_forms() {
        let want: DateTime<Utc> = "2026-12-02T03:04:05Z".parse().unwrap();
        assert_eq!(parse_time("20261202100405"), Some(want));
        assert_eq!(parse_time("2026-12-02T10:04:05+07:00"), Some(want));
        for bad in ["", "2026-12-02", "20261302100405", "yesterday"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn signatures_are_checked() {
        let cfg = PostalCallback {
            secret: "k".into(),
            signature_header: "x-vnpost-signature".into(),
            status_codes: BTreeMap::new(),
        };
        let body = br#"{"OrderNumber":"x"}"#;
        let good = motcua_domain::dossier::postal::hmac_sha256_hex(b"k", body);
        let mut h = HeaderMap::new();
        assert!(!signed(&cfg, &h, body));
        h.insert("x-vnpost-signature", good.parse().unwrap());
        assert!(signed(&cfg, &h, body));
        assert!(!signed(&cfg, &h, b"{}"));
        h.insert(
            "x-vnpost-signature",
            format!("sha256={}", good.to_uppercase()).parse().unwrap(),
        );
        assert!(signed(&cfg, &h, body));
        let empty = PostalCallback {
            secret: String::new(),
            ..cfg.clone()
        };
        let h2 = {
            let mut h = HeaderMap::new();
            h.insert(
                "x-vnpost-signature",
                motcua_domain::dossier::postal::hmac_sha256_hex(b"", body)
                    .parse()
                    .unwrap(),
            );
            h
        };
        assert!(!signed(&empty, &h2, body), "an empty secret signs nothing");
        assert!(!format!("{cfg:?}").contains("\"k\""));
    }
}

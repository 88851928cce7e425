//! `GET /can-bo/nhat-ky`: the audit trail for leaders — per dossier (`?ho_so=<id>`: every view
//! and sign-in line about a dossier their agency may see) or per user (`?nguoi_dung=<login>`:
//! a member of their own agency).

use super::{lang_of, local, require_staff, texts};
use crate::AppState;
use crate::api::dossiers::load_visible;
use crate::session::MaybeSession;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use motcua_domain::agency::Role;
use motcua_store::AuditQuery;
use serde::{Deserialize, Serialize};

/// Query of the audit page.
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
    ho_so: Option<String>,
    nguoi_dung: Option<String>,
    sau: Option<i64>,
}

#[derive(Serialize)]
struct Line {
    id: i64,
    when: String,
    who: String,
    action: String,
    dossier: String,
    detail: String,
}

/// The audit page.
pub(crate) async fn page(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match require_staff(session, "/can-bo/nhat-ky", lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = texts::get(lang);
    if sess.actor.role != Role::Leader {
        return crate::pages::error_page(
            StatusCode::FORBIDDEN,
            lang,
            t.get("forbidden_h"),
            t.get("leaders_only"),
        );
    }
    let mut query = AuditQuery {
        dossier_id: None,
        user_id: None,
        before: p.sau,
        limit: 100,
    };
    let dossier = p.ho_so.as_deref().map(str::trim).filter(|x| !x.is_empty());
    let user = p
        .nguoi_dung
        .as_deref()
        .map(str::trim)
        .filter(|x| !x.is_empty());
    let mut heading = t.get("audit");
    if let Some(d) = dossier {
        let Ok(id) = d.parse() else {
            return super::not_found(lang);
        };
        // Only dossiers the leader may see.
        if load_visible(&s, &sess.actor, id).await.is_err() {
            return super::not_found(lang);
        }
        query.dossier_id = Some(id);
        heading = t.get("audit_dossier");
    } else if let Some(u) = user {
        let found = s.store.user_by_username(u).await.ok().flatten();
        match found {
            Some(u) if u.agency == sess.actor.agency => query.user_id = Some(u.id),
            _ => return super::not_found(lang),
        }
        heading = t.get("audit_user");
    } else {
        // Without a filter: the leader's own agency's people are not indexed together; ask
        // for a dossier or a user.
        return crate::pages::render(
            "audit.html",
            lang,
            context! { st => t.value(), me => &sess.actor, csrf => &sess.csrf, heading,
            lines => Vec::<Line>::new(), asked => false },
        );
    }
    let rows = match s.store.audit_trail(&query).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "audit trail read failed");
            return super::busy(lang);
        }
    };
    let next = (rows.len() == 100)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|r| Line {
            id: r.id,
            when: local(Some(r.at)),
            who: r.username,
            action: r.action,
            dossier: r.dossier_id.map(|d| d.to_string()).unwrap_or_default(),
            detail: r.detail,
        })
        .collect();
    crate::pages::render(
        "audit.html",
        lang,
        context! {
            st => t.value(), me => &sess.actor, csrf => &sess.csrf, heading, lines, asked => true,
            ho_so => dossier.unwrap_or(""), nguoi_dung => user.unwrap_or(""), next,
        },
    )
}

//! `GET /ca-nhan`: a signed-in citizen's own dossiers, newest first, and their drafts (forms in
//! progress) with "tiếp tục" (resume) and "xoá" (`POST /ca-nhan/nhap/{id}/xoa`, CSRF).

use super::{forbidden, lang_of, local, texts, to_sign_in};
use crate::AppState;
use crate::session::MaybeSession;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use minijinja::context;
use motcua_domain::agency::Role;
use motcua_store::DossierQuery;
use serde::{Deserialize, Serialize};

/// Query of the page.
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
    /// A dossier just submitted (shows a confirmation).
    moi: Option<String>,
    /// A draft just deleted (shows a confirmation).
    xoa: Option<String>,
}

#[derive(Serialize)]
struct DraftRow {
    id: String,
    code: String,
    procedure_name: String,
    saved: String,
    /// The procedure's published version is newer than the draft's.
    old: bool,
}

#[derive(Serialize)]
struct Row {
    id: String,
    code: String,
    procedure_name: String,
    status: &'static str,
    submitted: String,
    due: String,
}

/// The page.
pub(crate) async fn page(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let Some(sess) = session.0 else {
        return to_sign_in("/ca-nhan");
    };
    if sess.actor.role != Role::Citizen {
        return forbidden(lang);
    }
    let t = texts::get(lang);
    let rows = match s
        .store
        .list_dossiers(&DossierQuery {
            owner: Some(sess.actor.user_id),
            limit: 200,
            ..Default::default()
        })
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "listing a citizen's dossiers failed");
            return super::busy(lang);
        }
    };
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|r| Row {
            id: r.id.to_string(),
            code: r.code.unwrap_or_else(|| "—".into()),
            procedure_name: r.procedure_name,
            status: texts::status(r.status, lang),
            submitted: local(Some(r.submitted_at)),
            due: local(r.due_at),
        })
        .collect();
    let drafts = match s.store.drafts(sess.actor.user_id).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "listing a citizen's drafts failed");
            return super::busy(lang);
        }
    };
    let mut draft_rows = Vec::with_capacity(drafts.len());
    for d in drafts {
        let current = s
            .published_procedure(&d.procedure_code)
            .await
            .ok()
            .flatten()
            .map(|r| r.version.version);
        draft_rows.push(DraftRow {
            id: d.id.to_string(),
            code: d.procedure_code,
            procedure_name: d.procedure_name,
            saved: local(Some(d.updated_at)),
            old: current.is_some_and(|v| v != d.procedure_version),
        });
    }
    crate::pages::render(
        "mine.html",
        lang,
        context! {
            st => t.value(), me => &sess.actor, csrf => &sess.csrf, rows,
            submitted => p.moi.is_some(), drafts => draft_rows, deleted => p.xoa.is_some(),
        },
    )
}

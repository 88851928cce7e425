//! The public e-form page of a procedure, `/thu-tuc/{code}/to-khai`: shows the form (GET), and
//! checks what was typed (POST) with the same server-side validation as the API, re-rendering
//! it with the errors next to the fields, or saying it is valid. Works without JavaScript:
//! "add a row" and "show communes" are submit buttons that re-render the form.
//!
//! For a signed-in citizen the page does more (docs/forms.md): a new form is prefilled from
//! what is known of them (`prefill.rs`); each upload slot has a file input and their data store
//! to attach from with one click (the form is then `multipart/form-data`, with the session's
//! CSRF token); uploads are checked like `POST /api/v1/files` and kept in their data store, and
//! only keys of their own store are accepted; "Lưu nháp" saves a draft (`?nhap={id}` resumes
//! it); required slots left empty are errors next to the slot.

use crate::AppState;
use crate::form_posts::{attach_files, read_posted, slot_error};
use crate::forms::{Attach, RenderInput, STYLE, StoredFile, parse_pairs, render};
use crate::pages::{error_page, render_page};
use crate::session::Session;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use motcua_domain::forms::{FieldError, FormDefinition, UPLOADS_KEY, validate_at};
use motcua_store::{Draft, MAX_DRAFT_BYTES, ProcedureRecord};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// Files of the data store offered per slot.
const VAULT_SHOWN: u32 = 30;

/// Routes of the form page.
pub fn routes() -> Router<AppState> {
    Router::new()
        // The handler holds each file to its slot's limit and the whole form to the sum of
        // them (see `read_multipart`), and a urlencoded body to MAX_FORM_BYTES.
        .route(
            "/thu-tuc/{code}/to-khai",
            get(show).post(check).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/thu-tuc/{code}/nop",
            axum::routing::post(crate::staff::submit_online),
        )
}

#[derive(Deserialize, Default)]
struct Params {
    lang: Option<String>,
    /// A draft to resume.
    nhap: Option<String>,
}

fn lang_of(q: &Result<Query<Params>, QueryRejection>, body_lang: Option<&str>) -> &'static str {
    let l = body_lang.or_else(|| q.as_ref().ok().and_then(|Query(p)| p.lang.as_deref()));
    if l == Some("en") { "en" } else { "vi" }
}

fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

fn missing(lang: &str) -> Response {
    let en = lang == "en";
    error_page(
        StatusCode::NOT_FOUND,
        lang,
        if en {
            "Procedure not found"
        } else {
            "Không tìm thấy thủ tục"
        },
        if en {
            "The procedure code is wrong or the procedure is not published."
        } else {
            "Mã thủ tục không đúng hoặc thủ tục chưa được công bố."
        },
    )
}

fn no_draft(lang: &str) -> Response {
    let en = lang == "en";
    error_page(
        StatusCode::NOT_FOUND,
        lang,
        if en {
            "Draft not found"
        } else {
            "Không tìm thấy bản nháp"
        },
        if en {
            "The draft does not exist or was deleted. Your drafts are listed on your page."
        } else {
            "Bản nháp không tồn tại hoặc đã bị xoá. Các bản nháp của bạn có ở trang cá nhân."
        },
    )
}

fn unreadable(lang: &str, status: StatusCode, detail: &str) -> Response {
    let en = lang == "en";
    error_page(
        status,
        lang,
        if en {
            "The form could not be read"
        } else {
            "Không đọc được tờ khai"
        },
        detail,
    )
}

fn failed(lang: &str, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "form page failed");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        lang,
        "Lỗi",
        "Vui lòng thử lại sau. / Please try again later.",
    )
}

enum Outcome<'a> {
    Fresh,
    Rejected(&'a [FieldError]),
    Valid,
}

/// What the page shows besides the form.
#[derive(Default)]
struct Extras {
    /// The draft was just saved.
    saved: bool,
    /// Names of files just attached (by key).
    names: HashMap<String, String>,
    /// The response status when not the default.
    status: Option<StatusCode>,
}

/// The published procedure of `code`, or the page to answer instead.
async fn procedure(
    s: &AppState,
    code: &str,
    lang: &str,
) -> Result<std::sync::Arc<ProcedureRecord>, Response> {
    let Ok(code) = code.parse::<motcua_domain::codes::ProcedureCode>() else {
        return Err(missing(lang));
    };
    match s.published_procedure(&code.to_string()).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(missing(lang)),
        Err(e) => Err(failed(lang, e)),
    }
}

/// The citizen's data store as the slots offer it.
async fn stored_files(s: &AppState, citizen: &Session) -> Vec<StoredFile> {
    s.store
        .vault(citizen.actor.user_id, VAULT_SHOWN)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading a data store failed");
            Vec::new()
        })
        .into_iter()
        .map(|(e, f)| StoredFile {
            key: f.key.reference(),
            name: e.name,
            added: crate::pages::local(Some(e.added_at)),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn page(
    s: &AppState,
    rec: &ProcedureRecord,
    lang: &str,
    values: &Value,
    outcome: Outcome<'_>,
    add_row: Option<&str>,
    citizen: Option<&Session>,
    extras: Extras,
) -> Response {
    let code = rec.version.code.to_string();
    let units = match s.units().await {
        Ok(u) => u,
        Err(e) => return failed(lang, e),
    };
    let def = rec.version.form_or_generic();
    let no_errors = [];
    let errors = match outcome {
        Outcome::Rejected(e) => e,
        _ => &no_errors[..],
    };
    let action = format!("/thu-tuc/{code}/to-khai?lang={lang}");
    let files = match citizen {
        Some(c) => stored_files(s, c).await,
        None => Vec::new(),
    };
    let attach = citizen.map(|c| Attach {
        csrf: &c.csrf,
        files: &files,
        names: &extras.names,
    });
    let html = render(&RenderInput {
        def: &def,
        values,
        errors,
        lang,
        units: units.as_ref(),
        action: &action,
        add_row,
        today: today(),
        embedded: false,
        attach: attach.as_ref(),
    });
    let en = lang == "en";
    let ok = matches!(outcome, Outcome::Valid);
    // A signed-in citizen with a valid form may submit it online, at an agency that receives it.
    let submit = match (ok, citizen) {
        (true, Some(sess)) => {
            let names = s.store.agencies().await.unwrap_or_default();
            let agencies: Vec<(String, String)> = rec
                .receiving_agencies
                .iter()
                .map(|a| {
                    let name = names
                        .iter()
                        .find(|x| &x.code == a)
                        .map(|x| x.name.clone())
                        .unwrap_or_else(|| a.to_string());
                    (a.to_string(), name)
                })
                .collect();
            // The postal service may be asked for with the submission (pickup of the paper
            // dossier, return of the result by post).
            let provinces: Vec<(String, String)> = match s.units().await {
                Ok(u) => motcua_domain::forms::UnitLookup::provinces(u.as_ref()),
                Err(_) => Vec::new(),
            };
            Some(context! {
                csrf => &sess.csrf,
                key => crate::session::random_hex(16),
                values => values.to_string(),
                agencies,
                provinces,
                name => &sess.actor.name,
                pt => crate::staff::postal::texts(lang),
            })
        }
        _ => None,
    };
    let mut r = render_page(
        "form.html",
        lang,
        context! {
            title => def.title.get(lang), code => code, name => rec.version.name.clone(),
            template => def.template.clone(), form => html, style => STYLE, ok, submit,
            saved => extras.saved, signed_in => citizen.is_some(),
            ok_title => if en { "The form is valid" } else { "Tờ khai hợp lệ" },
            ok_text => if en {
                "Sign in to submit the dossier online with this form, or print it and bring it to the one-stop desk."
            } else {
                "Đăng nhập để nộp hồ sơ trực tuyến với tờ khai này, hoặc in ra và mang đến bộ phận một cửa."
            },
        },
    );
    if let Some(st) = extras.status {
        *r.status_mut() = st;
    } else if !errors.is_empty() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

/// The session, when it is a citizen's.
fn citizen(s: &crate::session::MaybeSession) -> Option<&Session> {
    s.0.as_ref()
        .filter(|x| x.actor.role == motcua_domain::agency::Role::Citizen)
}

async fn show(
    State(s): State<AppState>,
    session: crate::session::MaybeSession,
    Path(code): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let lang = lang_of(&q, None);
    let rec = match procedure(&s, &code, lang).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let def = rec.version.form_or_generic();
    let who = citizen(&session);
    let draft = q.as_ref().ok().and_then(|Query(p)| p.nhap.clone());
    let values = match (draft, who) {
        (Some(raw), Some(c)) => {
            let Ok(id) = raw.trim().parse::<Uuid>() else {
                return no_draft(lang);
            };
            match s.store.draft(c.actor.user_id, id).await {
                Ok(Some(d)) if d.procedure_code == rec.version.code.to_string() => {
                    fit(&def, &d.values)
                }
                Ok(_) => return no_draft(lang),
                Err(e) => return failed(lang, e),
            }
        }
        // Drafts are citizens' own: staff have none, and others must sign in first.
        (Some(_), None) if session.0.is_some() => return crate::staff::forbidden(lang),
        (Some(_), None) => {
            return crate::staff::to_sign_in(&format!("/thu-tuc/{code}/to-khai"));
        }
        (None, Some(c)) => {
            let profile = crate::prefill::citizen_profile(&s, &c.actor).await;
            let mut m = Map::new();
            crate::prefill::apply(&def, &profile, &mut m);
            Value::Object(m)
        }
        (None, None) => Value::Object(Map::new()),
    };
    page(
        &s,
        &rec,
        lang,
        &values,
        Outcome::Fresh,
        None,
        who,
        Extras::default(),
    )
    .await
}

/// The values of a draft that still fit `def` (a later version may have dropped fields or
/// slots): top-level fields the form has, and files of its slots. The rest is dropped; the
/// form's validation judges what is kept.
fn fit(def: &FormDefinition, values: &Value) -> Value {
    let mut out = Map::new();
    let Some(m) = values.as_object() else {
        return Value::Object(out);
    };
    for (k, v) in m {
        if k == UPLOADS_KEY {
            if let Some(up) = v.as_object() {
                let kept: Map<String, Value> = up
                    .iter()
                    .filter(|(slot, key)| {
                        def.uploads.iter().any(|u| &u.id == *slot) && key.is_string()
                    })
                    .map(|(a, b)| (a.clone(), b.clone()))
                    .collect();
                out.insert(k.clone(), Value::Object(kept));
            }
        } else if def.fields().any(|(_, f)| &f.id == k) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

async fn check(
    State(s): State<AppState>,
    session: crate::session::MaybeSession,
    Path(code): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
    req: Request,
) -> Response {
    let q_lang = lang_of(&q, None);
    let rec = match procedure(&s, &code, q_lang).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let def = rec.version.form_or_generic();
    let who = citizen(&session);
    let posted = match read_posted(&s, &def, who.is_some(), req).await {
        Ok(p) => p,
        Err((st, m)) => return unreadable(q_lang, st, &m),
    };
    let lang = lang_of(&q, posted.get("lang"));
    let (mut values, controls) = match parse_pairs(posted.pairs.clone()) {
        Ok(v) => v,
        Err(e) => return unreadable(lang, StatusCode::BAD_REQUEST, &e),
    };
    // A signed-in citizen's page keeps files and drafts: its token must come back.
    if let Some(c) = who
        && !c.csrf_ok(posted.get("csrf"))
    {
        values.as_object_mut().map(|m| m.remove(UPLOADS_KEY));
        let e = [FieldError {
            path: String::new(),
            message:
                "Biểu mẫu đã hết hạn: chưa có gì được lưu. Kiểm tra lại thông tin rồi bấm lại."
                    .into(),
            message_en: "The form expired: nothing was kept. Check what you typed and press again."
                .into(),
        }];
        let extras = Extras {
            status: Some(StatusCode::FORBIDDEN),
            ..Default::default()
        };
        return page(
            &s,
            &rec,
            lang,
            &values,
            Outcome::Rejected(&e),
            None,
            who,
            extras,
        )
        .await;
    }
    if controls.save && who.is_none() {
        return crate::staff::to_sign_in(&format!("/thu-tuc/{code}/to-khai"));
    }
    let picks = controls.picks.clone();
    let (mut errors, names) = attach_files(&s, &def, who, posted, picks, &mut values).await;
    let mut extras = Extras {
        names,
        ..Default::default()
    };
    if controls.save
        && let Some(c) = who
    {
        let text = values.to_string();
        if text.len() > MAX_DRAFT_BYTES {
            return unreadable(
                lang,
                StatusCode::PAYLOAD_TOO_LARGE,
                "Bản nháp quá lớn. / The draft is too large.",
            );
        }
        let now = chrono::Utc::now();
        let draft = Draft {
            id: Uuid::now_v7(),
            owner: c.actor.user_id,
            procedure_code: rec.version.code.to_string(),
            procedure_version: rec.version.version,
            procedure_name: rec.version.name.clone(),
            values: values.clone(),
            created_at: now,
            updated_at: now,
        };
        if let Err(e) = s.store.save_draft(draft).await {
            return failed(lang, e);
        }
        extras.saved = true;
    }
    // "Add a row", "show communes", "use this file" and "save draft" re-render what was typed,
    // without judging it yet (only the files are judged).
    if controls.add.is_some() || controls.choose || controls.save {
        let outcome = if errors.is_empty() {
            Outcome::Fresh
        } else {
            Outcome::Rejected(&errors)
        };
        return page(
            &s,
            &rec,
            lang,
            &values,
            outcome,
            controls.add.as_deref(),
            who,
            extras,
        )
        .await;
    }
    let units = match s.units().await {
        Ok(u) => u,
        Err(e) => return failed(lang, e),
    };
    match validate_at(&def, &values, units.as_ref(), today()) {
        Ok(v) => {
            // A citizen can attach here, so a required document left out is an error now.
            if who.is_some() {
                for slot in &v.missing_uploads {
                    if errors
                        .iter()
                        .any(|e| e.path == format!("{UPLOADS_KEY}.{slot}"))
                    {
                        continue;
                    }
                    errors.push(slot_error(
                        slot,
                        "Chưa đính kèm giấy tờ bắt buộc này.",
                        "This required document is not attached.",
                    ));
                }
            }
            let outcome = if errors.is_empty() {
                Outcome::Valid
            } else {
                Outcome::Rejected(&errors)
            };
            page(&s, &rec, lang, &values, outcome, None, who, extras).await
        }
        Err(mut invalid) => {
            invalid.append(&mut errors);
            page(
                &s,
                &rec,
                lang,
                &values,
                Outcome::Rejected(&invalid),
                None,
                who,
                extras,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_draft_keeps_what_still_fits_the_form() {
        let def: FormDefinition = serde_json::from_value(json!({
            "id": "t", "title": "T",
            "sections": [{"id": "s", "title": "S", "fields": [
                {"id": "ho_ten", "label": "Họ tên", "type": "text"}]}],
            "uploads": [{"id": "don", "name": "Đơn"}]
        }))
        .unwrap();
        let old = json!({"ho_ten": "An", "bo_di": "x", "_uploads": {"don": "sha256:aa", "cu": "sha256:bb"}});
        assert_eq!(
            fit(&def, &old),
            json!({"ho_ten": "An", "_uploads": {"don": "sha256:aa"}})
        );
        assert_eq!(fit(&def, &json!([1])), json!({}));
    }
}

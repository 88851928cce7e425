//! The public e-form page of a procedure, `/thu-tuc/{code}/to-khai`: shows the form (GET), and
//! checks what was typed (POST) with the same server-side validation as the API, re-rendering
//! it with the errors next to the fields, or saying it is valid. Works without JavaScript:
//! "add a row" and "show communes" are submit buttons that re-render the form.

use crate::AppState;
use crate::forms::{RenderInput, STYLE, parse_body, render};
use crate::pages::{error_page, render_page};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use motcua_domain::forms::{FieldError, validate_at};
use serde::Deserialize;
use serde_json::Value;

/// Routes of the form page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/thu-tuc/{code}/to-khai", get(show).post(check))
        .route(
            "/thu-tuc/{code}/nop",
            axum::routing::post(crate::staff::submit_online),
        )
}

#[derive(Deserialize, Default)]
struct LangParam {
    lang: Option<String>,
}

fn lang_of(q: &Result<Query<LangParam>, QueryRejection>, body_lang: Option<&str>) -> &'static str {
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

async fn page(
    s: &AppState,
    code: &str,
    lang: &str,
    values: &Value,
    outcome: Outcome<'_>,
    add_row: Option<&str>,
    citizen: Option<&crate::session::Session>,
) -> Response {
    let Ok(code) = code.parse::<motcua_domain::codes::ProcedureCode>() else {
        return missing(lang);
    };
    let rec = match s.published_procedure(&code.to_string()).await {
        Ok(Some(r)) => r,
        Ok(None) => return missing(lang),
        Err(e) => return failed(lang, e),
    };
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
            Some(context! {
                csrf => &sess.csrf,
                key => crate::session::random_hex(16),
                values => values.to_string(),
                agencies,
            })
        }
        _ => None,
    };
    let mut r = render_page(
        "form.html",
        lang,
        context! {
            title => def.title.get(lang), code => code.to_string(), name => rec.version.name.clone(),
            template => def.template.clone(), form => html, style => STYLE, ok, submit,
            ok_title => if en { "The form is valid" } else { "Tờ khai hợp lệ" },
            ok_text => if en {
                "Sign in to submit the dossier online with this form, or print it and bring it to the one-stop desk."
            } else {
                "Đăng nhập để nộp hồ sơ trực tuyến với tờ khai này, hoặc in ra và mang đến bộ phận một cửa."
            },
        },
    );
    if !errors.is_empty() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

async fn show(
    State(s): State<AppState>,
    session: crate::session::MaybeSession,
    Path(code): Path<String>,
    q: Result<Query<LangParam>, QueryRejection>,
) -> Response {
    let lang = lang_of(&q, None);
    page(
        &s,
        &code,
        lang,
        &Value::Object(Default::default()),
        Outcome::Fresh,
        None,
        citizen(&session),
    )
    .await
}

/// The session, when it is a citizen's.
fn citizen(s: &crate::session::MaybeSession) -> Option<&crate::session::Session> {
    s.0.as_ref()
        .filter(|x| x.actor.role == motcua_domain::agency::Role::Citizen)
}

async fn check(
    State(s): State<AppState>,
    session: crate::session::MaybeSession,
    Path(code): Path<String>,
    q: Result<Query<LangParam>, QueryRejection>,
    body: Bytes,
) -> Response {
    let body_lang = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| v.into_owned());
    let lang = lang_of(&q, body_lang.as_deref());
    let (values, controls) = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                lang,
                if lang == "en" {
                    "The form could not be read"
                } else {
                    "Không đọc được tờ khai"
                },
                &e,
            );
        }
    };
    // "Add a row" and "show communes" re-render what was typed, without judging it yet.
    if controls.add.is_some() || controls.choose {
        return page(
            &s,
            &code,
            lang,
            &values,
            Outcome::Fresh,
            controls.add.as_deref(),
            citizen(&session),
        )
        .await;
    }
    let Ok(pc) = code.parse::<motcua_domain::codes::ProcedureCode>() else {
        return missing(lang);
    };
    let rec = match s.published_procedure(&pc.to_string()).await {
        Ok(Some(r)) => r,
        Ok(None) => return missing(lang),
        Err(e) => return failed(lang, e),
    };
    let units = match s.units().await {
        Ok(u) => u,
        Err(e) => return failed(lang, e),
    };
    let def = rec.version.form_or_generic();
    match validate_at(&def, &values, units.as_ref(), today()) {
        Ok(_) => {
            page(
                &s,
                &code,
                lang,
                &values,
                Outcome::Valid,
                None,
                citizen(&session),
            )
            .await
        }
        Err(errors) => {
            page(
                &s,
                &code,
                lang,
                &values,
                Outcome::Rejected(&errors),
                None,
                citizen(&session),
            )
            .await
        }
    }
}

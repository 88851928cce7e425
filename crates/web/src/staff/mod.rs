//! Signed-in pages: sign-in and sign-out for everyone, the staff workspace (inbox, dossier,
//! actions, audit trail) and the citizen's own dossiers. Server-rendered, working without
//! JavaScript; every form carries the session's CSRF token.

mod admin;
mod audit;
mod bulk;
mod dossier;
mod drafts;
mod feedback;
mod inbox;
pub(crate) use inbox::soon_limit;
mod login;
mod mine;
mod outbox;
pub(crate) mod postal;
mod procedures;
mod queue;
mod reception;
mod reset;
mod signup;
pub(crate) use signup::login_name;
mod submit;
pub(crate) use submit::submit_online;
mod texts;
mod track;
pub(crate) use dossier::{MAX_RESULT_FILES, complete_step, upload_result};
pub(crate) use track::{MAX_FILES as SUPPLEMENT_MAX_FILES, supply as supply_supplement};

use crate::AppState;
use crate::session::{MaybeSession, Session};
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use motcua_domain::agency::Role;
use motcua_domain::status::Status;

/// The routes of the signed-in pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dang-nhap", get(login::form).post(login::submit))
        .route("/dang-xuat", axum::routing::post(login::sign_out))
        .route("/dang-ky", get(signup::form).post(signup::submit))
        .route("/quen-mat-khau", get(reset::ask_form).post(reset::ask))
        .route("/dat-lai-mat-khau", get(reset::set_form).post(reset::set))
        .route("/can-bo", get(inbox::page))
        .route("/can-bo/ho-so/{id}", get(dossier::page).post(dossier::act))
        .route("/can-bo/nhat-ky", get(audit::page))
        .route("/can-bo/hang-loat", axum::routing::post(bulk::submit))
        .route(
            "/chon-vai-tro",
            get(admin::choose).post(admin::choose_submit),
        )
        .route(
            "/quan-tri/nguoi-dung",
            get(admin::users).post(admin::create_user_form),
        )
        .route(
            "/quan-tri/nguoi-dung/{id}",
            get(admin::user).post(admin::user_form),
        )
        .route(
            "/quan-tri/co-quan",
            get(admin::agencies).post(admin::create_agency_form),
        )
        .route(
            "/quan-tri/co-quan/{code}",
            get(admin::agency).post(admin::agency_form),
        )
        .route("/quan-tri/thu-tuc", get(procedures::list))
        .route("/quan-tri/thu-tuc/{code}", get(procedures::procedure))
        .route(
            "/quan-tri/thu-tuc/{code}/ban-nhap",
            axum::routing::post(procedures::create_draft),
        )
        .route(
            "/quan-tri/thu-tuc/{code}/ban-nhap/{version}",
            get(procedures::editor).post(procedures::save),
        )
        .route(
            "/quan-tri/thu-tuc/{code}/ban-nhap/{version}/so-sanh",
            get(procedures::compare),
        )
        .route(
            "/quan-tri/thu-tuc/{code}/ban-nhap/{version}/cong-bo",
            axum::routing::post(procedures::publish),
        )
        .route(
            "/quan-tri/thu-tuc/{code}/co-quan",
            axum::routing::post(procedures::agencies),
        )
        .route("/quan-tri/gui-di", get(outbox::show))
        .route(
            "/quan-tri/gui-di/gui-lai",
            axum::routing::post(outbox::retry),
        )
        .route(
            "/quan-tri/gui-di/gui-lai-tat-ca",
            axum::routing::post(outbox::retry_all),
        )
        .route(
            "/quan-tri/gui-di/tam-dung",
            axum::routing::post(outbox::hold),
        )
        .route(
            "/quan-tri/gui-di/gui-tiep",
            axum::routing::post(outbox::release),
        )
        // One multipart form with a scan per component: the handler holds each file to its
        // limit and the whole form to a cap of its own (see `reception::submit`).
        .route(
            reception::PATH,
            get(reception::page)
                .post(reception::submit)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/ca-nhan", get(mine::page))
        .route(
            "/ca-nhan/phan-anh",
            get(feedback::mine).post(feedback::file),
        )
        .route(
            "/ca-nhan/phan-anh/{id}/{what}",
            axum::routing::post(feedback::step),
        )
        .route("/can-bo/phan-anh", get(feedback::agency))
        .route(
            "/can-bo/phan-anh/{id}/{what}",
            axum::routing::post(feedback::staff_step),
        )
        .route("/phan-anh", get(feedback::public))
        .route(
            "/ca-nhan/nhap/{id}/xoa",
            axum::routing::post(drafts::delete),
        )
        .route("/ca-nhan/ho-so/{id}", get(track::page))
        .route(
            "/ca-nhan/ho-so/{id}/danh-gia",
            axum::routing::post(track::rate),
        )
        .route(
            "/ca-nhan/ho-so/{id}/thong-bao",
            axum::routing::post(track::set_notifications),
        )
        .route(
            "/ca-nhan/ho-so/{id}/thanh-toan",
            axum::routing::post(track::pay),
        )
        .route(
            "/ca-nhan/ho-so/{id}/buu-chinh",
            axum::routing::post(track::set_postal),
        )
        .route("/can-bo/xep-hang", get(queue::figures))
        .route("/xep-hang/{centre}/quay/{number}", get(queue::console))
        .route(
            "/xep-hang/{centre}/quay/{number}/{action}",
            axum::routing::post(queue::act),
        )
}

/// `vi` unless `en` was asked for.
pub(crate) fn lang_of(q: Option<&str>) -> &'static str {
    if q == Some("en") { "en" } else { "vi" }
}

/// Where a signed-in person lands.
pub(crate) fn home_of(role: Role) -> &'static str {
    match role {
        Role::DeskOfficer | Role::Specialist | Role::Leader => "/can-bo",
        Role::Citizen => "/ca-nhan",
        Role::Admin => "/bang-dieu-khien",
    }
}

/// A staff page's gate: staff pass; nobody signed in goes to the sign-in page (and comes back);
/// others get a 403 page. (The refusal is the response itself, returned once per request.)
#[allow(clippy::result_large_err)]
pub(crate) fn require_staff(
    s: MaybeSession,
    back_to: &str,
    lang: &str,
) -> Result<Session, Response> {
    match s.0 {
        Some(s) if s.is_staff() && s.actor.agency.is_some() => Ok(s),
        Some(_) => Err(forbidden(lang)),
        None => Err(to_sign_in(back_to)),
    }
}

/// Redirect to the sign-in page, coming back to `back_to` afterwards.
pub(crate) fn to_sign_in(back_to: &str) -> Response {
    let next: String = url_encode(back_to);
    Redirect::to(&format!("/dang-nhap?next={next}")).into_response()
}

/// The friendly 403 page.
pub(crate) fn forbidden(lang: &str) -> Response {
    let t = texts::get(lang);
    crate::pages::error_page(
        StatusCode::FORBIDDEN,
        lang,
        t.get("forbidden_h"),
        t.get("forbidden"),
    )
}

/// The friendly 404 page.
pub(crate) fn not_found(lang: &str) -> Response {
    let t = texts::get(lang);
    crate::pages::error_page(
        StatusCode::NOT_FOUND,
        lang,
        t.get("not_found_h"),
        t.get("not_found"),
    )
}

/// Percent-encodes a value for a query string.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A local path to come back to after sign-in: only paths of this site (`/x`, not `//host`
/// or `/\host`, no scheme), so the sign-in page cannot send anyone elsewhere.
pub(crate) fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?.trim();
    let ok = n.starts_with('/')
        && !n.starts_with("//")
        && !n.starts_with("/\\")
        && n.len() <= 500
        && !n.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| n.to_string())
}

/// The statuses a role acts on, in the order its inbox tabs show them.
pub(crate) fn role_statuses(role: Role) -> Vec<Status> {
    use Status::*;
    match role {
        Role::DeskOfficer => vec![
            AwaitingReception,
            SupplementAtReception,
            Received,
            ResultReady,
        ],
        Role::Specialist => vec![Received, Processing, SupplementRequested, AwaitingPayment],
        _ => vec![
            AwaitingReception,
            SupplementAtReception,
            Received,
            Processing,
            SupplementRequested,
            AwaitingPayment,
            ResultReady,
        ],
    }
}

pub(crate) use crate::pages::local;

/// The friendly page when the database does not answer.
pub(crate) fn busy(lang: &str) -> Response {
    crate::pages::error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        lang,
        texts::get(lang).get("error"),
        "Hệ thống đang bận, vui lòng thử lại. / The system is busy, please retry.",
    )
}

#[cfg(test)]
mod tests;

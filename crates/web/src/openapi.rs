//! The OpenAPI 3.1 description, generated from the handlers' annotations.

use axum::Json;
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "motcua API", description = "One-stop administrative procedures: dossiers, catalogue, statistics. Errors are RFC 9457 problem+json."),
    paths(
        crate::api::health,
        crate::metrics_layer::render,
        spec,
        crate::api::auth::token,
        crate::api::auth::me,
        crate::api::catalogue::agencies,
        crate::api::admin::agency_staff,
        crate::api::admin::list_users,
        crate::api::admin::post_user,
        crate::api::admin::get_user,
        crate::api::admin::patch_user,
        crate::api::admin::post_grant,
        crate::api::admin::delete_grant,
        crate::api::admin::disable,
        crate::api::admin::enable,
        crate::api::admin::password,
        crate::api::admin::list_agencies,
        crate::api::admin::post_agency,
        crate::api::admin::patch_agency,
        crate::api::bulk::bulk,
        crate::api::catalogue::procedures,
        crate::api::catalogue::procedure,
        crate::api::catalogue::search,
        crate::api::catalogue::export_csv,
        crate::api::catalogue::export_json,
        crate::api::catalogue_admin::versions,
        crate::api::catalogue_admin::create_draft,
        crate::api::catalogue_admin::edit_draft,
        crate::api::catalogue_admin::diff_draft,
        crate::api::catalogue_admin::publish,
        crate::api::catalogue_admin::assign_agencies,
        crate::api::forms::procedure_form,
        crate::api::forms::put_draft_form,
        crate::api::dossiers::submit,
        crate::api::dossiers::list,
        crate::api::dossiers::get_one,
        crate::api::dossiers::by_code,
        crate::api::dossiers::history,
        crate::api::dossiers::act,
        crate::api::documents::document,
        crate::api::dossiers::public_status,
        crate::api::inbox::inbox,
        crate::api::files::upload,
        crate::api::files::my_files,
        crate::api::files::my_file,
        crate::api::files::attach,
        crate::api::files::list,
        crate::api::files::download,
        crate::api::stats::counters,
        crate::api::reports::form06,
        crate::api::service_index::index,
        crate::api::open_data::form06,
        crate::api::calendar::show,
        crate::api::calendar::put_settings,
        crate::api::outbox::list,
        crate::api::outbox::get_one,
        crate::api::outbox::retry,
        crate::api::outbox::retry_all,
        crate::api::outbox::queues,
        crate::api::outbox::days,
        crate::api::outbox::holds,
        crate::api::outbox::hold,
        crate::api::outbox::release,
        crate::api::queue::centre,
        crate::api::queue::counter,
        crate::api::queue::act,
        crate::api::queue::stats,
        crate::payment::notify,
        crate::api::postal::status,
        crate::api::feedback::create,
        crate::api::feedback::mine,
        crate::api::feedback::agency_list,
        crate::api::feedback::get_one,
        crate::api::feedback::classify,
        crate::api::feedback::supply_info,
        crate::api::feedback::answer,
        crate::api::feedback::publish,
        crate::api::feedback::rate,
        crate::api::feedback::reraise,
        crate::api::feedback::public_list,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&Bearer),
    tags((name = "dossiers"), (name = "files"), (name = "catalogue"), (name = "auth"), (name = "statistics"), (name = "public"), (name = "calendar"), (name = "system"), (name = "outbox"), (name = "queue"), (name = "admin"), (name = "payments"), (name = "integrations"), (name = "feedback"))
)]
struct ApiDoc;

/// The spec as a value (also used by tests that walk every route).
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system", responses((status = 200, description = "OpenAPI 3.1")))]
pub async fn spec() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

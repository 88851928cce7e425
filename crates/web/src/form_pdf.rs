//! `GET /thu-tuc/{code}/mau-to-khai.pdf`: the blank declaration of a published procedure, printed
//! from its e-form (its own, or the generic one built from its documents) for people who fill
//! it in by hand and bring it to the desk. Unknown or unpublished codes get the friendly 404.

use crate::AppState;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use motcua_documents::{BlankField, BlankForm, BlankKind, BlankSection};
use motcua_domain::forms::{Field, FieldKind, FormDefinition};
use motcua_domain::procedure::ProcedureVersion;
use serde::Deserialize;

/// Route of the blank form.
pub fn routes() -> Router<AppState> {
    Router::new().route("/thu-tuc/{code}/mau-to-khai.pdf", get(blank))
}

#[derive(Deserialize, Default)]
struct LangParam {
    lang: Option<String>,
}

/// The blank form of a procedure version (labels and help in Vietnamese, as the official
/// templates are).
pub(crate) fn blank_form(v: &ProcedureVersion) -> BlankForm {
    let def = v.form_or_generic();
    from_definition(&def, v)
}

fn text(t: &motcua_domain::forms::Text) -> String {
    t.vi.clone()
}

fn from_definition(def: &FormDefinition, v: &ProcedureVersion) -> BlankForm {
    let attachments: Vec<String> = if def.uploads.is_empty() {
        v.documents.iter().map(|d| d.name.clone()).collect()
    } else {
        def.uploads.iter().map(|u| text(&u.name)).collect()
    };
    BlankForm {
        title: text(&def.title),
        template: def.template.clone(),
        procedure: format!("{} ({})", v.name, v.code),
        sections: def
            .sections
            .iter()
            .map(|s| BlankSection {
                title: text(&s.title),
                help: s.help.as_ref().map(text),
                fields: s.fields.iter().map(field).collect(),
            })
            .collect(),
        attachments,
    }
}

fn field(f: &Field) -> BlankField {
    let mut help = f.help.as_ref().map(text);
    let kind = match &f.kind {
        FieldKind::Text { .. } | FieldKind::Number { .. } | FieldKind::Phone | FieldKind::Email => {
            BlankKind::Line
        }
        FieldKind::Money { .. } => {
            help.get_or_insert_with(|| "Số tiền bằng đồng.".into());
            BlankKind::Line
        }
        FieldKind::Textarea { .. } => BlankKind::Lines(4),
        FieldKind::Date { .. } => BlankKind::Date,
        FieldKind::PersonalId => BlankKind::Cells(12),
        FieldKind::TaxCode => BlankKind::Cells(13),
        FieldKind::Select { options } => {
            BlankKind::Choices(options.iter().map(|o| text(&o.label)).collect())
        }
        FieldKind::Checkbox => BlankKind::Check,
        FieldKind::Address { .. } => {
            help.get_or_insert_with(|| "Số nhà, đường/thôn; xã, phường; tỉnh, thành phố.".into());
            BlankKind::Lines(2)
        }
        FieldKind::Group {
            fields, max_items, ..
        } => BlankKind::Rows {
            columns: fields.iter().map(|c| text(&c.label)).collect(),
            rows: (*max_items).clamp(2, 6) as u8,
        },
    };
    BlankField {
        label: text(&f.label),
        help,
        required: f.required,
        kind,
    }
}

async fn blank(
    State(s): State<AppState>,
    Path(code): Path<String>,
    q: Result<Query<LangParam>, QueryRejection>,
) -> Response {
    let lang = match q {
        Ok(Query(LangParam { lang: Some(l) })) if l == "en" => "en",
        _ => "vi",
    };
    let Ok(code) = code.parse::<motcua_domain::codes::ProcedureCode>() else {
        return crate::pages::procedure_missing(lang);
    };
    let rec = match s.published_procedure(&code.to_string()).await {
        Ok(Some(r)) => r,
        Ok(None) => return crate::pages::procedure_missing(lang),
        Err(e) => {
            tracing::error!(error = %e, "blank form failed");
            return crate::staff::busy(lang);
        }
    };
    let form = blank_form(&rec.version);
    let pdf = match tokio::task::spawn_blocking(move || form.render()).await {
        Ok(Ok(pdf)) => pdf,
        other => {
            tracing::error!(?other, "rendering a blank form failed");
            return crate::staff::busy(lang);
        }
    };
    let mut res = pdf.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"mau-to-khai-{code}.pdf\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // Public and the same for everyone until the procedure changes.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    *res.status_mut() = StatusCode::OK;
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_type_has_room_to_write() {
        let def: FormDefinition = serde_json::from_value(serde_json::json!({
            "id": "to-khai-thu",
            "title": "Tờ khai thử",
            "sections": [{"id": "a", "title": "Phần một", "fields": [
                {"id": "ho_ten", "label": "Họ tên", "type": "text", "required": true},
                {"id": "cccd", "label": "Số định danh", "type": "personal_id"},
                {"id": "mst", "label": "Mã số thuế", "type": "tax_code"},
                {"id": "ngay", "label": "Ngày sinh", "type": "date"},
                {"id": "tien", "label": "Số tiền", "type": "money"},
                {"id": "dc", "label": "Địa chỉ", "type": "address"},
                {"id": "gt", "label": "Giới tính", "type": "select", "options": [
                    {"value": "nam", "label": "Nam"}, {"value": "nu", "label": "Nữ"}]},
                {"id": "dy", "label": "Đồng ý", "type": "checkbox"},
                {"id": "tv", "label": "Thành viên", "type": "group", "max_items": 20, "fields": [
                    {"id": "ten", "label": "Tên", "type": "text"}]}
            ]}]
        }))
        .unwrap();
        def.check().unwrap();
        let kinds: Vec<BlankKind> = def.sections[0]
            .fields
            .iter()
            .map(|f| field(f).kind)
            .collect();
        assert_eq!(kinds[0], BlankKind::Line);
        assert_eq!(kinds[1], BlankKind::Cells(12));
        assert_eq!(kinds[2], BlankKind::Cells(13));
        assert_eq!(kinds[3], BlankKind::Date);
        assert_eq!(kinds[5], BlankKind::Lines(2));
        assert_eq!(
            kinds[6],
            BlankKind::Choices(vec!["Nam".into(), "Nữ".into()])
        );
        assert_eq!(kinds[7], BlankKind::Check);
        assert_eq!(
            kinds[8],
            BlankKind::Rows {
                columns: vec!["Tên".into()],
                rows: 6
            }
        );
        assert!(field(&def.sections[0].fields[4]).help.is_some());
        assert!(field(&def.sections[0].fields[0]).required);
    }
}

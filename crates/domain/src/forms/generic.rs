//! The form every procedure without its own gets: who applies, one upload slot per document of
//! the procedure, and a free note.

use super::model::{Field, FieldKind, FormDefinition, Section, Text, UploadSlot};
use super::model::{default_accept, default_max_bytes};
use crate::procedure::ProcedureVersion;

fn field(id: &str, vi: &str, en: &str, kind: FieldKind) -> Field {
    Field {
        id: id.into(),
        label: Text::both(vi, en),
        help: None,
        required: false,
        visible_if: None,
        prefill: None,
        kind,
    }
}

/// A form for `procedure` from its document list: an applicant block (prefilled from the
/// profile), one upload slot per document (required when the document is), and a note
/// (`ghi_chu`).
pub fn generic_form(procedure: &ProcedureVersion) -> FormDefinition {
    let text = |max| FieldKind::Text {
        min_length: None,
        max_length: Some(max),
        pattern: None,
    };
    let applicant = vec![
        Field {
            required: true,
            prefill: Some("applicant.name".into()),
            ..field(
                "ho_ten",
                "Họ, chữ đệm và tên người yêu cầu",
                "Applicant's full name",
                text(100),
            )
        },
        Field {
            prefill: Some("applicant.personal_id".into()),
            help: Some(Text::both(
                "12 chữ số, in trên thẻ căn cước",
                "12 digits, printed on the ID card",
            )),
            ..field(
                "so_dinh_danh",
                "Số định danh cá nhân",
                "Personal ID number",
                FieldKind::PersonalId,
            )
        },
        Field {
            prefill: Some("applicant.phone".into()),
            ..field("dien_thoai", "Số điện thoại", "Phone", FieldKind::Phone)
        },
        Field {
            prefill: Some("applicant.email".into()),
            ..field("email", "Thư điện tử", "E-mail", FieldKind::Email)
        },
        Field {
            prefill: Some("applicant.address".into()),
            ..field("dia_chi", "Địa chỉ liên hệ", "Contact address", text(250))
        },
    ];
    let note = vec![Field {
        help: Some(Text::both(
            "Nội dung đề nghị hoặc thông tin cần lưu ý (không bắt buộc)",
            "What you ask for, or anything to note (optional)",
        )),
        ..field(
            "ghi_chu",
            "Nội dung đề nghị, ghi chú",
            "Request, notes",
            FieldKind::Textarea {
                min_length: None,
                max_length: Some(2000),
            },
        )
    }];
    let uploads = procedure
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| UploadSlot {
            id: format!("giay_to_{}", i + 1),
            name: Text::vi(d.name.clone()),
            required: d.required,
            accept: default_accept(),
            max_bytes: default_max_bytes(),
        })
        .collect();
    FormDefinition {
        id: "bieu-mau-chung".into(),
        title: Text::both(
            format!("Đơn đề nghị: {}", procedure.name),
            format!("Application: {}", procedure.name),
        ),
        template: None,
        sections: vec![
            Section {
                id: "nguoi-yeu-cau".into(),
                title: Text::both("Người yêu cầu", "Applicant"),
                help: None,
                visible_if: None,
                fields: applicant,
            },
            Section {
                id: "noi-dung".into(),
                title: Text::both("Nội dung", "Request"),
                help: None,
                visible_if: None,
                fields: note,
            },
        ],
        rules: Vec::new(),
        uploads,
    }
}

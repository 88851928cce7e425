//! What the public catalogue shows of a procedure beyond what a dossier needs: the terms of each
//! submission channel, documents with their form files, steps, results, legal basis, applicant
//! types, where to submit, and the verbatim text all of it was read from. Also the field-by-field
//! comparison of two versions that administrators read before publishing.

use crate::procedure::{ProcedureVersion, TimeLimit};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A way to submit a dossier (hình thức nộp).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Trực tiếp: at the counter.
    Counter,
    /// Trực tuyến: online.
    Online,
    /// Dịch vụ bưu chính công ích: by post.
    Post,
}

impl Channel {
    /// Vietnamese name.
    pub fn label_vi(self) -> &'static str {
        match self {
            Channel::Counter => "Trực tiếp",
            Channel::Online => "Trực tuyến",
            Channel::Post => "Dịch vụ bưu chính",
        }
    }

    /// English name.
    pub fn label_en(self) -> &'static str {
        match self {
            Channel::Counter => "At the counter",
            Channel::Online => "Online",
            Channel::Post => "By post",
        }
    }
}

/// Time limit and fee of one channel as the catalogue states them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelTerms {
    /// Which channel.
    pub channel: Channel,
    /// Time limit in working days or hours; none when the text states none we can read.
    pub time_limit: Option<TimeLimit>,
    /// Fee in whole đồng (0 = free); none when not stated or not in đồng.
    pub fee_vnd: Option<i64>,
}

/// A document to attach, with the form files the catalogue offers for it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentDetail {
    /// Name of the document.
    pub name: String,
    /// Form file names (mẫu đơn, tờ khai), e.g. `Mẫu số 01.docx`.
    pub forms: Vec<String>,
    /// Quantity as written, e.g. "1 bản chính" or "0 bản chính,1 bản sao".
    pub quantity: String,
}

/// A result document (kết quả giải quyết).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResultDoc {
    /// Name, e.g. "Giấy khai sinh".
    pub name: String,
    /// National result code, e.g. `KQ.G15.000031`.
    pub code: String,
}

/// A legal document the procedure rests on (căn cứ pháp lý).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegalDoc {
    /// Title as written.
    pub title: String,
    /// Number, e.g. `123/2015/NĐ-CP`.
    pub number: String,
}

/// The text the structured fields were read from, kept as published.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Verbatim {
    /// Channels × time × fees (cách thức thực hiện).
    pub channels: String,
    /// Documents (thành phần hồ sơ).
    pub documents: String,
    /// Steps (trình tự thực hiện).
    pub steps: String,
    /// Results (kết quả xử lý).
    pub results: String,
    /// Legal basis (căn cứ pháp lý).
    pub legal_basis: String,
    /// Conditions (yêu cầu, điều kiện).
    pub conditions: String,
}

/// Catalogue content of a procedure version beyond what a dossier needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ProcedureDetails {
    /// Terms per channel.
    pub channels: Vec<ChannelTerms>,
    /// Documents with their forms.
    pub documents: Vec<DocumentDetail>,
    /// Steps, one paragraph each.
    pub steps: Vec<String>,
    /// Result documents.
    pub results: Vec<ResultDoc>,
    /// Legal basis.
    pub legal_basis: Vec<LegalDoc>,
    /// Who may apply (đối tượng thực hiện).
    pub applicant_types: Vec<String>,
    /// Where to submit (địa chỉ tiếp nhận), as published.
    pub where_to_submit: String,
    /// Implementing body as the national catalogue names it (cơ quan thực hiện).
    pub implementing_body: String,
    /// Issuing ministry or body (cơ quan ban hành).
    pub issuing_body: String,
    /// Kind of procedure (loại thủ tục).
    pub kind: String,
    /// Date the version takes effect.
    #[schema(value_type = Option<String>, format = Date)]
    pub effective_from: Option<NaiveDate>,
    /// The source text.
    pub verbatim: Verbatim,
}

/// One field that differs between two versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldChange {
    /// Field name (JSON path of the version, e.g. `name`, `details.steps`).
    pub field: String,
    /// Value in the older version (JSON).
    pub before: serde_json::Value,
    /// Value in the newer version (JSON).
    pub after: serde_json::Value,
}

/// The fields that differ between `old` and `new`, ignoring the version number and status.
/// Details are compared field by field so a change to one form file shows as `details.documents`.
pub fn diff(old: &ProcedureVersion, new: &ProcedureVersion) -> Vec<FieldChange> {
    let as_map = |v: &ProcedureVersion| match serde_json::to_value(v) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let (a, b) = (as_map(old), as_map(new));
    let mut out = Vec::new();
    for (k, before) in &a {
        if k == "version" || k == "status" {
            continue;
        }
        let after = b.get(k).cloned().unwrap_or(serde_json::Value::Null);
        if k == "details"
            && let (serde_json::Value::Object(da), serde_json::Value::Object(db)) = (before, &after)
        {
            for (dk, dv) in da {
                let dn = db.get(dk).cloned().unwrap_or(serde_json::Value::Null);
                if *dv != dn {
                    out.push(FieldChange {
                        field: format!("details.{dk}"),
                        before: dv.clone(),
                        after: dn,
                    });
                }
            }
            continue;
        }
        if *before != after {
            out.push(FieldChange {
                field: k.clone(),
                before: before.clone(),
                after,
            });
        }
    }
    // Fields only the newer version has (optional ones skipped when empty, e.g. `form`).
    for (k, after) in &b {
        if !a.contains_key(k) {
            out.push(FieldChange {
                field: k.clone(),
                before: serde_json::Value::Null,
                after: after.clone(),
            });
        }
    }
    out
}

/// Whether two versions say the same thing (all but number and status are equal).
pub fn same_content(a: &ProcedureVersion, b: &ProcedureVersion) -> bool {
    diff(a, b).is_empty()
}

/// Whether a procedure version discloses the seven parts Decision 766 (indicator 1.3) requires:
/// name, sequence of steps, method (channels or where to submit), dossier components, time
/// limit, who may apply, and the agency that carries it out.
pub fn discloses_all_parts(v: &ProcedureVersion) -> bool {
    let d = &v.details;
    !v.name.trim().is_empty()
        && !d.steps.is_empty()
        && (!d.channels.is_empty() || !d.where_to_submit.trim().is_empty())
        && (!v.documents.is_empty() || !d.documents.is_empty())
        && v.time_limit.amount > 0
        && !d.applicant_types.is_empty()
        && (!d.implementing_body.trim().is_empty() || v.competent_agency.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procedure::{Level, OnlineLevel, TimeUnit, VersionStatus};
    use crate::workflow::WorkflowDef;

    fn version() -> ProcedureVersion {
        let limit = TimeLimit {
            amount: 5,
            unit: TimeUnit::WorkingDays,
        };
        ProcedureVersion {
            code: "1.001193".parse().unwrap(),
            version: 1,
            status: VersionStatus::Published,
            name: "Đăng ký khai sinh".into(),
            field: "Hộ tịch".into(),
            levels: vec![Level::Commune],
            online_level: OnlineLevel::Full,
            time_limit: limit,
            fee_vnd: 0,
            documents: vec![],
            decision_no: "1/QĐ-BTP".into(),
            competent_agency: None,
            workflow: WorkflowDef::standard(limit.duration(), None),
            details: ProcedureDetails::default(),
            form: None,
        }
    }

    #[test]
    fn the_seven_parts_are_all_needed() {
        let mut v = version();
        v.details.steps = vec!["Nộp hồ sơ".into()];
        v.details.where_to_submit = "Bộ phận một cửa".into();
        v.details.applicant_types = vec!["Công dân Việt Nam".into()];
        v.details.implementing_body = "UBND cấp xã".into();
        v.documents = vec![crate::procedure::DocumentRequirement {
            name: "Tờ khai".into(),
            required: true,
        }];
        assert!(discloses_all_parts(&v), "{v:?}");
        let mut no_steps = v.clone();
        no_steps.details.steps.clear();
        assert!(!discloses_all_parts(&no_steps));
        let mut nobody = v.clone();
        nobody.details.applicant_types.clear();
        assert!(!discloses_all_parts(&nobody));
        let mut no_limit = v.clone();
        no_limit.time_limit.amount = 0;
        assert!(!discloses_all_parts(&no_limit));
    }

    #[test]
    fn diff_names_changed_fields_and_ignores_number_and_status() {
        let a = version();
        let mut b = a.clone();
        b.version = 2;
        b.status = VersionStatus::Draft;
        assert!(same_content(&a, &b));
        b.name = "Đăng ký khai sinh (sửa)".into();
        b.details.steps = vec!["Bước 1".into()];
        let d = diff(&a, &b);
        let fields: Vec<&str> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["details.steps", "name"]);
        assert_eq!(d[1].before, "Đăng ký khai sinh");
        assert!(!same_content(&a, &b));
        // A field only the newer version has (an e-form added to a draft) is a change too.
        let mut c = a.clone();
        c.form = Some(crate::forms::generic_form(&a));
        let d = diff(&a, &c);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].field, "form");
        assert_eq!(d[0].before, serde_json::Value::Null);
    }

    #[test]
    fn levels_read_labels_without_diacritics() {
        assert_eq!(Level::from_label("Cấp tỉnh"), Some(Level::Province));
        assert_eq!(Level::from_label(" cap xa "), Some(Level::Commune));
        assert_eq!(Level::from_label("Cấp bộ"), Some(Level::Ministry));
        assert_eq!(Level::from_label("Cấp huyện"), None);
        for l in Level::ALL {
            assert_eq!(Level::from_label(l.label_vi()), Some(l));
        }
    }

    #[test]
    fn old_records_without_details_still_read() {
        let mut v = serde_json::to_value(version()).unwrap();
        v.as_object_mut().unwrap().remove("details");
        let back: ProcedureVersion = serde_json::from_value(v).unwrap();
        assert_eq!(back.details, ProcedureDetails::default());
    }
}

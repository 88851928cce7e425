//! The shape of an e-form definition (biểu mẫu điện tử), as stored with a procedure version and
//! written by administrators as JSON.

use serde::{Deserialize, Serialize};

/// A text shown to people: Vietnamese, with an optional English version. In JSON either a plain
/// string (Vietnamese only) or `{"vi": "...", "en": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "TextRepr")]
pub struct Text {
    /// Vietnamese (always present).
    pub vi: String,
    /// English, when translated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TextRepr {
    Plain(String),
    Both {
        vi: String,
        #[serde(default)]
        en: Option<String>,
    },
}

impl From<TextRepr> for Text {
    fn from(r: TextRepr) -> Text {
        match r {
            TextRepr::Plain(vi) => Text { vi, en: None },
            TextRepr::Both { vi, en } => Text { vi, en },
        }
    }
}

impl Text {
    /// Vietnamese only.
    pub fn vi(s: impl Into<String>) -> Text {
        Text {
            vi: s.into(),
            en: None,
        }
    }

    /// Both languages.
    pub fn both(vi: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            vi: vi.into(),
            en: Some(en.into()),
        }
    }

    /// The text in `lang` (`"en"` when translated, else Vietnamese).
    pub fn get(&self, lang: &str) -> &str {
        match (&self.en, lang) {
            (Some(en), "en") => en,
            _ => &self.vi,
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::vi(s)
    }
}

/// A whole form: sections of fields, cross-field rules and upload slots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDefinition {
    /// Short id of the form, e.g. `to-khai-dang-ky-khai-sinh`.
    pub id: String,
    /// Title printed on top (e.g. "Tờ khai đăng ký khai sinh").
    pub title: Text,
    /// The official template it follows, e.g. "Mẫu TP/HT-2020-KS.1 (Thông tư 04/2020/TT-BTP)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Sections in order.
    pub sections: Vec<Section>,
    /// Rules between top-level fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<CrossRule>,
    /// One slot per document to attach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uploads: Vec<UploadSlot>,
}

/// A group of fields under one heading (a fieldset).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Id, unique in the form (used for HTML anchors).
    pub id: String,
    /// Heading.
    pub title: Text,
    /// Explanation under the heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    /// Shown only when this holds (its fields are then neither required nor kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_if: Option<Condition>,
    /// Fields in order.
    pub fields: Vec<Field>,
}

/// One input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Id (`[a-z][a-z0-9_]*`), the key of its value; unique among the form's top-level fields,
    /// or among a group's fields.
    pub id: String,
    /// Label.
    pub label: Text,
    /// Help text shown under the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    /// Must be filled in (when visible).
    #[serde(default)]
    pub required: bool,
    /// Shown only when this holds; a hidden field is neither required nor kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_if: Option<Condition>,
    /// Profile value that fills it in (see [`crate::forms::PREFILL_KEYS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<String>,
    /// The type and its own rules.
    #[serde(flatten)]
    pub kind: FieldKind,
}

/// Field types with their rules. In JSON the `type` key names the variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    Text {
        /// Fewest characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_length: Option<u32>,
        /// Most characters (default 200).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
        /// A regular expression the whole value must match.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<Pattern>,
    },
    /// Several lines of text.
    Textarea {
        /// Fewest characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_length: Option<u32>,
        /// Most characters (default 2000).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
    },
    /// A whole number.
    Number {
        /// Smallest allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        /// Largest allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// An amount in whole đồng.
    Money {
        /// Smallest allowed (default 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        /// Largest allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// A calendar date (stored ISO `YYYY-MM-DD`; people may type `dd/mm/yyyy`).
    Date {
        /// Earliest: an ISO date or `today`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<String>,
        /// Latest: an ISO date or `today`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<String>,
    },
    /// A 12-digit personal identification number (số định danh cá nhân).
    PersonalId,
    /// A tax code (10 digits, or 10 + `-` + 3 for a branch).
    TaxCode,
    /// A Vietnamese phone number (mobile or landline).
    Phone,
    /// An e-mail address.
    Email,
    /// One of a list.
    Select {
        /// The choices.
        options: Vec<Choice>,
    },
    /// A yes/no box.
    Checkbox,
    /// A postal address: province and commune from the administrative units, and a street line.
    Address {
        /// Preselected province code (e.g. the deployment's own).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default_province: Option<String>,
    },
    /// Rows of the same fields (e.g. family members).
    Group {
        /// Fields of one row.
        fields: Vec<Field>,
        /// Fewest rows (when visible).
        #[serde(default)]
        min_items: u32,
        /// Most rows.
        max_items: u32,
        /// Rules between fields of one row.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rules: Vec<CrossRule>,
    },
}

impl FieldKind {
    /// The JSON name of the type.
    pub fn name(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "text",
            FieldKind::Textarea { .. } => "textarea",
            FieldKind::Number { .. } => "number",
            FieldKind::Money { .. } => "money",
            FieldKind::Date { .. } => "date",
            FieldKind::PersonalId => "personal_id",
            FieldKind::TaxCode => "tax_code",
            FieldKind::Phone => "phone",
            FieldKind::Email => "email",
            FieldKind::Select { .. } => "select",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Address { .. } => "address",
            FieldKind::Group { .. } => "group",
        }
    }
}

/// A regular expression with the message shown when it does not match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    /// The expression (Rust `regex` syntax, matched against the whole value).
    pub regex: String,
    /// What the value should look like.
    pub message: Text,
}

/// A choice of a select.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stored value.
    pub value: String,
    /// Shown label.
    pub label: Text,
}

/// When a field or section is shown: another field's value equals a value, is one of several,
/// or (a checkbox) is checked. Exactly one of `equals`, `in`, `checked`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The field looked at (a sibling in the same group row, else a top-level field).
    pub field: String,
    /// Shown when the value equals this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// Shown when the value is one of these.
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<String>>,
    /// Shown when the checkbox is (true) or is not (false) checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<bool>,
}

/// A rule between two fields of the same kind (dates, numbers or money), e.g.
/// `{"field": "ngay_chet", "after": "ngay_sinh"}`. Checked only when both are filled and visible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossRule {
    /// The field the rule is about (errors point at it).
    pub field: String,
    /// Must be strictly later / greater than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Must be on or after / at least this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// Must be strictly earlier / smaller than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Message shown instead of the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Text>,
}

/// Where one document is attached (the file itself is handled by the document store; a value is
/// a blob key such as `sha256:<64 hex>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadSlot {
    /// Id, unique among the slots.
    pub id: String,
    /// Name of the document (thành phần hồ sơ).
    pub name: Text,
    /// Must be attached for an online submission.
    #[serde(default)]
    pub required: bool,
    /// Accepted media types (default: PDF, JPEG, PNG).
    #[serde(default = "default_accept")]
    pub accept: Vec<String>,
    /// Largest file in bytes (default 10 MB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
}

/// PDF, JPEG and PNG.
pub fn default_accept() -> Vec<String> {
    ["application/pdf", "image/jpeg", "image/png"]
        .map(String::from)
        .to_vec()
}

/// 10 MB.
pub fn default_max_bytes() -> u64 {
    10 * 1024 * 1024
}

/// Media types an upload slot may accept.
pub const ACCEPTABLE_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];

impl FormDefinition {
    /// Every top-level field, section by section.
    pub fn fields(&self) -> impl Iterator<Item = (&Section, &Field)> {
        self.sections
            .iter()
            .flat_map(|s| s.fields.iter().map(move |f| (s, f)))
    }

    /// A top-level field by id.
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields().map(|(_, f)| f).find(|f| f.id == id)
    }
}

//! Server-side validation (the authority): parses and normalises what was typed, applies every
//! rule of the definition, and keeps only the fields that are shown.

use super::model::{Condition, CrossRule, Field, FieldKind, FormDefinition, Pattern, Text};
use crate::codes::{PersonalId, TaxCode};
use crate::text::nfc;
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Reserved key of the values object holding upload slot -> blob key.
pub const UPLOADS_KEY: &str = "_uploads";

/// Longest raw text accepted in any field before any rule runs (characters).
const MAX_RAW: usize = 10_000;

/// The administrative units an address field may name.
pub trait UnitLookup {
    /// Full name of a province (`"68"` -> "Tỉnh Lâm Đồng"), if it exists.
    fn province_name(&self, code: &str) -> Option<String>;
    /// Full name and province code of a commune, if it exists.
    fn commune(&self, code: &str) -> Option<(String, String)>;
    /// Every province, as (code, full name), in code order.
    fn provinces(&self) -> Vec<(String, String)>;
    /// The communes of a province, as (code, full name), in code order.
    fn communes(&self, province: &str) -> Vec<(String, String)>;
}

/// One problem with what was typed, tied to a field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Where: `ho_ten`, `thanh_vien[1].ho_ten`, `dia_chi.commune`, `_uploads.to_khai`.
    pub path: String,
    /// What is wrong, in Vietnamese.
    pub message: String,
    /// The same in English.
    pub message_en: String,
}

/// Values that passed: normalised and limited to the visible fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Validated {
    /// The normalised values (a JSON object; uploads under `_uploads`).
    pub values: Value,
    /// Attached documents: slot id -> blob key.
    pub uploads: BTreeMap<String, String>,
    /// Required slots with nothing attached (an online submission needs them; a desk officer
    /// receiving paper does not).
    pub missing_uploads: Vec<String>,
}

type Fail = (String, String);

fn fail(vi: impl Into<String>, en: impl Into<String>) -> Fail {
    (vi.into(), en.into())
}

/// Validates `values` against `def` as of today in Vietnam (UTC+7).
pub fn validate(
    def: &FormDefinition,
    values: &Value,
    units: &dyn UnitLookup,
) -> Result<Validated, Vec<FieldError>> {
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    validate_at(def, values, units, today)
}

/// Validates `values` against `def`, with `today` for date bounds written as `today`.
pub fn validate_at(
    def: &FormDefinition,
    values: &Value,
    units: &dyn UnitLookup,
    today: NaiveDate,
) -> Result<Validated, Vec<FieldError>> {
    let empty = Map::new();
    let obj = match values {
        Value::Object(m) => m,
        Value::Null => &empty,
        _ => {
            return Err(vec![FieldError {
                path: String::new(),
                message: "Dữ liệu tờ khai phải là một đối tượng JSON".into(),
                message_en: "form values must be a JSON object".into(),
            }]);
        }
    };
    let mut v = Validator {
        units,
        today,
        errors: Vec::new(),
    };
    let top: Vec<&Field> = def.fields().map(|(_, f)| f).collect();
    let section_of: HashMap<&str, Option<&Condition>> = def
        .fields()
        .map(|(s, f)| (f.id.as_str(), s.visible_if.as_ref()))
        .collect();
    let out = v.row(&top, obj, "", None, &section_of, &def.rules);
    let (uploads, missing) = v.uploads(def, obj);
    if !v.errors.is_empty() {
        return Err(v.errors);
    }
    let mut values = out;
    if !uploads.is_empty() {
        values.insert(
            UPLOADS_KEY.into(),
            Value::Object(
                uploads
                    .iter()
                    .map(|(k, b)| (k.clone(), Value::String(b.clone())))
                    .collect(),
            ),
        );
    }
    Ok(Validated {
        values: Value::Object(values),
        uploads,
        missing_uploads: missing,
    })
}

struct Validator<'u> {
    units: &'u dyn UnitLookup,
    today: NaiveDate,
    errors: Vec<FieldError>,
}

/// A parsed value, before visibility is known.
enum Parsed {
    Empty,
    Ok(Value),
    Bad(Fail),
}

fn label(f: &Field) -> (&str, &str) {
    (&f.label.vi, f.label.en.as_deref().unwrap_or(&f.label.vi))
}

fn holds(c: &Condition, v: Option<&Value>) -> bool {
    if let Some(want) = c.checked {
        return v.and_then(Value::as_bool).unwrap_or(false) == want;
    }
    let s = v.and_then(Value::as_str);
    match (&c.equals, &c.one_of, s) {
        (Some(e), _, Some(s)) => e == s,
        (_, Some(list), Some(s)) => list.iter().any(|x| x == s),
        _ => false,
    }
}

impl Validator<'_> {
    fn error(&mut self, path: String, (vi, en): Fail) {
        self.errors.push(FieldError {
            path,
            message: vi,
            message_en: en,
        });
    }

    /// Validates one row of fields (the top level, or a group row with `outer` the top level's
    /// parsed values), returning the kept values.
    fn row(
        &mut self,
        fields: &[&Field],
        obj: &Map<String, Value>,
        prefix: &str,
        outer: Option<&HashMap<String, Option<Value>>>,
        sections: &HashMap<&str, Option<&Condition>>,
        rules: &[CrossRule],
    ) -> Map<String, Value> {
        // Parse every non-group field first: visibility depends on parsed values.
        let mut parsed: HashMap<String, Parsed> = HashMap::new();
        for f in fields {
            if !matches!(f.kind, FieldKind::Group { .. }) {
                parsed.insert(f.id.clone(), self.parse(f, obj.get(&f.id), prefix));
            }
        }
        let known: HashMap<String, Option<Value>> = parsed
            .iter()
            .map(|(k, p)| {
                (
                    k.clone(),
                    match p {
                        Parsed::Ok(v) => Some(v.clone()),
                        _ => None,
                    },
                )
            })
            .collect();
        let by_id: HashMap<&str, &Field> = fields.iter().map(|f| (f.id.as_str(), *f)).collect();
        let mut visible: HashMap<String, bool> = HashMap::new();
        for f in fields {
            let vis = self.visible(f, &by_id, &known, outer, sections, &mut visible, 0);
            visible.insert(f.id.clone(), vis);
        }
        let mut out = Map::new();
        for f in fields {
            if !visible.get(&f.id).copied().unwrap_or(true) {
                continue;
            }
            let path = format!("{prefix}{}", f.id);
            if let FieldKind::Group {
                fields: inner,
                min_items,
                max_items,
                rules: row_rules,
            } = &f.kind
            {
                if let Some(rows) = self.group(
                    f,
                    obj.get(&f.id),
                    inner,
                    (*min_items, *max_items),
                    row_rules,
                    &known,
                    &path,
                ) {
                    out.insert(f.id.clone(), rows);
                }
                continue;
            }
            match parsed.remove(&f.id).unwrap_or(Parsed::Empty) {
                Parsed::Bad(e) => self.error(path, e),
                Parsed::Empty if f.required => {
                    let (vi, en) = label(f);
                    self.error(
                        path,
                        fail(
                            format!("Vui lòng nhập «{vi}»"),
                            format!("“{en}” is required"),
                        ),
                    );
                }
                Parsed::Empty | Parsed::Ok(Value::Null) => {}
                Parsed::Ok(Value::Bool(false)) if f.required => {
                    self.error(
                        path,
                        fail("Cần đánh dấu ô này để tiếp tục", "This box must be checked"),
                    );
                }
                Parsed::Ok(v) => {
                    out.insert(f.id.clone(), v);
                }
            }
        }
        for r in rules {
            self.rule(r, &by_id, &out, prefix);
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn visible(
        &self,
        f: &Field,
        by_id: &HashMap<&str, &Field>,
        known: &HashMap<String, Option<Value>>,
        outer: Option<&HashMap<String, Option<Value>>>,
        sections: &HashMap<&str, Option<&Condition>>,
        memo: &mut HashMap<String, bool>,
        depth: u32,
    ) -> bool {
        if depth > 16 {
            // A cycle of conditions: treat as hidden rather than loop.
            return false;
        }
        if let Some(v) = memo.get(&f.id) {
            return *v;
        }
        let conds = [
            f.visible_if.as_ref(),
            if outer.is_none() {
                sections.get(f.id.as_str()).copied().flatten()
            } else {
                None
            },
        ];
        for c in conds.into_iter().flatten() {
            let ok = if let Some(target) = by_id.get(c.field.as_str()) {
                self.visible(target, by_id, known, outer, sections, memo, depth + 1)
                    && holds(c, known.get(&c.field).and_then(Option::as_ref))
            } else if let Some(o) = outer {
                // A group row's condition on a top-level field: its parsed value.
                holds(c, o.get(&c.field).and_then(Option::as_ref))
            } else {
                false
            };
            if !ok {
                return false;
            }
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn group(
        &mut self,
        f: &Field,
        raw: Option<&Value>,
        inner: &[Field],
        (min, max): (u32, u32),
        rules: &[CrossRule],
        outer: &HashMap<String, Option<Value>>,
        path: &str,
    ) -> Option<Value> {
        let rows: Vec<&Map<String, Value>> = match raw {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                let mut rows = Vec::new();
                for (i, r) in a.iter().enumerate() {
                    match r {
                        Value::Object(m) => rows.push(m),
                        _ => {
                            self.error(
                                format!("{path}[{i}]"),
                                fail(
                                    "Mỗi dòng phải là một đối tượng",
                                    "each row must be an object",
                                ),
                            );
                            return None;
                        }
                    }
                }
                rows
            }
            Some(_) => {
                self.error(
                    path.to_string(),
                    fail("Phải là danh sách các dòng", "must be a list of rows"),
                );
                return None;
            }
        };
        // Rows left blank (a page shows spare rows) do not count.
        let rows: Vec<&Map<String, Value>> = rows
            .into_iter()
            .filter(|r| r.values().any(|v| !is_blank(v)))
            .collect();
        let min = if f.required { min.max(1) } else { min };
        let (vi, en) = label(f);
        if (rows.len() as u32) < min {
            self.error(
                path.to_string(),
                fail(
                    format!("«{vi}» cần ít nhất {min} dòng"),
                    format!("“{en}” needs at least {min} rows"),
                ),
            );
        }
        if rows.len() as u32 > max {
            self.error(
                path.to_string(),
                fail(
                    format!("«{vi}» có nhiều nhất {max} dòng"),
                    format!("“{en}” allows at most {max} rows"),
                ),
            );
            return None;
        }
        let fields: Vec<&Field> = inner.iter().collect();
        let no_sections = HashMap::new();
        let out: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Value::Object(self.row(
                    &fields,
                    r,
                    &format!("{path}[{i}]."),
                    Some(outer),
                    &no_sections,
                    rules,
                ))
            })
            .collect();
        (!out.is_empty()).then_some(Value::Array(out))
    }

    fn rule(
        &mut self,
        r: &CrossRule,
        by_id: &HashMap<&str, &Field>,
        kept: &Map<String, Value>,
        prefix: &str,
    ) {
        let (Some(f), Some(a)) = (by_id.get(r.field.as_str()), kept.get(&r.field)) else {
            return;
        };
        let checks = [
            (&r.after, std::cmp::Ordering::Greater, false),
            (&r.not_before, std::cmp::Ordering::Greater, true),
            (&r.before, std::cmp::Ordering::Less, false),
        ];
        for (other, want, or_equal) in checks {
            let Some(other) = other else { continue };
            let (Some(of), Some(b)) = (by_id.get(other.as_str()), kept.get(other)) else {
                continue;
            };
            let ord = match (a, b) {
                (Value::String(x), Value::String(y)) => x.cmp(y),
                (Value::Number(x), Value::Number(y)) => x
                    .as_i64()
                    .unwrap_or_default()
                    .cmp(&y.as_i64().unwrap_or_default()),
                _ => continue,
            };
            if ord == want || (or_equal && ord == std::cmp::Ordering::Equal) {
                continue;
            }
            let dates = matches!(f.kind, FieldKind::Date { .. });
            let (vi, en) = label(f);
            let (ovi, oen) = label(of);
            let msg = match (&r.message, want, or_equal, dates) {
                (Some(m), ..) => fail(m.vi.clone(), m.en.clone().unwrap_or(m.vi.clone())),
                (None, std::cmp::Ordering::Less, _, true) => fail(
                    format!("«{vi}» phải trước «{ovi}»"),
                    format!("“{en}” must be before “{oen}”"),
                ),
                (None, std::cmp::Ordering::Less, _, false) => fail(
                    format!("«{vi}» phải nhỏ hơn «{ovi}»"),
                    format!("“{en}” must be less than “{oen}”"),
                ),
                (None, _, true, true) => fail(
                    format!("«{vi}» không được trước «{ovi}»"),
                    format!("“{en}” must not be before “{oen}”"),
                ),
                (None, _, true, false) => fail(
                    format!("«{vi}» không được nhỏ hơn «{ovi}»"),
                    format!("“{en}” must not be less than “{oen}”"),
                ),
                (None, _, false, true) => fail(
                    format!("«{vi}» phải sau «{ovi}»"),
                    format!("“{en}” must be after “{oen}”"),
                ),
                (None, _, false, false) => fail(
                    format!("«{vi}» phải lớn hơn «{ovi}»"),
                    format!("“{en}” must be greater than “{oen}”"),
                ),
            };
            self.error(format!("{prefix}{}", r.field), msg);
        }
    }

    fn uploads(
        &mut self,
        def: &FormDefinition,
        obj: &Map<String, Value>,
    ) -> (BTreeMap<String, String>, Vec<String>) {
        let mut got = BTreeMap::new();
        match obj.get(UPLOADS_KEY) {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let path = format!("{UPLOADS_KEY}.{k}");
                    if !def.uploads.iter().any(|u| &u.id == k) {
                        self.error(
                            path,
                            fail(
                                "Biểu mẫu không có mục đính kèm này",
                                "the form has no such upload slot",
                            ),
                        );
                        continue;
                    }
                    match v.as_str().map(str::trim) {
                        Some("") | None if v.is_null() || v.as_str().is_some() => {}
                        Some(s) if is_blob_key(s) => {
                            got.insert(k.clone(), s.to_string());
                        }
                        _ => self.error(
                            path,
                            fail(
                                "Tệp đính kèm không hợp lệ (cần mã dạng sha256:…)",
                                "invalid attachment (expected a key like sha256:<64 hex>)",
                            ),
                        ),
                    }
                }
            }
            Some(_) => self.error(
                UPLOADS_KEY.into(),
                fail(
                    "Danh sách tệp đính kèm phải là một đối tượng",
                    "uploads must be an object",
                ),
            ),
        }
        let missing = def
            .uploads
            .iter()
            .filter(|u| u.required && !got.contains_key(&u.id))
            .map(|u| u.id.clone())
            .collect();
        (got, missing)
    }

    fn parse(&mut self, f: &Field, raw: Option<&Value>, prefix: &str) -> Parsed {
        let raw = match raw {
            None | Some(Value::Null) => {
                return if matches!(f.kind, FieldKind::Checkbox) {
                    Parsed::Ok(Value::Bool(false))
                } else {
                    Parsed::Empty
                };
            }
            Some(v) => v,
        };
        match &f.kind {
            FieldKind::Address { .. } => return self.address(raw, prefix, f),
            FieldKind::Checkbox => {
                return match checkbox(raw) {
                    Some(b) => Parsed::Ok(Value::Bool(b)),
                    None => Parsed::Bad(fail(
                        "Giá trị của ô đánh dấu không hợp lệ",
                        "a checkbox is true or false",
                    )),
                };
            }
            _ => {}
        }
        let text = match raw {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Parsed::Bad(fail("Phải là chữ hoặc số", "must be a string or a number"));
            }
        };
        if text.chars().count() > MAX_RAW {
            return Parsed::Bad(fail(
                format!("Quá dài (tối đa {MAX_RAW} ký tự)"),
                format!("too long (at most {MAX_RAW} characters)"),
            ));
        }
        let text = nfc(text.trim());
        if text.is_empty() {
            return Parsed::Empty;
        }
        match self.scalar(&f.kind, &text, raw) {
            Ok(v) => Parsed::Ok(v),
            Err(e) => Parsed::Bad(e),
        }
    }

    fn scalar(&self, kind: &FieldKind, text: &str, raw: &Value) -> Result<Value, Fail> {
        match kind {
            FieldKind::Text {
                min_length,
                max_length,
                pattern,
            } => {
                let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
                no_controls(&one_line, false)?;
                lengths(&one_line, *min_length, max_length.unwrap_or(200))?;
                if let Some(p) = pattern {
                    matches(p, &one_line)?;
                }
                Ok(Value::String(one_line))
            }
            FieldKind::Textarea {
                min_length,
                max_length,
            } => {
                let t = text.replace("\r\n", "\n");
                no_controls(&t, true)?;
                lengths(&t, *min_length, max_length.unwrap_or(2000))?;
                Ok(Value::String(t))
            }
            FieldKind::Number { min, max } => {
                let n = integer(text, raw, false)?;
                bounds(n, *min, *max, "")?;
                Ok(Value::from(n))
            }
            FieldKind::Money { min, max } => {
                let n = integer(text, raw, true)?;
                bounds(n, Some(min.unwrap_or(0)), *max, " đồng")?;
                Ok(Value::from(n))
            }
            FieldKind::Date { min, max } => {
                let d = date(text)?;
                let bound = |b: &Option<String>| {
                    b.as_deref().and_then(|s| {
                        if s == "today" {
                            Some(self.today)
                        } else {
                            NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
                        }
                    })
                };
                let show = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
                if let Some(lo) = bound(min)
                    && d < lo
                {
                    return Err(fail(
                        format!("Ngày không được trước {}", show(lo)),
                        format!("the date must not be before {lo}"),
                    ));
                }
                if let Some(hi) = bound(max)
                    && d > hi
                {
                    return Err(if max.as_deref() == Some("today") {
                        fail(
                            "Ngày không được sau hôm nay",
                            "the date must not be in the future",
                        )
                    } else {
                        fail(
                            format!("Ngày không được sau {}", show(hi)),
                            format!("the date must not be after {hi}"),
                        )
                    });
                }
                Ok(Value::String(d.format("%Y-%m-%d").to_string()))
            }
            FieldKind::PersonalId => {
                let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(fail(
                        "Số định danh cá nhân phải gồm đúng 12 chữ số",
                        "a personal ID has exactly 12 digits",
                    ));
                }
                digits
                    .parse::<PersonalId>()
                    .map(|p| Value::String(p.to_string()))
                    .map_err(|_| {
                        fail(
                            "Số định danh cá nhân không hợp lệ (mã tỉnh, giới tính hoặc năm sinh sai)",
                            "not a valid personal ID (province, sex/century or year digits are wrong)",
                        )
                    })
            }
            FieldKind::TaxCode => TaxCode::parse_lenient(text)
                .map(|t| Value::String(t.to_string()))
                .map_err(|_| {
                    fail(
                        "Mã số thuế không hợp lệ (10 chữ số, hoặc 10 chữ số-3 chữ số với đơn vị phụ thuộc)",
                        "not a valid tax code (10 digits, or 10 digits-3 digits for a branch)",
                    )
                }),
            FieldKind::Phone => phone(text).map(Value::String),
            FieldKind::Email => email(text).map(Value::String),
            FieldKind::Select { options } => {
                if options.iter().any(|o| o.value == text) {
                    Ok(Value::String(text.to_string()))
                } else {
                    Err(fail(
                        "Vui lòng chọn một giá trị trong danh sách",
                        "choose one of the listed values",
                    ))
                }
            }
            FieldKind::Checkbox | FieldKind::Address { .. } | FieldKind::Group { .. } => {
                Err(fail("Kiểu dữ liệu không hợp lệ", "wrong kind of value"))
            }
        }
    }

    fn address(&mut self, raw: &Value, prefix: &str, f: &Field) -> Parsed {
        let Value::Object(m) = raw else {
            return Parsed::Bad(fail(
                "Địa chỉ cần tỉnh, xã/phường và số nhà, đường",
                "an address is an object with province, commune and street",
            ));
        };
        let part = |k: &str| -> String {
            m.get(k)
                .and_then(Value::as_str)
                .map(|s| nfc(s.trim()))
                .unwrap_or_default()
        };
        let (province, commune, street) = (part("province"), part("commune"), part("street"));
        // A province alone says nothing (the page preselects the form's default province in
        // every address picker): without a commune or a street the address is not given.
        if commune.is_empty() && street.is_empty() {
            return Parsed::Empty;
        }
        let path = format!("{prefix}{}", f.id);
        let mut bad = false;
        let province_name = if province.is_empty() {
            self.error(
                format!("{path}.province"),
                fail("Vui lòng chọn tỉnh, thành phố", "choose a province"),
            );
            bad = true;
            None
        } else {
            let n = self.units.province_name(&province);
            if n.is_none() {
                self.error(
                    format!("{path}.province"),
                    fail("Không có tỉnh, thành phố này", "no such province"),
                );
                bad = true;
            }
            n
        };
        let commune_name = if commune.is_empty() {
            self.error(
                format!("{path}.commune"),
                fail("Vui lòng chọn xã, phường, đặc khu", "choose a commune"),
            );
            bad = true;
            None
        } else {
            match self.units.commune(&commune) {
                Some((name, p)) if p == province => Some(name),
                Some(_) if province_name.is_some() => {
                    self.error(
                        format!("{path}.commune"),
                        fail(
                            "Xã, phường này không thuộc tỉnh, thành phố đã chọn",
                            "the commune is not in the chosen province",
                        ),
                    );
                    bad = true;
                    None
                }
                Some(_) => None,
                None => {
                    self.error(
                        format!("{path}.commune"),
                        fail("Không có xã, phường này", "no such commune"),
                    );
                    bad = true;
                    None
                }
            }
        };
        let street_line = street.split_whitespace().collect::<Vec<_>>().join(" ");
        if street_line.chars().count() > 200 || no_controls(&street_line, false).is_err() {
            self.error(
                format!("{path}.street"),
                fail(
                    "Số nhà, đường, thôn tối đa 200 ký tự, không có ký tự điều khiển",
                    "street line: at most 200 characters, no control characters",
                ),
            );
            bad = true;
        } else if street_line.is_empty() && f.required {
            self.error(
                format!("{path}.street"),
                fail(
                    "Vui lòng nhập số nhà, đường hoặc thôn, tổ",
                    "enter the street, house number or hamlet",
                ),
            );
            bad = true;
        }
        if bad {
            // Errors are already recorded against the parts; keep the field out of the values.
            return Parsed::Empty.or_reported();
        }
        let text = [
            street_line.as_str(),
            commune_name.as_deref().unwrap_or_default(),
            province_name.as_deref().unwrap_or_default(),
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
        let mut out = Map::new();
        out.insert("province".into(), Value::String(province));
        out.insert("commune".into(), Value::String(commune));
        if !street_line.is_empty() {
            out.insert("street".into(), Value::String(street_line));
        }
        out.insert("text".into(), Value::String(text));
        Parsed::Ok(Value::Object(out))
    }
}

impl Parsed {
    /// An address whose parts were reported: a marker that is neither empty (no "required"
    /// error on top) nor kept.
    fn or_reported(self) -> Parsed {
        Parsed::Ok(Value::Null)
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Bool(b) => !b,
        Value::Object(m) => m.values().all(is_blank),
        Value::Array(a) => a.iter().all(is_blank),
        Value::Number(_) => false,
    }
}

/// A blob key as the document store writes it: `sha256:` and 64 lowercase hex digits.
pub fn is_blob_key(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn checkbox(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim() {
            "on" | "true" | "1" | "yes" | "co" | "có" => Some(true),
            "" | "off" | "false" | "0" | "no" | "khong" | "không" => Some(false),
            _ => None,
        },
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn no_controls(s: &str, newlines: bool) -> Result<(), Fail> {
    if s.chars()
        .any(|c| c.is_control() && !(newlines && (c == '\n' || c == '\t')))
    {
        return Err(fail(
            "Có ký tự điều khiển không được phép",
            "contains control characters",
        ));
    }
    Ok(())
}

fn lengths(s: &str, min: Option<u32>, max: u32) -> Result<(), Fail> {
    let n = s.chars().count() as u32;
    if let Some(min) = min
        && n < min
    {
        return Err(fail(
            format!("Cần ít nhất {min} ký tự"),
            format!("at least {min} characters"),
        ));
    }
    if n > max {
        return Err(fail(
            format!("Tối đa {max} ký tự (đang có {n})"),
            format!("at most {max} characters (got {n})"),
        ));
    }
    Ok(())
}

fn matches(p: &Pattern, s: &str) -> Result<(), Fail> {
    let anchored = format!("^(?:{})$", p.regex);
    match regex::Regex::new(&anchored) {
        Ok(re) if re.is_match(s) => Ok(()),
        Ok(_) => Err(text_fail(&p.message)),
        // check() rejects such definitions; an unchecked one fails closed.
        Err(_) => Err(text_fail(&p.message)),
    }
}

fn text_fail(t: &Text) -> Fail {
    fail(t.vi.clone(), t.en.clone().unwrap_or_else(|| t.vi.clone()))
}

fn integer(text: &str, raw: &Value, money: bool) -> Result<i64, Fail> {
    if let Value::Number(n) = raw {
        return n.as_i64().ok_or_else(|| {
            if money {
                fail(
                    "Số tiền tính bằng đồng, không có phần lẻ",
                    "money is in whole đồng",
                )
            } else {
                fail("Phải là số nguyên", "must be a whole number")
            }
        });
    }
    let mut t = text.to_lowercase();
    if money {
        for unit in ["vnđ", "vnd", "đồng", "đ", "₫"] {
            if let Some(s) = t.strip_suffix(unit) {
                t = s.trim_end().to_string();
                break;
            }
        }
    }
    let neg = t.starts_with('-');
    let body = t.trim_start_matches('-');
    // Thousands separators people type: spaces, dots, commas (never decimals here).
    let digits: String = body
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | ',' | '\u{a0}'))
        .collect();
    let grouped_ok = body
        .split([' ', '.', ',', '\u{a0}'])
        .enumerate()
        .all(|(i, g)| !g.is_empty() && (i == 0 || g.len() == 3));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || !grouped_ok {
        return Err(if money {
            fail(
                "Số tiền không hợp lệ (ví dụ: 1.500.000)",
                "not an amount (e.g. 1,500,000)",
            )
        } else {
            fail("Phải là số nguyên", "must be a whole number")
        });
    }
    let n: i64 = digits
        .parse()
        .map_err(|_| fail("Số quá lớn", "number too large"))?;
    Ok(if neg { -n } else { n })
}

fn bounds(n: i64, min: Option<i64>, max: Option<i64>, unit: &str) -> Result<(), Fail> {
    if let Some(lo) = min
        && n < lo
    {
        return Err(fail(
            format!("Không được nhỏ hơn {lo}{unit}"),
            format!("must be at least {lo}"),
        ));
    }
    if let Some(hi) = max
        && n > hi
    {
        return Err(fail(
            format!("Không được lớn hơn {hi}{unit}"),
            format!("must be at most {hi}"),
        ));
    }
    Ok(())
}

fn date(text: &str) -> Result<NaiveDate, Fail> {
    let t = text.trim();
    let parsed = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .filter(|_| t.len() == 10)
        .or_else(|| {
            let parts: Vec<&str> = t.split(['/', '-', '.']).collect();
            match parts.as_slice() {
                [d, m, y] if y.len() == 4 && d.len() <= 2 && m.len() <= 2 => {
                    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
                }
                _ => None,
            }
        });
    match parsed {
        Some(d) if (1900..=2200).contains(&chrono::Datelike::year(&d)) => Ok(d),
        _ => Err(fail(
            "Ngày không hợp lệ (nhập theo dạng ngày/tháng/năm, ví dụ 05/09/2024)",
            "not a valid date (dd/mm/yyyy or yyyy-mm-dd)",
        )),
    }
}

/// Normalises a Vietnamese phone number to its national form (`0` + 9 or 10 digits): mobile
/// `03/05/07/08/09` + 8 digits, landline `02` + 9 digits; `+84`/`84` become `0`.
pub fn normalize_phone(text: &str) -> Option<String> {
    let mut s: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    if let Some(rest) = s.strip_prefix("+84") {
        s = format!("0{rest}");
    } else if s.starts_with("84") && s.len() == 11 {
        s = format!("0{}", &s[2..]);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let b = s.as_bytes();
    let ok = matches!(
        (b.len(), b.first(), b.get(1)),
        (10, Some(b'0'), Some(b'3' | b'5' | b'7' | b'8' | b'9')) | (11, Some(b'0'), Some(b'2'))
    );
    ok.then_some(s)
}

fn phone(text: &str) -> Result<String, Fail> {
    normalize_phone(text).ok_or_else(|| {
        fail(
            "Số điện thoại không hợp lệ (di động 10 số, ví dụ 0912345678; cố định 11 số bắt đầu bằng 02)",
            "not a Vietnamese phone number (mobile: 10 digits like 0912345678; landline: 11 digits starting 02)",
        )
    })
}

fn email(text: &str) -> Result<String, Fail> {
    let bad = || {
        fail(
            "Địa chỉ thư điện tử không hợp lệ (ví dụ: ten@example.vn)",
            "not an e-mail address (e.g. name@example.vn)",
        )
    };
    if text.len() > 254 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = text.rsplit_once('@').ok_or_else(bad)?;
    let labels_ok = domain.split('.').count() >= 2
        && domain.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local.is_empty() || local.len() > 64 || local.contains('@') || !labels_ok {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

//! E-forms in HTML: renders a [`FormDefinition`] with what was typed and the errors into
//! accessible HTML that works without JavaScript, and reads an
//! `application/x-www-form-urlencoded` body (names like `thanh_vien[0][ho_ten]`,
//! `dia_chi[commune]`) back into JSON values for [`motcua_domain::forms::validate`].
//!
//! Every label belongs to its input; errors sit next to their field and are tied to it with
//! `aria-describedby`; browser checks (`required`, `pattern`, `min`, `max`, `maxlength`) are a
//! convenience only, the server decides. Everything typed is escaped.

use motcua_domain::forms::{
    Condition, Field, FieldError, FieldKind, FormDefinition, Text, UPLOADS_KEY, UnitLookup,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt::Write;

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the buttons of a posted form asked for besides submitting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Controls {
    /// "Add a row" to this group.
    pub add: Option<String>,
    /// "Choose" (reload communes for the chosen province) was pressed.
    pub choose: bool,
    /// "Save draft" (`_save`) was pressed.
    pub save: bool,
    /// Files of the data store chosen per slot (`_pick[slot]`: a file key).
    pub picks: Vec<(String, String)>,
}

/// Most name/value pairs read from one body.
const MAX_PAIRS: usize = 2000;
/// Highest row index accepted in a name (`group[i]`).
const MAX_INDEX: usize = 100;

/// Reads a urlencoded body into form values and the control buttons pressed. Names are
/// `field`, `field[part]` (address parts), `group[i][field]` and `_uploads[slot]`; `_add` and
/// `_choose` are buttons; other names starting with `_` and `lang` are ignored. Rejects
/// (with a message) bodies with too many pairs, malformed names or row indexes over 100.
pub fn parse_body(body: &[u8]) -> Result<(Value, Controls), String> {
    parse_pairs(form_urlencoded::parse(body).map(|(n, v)| (n.into_owned(), v.into_owned())))
}

/// [`parse_body`] over name/value pairs already read (a multipart form's text fields). Also
/// reads `_save` (save draft) and `_pick[slot]` (a data-store file chosen for a slot).
pub fn parse_pairs(
    pairs: impl IntoIterator<Item = (String, String)>,
) -> Result<(Value, Controls), String> {
    let mut root = Map::new();
    let mut controls = Controls::default();
    for (n, (name, value)) in pairs.into_iter().enumerate() {
        if n >= MAX_PAIRS {
            return Err(format!("at most {MAX_PAIRS} fields in one form"));
        }
        match name.as_str() {
            "_add" => {
                controls.add = Some(value);
                continue;
            }
            "_choose" => {
                controls.choose = true;
                continue;
            }
            "_save" => {
                controls.save = true;
                continue;
            }
            "lang" | "csrf" => continue,
            _ => {}
        }
        let (head, parts) = split_name(&name)?;
        if head == "_pick" {
            match parts.as_slice() {
                [slot] if !value.trim().is_empty() => {
                    controls
                        .picks
                        .push((slot.to_string(), value.trim().to_string()));
                }
                [_] => {}
                _ => return Err(format!("`{name}` is not a form field name")),
            }
            continue;
        }
        if head.starts_with('_') && head != UPLOADS_KEY {
            continue;
        }
        match parts.as_slice() {
            [] => {
                root.insert(head.to_string(), Value::String(value));
            }
            [key] if key.parse::<usize>().is_err() => {
                let slot = root
                    .entry(head.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(m) = slot {
                    m.insert(key.to_string(), Value::String(value));
                }
            }
            [index, key] => {
                let i: usize = index
                    .parse()
                    .map_err(|_| format!("`{name}`: a row number is expected"))?;
                if i > MAX_INDEX {
                    return Err(format!("`{name}`: at most {MAX_INDEX} rows"));
                }
                let slot = root
                    .entry(head.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                if let Value::Array(rows) = slot {
                    while rows.len() <= i {
                        rows.push(Value::Object(Map::new()));
                    }
                    if let Value::Object(m) = &mut rows[i] {
                        m.insert(key.to_string(), Value::String(value));
                    }
                }
            }
            _ => return Err(format!("`{name}` is not a form field name")),
        }
    }
    Ok((Value::Object(root), controls))
}

/// `a[b][c]` -> (`a`, [`b`, `c`]).
fn split_name(name: &str) -> Result<(&str, Vec<&str>), String> {
    let bad = || format!("`{name}` is not a form field name");
    let (head, mut rest) = match name.find('[') {
        Some(i) => (&name[..i], &name[i..]),
        None => (name, ""),
    };
    if head.is_empty() || head.len() > 64 {
        return Err(bad());
    }
    let mut parts = Vec::new();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[').ok_or_else(bad)?;
        let end = inner.find(']').ok_or_else(bad)?;
        parts.push(&inner[..end]);
        rest = &inner[end + 1..];
        if parts.len() > 2 {
            return Err(bad());
        }
    }
    Ok((head, parts))
}

/// Page texts of the form renderer.
fn ui(lang: &str, key: &str) -> &'static str {
    let en = lang == "en";
    match key {
        "required" => {
            if en {
                "required"
            } else {
                "bắt buộc"
            }
        }
        "choose" => {
            if en {
                "— Choose —"
            } else {
                "— Chọn —"
            }
        }
        "province" => {
            if en {
                "Province or city"
            } else {
                "Tỉnh, thành phố"
            }
        }
        "commune" => {
            if en {
                "Commune or ward"
            } else {
                "Xã, phường, đặc khu"
            }
        }
        "street" => {
            if en {
                "House number, street, hamlet"
            } else {
                "Số nhà, đường, thôn, tổ"
            }
        }
        "reload" => {
            if en {
                "Show communes of this province"
            } else {
                "Hiện danh sách xã, phường của tỉnh đã chọn"
            }
        }
        "pick_province" => {
            if en {
                "Choose the province first, then press the button to list its communes."
            } else {
                "Chọn tỉnh trước, rồi bấm nút để hiện danh sách xã, phường."
            }
        }
        "add_row" => {
            if en {
                "Add a row"
            } else {
                "Thêm một dòng"
            }
        }
        "row" => {
            if en {
                "Row"
            } else {
                "Dòng"
            }
        }
        "uploads" => {
            if en {
                "Documents to attach"
            } else {
                "Giấy tờ cần đính kèm"
            }
        }
        "uploads_note" => {
            if en {
                "You attach the files when you submit the dossier (PDF, JPEG or PNG)."
            } else {
                "Bạn đính kèm tệp khi nộp hồ sơ (PDF, JPEG hoặc PNG)."
            }
        }
        "uploads_note_attach" => {
            if en {
                "Choose a file (PDF, JPEG or PNG) for each document, or one you uploaded before. Files are kept in your data store."
            } else {
                "Chọn tệp (PDF, JPEG hoặc PNG) cho từng giấy tờ, hoặc dùng tệp đã tải lên trước đây. Tệp được lưu trong kho dữ liệu của bạn."
            }
        }
        "choose_file" => {
            if en {
                "Choose a file"
            } else {
                "Chọn tệp"
            }
        }
        "replace_file" => {
            if en {
                "Replace with another file"
            } else {
                "Thay bằng tệp khác"
            }
        }
        "from_vault" => {
            if en {
                "Or use a file from your data store"
            } else {
                "Hoặc dùng tệp trong kho dữ liệu của bạn"
            }
        }
        "use_file" => {
            if en {
                "Use this file"
            } else {
                "Dùng tệp này"
            }
        }
        "preview" => {
            if en {
                "preview"
            } else {
                "xem trước"
            }
        }
        "save_draft" => {
            if en {
                "Save draft"
            } else {
                "Lưu nháp"
            }
        }
        "attached" => {
            if en {
                "attached"
            } else {
                "đã đính kèm"
            }
        }
        "summary" => {
            if en {
                "Please correct the following:"
            } else {
                "Vui lòng sửa các mục sau:"
            }
        }
        "check" => {
            if en {
                "Check the form"
            } else {
                "Kiểm tra tờ khai"
            }
        }
        "shown_if" => {
            if en {
                "Fill in only if"
            } else {
                "Chỉ điền nếu"
            }
        }
        "checked" => {
            if en {
                "is checked"
            } else {
                "được đánh dấu"
            }
        }
        "not_checked" => {
            if en {
                "is not checked"
            } else {
                "không được đánh dấu"
            }
        }
        "is" => {
            if en {
                "is"
            } else {
                "là"
            }
        }
        "max_size" => {
            if en {
                "at most"
            } else {
                "tối đa"
            }
        }
        _ => "",
    }
}

/// HTML id of a value path (`thanh_vien[1].ho_ten` -> `f-thanh_vien-1-ho_ten`).
fn html_id(path: &str) -> String {
    let mut id = String::from("f-");
    for c in path.chars() {
        match c {
            '[' | '.' => id.push('-'),
            ']' => {}
            c => id.push(c),
        }
    }
    id
}

/// Input name of a path (`thanh_vien[1].ho_ten` -> `thanh_vien[1][ho_ten]`).
fn input_name(path: &str) -> String {
    let mut out = String::new();
    for (i, seg) in path.split('.').enumerate() {
        if i == 0 {
            out.push_str(seg);
        } else {
            let _ = write!(out, "[{seg}]");
        }
    }
    out
}

/// Turns what was typed into the text shown back in an input.
fn shown(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.trim(), "on" | "true" | "1" | "yes" | "có"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// A date as an `<input type=date>` value (ISO), from ISO or `dd/mm/yyyy` typed elsewhere.
fn iso_date(s: &str) -> String {
    let t = s.trim();
    if chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok() {
        return t.to_string();
    }
    chrono::NaiveDate::parse_from_str(t, "%d/%m/%Y")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// What [`render`] needs besides the definition.
pub struct RenderInput<'a> {
    /// The form.
    pub def: &'a FormDefinition,
    /// What was typed (or prefilled): the JSON shape [`parse_body`] produces.
    pub values: &'a Value,
    /// Errors to show.
    pub errors: &'a [FieldError],
    /// `vi` or `en`.
    pub lang: &'a str,
    /// Provinces and communes for address pickers.
    pub units: &'a dyn UnitLookup,
    /// Where the form posts.
    pub action: &'a str,
    /// The group that gets one more row (the "add a row" button was pressed).
    pub add_row: Option<&'a str>,
    /// Today (Vietnam), for date bounds written `today`.
    pub today: chrono::NaiveDate,
    /// Inside a larger form (the counter reception screen): only the fieldsets, no `<form>`
    /// element, no submit button; the page's own form must have the class `eform`.
    pub embedded: bool,
    /// A signed-in citizen's page: file inputs, their data store to attach from, the CSRF
    /// token and the "save draft" button (the form becomes `multipart/form-data`). `None`: the
    /// upload slots are only listed.
    pub attach: Option<&'a Attach<'a>>,
}

/// A file of the person's data store offered for a slot.
#[derive(Clone, Debug)]
pub struct StoredFile {
    /// `sha256:<hex>`.
    pub key: String,
    /// Name shown.
    pub name: String,
    /// When it was added, as shown (Vietnam time).
    pub added: String,
}

/// What a signed-in citizen's form page adds to the form (see [`RenderInput::attach`]).
#[derive(Clone, Debug)]
pub struct Attach<'a> {
    /// The session's CSRF token.
    pub csrf: &'a str,
    /// Their data store, newest first.
    pub files: &'a [StoredFile],
    /// Names of attached files not in `files` (just uploaded beyond the list's length).
    pub names: &'a HashMap<String, String>,
}

struct R<'a> {
    i: &'a RenderInput<'a>,
    out: String,
    errors: HashMap<&'a str, &'a FieldError>,
    labels: HashMap<String, String>,
}

/// Renders the form as an HTML fragment (a `<form>` with an error summary on top when there are
/// errors, and a tiny inline script that hides conditional fields; without it they all show,
/// each saying when it applies).
pub fn render(i: &RenderInput<'_>) -> String {
    let mut r = R {
        i,
        out: String::with_capacity(16 * 1024),
        errors: i.errors.iter().map(|e| (e.path.as_str(), e)).collect(),
        labels: i
            .def
            .fields()
            .map(|(_, f)| (f.id.clone(), t(&f.label, i.lang).to_string()))
            .collect(),
    };
    r.form();
    r.out
}

fn t<'x>(text: &'x Text, lang: &str) -> &'x str {
    text.get(lang)
}

impl R<'_> {
    fn lang(&self) -> &str {
        self.i.lang
    }

    fn form(&mut self) {
        let i = self.i;
        if !i.errors.is_empty() {
            let _ = write!(
                self.out,
                "<div class=\"err\" role=\"alert\" id=\"error-summary\" tabindex=\"-1\"><p><strong>{}</strong></p><ul>",
                ui(i.lang, "summary")
            );
            for e in i.errors {
                let msg = if i.lang == "en" {
                    &e.message_en
                } else {
                    &e.message
                };
                let target = if e.path.is_empty() {
                    "error-summary".into()
                } else {
                    html_id(&e.path)
                };
                let _ = write!(
                    self.out,
                    "<li><a href=\"#{}\">{}</a></li>",
                    esc(&target),
                    esc(msg)
                );
            }
            self.out.push_str("</ul></div>");
        }
        if !i.embedded {
            let multipart = if i.attach.is_some() && !i.def.uploads.is_empty() {
                " enctype=\"multipart/form-data\""
            } else {
                ""
            };
            let _ = write!(
                self.out,
                "<form method=\"post\" action=\"{}\" class=\"eform\" accept-charset=\"utf-8\"{multipart}>",
                esc(i.action)
            );
            let _ = write!(
                self.out,
                "<input type=\"hidden\" name=\"lang\" value=\"{}\">",
                esc(i.lang)
            );
            if let Some(a) = i.attach {
                let _ = write!(
                    self.out,
                    "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
                    esc(a.csrf)
                );
            }
        }
        for s in &i.def.sections {
            let cond = s
                .visible_if
                .as_ref()
                .map(|c| self.cond_attrs(c, ""))
                .unwrap_or_default();
            let _ = write!(
                self.out,
                "<fieldset id=\"s-{}\"{cond}><legend>{}</legend>",
                esc(&s.id),
                esc(t(&s.title, i.lang))
            );
            if let Some(c) = &s.visible_if {
                self.shown_if_note(c);
            }
            if let Some(h) = &s.help {
                let _ = write!(self.out, "<p class=\"muted\">{}</p>", esc(t(h, i.lang)));
            }
            let empty = Map::new();
            let values = i.values.as_object().unwrap_or(&empty);
            for f in &s.fields {
                self.field(f, values, "");
            }
            self.out.push_str("</fieldset>");
        }
        self.uploads();
        if !i.embedded {
            let save = if i.attach.is_some() {
                format!(
                    " <button type=\"submit\" name=\"_save\" value=\"1\" formnovalidate class=\"secondary\">{}</button>",
                    ui(i.lang, "save_draft")
                )
            } else {
                String::new()
            };
            let _ = write!(
                self.out,
                "<p><button type=\"submit\">{}</button>{save}</p></form>",
                ui(i.lang, "check")
            );
        }
        self.out.push_str(SCRIPT);
    }

    fn cond_attrs(&self, c: &Condition, prefix: &str) -> String {
        // A row's condition names a sibling when one exists; else a top-level field.
        let name = if !prefix.is_empty() && self.is_sibling(&c.field, prefix) {
            input_name(&format!("{prefix}{}", c.field))
        } else {
            c.field.clone()
        };
        let mut a = format!(" data-if=\"{}\"", esc(&name));
        if let Some(e) = &c.equals {
            let _ = write!(a, " data-eq=\"{}\"", esc(e));
        }
        if let Some(list) = &c.one_of {
            let _ = write!(a, " data-in=\"{}\"", esc(&list.join("\u{1f}")));
        }
        if let Some(ch) = c.checked {
            let _ = write!(a, " data-checked=\"{}\"", if ch { "1" } else { "0" });
        }
        a
    }

    fn is_sibling(&self, id: &str, prefix: &str) -> bool {
        let group = prefix.split('[').next().unwrap_or_default();
        match self.i.def.field(group).map(|f| &f.kind) {
            Some(FieldKind::Group { fields, .. }) => fields.iter().any(|f| f.id == id),
            _ => false,
        }
    }

    fn shown_if_note(&mut self, c: &Condition) {
        let lang = self.i.lang;
        let label = self
            .labels
            .get(&c.field)
            .cloned()
            .unwrap_or_else(|| c.field.clone());
        let what = match (&c.checked, &c.equals, &c.one_of) {
            (Some(true), ..) => ui(lang, "checked").to_string(),
            (Some(false), ..) => ui(lang, "not_checked").to_string(),
            (_, Some(e), _) => format!("{} «{}»", ui(lang, "is"), self.option_label(&c.field, e)),
            (_, _, Some(l)) => format!(
                "{} «{}»",
                ui(lang, "is"),
                l.iter()
                    .map(|v| self.option_label(&c.field, v))
                    .collect::<Vec<_>>()
                    .join(" / ")
            ),
            _ => String::new(),
        };
        let _ = write!(
            self.out,
            "<p class=\"muted cond-note\">{} «{}» {}</p>",
            ui(lang, "shown_if"),
            esc(&label),
            esc(&what)
        );
    }

    fn option_label(&self, field: &str, value: &str) -> String {
        match self.i.def.field(field).map(|f| &f.kind) {
            Some(FieldKind::Select { options }) => options
                .iter()
                .find(|o| o.value == value)
                .map(|o| t(&o.label, self.i.lang).to_string())
                .unwrap_or_else(|| value.to_string()),
            _ => value.to_string(),
        }
    }

    /// Opening of a field wrapper, its label, help, and error; returns the describedby ids.
    fn described(&mut self, path: &str, help: Option<&Text>) -> (String, bool) {
        let id = html_id(path);
        let mut ids = Vec::new();
        if let Some(h) = help {
            let _ = write!(
                self.out,
                "<span class=\"muted hint\" id=\"{id}-help\">{}</span>",
                esc(t(h, self.i.lang))
            );
            ids.push(format!("{id}-help"));
        }
        let err = self.errors.get(path).copied();
        if let Some(e) = err {
            let msg = if self.i.lang == "en" {
                &e.message_en
            } else {
                &e.message
            };
            let _ = write!(
                self.out,
                "<span class=\"field-err\" id=\"{id}-err\">{}</span>",
                esc(msg)
            );
            ids.push(format!("{id}-err"));
        }
        let mut attrs = String::new();
        if !ids.is_empty() {
            let _ = write!(attrs, " aria-describedby=\"{}\"", ids.join(" "));
        }
        if err.is_some() {
            attrs.push_str(" aria-invalid=\"true\"");
        }
        (attrs, err.is_some())
    }

    fn label(&mut self, f: &Field, id: &str) {
        let req = if f.required {
            format!(
                " <span class=\"req\">({})</span>",
                ui(self.i.lang, "required")
            )
        } else {
            String::new()
        };
        let _ = write!(
            self.out,
            "<label for=\"{id}\">{}{req}</label>",
            esc(t(&f.label, self.i.lang))
        );
    }

    fn field(&mut self, f: &Field, values: &Map<String, Value>, prefix: &str) {
        let path = format!("{prefix}{}", f.id);
        let id = html_id(&path);
        let name = input_name(&path);
        let cond = f
            .visible_if
            .as_ref()
            .map(|c| self.cond_attrs(c, prefix))
            .unwrap_or_default();
        let has_err = self.errors.keys().any(|k| {
            *k == path || k.starts_with(&format!("{path}.")) || k.starts_with(&format!("{path}["))
        });
        let _ = write!(
            self.out,
            "<div class=\"fld{}\"{cond}>",
            if has_err { " has-err" } else { "" }
        );
        if let Some(c) = &f.visible_if {
            self.shown_if_note(c);
        }
        // Browsers must not insist on a field that may be hidden.
        let req = if f.required && f.visible_if.is_none() {
            " required"
        } else {
            ""
        };
        let raw = values.get(&f.id);
        match &f.kind {
            FieldKind::Checkbox => {
                let checked = if truthy(raw) { " checked" } else { "" };
                let (attrs, _) =
                    self.described_after_label_checkbox(f, &path, &id, &name, checked, req);
                let _ = attrs;
            }
            FieldKind::Select { options } => {
                self.label(f, &id);
                let (attrs, _) = self.described(&path, f.help.as_ref());
                let current = shown(raw);
                let _ = write!(
                    self.out,
                    "<select id=\"{id}\" name=\"{}\"{req}{attrs}><option value=\"\">{}</option>",
                    esc(&name),
                    ui(self.lang(), "choose")
                );
                for o in options {
                    let sel = if o.value == current { " selected" } else { "" };
                    let _ = write!(
                        self.out,
                        "<option value=\"{}\"{sel}>{}</option>",
                        esc(&o.value),
                        esc(t(&o.label, self.i.lang))
                    );
                }
                self.out.push_str("</select>");
            }
            FieldKind::Textarea { max_length, .. } => {
                self.label(f, &id);
                let (attrs, _) = self.described(&path, f.help.as_ref());
                let _ = write!(
                    self.out,
                    "<textarea id=\"{id}\" name=\"{}\" rows=\"4\" maxlength=\"{}\"{req}{attrs}>{}</textarea>",
                    esc(&name),
                    max_length.unwrap_or(2000),
                    esc(&shown(raw))
                );
            }
            FieldKind::Address { default_province } => {
                self.address(f, raw, &path, default_province.as_deref());
            }
            FieldKind::Group {
                fields,
                min_items,
                max_items,
                ..
            } => {
                self.group(f, raw, &path, fields, *min_items, *max_items);
            }
            kind => {
                self.label(f, &id);
                let (attrs, _) = self.described(&path, f.help.as_ref());
                let mut value = shown(raw);
                let extra = match kind {
                    FieldKind::Text { max_length, pattern, .. } => {
                        let mut a = format!(" type=\"text\" maxlength=\"{}\"", max_length.unwrap_or(200));
                        if let Some(p) = pattern {
                            let _ = write!(a, " pattern=\"{}\" title=\"{}\"", esc(&p.regex), esc(t(&p.message, self.i.lang)));
                        }
                        a
                    }
                    FieldKind::Number { min, max } => {
                        let mut a = String::from(" type=\"number\" step=\"1\" inputmode=\"numeric\"");
                        if let Some(m) = min { let _ = write!(a, " min=\"{m}\""); }
                        if let Some(m) = max { let _ = write!(a, " max=\"{m}\""); }
                        a
                    }
                    FieldKind::Money { .. } => " type=\"text\" inputmode=\"numeric\" autocomplete=\"off\"".into(),
                    FieldKind::Date { min, max } => {
                        value = iso_date(&value).if_empty(&value);
                        let resolve = |b: &Option<String>| b.as_deref().map(|s| if s == "today" { self.i.today.format("%Y-%m-%d").to_string() } else { s.to_string() });
                        let mut a = String::from(" type=\"date\"");
                        if let Some(m) = resolve(min) { let _ = write!(a, " min=\"{m}\""); }
                        if let Some(m) = resolve(max) { let _ = write!(a, " max=\"{m}\""); }
                        a
                    }
                    FieldKind::PersonalId => " type=\"text\" inputmode=\"numeric\" pattern=\"[0-9]{12}\" maxlength=\"12\" autocomplete=\"off\"".into(),
                    FieldKind::TaxCode => " type=\"text\" inputmode=\"numeric\" pattern=\"[0-9]{10}(-[0-9]{3})?\" maxlength=\"14\"".into(),
                    FieldKind::Phone => " type=\"tel\" autocomplete=\"tel\" maxlength=\"20\"".into(),
                    FieldKind::Email => " type=\"email\" autocomplete=\"email\" maxlength=\"254\"".into(),
                    _ => " type=\"text\"".into(),
                };
                let _ = write!(
                    self.out,
                    "<input id=\"{id}\" name=\"{}\" value=\"{}\"{extra}{req}{attrs}>",
                    esc(&name),
                    esc(&value)
                );
            }
        }
        self.out.push_str("</div>");
    }

    fn described_after_label_checkbox(
        &mut self,
        f: &Field,
        path: &str,
        id: &str,
        name: &str,
        checked: &str,
        req: &str,
    ) -> (String, bool) {
        // The box first, then its label, as people expect for checkboxes.
        let mut tail = String::new();
        let saved = std::mem::take(&mut self.out);
        let (attrs, e) = self.described(path, f.help.as_ref());
        std::mem::swap(&mut self.out, &mut tail);
        self.out = saved;
        let _ = write!(
            self.out,
            "<div class=\"check\"><input type=\"checkbox\" id=\"{id}\" name=\"{}\" value=\"on\"{checked}{req}{attrs}> ",
            esc(name)
        );
        self.label(f, id);
        self.out.push_str("</div>");
        self.out.push_str(&tail);
        (attrs, e)
    }

    fn address(
        &mut self,
        f: &Field,
        raw: Option<&Value>,
        path: &str,
        default_province: Option<&str>,
    ) {
        let lang = self.i.lang;
        let part = |k: &str| {
            raw.and_then(|v| v.get(k))
                .map(|v| shown(Some(v)))
                .unwrap_or_default()
        };
        let mut province = part("province");
        if province.is_empty() && raw.is_none() {
            province = default_province.unwrap_or_default().to_string();
        }
        let commune = part("commune");
        let street = part("street");
        let id = html_id(path);
        let req = if f.required && f.visible_if.is_none() {
            " required"
        } else {
            ""
        };
        let _ = write!(
            self.out,
            "<fieldset class=\"addr\" id=\"{id}\"><legend>{}{}</legend>",
            esc(t(&f.label, lang)),
            if f.required {
                format!(" <span class=\"req\">({})</span>", ui(lang, "required"))
            } else {
                String::new()
            }
        );
        let (top_attrs, _) = self.described(path, f.help.as_ref());
        let _ = top_attrs;
        // Province.
        let pp = format!("{path}.province");
        let pid = html_id(&pp);
        let _ = write!(
            self.out,
            "<label for=\"{pid}\">{}</label>",
            ui(lang, "province")
        );
        let (attrs, _) = self.described(&pp, None);
        let _ = write!(
            self.out,
            "<select id=\"{pid}\" name=\"{}\"{req}{attrs}><option value=\"\">{}</option>",
            esc(&input_name(&pp)),
            ui(lang, "choose")
        );
        for (code, name) in self.i.units.provinces() {
            let sel = if code == province { " selected" } else { "" };
            let _ = write!(
                self.out,
                "<option value=\"{}\"{sel}>{}</option>",
                esc(&code),
                esc(&name)
            );
        }
        self.out.push_str("</select>");
        let _ = write!(
            self.out,
            " <button type=\"submit\" name=\"_choose\" value=\"{}\" formnovalidate class=\"small\">{}</button>",
            esc(path),
            ui(lang, "reload")
        );
        // Commune: the communes of the chosen province.
        let cp = format!("{path}.commune");
        let cid = html_id(&cp);
        let _ = write!(
            self.out,
            "<label for=\"{cid}\">{}</label>",
            ui(lang, "commune")
        );
        let communes = if province.is_empty() {
            Vec::new()
        } else {
            self.i.units.communes(&province)
        };
        if communes.is_empty() {
            let _ = write!(
                self.out,
                "<span class=\"muted hint\">{}</span>",
                ui(lang, "pick_province")
            );
        }
        let (attrs, _) = self.described(&cp, None);
        let _ = write!(
            self.out,
            "<select id=\"{cid}\" name=\"{}\"{req}{attrs}><option value=\"\">{}</option>",
            esc(&input_name(&cp)),
            ui(lang, "choose")
        );
        for (code, name) in communes {
            let sel = if code == commune { " selected" } else { "" };
            let _ = write!(
                self.out,
                "<option value=\"{}\"{sel}>{}</option>",
                esc(&code),
                esc(&name)
            );
        }
        self.out.push_str("</select>");
        // Street line.
        let sp = format!("{path}.street");
        let sid = html_id(&sp);
        let _ = write!(
            self.out,
            "<label for=\"{sid}\">{}</label>",
            ui(lang, "street")
        );
        let (attrs, _) = self.described(&sp, None);
        let _ = write!(
            self.out,
            "<input type=\"text\" id=\"{sid}\" name=\"{}\" value=\"{}\" maxlength=\"200\" autocomplete=\"street-address\"{req}{attrs}>",
            esc(&input_name(&sp)),
            esc(&street)
        );
        self.out.push_str("</fieldset>");
    }

    fn group(
        &mut self,
        f: &Field,
        raw: Option<&Value>,
        path: &str,
        fields: &[Field],
        min: u32,
        max: u32,
    ) {
        let lang = self.i.lang;
        let rows: Vec<Map<String, Value>> = match raw {
            Some(Value::Array(a)) => a
                .iter()
                .map(|r| r.as_object().cloned().unwrap_or_default())
                .collect(),
            _ => Vec::new(),
        };
        let mut n = rows.len().max(min as usize).max(1);
        if self.i.add_row == Some(f.id.as_str()) && prefix_free(path) {
            n += 1;
        }
        let n = n.min(max as usize);
        let id = html_id(path);
        let _ = write!(
            self.out,
            "<fieldset class=\"group\" id=\"{id}\"><legend>{}{}</legend>",
            esc(t(&f.label, lang)),
            if f.required || min > 0 {
                format!(" <span class=\"req\">({})</span>", ui(lang, "required"))
            } else {
                String::new()
            }
        );
        let (_attrs, _) = self.described(path, f.help.as_ref());
        let empty = Map::new();
        for i in 0..n {
            let row = rows.get(i).unwrap_or(&empty);
            let _ = write!(
                self.out,
                "<fieldset class=\"row\"><legend>{} {}</legend>",
                ui(lang, "row"),
                i + 1
            );
            let prefix = format!("{path}[{i}].");
            for g in fields {
                self.field(g, row, &prefix);
            }
            self.out.push_str("</fieldset>");
        }
        if n < max as usize {
            let _ = write!(
                self.out,
                "<button type=\"submit\" name=\"_add\" value=\"{}\" formnovalidate class=\"small\">{}</button>",
                esc(&f.id),
                ui(lang, "add_row")
            );
        }
        self.out.push_str("</fieldset>");
    }

    fn uploads(&mut self) {
        let i = self.i;
        if i.def.uploads.is_empty() {
            return;
        }
        let attached = i.values.get(UPLOADS_KEY).and_then(Value::as_object);
        let note = if i.attach.is_some() {
            "uploads_note_attach"
        } else {
            "uploads_note"
        };
        let _ = write!(
            self.out,
            "<fieldset id=\"s-uploads\"><legend>{}</legend><p class=\"muted\">{}</p><ul class=\"slots\">",
            ui(i.lang, "uploads"),
            ui(i.lang, note)
        );
        for u in &i.def.uploads {
            let path = format!("{UPLOADS_KEY}.{}", u.id);
            let id = html_id(&path);
            let _ = write!(
                self.out,
                "<li id=\"{id}\"><strong>{}</strong>",
                esc(t(&u.name, i.lang))
            );
            if u.required {
                let _ = write!(
                    self.out,
                    " <span class=\"req\">({})</span>",
                    ui(i.lang, "required")
                );
            }
            let _ = write!(
                self.out,
                " <span class=\"muted\">· {} {} MB</span>",
                ui(i.lang, "max_size"),
                u.max_bytes.div_ceil(1024 * 1024)
            );
            let key = attached
                .and_then(|m| m.get(&u.id))
                .and_then(Value::as_str)
                .filter(|k| !k.is_empty());
            if let Some(key) = key {
                let _ = write!(
                    self.out,
                    "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                    esc(&input_name(&path)),
                    esc(key)
                );
                match (i.attach, key.strip_prefix("sha256:")) {
                    (Some(a), Some(hex)) => {
                        let name = a
                            .files
                            .iter()
                            .find(|f| f.key == key)
                            .map(|f| f.name.as_str())
                            .or_else(|| a.names.get(key).map(String::as_str))
                            .unwrap_or(hex.get(..12).unwrap_or(hex));
                        let _ = write!(
                            self.out,
                            "<span class=\"attached\" id=\"{id}-file\"> · {}: <a href=\"/api/v1/me/files/{}?inline=1\" target=\"_blank\" rel=\"noopener\">{}</a> ({})</span>",
                            ui(i.lang, "attached"),
                            esc(hex),
                            esc(name),
                            ui(i.lang, "preview")
                        );
                    }
                    _ => {
                        let _ = write!(
                            self.out,
                            " <span class=\"muted\">({})</span>",
                            ui(i.lang, "attached")
                        );
                    }
                }
            }
            let err_id = format!("{id}-err");
            let has_err = if let Some(e) = self.errors.get(path.as_str()) {
                let msg = if i.lang == "en" {
                    &e.message_en
                } else {
                    &e.message
                };
                let _ = write!(
                    self.out,
                    " <span class=\"field-err\" id=\"{err_id}\">{}</span>",
                    esc(msg)
                );
                true
            } else {
                false
            };
            if let Some(a) = i.attach {
                self.slot_inputs(u, a, key, &id, has_err.then_some(err_id.as_str()));
            }
            self.out.push_str("</li>");
        }
        self.out.push_str("</ul></fieldset>");
    }

    /// A file input for the slot, and the person's stored files to attach with one click.
    fn slot_inputs(
        &mut self,
        u: &motcua_domain::forms::UploadSlot,
        a: &Attach<'_>,
        attached: Option<&str>,
        id: &str,
        err: Option<&str>,
    ) {
        let lang = self.i.lang;
        let accept: Vec<&str> = u
            .accept
            .iter()
            .map(|m| match m.as_str() {
                "application/pdf" => ".pdf,application/pdf",
                "image/jpeg" => ".jpg,.jpeg,image/jpeg",
                "image/png" => ".png,image/png",
                _ => "",
            })
            .filter(|x| !x.is_empty())
            .collect();
        let described = err
            .map(|e| format!(" aria-describedby=\"{e}\" aria-invalid=\"true\""))
            .unwrap_or_default();
        let _ = write!(
            self.out,
            "<label for=\"{id}-input\">{}</label><input type=\"file\" id=\"{id}-input\" name=\"_file[{}]\" accept=\"{}\"{described}>",
            ui(
                lang,
                if attached.is_some() {
                    "replace_file"
                } else {
                    "choose_file"
                }
            ),
            esc(&u.id),
            accept.join(",")
        );
        if a.files.is_empty() {
            return;
        }
        let _ = write!(
            self.out,
            "<fieldset class=\"vault\"><legend>{}</legend>",
            ui(lang, "from_vault")
        );
        for (n, f) in a.files.iter().enumerate() {
            let checked = if attached == Some(f.key.as_str()) {
                " checked"
            } else {
                ""
            };
            let _ = write!(
                self.out,
                "<div class=\"check\"><input type=\"radio\" id=\"{id}-pick-{n}\" name=\"_pick[{}]\" value=\"{}\"{checked}> <label for=\"{id}-pick-{n}\">{} <span class=\"muted\">· {}</span></label></div>",
                esc(&u.id),
                esc(&f.key),
                esc(&f.name),
                esc(&f.added)
            );
        }
        let _ = write!(
            self.out,
            "<button type=\"submit\" name=\"_choose\" value=\"{}\" formnovalidate class=\"small\">{}</button></fieldset>",
            esc(&u.id),
            ui(lang, "use_file")
        );
    }
}

/// Top-level groups only (rows do not nest).
fn prefix_free(path: &str) -> bool {
    !path.contains('[')
}

trait IfEmpty {
    fn if_empty(self, other: &str) -> String;
}

impl IfEmpty for String {
    fn if_empty(self, other: &str) -> String {
        if self.is_empty() {
            other.to_string()
        } else {
            self
        }
    }
}

/// Progressive enhancement: hides fields and sections whose condition does not hold, and
/// updates as people type. Without it every field shows with its "fill in only if" note; the
/// server validates either way.
const SCRIPT: &str = r#"<script>(function(){var f=document.querySelector('form.eform');if(!f)return;function val(n){var e=f.elements[n];if(!e)return'';if(e.type==='checkbox')return e.checked?'1':'0';return e.value||''}function upd(){f.querySelectorAll('[data-if]').forEach(function(x){var v=val(x.getAttribute('data-if')),ok;if(x.hasAttribute('data-checked'))ok=v===x.getAttribute('data-checked');else if(x.hasAttribute('data-eq'))ok=v===x.getAttribute('data-eq');else ok=(x.getAttribute('data-in')||'').split('\u001f').indexOf(v)>=0;x.hidden=!ok;x.querySelectorAll('.cond-note').forEach(function(n){n.hidden=true})})}f.addEventListener('change',upd);f.addEventListener('input',upd);upd()})();</script>"#;

/// Styles of the form (inlined by the page; no external assets).
pub const STYLE: &str = ".eform fieldset{border:1px solid var(--line);border-radius:.4rem;background:#fff;margin:0 0 1rem;padding:.6rem .8rem}.eform legend{font-weight:700;padding:0 .3rem}.eform .fld{margin:.6rem 0}.eform label{display:block;font-weight:600;margin:.2rem 0}.eform input[type=text],.eform input[type=tel],.eform input[type=email],.eform input[type=number],.eform input[type=date],.eform select,.eform textarea{width:100%;max-width:36rem;font-size:1rem;padding:.55rem;border:2px solid var(--line);border-radius:.35rem;background:#fff}.eform .check{display:flex;gap:.5rem;align-items:flex-start}.eform .check label{font-weight:400;display:inline}.eform .check input{width:1.3rem;height:1.3rem;margin-top:.2rem}.eform .hint{display:block}.eform .req{color:var(--mute);font-weight:400;font-size:.9rem}.eform .field-err{display:block;color:#a00;font-weight:600}.eform .has-err input,.eform .has-err select,.eform .has-err textarea,.eform [aria-invalid=true]{border-color:#a00}.eform .small{font-size:.9rem;padding:.4rem .7rem;margin:.3rem 0;background:#555}.eform .row{background:#fbfbf8}[hidden]{display:none!important}";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_become_nested_values() {
        let (v, c) = parse_body(
            b"ho_ten=Nguy%E1%BB%85n+An&dia_chi%5Bprovince%5D=68&dia_chi[commune]=24781&thanh_vien[1][ho_ten]=B&thanh_vien[0][ho_ten]=A&_uploads[to_khai]=sha256%3Aab&_add=thanh_vien&lang=en&_csrf=x",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"ho_ten": "Nguyễn An", "dia_chi": {"province": "68", "commune": "24781"},
                   "thanh_vien": [{"ho_ten": "A"}, {"ho_ten": "B"}],
                   "_uploads": {"to_khai": "sha256:ab"}})
        );
        assert_eq!(c.add.as_deref(), Some("thanh_vien"));
        assert!(!c.choose);
    }

    #[test]
    fn bad_bodies_are_refused() {
        assert!(parse_body(b"a[101][b]=x").unwrap_err().contains("100 rows"));
        assert!(parse_body(b"a[x][b]=x").is_err());
        assert!(parse_body(b"a[0][b][c]=x").is_err());
        assert!(parse_body(b"a[0=x").is_err());
        assert!(parse_body(b"[0]=x").is_err());
        let many: String = (0..2001).map(|i| format!("f{i}=x&")).collect();
        assert!(parse_body(many.as_bytes()).is_err());
    }

    #[test]
    fn escaping_covers_attributes_and_text() {
        assert_eq!(esc("<script>\"'&"), "&lt;script&gt;&quot;&#39;&amp;");
        assert_eq!(html_id("thanh_vien[1].ho_ten"), "f-thanh_vien-1-ho_ten");
        assert_eq!(input_name("thanh_vien[1].ho_ten"), "thanh_vien[1][ho_ten]");
        assert_eq!(input_name("dia_chi.province"), "dia_chi[province]");
        assert_eq!(iso_date("05/09/1940"), "1940-09-05");
    }
}

//! `FormDefinition::check`: rejects definitions that could not be filled in or validated.

use super::PREFILL_KEYS;
use super::model::{
    ACCEPTABLE_TYPES, Condition, CrossRule, Field, FieldKind, FormDefinition, Pattern,
};
use std::collections::{HashMap, HashSet};

/// Most fields in one form (with group fields), so a definition stays a form, not a database.
pub const MAX_FIELDS: usize = 300;

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some('a'..='z'))
        && id.len() <= 64
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

fn valid_field_id(id: &str) -> bool {
    valid_id(id) && !id.contains('-')
}

/// A date bound: `today` or an ISO date.
pub(crate) fn date_bound_ok(s: &str) -> bool {
    s == "today" || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

struct Checker<'a> {
    problems: Vec<String>,
    count: usize,
    top: HashMap<&'a str, &'a Field>,
}

impl<'a> Checker<'a> {
    fn problem(&mut self, p: String) {
        self.problems.push(p);
    }

    /// Checks `fields` (top level when `outer` is None, else a group's row).
    fn fields(
        &mut self,
        fields: &'a [Field],
        at: &str,
        outer: Option<&HashMap<&'a str, &'a Field>>,
    ) {
        let mut seen: HashMap<&'a str, &'a Field> = HashMap::new();
        for f in fields {
            if seen.insert(&f.id, f).is_some() && outer.is_some() {
                self.problem(format!(
                    "{at}: trường `{}` bị trùng mã (duplicate field id)",
                    f.id
                ));
            }
        }
        // Top-level conditions may look at any top-level field; a row's at its siblings first.
        let scope = if outer.is_none() {
            self.top.clone()
        } else {
            seen
        };
        for f in fields {
            self.count += 1;
            let here = format!("{at}.{}", f.id);
            if !valid_field_id(&f.id) {
                self.problem(format!(
                    "{here}: mã trường phải gồm chữ thường không dấu, số và `_`, bắt đầu bằng chữ (id must match [a-z][a-z0-9_]*)"
                ));
            }
            if f.label.vi.trim().is_empty() {
                self.problem(format!("{here}: thiếu nhãn (label is empty)"));
            }
            if let Some(key) = &f.prefill
                && !PREFILL_KEYS.contains(&key.as_str())
            {
                self.problem(format!(
                    "{here}: nguồn điền sẵn `{key}` không có (unknown prefill key; known: {})",
                    PREFILL_KEYS.join(", ")
                ));
            }
            if let Some(c) = &f.visible_if {
                self.condition(c, &here, &f.id, &scope, outer);
            }
            self.kind(f, &here);
        }
    }

    fn lookup(
        &self,
        id: &str,
        row: &HashMap<&'a str, &'a Field>,
        outer: Option<&HashMap<&'a str, &'a Field>>,
    ) -> Option<&'a Field> {
        row.get(id)
            .copied()
            .or_else(|| outer.and_then(|o| o.get(id).copied()))
    }

    fn condition(
        &mut self,
        c: &Condition,
        here: &str,
        own: &str,
        row: &HashMap<&'a str, &'a Field>,
        outer: Option<&HashMap<&'a str, &'a Field>>,
    ) {
        let given = [c.equals.is_some(), c.one_of.is_some(), c.checked.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if given != 1 {
            self.problem(format!(
                "{here}: điều kiện hiển thị cần đúng một trong `equals`, `in`, `checked` (visible_if needs exactly one of equals, in, checked)"
            ));
        }
        if c.field == own {
            self.problem(format!("{here}: điều kiện hiển thị không được trỏ vào chính nó (visible_if points at itself)"));
            return;
        }
        let Some(target) = self.lookup(&c.field, row, outer) else {
            self.problem(format!(
                "{here}: điều kiện hiển thị trỏ tới trường không có `{}` (visible_if points to an unknown field)",
                c.field
            ));
            return;
        };
        match (&target.kind, c.checked.is_some()) {
            (FieldKind::Checkbox, false) => self.problem(format!(
                "{here}: ô đánh dấu `{}` chỉ dùng được với `checked` (a checkbox condition needs `checked`)",
                c.field
            )),
            (FieldKind::Group { .. }, _) => self.problem(format!(
                "{here}: điều kiện không thể dựa vào nhóm `{}` (a condition cannot look at a group)",
                c.field
            )),
            (k, true) if !matches!(k, FieldKind::Checkbox) => self.problem(format!(
                "{here}: `checked` chỉ dùng với ô đánh dấu, `{}` không phải (checked needs a checkbox field)",
                c.field
            )),
            (FieldKind::Select { options }, false) => {
                let wanted = c.equals.iter().chain(c.one_of.iter().flatten());
                for w in wanted {
                    if !options.iter().any(|o| &o.value == w) {
                        self.problem(format!(
                            "{here}: `{}` không có lựa chọn `{w}` (visible_if names a value the select does not offer)",
                            c.field
                        ));
                    }
                }
            }
            _ => {}
        }
        if let Some(v) = &c.one_of
            && v.is_empty()
        {
            self.problem(format!("{here}: danh sách `in` rỗng (`in` is empty)"));
        }
    }

    fn pattern(&mut self, p: &Pattern, here: &str) {
        if let Err(e) = regex::Regex::new(&p.regex) {
            self.problem(format!(
                "{here}: biểu thức `{}` sai cú pháp (invalid regex: {e})",
                p.regex
            ));
        }
        if p.message.vi.trim().is_empty() {
            self.problem(format!(
                "{here}: thiếu thông báo cho biểu thức (pattern message is empty)"
            ));
        }
    }

    fn range(&mut self, min: Option<i64>, max: Option<i64>, here: &str) {
        if let (Some(a), Some(b)) = (min, max)
            && a > b
        {
            self.problem(format!("{here}: min {a} lớn hơn max {b} (min > max)"));
        }
    }

    fn kind(&mut self, f: &'a Field, here: &str) {
        match &f.kind {
            FieldKind::Text {
                min_length,
                max_length,
                pattern,
            } => {
                self.range(min_length.map(i64::from), max_length.map(i64::from), here);
                if let Some(p) = pattern {
                    self.pattern(p, here);
                }
            }
            FieldKind::Textarea {
                min_length,
                max_length,
            } => self.range(min_length.map(i64::from), max_length.map(i64::from), here),
            FieldKind::Number { min, max } => self.range(*min, *max, here),
            FieldKind::Money { min, max } => {
                if min.is_some_and(|m| m < 0) {
                    self.problem(format!(
                        "{here}: số tiền tối thiểu không được âm (money min must be ≥ 0)"
                    ));
                }
                self.range(*min, *max, here)
            }
            FieldKind::Date { min, max } => {
                for b in [min, max].into_iter().flatten() {
                    if !date_bound_ok(b) {
                        self.problem(format!(
                            "{here}: mốc ngày `{b}` phải là YYYY-MM-DD hoặc `today` (date bound must be ISO or today)"
                        ));
                    }
                }
                if let (Some(a), Some(b)) = (min, max)
                    && a != "today"
                    && b != "today"
                    && a > b
                {
                    self.problem(format!("{here}: min {a} sau max {b} (min > max)"));
                }
            }
            FieldKind::Select { options } => {
                if options.is_empty() {
                    self.problem(format!(
                        "{here}: danh sách lựa chọn rỗng (select has no options)"
                    ));
                }
                let mut seen = HashSet::new();
                for o in options {
                    if o.value.trim().is_empty() || o.value.trim() != o.value {
                        self.problem(format!("{here}: giá trị lựa chọn rỗng hoặc có khoảng trắng thừa (option value empty or padded)"));
                    }
                    if !seen.insert(&o.value) {
                        self.problem(format!(
                            "{here}: lựa chọn `{}` bị trùng (duplicate option)",
                            o.value
                        ));
                    }
                }
            }
            FieldKind::Address { default_province } => {
                if let Some(p) = default_province
                    && (p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
                {
                    self.problem(format!("{here}: mã tỉnh mặc định `{p}` phải có 2 chữ số (default_province must be 2 digits)"));
                }
            }
            FieldKind::Group {
                fields,
                min_items,
                max_items,
                rules,
            } => {
                if f.prefill.is_some() {
                    self.problem(format!(
                        "{here}: nhóm không điền sẵn được (a group cannot be prefilled)"
                    ));
                }
                if fields.is_empty() {
                    self.problem(format!(
                        "{here}: nhóm không có trường nào (group has no fields)"
                    ));
                }
                if min_items > max_items {
                    self.problem(format!(
                        "{here}: số dòng tối thiểu {min_items} lớn hơn tối đa {max_items} (min_items > max_items)"
                    ));
                }
                if *max_items == 0 || *max_items > 100 {
                    self.problem(format!(
                        "{here}: số dòng tối đa phải từ 1 đến 100 (max_items must be 1..=100)"
                    ));
                }
                if fields
                    .iter()
                    .any(|g| matches!(g.kind, FieldKind::Group { .. }))
                {
                    self.problem(format!(
                        "{here}: không lồng nhóm trong nhóm (groups do not nest)"
                    ));
                }
                let row: HashMap<&str, &Field> =
                    fields.iter().map(|g| (g.id.as_str(), g)).collect();
                let top = self.top.clone();
                self.fields(fields, here, Some(&top));
                for r in rules {
                    self.rule(r, here, &row);
                }
            }
            FieldKind::PersonalId
            | FieldKind::TaxCode
            | FieldKind::Phone
            | FieldKind::Email
            | FieldKind::Checkbox => {}
        }
    }

    fn rule(&mut self, r: &CrossRule, at: &str, scope: &HashMap<&'a str, &'a Field>) {
        let here = format!("{at}: quy tắc cho `{}`", r.field);
        let others: Vec<&String> = [&r.after, &r.not_before, &r.before]
            .into_iter()
            .flatten()
            .collect();
        if others.len() != 1 {
            self.problem(format!(
                "{here} cần đúng một trong `after`, `not_before`, `before` (a rule needs exactly one of after, not_before, before)"
            ));
        }
        let kind_of = |id: &str| scope.get(id).map(|f| f.kind.name());
        let Some(k) = kind_of(&r.field) else {
            self.problem(format!(
                "{here} trỏ tới trường không có (rule names an unknown field)"
            ));
            return;
        };
        for o in others {
            match kind_of(o) {
                None => self.problem(format!(
                    "{here} so với trường không có `{o}` (rule compares with an unknown field)"
                )),
                Some(ok) if ok != k || !matches!(k, "date" | "number" | "money") => {
                    self.problem(format!(
                        "{here}: chỉ so sánh được hai trường cùng kiểu ngày, số hoặc tiền (`{k}` vs `{ok}`) (rules compare two dates, numbers or amounts)"
                    ))
                }
                Some(_) if o == &r.field => {
                    self.problem(format!("{here} so với chính nó (rule compares a field with itself)"))
                }
                Some(_) => {}
            }
        }
    }
}

impl FormDefinition {
    /// Checks that the definition can be filled in: ids well formed and unique, conditions and
    /// rules pointing at fields that exist and fit, selects with options, ranges in order, regexes
    /// that compile, upload slots that make sense. Lists every problem, in Vietnamese with the
    /// English in brackets, each starting with where it is (`section.field`).
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut c = Checker {
            problems: Vec::new(),
            count: 0,
            top: HashMap::new(),
        };
        if !valid_id(&self.id) {
            c.problem(format!(
                "mã biểu mẫu `{}` phải gồm chữ thường không dấu, số, `-` (form id must match [a-z][a-z0-9_-]*)",
                self.id
            ));
        }
        if self.title.vi.trim().is_empty() {
            c.problem("thiếu tên biểu mẫu (title is empty)".into());
        }
        if self.sections.is_empty() {
            c.problem("biểu mẫu không có phần nào (no sections)".into());
        }
        let mut sections = HashSet::new();
        for s in &self.sections {
            if !valid_id(&s.id) {
                c.problem(format!(
                    "phần `{}`: mã không hợp lệ (invalid section id)",
                    s.id
                ));
            }
            if !sections.insert(&s.id) {
                c.problem(format!(
                    "phần `{}` bị trùng mã (duplicate section id)",
                    s.id
                ));
            }
            if s.fields.is_empty() {
                c.problem(format!(
                    "phần `{}` không có trường nào (section has no fields)",
                    s.id
                ));
            }
            for f in &s.fields {
                if c.top.insert(&f.id, f).is_some() {
                    c.problem(format!(
                        "{}.{}: trường bị trùng mã (duplicate field id)",
                        s.id, f.id
                    ));
                }
            }
        }
        let top = c.top.clone();
        for s in &self.sections {
            if let Some(cond) = &s.visible_if {
                if s.fields.iter().any(|f| f.id == cond.field) {
                    c.problem(format!(
                        "phần `{}`: điều kiện hiển thị không được dựa vào trường của chính phần này (a section's visible_if must look outside it)",
                        s.id
                    ));
                } else {
                    c.condition(cond, &s.id, "", &top, None);
                }
            }
            c.fields(&s.fields, &s.id, None);
        }
        for r in &self.rules {
            c.rule(r, "biểu mẫu", &top);
        }
        if c.count > MAX_FIELDS {
            c.problem(format!(
                "quá nhiều trường: {} (at most {MAX_FIELDS} fields)",
                c.count
            ));
        }
        let mut slots = HashSet::new();
        for u in &self.uploads {
            let here = format!("tệp `{}`", u.id);
            if !valid_id(&u.id) {
                c.problem(format!("{here}: mã không hợp lệ (invalid upload slot id)"));
            }
            if !slots.insert(&u.id) {
                c.problem(format!("{here} bị trùng mã (duplicate upload slot id)"));
            }
            if u.name.vi.trim().is_empty() {
                c.problem(format!("{here}: thiếu tên giấy tờ (name is empty)"));
            }
            if u.accept.is_empty() {
                c.problem(format!("{here}: không nhận loại tệp nào (accept is empty)"));
            }
            for t in &u.accept {
                if !ACCEPTABLE_TYPES.contains(&t.as_str()) {
                    c.problem(format!(
                        "{here}: loại tệp `{t}` không được nhận (accepted types: {})",
                        ACCEPTABLE_TYPES.join(", ")
                    ));
                }
            }
            if u.max_bytes == 0 || u.max_bytes > 50 * 1024 * 1024 {
                c.problem(format!("{here}: dung lượng tối đa phải từ 1 byte đến 50 MB (max_bytes must be 1..=52428800)"));
            }
        }
        if c.problems.is_empty() {
            Ok(())
        } else {
            Err(c.problems)
        }
    }
}

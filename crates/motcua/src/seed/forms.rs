//! Real e-forms (tờ khai) of common procedures, as JSON under `seed/forms/` (one file per
//! procedure code), each with a filled-in example under `seed/forms/examples/` that tests and
//! the load generator submit. Seeding attaches them to the procedures' versions; every other
//! procedure gets the generic form. Why and how: `docs/decisions/0013-forms-as-data.md`.

use anyhow::Context;
use motcua_domain::forms::FormDefinition;

/// (procedure code, form JSON, example values JSON).
const FORMS: &[(&str, &str, &str)] = &[
    (
        "1.000656",
        include_str!("forms/1.000656.json"),
        include_str!("forms/examples/1.000656.json"),
    ),
    (
        "1.000894",
        include_str!("forms/1.000894.json"),
        include_str!("forms/examples/1.000894.json"),
    ),
    (
        "1.001022",
        include_str!("forms/1.001022.json"),
        include_str!("forms/examples/1.001022.json"),
    ),
    (
        "1.001193",
        include_str!("forms/1.001193.json"),
        include_str!("forms/examples/1.001193.json"),
    ),
    (
        "1.004194",
        include_str!("forms/1.004194.json"),
        include_str!("forms/examples/1.004194.json"),
    ),
    (
        "1.004222",
        include_str!("forms/1.004222.json"),
        include_str!("forms/examples/1.004222.json"),
    ),
    (
        "1.004837",
        include_str!("forms/1.004837.json"),
        include_str!("forms/examples/1.004837.json"),
    ),
    (
        "1.004859",
        include_str!("forms/1.004859.json"),
        include_str!("forms/examples/1.004859.json"),
    ),
    (
        "1.004873",
        include_str!("forms/1.004873.json"),
        include_str!("forms/examples/1.004873.json"),
    ),
    (
        "2.000815",
        include_str!("forms/2.000815.json"),
        include_str!("forms/examples/2.000815.json"),
    ),
];

/// The shipped forms, by procedure code. Each one passes `check()` (see the tests).
pub fn forms() -> anyhow::Result<Vec<(String, FormDefinition)>> {
    FORMS
        .iter()
        .map(|(code, json, _)| {
            let def: FormDefinition =
                serde_json::from_str(json).with_context(|| format!("seed form for {code}"))?;
            Ok((code.to_string(), def))
        })
        .collect()
}

/// The filled-in example of a shipped form (valid against it), if `code` has one.
pub fn example(code: &str) -> Option<serde_json::Value> {
    FORMS
        .iter()
        .find(|(c, _, _)| *c == code)
        .and_then(|(_, _, ex)| serde_json::from_str(ex).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_domain::forms::{UnitLookup, validate_at};
    use std::collections::HashMap;

    /// The embedded Lâm Đồng units.
    struct Seeded(HashMap<String, motcua_store::AdminUnit>);

    impl UnitLookup for Seeded {
        fn province_name(&self, code: &str) -> Option<String> {
            self.0
                .get(code)
                .filter(|u| u.province_code.is_none())
                .map(|u| u.full_name.clone())
        }
        fn commune(&self, code: &str) -> Option<(String, String)> {
            self.0
                .get(code)
                .and_then(|u| Some((u.full_name.clone(), u.province_code.clone()?)))
        }
        fn provinces(&self) -> Vec<(String, String)> {
            Vec::new()
        }
        fn communes(&self, _: &str) -> Vec<(String, String)> {
            Vec::new()
        }
    }

    #[test]
    fn every_shipped_form_checks_and_names_a_seeded_procedure() {
        let raws = super::super::procedures::raw_records().unwrap();
        let forms = forms().unwrap();
        assert!(forms.len() >= 10, "{}", forms.len());
        for (code, def) in &forms {
            if let Err(p) = def.check() {
                panic!("form of {code}: {p:#?}");
            }
            assert!(
                raws.iter().any(|r| r.ma_thu_tuc.trim() == code),
                "{code} is not in the seeded catalogue"
            );
            assert!(!def.uploads.is_empty(), "{code} has no upload slot");
        }
    }

    #[test]
    fn every_example_is_valid_and_an_empty_form_is_not() {
        let units = Seeded(
            super::super::units::admin_units()
                .unwrap()
                .into_iter()
                .map(|u| (u.code.clone(), u))
                .collect(),
        );
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        for (code, def) in forms().unwrap() {
            let ex = example(&code).unwrap();
            if let Err(e) = validate_at(&def, &ex, &units, today) {
                panic!("example of {code}: {e:#?}");
            }
            let errors = validate_at(&def, &serde_json::json!({}), &units, today).unwrap_err();
            assert!(errors.len() >= 3, "{code}: {errors:?}");
        }
    }
}

//! The administrative units as address pickers and form validation see them, loaded from the
//! store and kept for a few minutes (they change with a reorganisation, not by the minute).

use motcua_domain::forms::UnitLookup;
use motcua_store::AdminUnit;
use std::collections::HashMap;

/// Provinces and their communes, indexed.
#[derive(Debug, Default)]
pub struct Units {
    by_code: HashMap<String, AdminUnit>,
    provinces: Vec<(String, String)>,
    communes: HashMap<String, Vec<(String, String)>>,
}

impl Units {
    /// Indexes `rows` (provinces have no province code; communes name theirs).
    pub fn new(rows: Vec<AdminUnit>) -> Units {
        let mut u = Units::default();
        for r in &rows {
            match &r.province_code {
                None => u.provinces.push((r.code.clone(), r.full_name.clone())),
                Some(p) => u
                    .communes
                    .entry(p.clone())
                    .or_default()
                    .push((r.code.clone(), r.full_name.clone())),
            }
        }
        u.provinces.sort();
        for list in u.communes.values_mut() {
            list.sort();
        }
        u.by_code = rows.into_iter().map(|r| (r.code.clone(), r)).collect();
        u
    }
}

impl UnitLookup for Units {
    fn province_name(&self, code: &str) -> Option<String> {
        self.by_code
            .get(code)
            .filter(|u| u.province_code.is_none())
            .map(|u| u.full_name.clone())
    }

    fn commune(&self, code: &str) -> Option<(String, String)> {
        let u = self.by_code.get(code)?;
        Some((u.full_name.clone(), u.province_code.clone()?))
    }

    fn provinces(&self) -> Vec<(String, String)> {
        self.provinces.clone()
    }

    fn communes(&self, province: &str) -> Vec<(String, String)> {
        self.communes.get(province).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces_and_communes_are_indexed() {
        let unit = |code: &str, name: &str, p: Option<&str>| AdminUnit {
            code: code.into(),
            name: name.into(),
            full_name: name.into(),
            province_code: p.map(Into::into),
        };
        let u = Units::new(vec![
            unit("24781", "Phường Xuân Hương - Đà Lạt", Some("68")),
            unit("68", "Tỉnh Lâm Đồng", None),
            unit("24778", "Phường Lâm Viên - Đà Lạt", Some("68")),
        ]);
        assert_eq!(u.province_name("68").as_deref(), Some("Tỉnh Lâm Đồng"));
        assert_eq!(u.province_name("24781"), None);
        assert_eq!(
            u.commune("24781"),
            Some(("Phường Xuân Hương - Đà Lạt".into(), "68".into()))
        );
        assert_eq!(u.commune("68"), None);
        assert_eq!(u.communes("68")[0].0, "24778");
        assert!(u.communes("01").is_empty());
        assert_eq!(u.provinces().len(), 1);
    }
}

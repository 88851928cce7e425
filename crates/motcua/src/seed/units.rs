//! The demo province and its communes, from the embedded `data/seed/lam-dong-units.csv`.

use anyhow::{Context, bail};
use motcua_domain::text::nfc;
use motcua_store::AdminUnit;

const UNITS_CSV: &str = include_str!("../../../../data/seed/lam-dong-units.csv");

/// Province code of Lâm Đồng.
pub const PROVINCE: &str = "68";

/// The province row first, then its communes in code order.
pub fn admin_units() -> anyhow::Result<Vec<AdminUnit>> {
    let mut reader = csv::Reader::from_reader(UNITS_CSV.as_bytes());
    let mut units = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.with_context(|| format!("lam-dong-units.csv row {}", i + 2))?;
        let field = |n: usize| nfc(row.get(n).unwrap_or_default().trim());
        let province_code = field(3);
        units.push(AdminUnit {
            code: field(0),
            name: field(1),
            full_name: field(2),
            province_code: (!province_code.is_empty()).then_some(province_code),
        });
    }
    match units.first() {
        Some(p) if p.code == PROVINCE && p.province_code.is_none() => {}
        _ => bail!("lam-dong-units.csv must start with province {PROVINCE}"),
    }
    if units[1..]
        .iter()
        .any(|u| u.province_code.as_deref() != Some(PROVINCE) || u.code.len() != 5)
    {
        bail!("lam-dong-units.csv: every row after the first must be a commune of {PROVINCE}");
    }
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn province_and_its_124_communes() {
        let units = admin_units().unwrap();
        assert_eq!(units.len(), 125);
        assert_eq!(units[0].full_name, "Tỉnh Lâm Đồng");
        let xh = units.iter().find(|u| u.code == "24781").unwrap();
        assert_eq!(xh.full_name, "Phường Xuân Hương - Đà Lạt");
        assert_eq!(xh.name, "Xuân Hương - Đà Lạt");
        for u in &units {
            u.code
                .parse::<motcua_domain::codes::AdminUnitCode>()
                .unwrap();
            assert_eq!(u.full_name, nfc(&u.full_name));
        }
    }
}

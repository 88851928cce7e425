//! The agencies of the demo province, with QCVN 102-style electronic ID codes under the
//! placeholder province segment `H40` (Lâm Đồng's real segment is not in our sources).

use super::codes;
use motcua_domain::agency::{Agency, AgencyKind};
use motcua_domain::codes::{AdminUnitCode, AgencyCode};
use motcua_store::AdminUnit;

/// A provincial department or sector (sở, ngành).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dept {
    /// Sở Nội vụ.
    Interior,
    /// Sở Tư pháp.
    Justice,
    /// Sở Tài chính.
    Finance,
    /// Sở Xây dựng.
    Construction,
    /// Sở Nông nghiệp và Môi trường.
    AgriEnv,
    /// Sở Công Thương.
    IndustryTrade,
    /// Sở Y tế.
    Health,
    /// Sở Giáo dục và Đào tạo.
    Education,
    /// Sở Văn hóa, Thể thao và Du lịch.
    Culture,
    /// Sở Khoa học và Công nghệ.
    Science,
    /// Công an tỉnh.
    Police,
}

impl Dept {
    /// Every department, in code order.
    pub const ALL: [Dept; 11] = [
        Dept::Interior,
        Dept::Justice,
        Dept::Finance,
        Dept::Construction,
        Dept::AgriEnv,
        Dept::IndustryTrade,
        Dept::Health,
        Dept::Education,
        Dept::Culture,
        Dept::Science,
        Dept::Police,
    ];

    /// Electronic ID code.
    pub fn code_str(self) -> &'static str {
        match self {
            Dept::Interior => codes::DEPT_INTERIOR,
            Dept::Justice => codes::DEPT_JUSTICE,
            Dept::Finance => codes::DEPT_FINANCE,
            Dept::Construction => codes::DEPT_CONSTRUCTION,
            Dept::AgriEnv => codes::DEPT_AGRI_ENV,
            Dept::IndustryTrade => codes::DEPT_INDUSTRY_TRADE,
            Dept::Health => codes::DEPT_HEALTH,
            Dept::Education => codes::DEPT_EDUCATION,
            Dept::Culture => codes::DEPT_CULTURE,
            Dept::Science => codes::DEPT_SCIENCE,
            Dept::Police => codes::POLICE,
        }
    }

    /// Electronic ID code, parsed.
    pub fn code(self) -> AgencyCode {
        agency_code(self.code_str())
    }

    /// Name with diacritics.
    pub fn name(self) -> &'static str {
        match self {
            Dept::Interior => "Sở Nội vụ",
            Dept::Justice => "Sở Tư pháp",
            Dept::Finance => "Sở Tài chính",
            Dept::Construction => "Sở Xây dựng",
            Dept::AgriEnv => "Sở Nông nghiệp và Môi trường",
            Dept::IndustryTrade => "Sở Công Thương",
            Dept::Health => "Sở Y tế",
            Dept::Education => "Sở Giáo dục và Đào tạo",
            Dept::Culture => "Sở Văn hóa, Thể thao và Du lịch",
            Dept::Science => "Sở Khoa học và Công nghệ",
            Dept::Police => "Công an tỉnh",
        }
    }

    /// The department that runs a ministry's procedures in the province, from the data's
    /// `source_dir` (the ministry folder of the scrape).
    pub fn for_ministry(source_dir: &str) -> Option<Dept> {
        Some(match source_dir {
            "bo-tu-phap" | "toa-an-nhan-dan" => Dept::Justice,
            "bo-xay-dung" => Dept::Construction,
            "bo-tai-chinh" => Dept::Finance,
            "bo-cong-an" => Dept::Police,
            d if d.starts_with("bo-nong-nghiep") => Dept::AgriEnv,
            d if d.starts_with("ngan-hang") => Dept::Finance,
            _ => return None,
        })
    }
}

/// Parses one of our own constant codes.
pub fn agency_code(s: &str) -> AgencyCode {
    s.parse()
        .unwrap_or_else(|e| panic!("seed agency code {s:?} is invalid: {e}"))
}

/// Code of the People's Committee of a commune: `H40.{5-digit commune code}`.
pub fn commune_code(unit_code: &str) -> AgencyCode {
    agency_code(&format!("{}.{unit_code}", codes::PROVINCE_SEGMENT))
}

/// UBND tỉnh, the service centre, the departments, then one UBND per commune.
pub fn agencies(units: &[AdminUnit]) -> anyhow::Result<Vec<Agency>> {
    let province_unit: AdminUnitCode = super::units::PROVINCE
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let committee = agency_code(codes::PROVINCE_COMMITTEE);
    let mut out = vec![
        Agency {
            code: committee.clone(),
            name: "UBND tỉnh Lâm Đồng".into(),
            kind: AgencyKind::ProvincialCommittee,
            parent: None,
            admin_unit: Some(province_unit.clone()),
            has_desk: false,
        },
        Agency {
            code: agency_code(codes::CENTRE),
            name: "Trung tâm Phục vụ hành chính công tỉnh Lâm Đồng".into(),
            kind: AgencyKind::ServiceCentre,
            parent: Some(committee.clone()),
            admin_unit: Some(province_unit.clone()),
            has_desk: true,
        },
    ];
    out.extend(Dept::ALL.iter().map(|d| Agency {
        code: d.code(),
        name: d.name().into(),
        kind: AgencyKind::Department,
        parent: Some(committee.clone()),
        admin_unit: Some(province_unit.clone()),
        has_desk: false,
    }));
    for u in units.iter().filter(|u| u.province_code.is_some()) {
        let unit: AdminUnitCode = u
            .code
            .parse()
            .map_err(|e| anyhow::anyhow!("commune {}: {e}", u.code))?;
        out.push(Agency {
            code: commune_code(&u.code),
            name: motcua_domain::text::nfc(&format!("UBND {}", u.full_name)),
            kind: AgencyKind::CommuneCommittee,
            parent: Some(committee.clone()),
            admin_unit: Some(unit),
            has_desk: true,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_valid_unique_and_named() {
        let units = super::super::units::admin_units().unwrap();
        let all = agencies(&units).unwrap();
        assert_eq!(all.len(), 1 + 1 + Dept::ALL.len() + 124);
        let codes: HashSet<_> = all.iter().map(|a| a.code.clone()).collect();
        assert_eq!(codes.len(), all.len());
        let xh = all
            .iter()
            .find(|a| a.code.as_str() == codes::COMMUNE)
            .unwrap();
        assert_eq!(xh.name, "UBND Phường Xuân Hương - Đà Lạt");
        assert_eq!(xh.kind, AgencyKind::CommuneCommittee);
        assert!(xh.has_desk);
        assert_eq!(xh.admin_unit.as_ref().unwrap().as_str(), "24781");
        let centre = all
            .iter()
            .find(|a| a.code.as_str() == codes::CENTRE)
            .unwrap();
        assert!(centre.has_desk && centre.kind == AgencyKind::ServiceCentre);
        assert!(
            all.iter()
                .filter(|a| a.kind == AgencyKind::Department)
                .all(|a| !a.has_desk)
        );
        for d in Dept::ALL {
            assert_eq!(d.code().as_str(), d.code_str());
        }
    }
}

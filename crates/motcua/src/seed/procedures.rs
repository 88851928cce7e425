//! The demo procedure catalogue, built from the embedded subset of the national portal scrape
//! (`data/seed/procedures-lam-dong.jsonl.gz`).

use super::agencies::Dept;
use super::codes;
use super::cooperation;
use crate::catalogue::build;
use crate::catalogue::parse::{LimitNote, NoLimit};
use anyhow::Context;
use motcua_domain::codes::{AgencyCode, ProcedureCode};
use motcua_domain::procedure::{Level, VersionStatus};
use motcua_domain::text::{fold, nfc};
use motcua_domain::workflow::WorkflowDef;
use motcua_store::ProcedureRecord;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};

const PROCEDURES_GZ: &[u8] = include_bytes!("../../../../data/seed/procedures-lam-dong.jsonl.gz");

pub use crate::catalogue::raw::RawProcedure;

/// Why a record was not seeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    /// No time limit could be read.
    Limit(NoLimit),
    /// Neither Cấp tỉnh nor Cấp xã.
    NotLocal,
    /// A ministry we do not map to a department.
    UnknownMinistry,
    /// The code is not `d.dddddd`.
    BadCode,
}

/// What building the catalogue found, for logs, tests and the decision record.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Records read.
    pub read: usize,
    /// Records not seeded, by reason.
    pub skipped: BTreeMap<Skip, usize>,
    /// Seeded limits by how they were read.
    pub limits: BTreeMap<LimitNote, usize>,
    /// Seeded procedures whose fee was unknown (seeded as 0).
    pub fee_unknown: usize,
    /// Seeded procedures without any document name parsed.
    pub no_documents: usize,
    /// Seeded at the provincial centre.
    pub province: usize,
    /// Seeded at every commune.
    pub commune: usize,
    /// Inter-agency because `co_quan_phoi_hop` names a body.
    pub inter_agency_from_data: usize,
    /// Inter-agency by the field heuristic (land, construction).
    pub inter_agency_by_field: usize,
}

impl Stats {
    /// Records not seeded.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }
}

/// The embedded records.
pub fn raw_records() -> anyhow::Result<Vec<RawProcedure>> {
    read_jsonl_gz(PROCEDURES_GZ)
}

/// Reads gzip'd JSON lines (the embedded file, or the full shared data set in a test).
pub fn read_jsonl_gz(bytes: &[u8]) -> anyhow::Result<Vec<RawProcedure>> {
    let reader = BufReader::new(flate2::read::GzDecoder::new(bytes));
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.context("reading the procedures file")?;
        if line.trim().is_empty() {
            continue;
        }
        let raw: RawProcedure =
            serde_json::from_str(&line).with_context(|| format!("procedures line {}", i + 1))?;
        out.push(raw);
    }
    Ok(out)
}

/// Builds the catalogue: province-level procedures are received at the service centre and
/// decided by the ministry's department; commune-level ones are received at every commune.
pub fn catalogue(raws: &[RawProcedure], communes: &[AgencyCode]) -> (Vec<ProcedureRecord>, Stats) {
    let mut stats = Stats {
        read: raws.len(),
        ..Stats::default()
    };
    let mut out = Vec::new();
    for raw in raws {
        match build(raw, communes, &mut stats) {
            Ok(rec) => out.push(rec),
            Err(why) => *stats.skipped.entry(why).or_default() += 1,
        }
    }
    (out, stats)
}

fn build(
    raw: &RawProcedure,
    communes: &[AgencyCode],
    stats: &mut Stats,
) -> Result<ProcedureRecord, Skip> {
    let levels: Vec<String> = raw
        .cap_thuc_hien
        .split(',')
        .map(|l| nfc(l.trim()))
        .collect();
    let province = levels.iter().any(|l| l == "Cấp tỉnh");
    let commune = levels.iter().any(|l| l == "Cấp xã");
    if !province && !commune {
        return Err(Skip::NotLocal);
    }
    let _: ProcedureCode = raw.ma_thu_tuc.trim().parse().map_err(|_| Skip::BadCode)?;
    let dept = Dept::for_ministry(raw.source_dir.trim()).ok_or(Skip::UnknownMinistry)?;
    let parsed = build::parse_record(raw).map_err(|_| Skip::BadCode)?;
    let note = parsed.limit.map_err(Skip::Limit)?;
    let fee_known = parsed.clean.0[2];
    let mut version = parsed.version;

    let competent = province.then_some(dept);
    let cooperating = cooperating(raw, competent, province);
    match cooperating {
        Some((_, true)) => stats.inter_agency_from_data += 1,
        Some((_, false)) => stats.inter_agency_by_field += 1,
        None => {}
    }
    let receiving_agencies = if province {
        stats.province += 1;
        vec![super::agencies::agency_code(codes::CENTRE)]
    } else {
        stats.commune += 1;
        communes.to_vec()
    };
    *stats.limits.entry(note).or_default() += 1;
    stats.fee_unknown += usize::from(!fee_known);
    stats.no_documents += usize::from(version.documents.is_empty());

    version.status = VersionStatus::Published;
    version.levels = vec![if province {
        Level::Province
    } else {
        Level::Commune
    }];
    version.competent_agency = competent.map(Dept::code);
    version.workflow = WorkflowDef::standard(
        version.time_limit.duration(),
        cooperating.map(|(d, _)| d.code()),
    );
    Ok(ProcedureRecord {
        version,
        receiving_agencies,
    })
}

/// Province-level fields run by Sở Xây dựng that consult Sở Nông nghiệp và Môi trường on land.
const CONSTRUCTION_FIELDS: [&str; 7] = [
    "hoat dong xay dung",
    "quy hoach",
    "kien truc",
    "nha o",
    "bat dong san",
    "phat trien do thi",
    "ha tang ky thuat",
];

/// The cooperating department of an inter-agency procedure, and whether the data named it.
///
/// From the data: the first department `co_quan_phoi_hop` names that is not the competent one
/// (Sở Tài chính when it names none we know). Otherwise, at province level only: construction
/// fields run by Sở Xây dựng consult Sở Nông nghiệp và Môi trường, and land (đất đai) procedures
/// consult Sở Nông nghiệp và Môi trường, or Sở Tài chính (financial obligations) when that
/// department decides them itself.
fn cooperating(
    raw: &RawProcedure,
    competent: Option<Dept>,
    province: bool,
) -> Option<(Dept, bool)> {
    if cooperation::has_cooperation(&raw.co_quan_phoi_hop) {
        let named = cooperation::cooperating_departments(&raw.co_quan_phoi_hop);
        let pick = named
            .into_iter()
            .chain([Dept::Finance, Dept::AgriEnv])
            .find(|d| Some(*d) != competent)?;
        return Some((pick, true));
    }
    if !province {
        return None;
    }
    let field = fold(&raw.linh_vuc);
    if competent == Some(Dept::Construction)
        && CONSTRUCTION_FIELDS.iter().any(|f| field.contains(f))
    {
        return Some((Dept::AgriEnv, false));
    }
    if field.contains("dat dai") {
        let other = if competent == Some(Dept::AgriEnv) {
            Dept::Finance
        } else {
            Dept::AgriEnv
        };
        return Some((other, false));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_domain::procedure::OnlineLevel;
    use motcua_domain::workflow::StepAgency;

    fn communes() -> Vec<AgencyCode> {
        vec![super::super::agencies::agency_code(codes::COMMUNE)]
    }

    #[test]
    fn the_embedded_catalogue_is_big_mixed_and_valid() {
        let raws = raw_records().unwrap();
        let (recs, stats) = catalogue(&raws, &communes());
        eprintln!("{stats:#?}");
        assert_eq!(stats.read, raws.len());
        assert_eq!(recs.len() + stats.skipped_total(), raws.len());
        assert!(recs.len() >= 250, "{}", recs.len());
        assert!(stats.province >= 100 && stats.commune >= 100, "{stats:?}");
        let inter_province = recs
            .iter()
            .filter(|r| {
                r.version.workflow.is_inter_agency() && r.version.levels == [Level::Province]
            })
            .count();
        assert!(inter_province >= 20, "{inter_province}");
        let mut ministries: Vec<Option<Dept>> = recs
            .iter()
            .map(|r| {
                Dept::ALL
                    .into_iter()
                    .find(|d| r.version.competent_agency == Some(d.code()))
            })
            .collect();
        ministries.sort();
        ministries.dedup();
        // Five departments decide (Tư pháp, Tài chính, Xây dựng, NN&MT, Công an) + communes.
        assert_eq!(ministries.len(), 6, "{ministries:?}");
        for r in &recs {
            let v = &r.version;
            v.validate().unwrap_or_else(|e| panic!("{}: {e}", v.code));
            assert_eq!(v.name, nfc(&v.name));
            assert!(!v.name.is_empty() && v.documents.len() <= crate::catalogue::parse::DOCS_MAX);
            assert!(v.fee_vnd >= 0);
            // Never the competent department consulting itself.
            for s in &v.workflow.steps {
                if let StepAgency::Agency(a) = &s.agency {
                    assert_ne!(Some(a), v.competent_agency.as_ref(), "{}", v.code);
                }
            }
        }
    }

    #[test]
    fn demo_procedures_are_there() {
        let (recs, _) = catalogue(&raw_records().unwrap(), &communes());
        let find = |c: &str| {
            recs.iter()
                .find(|r| r.version.code.to_string() == c)
                .unwrap()
        };

        let ks = find(codes::PROC_COMMUNE);
        assert_eq!(ks.version.name, "Thủ tục đăng ký khai sinh");
        assert_eq!(ks.version.competent_agency, None);
        assert_eq!(ks.receiving_agencies, communes());
        assert_eq!(ks.version.levels, [Level::Commune]);
        assert_eq!(ks.version.online_level, OnlineLevel::Full);
        assert!(!ks.version.documents.is_empty());

        let p = find(codes::PROC_PROVINCE);
        assert_eq!(
            p.version.competent_agency.as_ref().unwrap().as_str(),
            codes::DEPT_JUSTICE
        );
        assert!(!p.version.workflow.is_inter_agency());
        assert_eq!(p.receiving_agencies[0].as_str(), codes::CENTRE);

        let ia = find(codes::PROC_INTER_AGENCY);
        assert_eq!(
            ia.version.competent_agency.as_ref().unwrap().as_str(),
            codes::DEPT_CONSTRUCTION
        );
        let consult = ia.version.workflow.step("lay-y-kien").unwrap();
        assert_eq!(
            consult.agency,
            StepAgency::Agency(super::super::agencies::agency_code(codes::DEPT_COOPERATING))
        );
    }

    #[test]
    fn cooperation_rules() {
        let raw = |dir: &str, field: &str, phoi_hop: &str| RawProcedure {
            source_dir: dir.into(),
            linh_vuc: field.into(),
            co_quan_phoi_hop: phoi_hop.into(),
            ..RawProcedure::default()
        };
        let j = Some(Dept::Justice);
        assert_eq!(
            cooperating(
                &raw("bo-tu-phap", "Hộ tịch", "Cơ quan khác, Cơ quan công an"),
                j,
                true
            ),
            Some((Dept::Police, true))
        );
        // Named only itself: the default.
        assert_eq!(
            cooperating(&raw("bo-tu-phap", "Hộ tịch", "Sở Tư pháp"), j, true),
            Some((Dept::Finance, true))
        );
        assert_eq!(
            cooperating(
                &raw("bo-tai-chinh", "Thuế", "Cục Thuế"),
                Some(Dept::Finance),
                true
            ),
            Some((Dept::AgriEnv, true))
        );
        assert_eq!(
            cooperating(&raw("bo-tu-phap", "Hộ tịch", "Công an cấp Xã"), None, false),
            Some((Dept::Police, true))
        );
        assert_eq!(
            cooperating(
                &raw("bo-xay-dung", "Hoạt động xây dựng", ""),
                Some(Dept::Construction),
                true
            ),
            Some((Dept::AgriEnv, false))
        );
        assert_eq!(
            cooperating(
                &raw("bo-nong-nghiep-mt", "Đất đai", "Không có thông tin"),
                Some(Dept::AgriEnv),
                true
            ),
            Some((Dept::Finance, false))
        );
        assert_eq!(
            cooperating(
                &raw("bo-tai-chinh", "Tài chính đất đai", ""),
                Some(Dept::Finance),
                true
            ),
            Some((Dept::AgriEnv, false))
        );
        assert_eq!(
            cooperating(
                &raw("bo-xay-dung", "Đường bộ", ""),
                Some(Dept::Construction),
                true
            ),
            None
        );
        assert_eq!(
            cooperating(&raw("bo-nong-nghiep-mt", "Đất đai", ""), None, false),
            None
        );
    }

    /// Prints the catalogue for eyeballing the parsers:
    /// `cargo test -p motcua --lib seed::procedures::tests::dump -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn dump() {
        let (recs, _) = catalogue(&raw_records().unwrap(), &communes());
        for r in &recs {
            let v = &r.version;
            println!(
                "{} | {} | {} | {} đ | {:?} | coop {:?}",
                v.code,
                v.name,
                v.time_limit.label_vi(),
                v.fee_vnd,
                v.online_level,
                v.workflow.step("lay-y-kien").map(|s| s.agency.clone())
            );
            for d in &v.documents {
                println!("    - {}", d.name);
            }
        }
    }

    /// Statistics over the whole shared data set, when it is there (not on a fresh clone):
    /// `cargo test -p motcua seed::procedures::tests::full_data_set -- --nocapture`.
    #[test]
    fn full_data_set() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/vn-tthc-dvcqg-2026/procedures.jsonl.gz"
        );
        let Ok(bytes) = std::fs::read(path) else {
            eprintln!("{path} not found: skipped");
            return;
        };
        let raws = read_jsonl_gz(&bytes).unwrap();
        let (recs, stats) = catalogue(&raws, &communes());
        eprintln!("full data set: {} seeded; {stats:#?}", recs.len());
        for r in &recs {
            r.version.validate().unwrap();
        }
    }
}

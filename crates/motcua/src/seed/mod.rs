//! The demo seed: Lâm Đồng (province 68, merged on 1 July 2025) with its 124 communes, its
//! agencies, about 300 real procedures from the national portal, one demo login per role, and the
//! queue set-up (service groups and counters) of the provincial centre and the demo commune.
//!
//! Everything is embedded from `data/seed/` (see its SOURCE.md) so a fresh clone seeds without
//! the shared data sets. Seeding is idempotent and never overwrites what an administrator changed:
//! admin units are upserted (reference data), agencies, procedures and users are only added when
//! missing. Why and how: `docs/decisions/0005-demo-seed.md`.

mod agencies;
mod cooperation;
pub mod forms;
mod procedures;
pub mod queue;
mod units;

use anyhow::Context;
use motcua_domain::agency::Role;
use motcua_domain::codes::AgencyCode;
use motcua_store::{Grant, Store, UserRecord};
use std::collections::HashSet;

/// A demo account, as printed at startup and in the README.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoLogin {
    /// Login name.
    pub username: String,
    /// Clear-text demo password.
    pub password: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Agency of staff.
    pub agency: Option<AgencyCode>,
    /// Further roles the account holds (it acts as one at a time; `role` is the default).
    pub also: Vec<(Role, AgencyCode)>,
}

/// What [`seed`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedReport {
    /// Admin units of the demo province (province + communes), all present after the run.
    pub admin_units: usize,
    /// Agencies of the demo province, all present after the run.
    pub agencies: usize,
    /// Procedures of the demo catalogue, all published after the run (new or already there).
    pub procedures: usize,
    /// Of those, inter-agency (liên thông) ones.
    pub inter_agency_procedures: usize,
    /// Users created by this run (existing user names are left alone).
    pub users_created: usize,
    /// The demo logins.
    pub logins: Vec<DemoLogin>,
}

/// Password of every demo account (demo only: change them on any real deployment).
pub const DEMO_PASSWORD: &str = "motcua@2026";

/// Agency and procedure codes of the demo, for tests and docs.
///
/// `H40` is a placeholder province segment: Lâm Đồng's real QCVN 102 code is not in our sources.
pub mod codes {
    /// Province segment of the electronic ID codes (placeholder, see the decision record).
    pub const PROVINCE_SEGMENT: &str = "H40";
    /// Administrative unit code of Lâm Đồng.
    pub const PROVINCE_UNIT: &str = "68";
    /// UBND tỉnh Lâm Đồng.
    pub const PROVINCE_COMMITTEE: &str = "000.00.00.H40";
    /// Trung tâm Phục vụ hành chính công tỉnh: the provincial one-stop desk.
    pub const CENTRE: &str = "000.00.01.H40";
    /// Sở Nội vụ.
    pub const DEPT_INTERIOR: &str = "000.00.02.H40";
    /// Sở Tư pháp: the department of the demo (`chuyenvien.stp`, `lanhdao.stp`).
    pub const DEPT_JUSTICE: &str = "000.00.03.H40";
    /// Sở Tài chính.
    pub const DEPT_FINANCE: &str = "000.00.04.H40";
    /// Sở Xây dựng: competent for the demo inter-agency procedure.
    pub const DEPT_CONSTRUCTION: &str = "000.00.05.H40";
    /// Sở Nông nghiệp và Môi trường.
    pub const DEPT_AGRI_ENV: &str = "000.00.06.H40";
    /// Sở Công Thương.
    pub const DEPT_INDUSTRY_TRADE: &str = "000.00.07.H40";
    /// Sở Y tế.
    pub const DEPT_HEALTH: &str = "000.00.08.H40";
    /// Sở Giáo dục và Đào tạo.
    pub const DEPT_EDUCATION: &str = "000.00.09.H40";
    /// Sở Văn hóa, Thể thao và Du lịch.
    pub const DEPT_CULTURE: &str = "000.00.10.H40";
    /// Sở Khoa học và Công nghệ.
    pub const DEPT_SCIENCE: &str = "000.00.11.H40";
    /// Công an tỉnh.
    pub const POLICE: &str = "000.00.12.H40";
    /// The department consulted in the demo inter-agency procedure (Sở NN&MT).
    pub const DEPT_COOPERATING: &str = DEPT_AGRI_ENV;
    /// Administrative unit of the demo commune: Phường Xuân Hương - Đà Lạt.
    pub const COMMUNE_UNIT: &str = "24781";
    /// UBND Phường Xuân Hương - Đà Lạt: the demo commune.
    pub const COMMUNE: &str = "H40.24781";
    /// A commune-level procedure: Thủ tục đăng ký khai sinh (received at every commune).
    pub const PROC_COMMUNE: &str = "1.001193";
    /// A province-level procedure of Sở Tư pháp without consultation: Thành lập Văn phòng công
    /// chứng.
    pub const PROC_PROVINCE: &str = "1.013834";
    /// A province-level inter-agency procedure: Cấp giấy phép xây dựng mới công trình cấp đặc
    /// biệt, cấp I, cấp II, decided by Sở Xây dựng after consulting Sở NN&MT.
    pub const PROC_INTER_AGENCY: &str = "1.013236";
}

/// The demo logins (the same list [`seed`] creates).
pub fn demo_logins() -> Vec<DemoLogin> {
    let staff = |username: &str, name: &str, role: Role, agency: &str| DemoLogin {
        username: username.into(),
        password: DEMO_PASSWORD.into(),
        name: name.into(),
        role,
        agency: Some(agencies::agency_code(agency)),
        also: Vec::new(),
    };
    let person = |username: &str, name: &str, role: Role| DemoLogin {
        username: username.into(),
        password: DEMO_PASSWORD.into(),
        name: name.into(),
        role,
        agency: None,
        also: Vec::new(),
    };
    use Role::*;
    vec![
        person("congdan", "Nguyễn Thị Lan", Citizen),
        person("congdan2", "Trần Văn Bình", Citizen),
        staff("motcua.tinh", "Lê Thị Hồng", DeskOfficer, codes::CENTRE),
        staff(
            "chuyenvien.stp",
            "Phạm Minh Tuấn",
            Specialist,
            codes::DEPT_JUSTICE,
        ),
        staff("lanhdao.stp", "Hoàng Văn Nam", Leader, codes::DEPT_JUSTICE),
        staff(
            "chuyenvien.sxd",
            "Vũ Thị Mai",
            Specialist,
            codes::DEPT_CONSTRUCTION,
        ),
        staff(
            "lanhdao.sxd",
            "Đặng Quốc Hùng",
            Leader,
            codes::DEPT_CONSTRUCTION,
        ),
        staff(
            "chuyenvien.stc",
            "Bùi Thị Thu",
            Specialist,
            codes::DEPT_FINANCE,
        ),
        staff("lanhdao.stc", "Đỗ Văn Khoa", Leader, codes::DEPT_FINANCE),
        staff(
            "chuyenvien.snnmt",
            "Ngô Thị Hạnh",
            Specialist,
            codes::DEPT_AGRI_ENV,
        ),
        staff(
            "lanhdao.snnmt",
            "Trịnh Văn Sơn",
            Leader,
            codes::DEPT_AGRI_ENV,
        ),
        staff("chuyenvien.cat", "Lý Văn Đức", Specialist, codes::POLICE),
        staff("lanhdao.cat", "Mai Xuân Trường", Leader, codes::POLICE),
        staff("motcua.xa", "Đinh Thị Ngọc", DeskOfficer, codes::COMMUNE),
        staff("chuyenvien.xa", "Phan Văn Hải", Specialist, codes::COMMUNE),
        // The commune's leader also processes dossiers herself: two roles, one at a time.
        DemoLogin {
            also: vec![(Specialist, agencies::agency_code(codes::COMMUNE))],
            ..staff("lanhdao.xa", "Võ Thị Thanh", Leader, codes::COMMUNE)
        },
        person("quantri", "Quản trị hệ thống", Admin),
    ]
}

/// Seeds the demo province. `hash_password` turns a password into a stored argon2 PHC string.
pub async fn seed(
    store: &Store,
    hash_password: &(dyn Fn(&str) -> String + Sync),
) -> anyhow::Result<SeedReport> {
    let units = units::admin_units()?;
    let agencies = agencies::agencies(&units)?;
    let communes: Vec<AgencyCode> = agencies
        .iter()
        .filter(|a| a.kind == motcua_domain::agency::AgencyKind::CommuneCommittee)
        .map(|a| a.code.clone())
        .collect();
    let (mut catalogue, stats) = procedures::catalogue(&procedures::raw_records()?, &communes);
    let shipped: std::collections::HashMap<String, _> = forms::forms()?.into_iter().collect();
    for r in &mut catalogue {
        r.version.form = shipped.get(&r.version.code.to_string()).cloned();
    }
    for r in &catalogue {
        r.version
            .validate()
            .with_context(|| format!("seed procedure {}", r.version.code))?;
    }
    let report_units = units.len();
    let report_agencies = agencies.len();

    store
        .upsert_admin_units(units)
        .await
        .context("seeding admin units")?;

    let existing: HashSet<AgencyCode> = store
        .agencies()
        .await
        .context("reading agencies")?
        .into_iter()
        .map(|a| a.code)
        .collect();
    let missing: Vec<_> = agencies
        .into_iter()
        .filter(|a| !existing.contains(&a.code))
        .collect();
    let agencies_added = missing.len();
    if !missing.is_empty() {
        store
            .upsert_agencies(missing)
            .await
            .context("seeding agencies")?;
    }

    let report_procedures = catalogue.len();
    let inter_agency = catalogue
        .iter()
        .filter(|r| r.version.workflow.is_inter_agency())
        .count();
    let mut procedures_added = 0;
    for r in catalogue {
        let code = r.version.code.to_string();
        if store
            .published_procedure(&code)
            .await
            .with_context(|| format!("reading procedure {code}"))?
            .is_none()
        {
            store
                .upsert_procedure(r)
                .await
                .with_context(|| format!("seeding procedure {code}"))?;
            procedures_added += 1;
        }
    }

    let logins = demo_logins();
    let mut users_created = 0;
    for l in &logins {
        if store
            .user_by_username(&l.username)
            .await
            .with_context(|| format!("reading user {}", l.username))?
            .is_some()
        {
            continue;
        }
        let grants = std::iter::once(Grant {
            role: l.role,
            agency: l.agency.clone(),
        })
        .chain(l.also.iter().map(|(role, agency)| Grant {
            role: *role,
            agency: Some(agency.clone()),
        }))
        .collect();
        store
            .create_user_with_grants(
                UserRecord {
                    id: uuid::Uuid::new_v4(),
                    username: l.username.clone(),
                    password_hash: hash_password(&l.password),
                    name: l.name.clone(),
                    role: l.role,
                    agency: l.agency.clone(),
                    disabled: false,
                },
                grants,
            )
            .await
            .with_context(|| format!("creating user {}", l.username))?;
        users_created += 1;
    }

    let queue_rows_added = queue::seed(store).await?;

    tracing::info!(
        admin_units = report_units,
        agencies = report_agencies,
        agencies_added,
        procedures = report_procedures,
        procedures_added,
        inter_agency,
        procedure_records = stats.read,
        procedures_skipped = stats.skipped_total(),
        fee_unknown = stats.fee_unknown,
        users_created,
        queue_rows_added,
        "demo seed: Lâm Đồng"
    );
    Ok(SeedReport {
        admin_units: report_units,
        agencies: report_agencies,
        procedures: report_procedures,
        inter_agency_procedures: inter_agency,
        users_created,
        logins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_domain::agency::AgencyKind;
    use motcua_store::ProcedureQuery;

    fn fake_hash(p: &str) -> String {
        format!("plain:{p}")
    }

    #[tokio::test]
    async fn seeds_an_empty_store_once() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let first = seed(&store, &fake_hash).await.unwrap();
        assert_eq!(first.admin_units, 125);
        assert_eq!(store.count_admin_units().await.unwrap(), 125);
        assert_eq!(first.agencies, 1 + 1 + agencies::Dept::ALL.len() + 124);
        let stored = store.agencies().await.unwrap();
        assert_eq!(stored.len(), first.agencies);
        assert!(first.procedures >= 250, "{}", first.procedures);
        assert_eq!(
            store.count_procedures().await.unwrap() as usize,
            first.procedures
        );
        assert!(first.inter_agency_procedures >= 20);
        assert_eq!(first.users_created, demo_logins().len());
        assert_eq!(first.logins, demo_logins());

        // Every stored procedure's workflow validates, and is received somewhere real.
        let desks: HashSet<String> = stored
            .iter()
            .filter(|a| a.has_desk)
            .map(|a| a.code.to_string())
            .collect();
        let list = store
            .list_procedures(&ProcedureQuery {
                limit: 200,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(!list.is_empty());
        let mut inter = 0;
        let mut all = Vec::new();
        for offset in (0..first.procedures as u32).step_by(200) {
            all.extend(
                store
                    .list_procedures(&ProcedureQuery {
                        limit: 200,
                        offset,
                        ..Default::default()
                    })
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(all.len(), first.procedures);
        for s in &all {
            let p = store.published_procedure(&s.code).await.unwrap().unwrap();
            p.version.validate().unwrap();
            inter += usize::from(p.version.workflow.is_inter_agency());
            assert!(!p.receiving_agencies.is_empty());
            assert!(
                p.receiving_agencies
                    .iter()
                    .all(|a| desks.contains(a.as_str()))
            );
        }
        assert_eq!(inter, first.inter_agency_procedures);

        // Users: hashed by the callback, staff at existing agencies.
        let lan = store.user_by_username("congdan").await.unwrap().unwrap();
        assert_eq!(lan.name, "Nguyễn Thị Lan");
        assert_eq!(lan.password_hash, "plain:motcua@2026");
        let xa = store.user_by_username("lanhdao.xa").await.unwrap().unwrap();
        assert_eq!(xa.agency.as_ref().unwrap().as_str(), codes::COMMUNE);
        let commune = store
            .agency(xa.agency.as_ref().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(commune.kind, AgencyKind::CommuneCommittee);
        assert_eq!(commune.name, "UBND Phường Xuân Hương - Đà Lạt");
        for l in demo_logins() {
            assert_eq!(l.role.is_staff(), l.agency.is_some(), "{}", l.username);
            if let Some(a) = &l.agency {
                assert!(store.agency(a).await.unwrap().is_some(), "{}", l.username);
            }
        }
        let grants = store.user_grants(xa.id).await.unwrap();
        assert_eq!(
            grants.len(),
            2,
            "the commune leader also processes: {grants:?}"
        );
        assert_eq!(grants[0].role, Role::Leader, "the default role comes first");
        let roles: HashSet<Role> = demo_logins().iter().map(|l| l.role).collect();
        assert_eq!(roles.len(), Role::ALL.len());

        // A second run creates nothing and changes nothing.
        let before = store.agencies().await.unwrap();
        let ks_before = store
            .published_procedure(codes::PROC_COMMUNE)
            .await
            .unwrap();
        let second = seed(&store, &fake_hash).await.unwrap();
        assert_eq!(second.users_created, 0);
        assert_eq!(
            SeedReport {
                users_created: first.users_created,
                ..second
            },
            first
        );
        assert_eq!(store.agencies().await.unwrap(), before);
        assert_eq!(store.count_admin_units().await.unwrap(), 125);
        assert_eq!(
            store.count_procedures().await.unwrap() as usize,
            first.procedures
        );
        assert_eq!(
            store
                .published_procedure(codes::PROC_COMMUNE)
                .await
                .unwrap(),
            ks_before
        );
        let lan_again = store.user_by_username("congdan").await.unwrap().unwrap();
        assert_eq!(lan_again, lan);
    }

    #[tokio::test]
    async fn keeps_what_an_administrator_changed() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        seed(&store, &fake_hash).await.unwrap();
        let centre: AgencyCode = codes::CENTRE.parse().unwrap();
        let mut renamed = store.agency(&centre).await.unwrap().unwrap();
        renamed.name = "Trung tâm PVHCC (đổi tên)".into();
        store.upsert_agencies(vec![renamed.clone()]).await.unwrap();
        let mut p = store
            .published_procedure(codes::PROC_COMMUNE)
            .await
            .unwrap()
            .unwrap();
        p.version.version = 2;
        p.version.fee_vnd = 8_000;
        store.upsert_procedure(p.clone()).await.unwrap();

        let again = seed(&store, &fake_hash).await.unwrap();
        assert_eq!(again.users_created, 0);
        assert_eq!(store.agency(&centre).await.unwrap().unwrap(), renamed);
        assert_eq!(
            store
                .published_procedure(codes::PROC_COMMUNE)
                .await
                .unwrap(),
            Some(p)
        );
    }
}

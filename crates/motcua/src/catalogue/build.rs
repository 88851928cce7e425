//! One national record -> one procedure version: NFC text, structured fields read by `parse`,
//! the verbatim text kept beside them, and which fields parsed cleanly.

use super::parse::{self, Fee, LimitNote, NoLimit};
use super::raw::{ListRow, RawProcedure};
use motcua_domain::catalogue::{ChannelTerms, ProcedureDetails, Verbatim};
use motcua_domain::codes::ProcedureCode;
use motcua_domain::procedure::{
    DocumentRequirement, Level, ProcedureVersion, TimeLimit, TimeUnit, VersionStatus,
};
use motcua_domain::text::nfc;
use motcua_domain::workflow::WorkflowDef;

/// The fields whose parsing the import report counts, in report order.
pub const FIELDS: [&str; 8] = [
    "channels",
    "time_limit",
    "fee",
    "documents",
    "forms",
    "results",
    "legal_basis",
    "steps",
];

/// Which fields of one record parsed cleanly (indexes as in [`FIELDS`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clean(pub [bool; FIELDS.len()]);

/// A record read into a version (number 1, no agencies yet) and how well it read.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The version; `Draft` when no time limit could be read (an administrator sets one).
    pub version: ProcedureVersion,
    /// Clean-parse flags.
    pub clean: Clean,
    /// How the time limit was read, or why it could not be.
    pub limit: Result<LimitNote, NoLimit>,
}

/// A placeholder limit for drafts whose limit is unknown: zero, which can never be published.
pub const NO_LIMIT: TimeLimit = TimeLimit {
    amount: 0,
    unit: TimeUnit::WorkingDays,
};

/// Reads the code strictly (`d.dddddd` or a local code), after NFC and trimming.
pub fn code(raw: &str) -> Result<ProcedureCode, String> {
    let t = nfc(raw.trim());
    t.parse()
        .map_err(|e| format!("bad procedure code `{}`: {e}", short(&t)))
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Levels from `cap_thuc_hien` ("Cấp tỉnh, Cấp xã"); an unknown label is an error.
pub fn levels(text: &str) -> Result<Vec<Level>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let l =
            Level::from_label(part).ok_or_else(|| format!("unknown level `{}`", short(part)))?;
        if !out.contains(&l) {
            out.push(l);
        }
    }
    Ok(out)
}

/// Reads one record. Fails (with the reason) on a bad code, a missing name or an unknown level.
pub fn parse_record(raw: &RawProcedure) -> Result<Parsed, String> {
    let code = code(&raw.ma_thu_tuc)?;
    let name = nfc(raw.ten_thu_tuc.trim());
    if name.is_empty() {
        return Err("no name (ten_thu_tuc)".into());
    }
    let levels = levels(&nfc(&raw.cap_thuc_hien))?;
    let verbatim = Verbatim {
        channels: nfc(&raw.cach_thuc_thuc_hien),
        documents: nfc(&raw.thanh_phan_ho_so),
        steps: nfc(&raw.trinh_tu_thuc_hien),
        results: nfc(&raw.ket_qua_xu_ly),
        legal_basis: nfc(&raw.can_cu_phap_ly),
        conditions: nfc(raw.yeu_cau_dieu_kien.trim()),
    };
    let channels = parse::channels(&verbatim.channels);
    let chosen = parse::choose(&channels);
    let (time_limit, limit, fee) = match chosen {
        Ok((l, note, fee)) => (l, Ok(note), Some(fee)),
        Err(why) => (NO_LIMIT, Err(why), None),
    };
    let (fee_vnd, fee_known) = fee.map_or((0, false), parse::fee_vnd);
    let documents = parse::document_details(&verbatim.documents);
    let form_files = FORM_EXTS
        .iter()
        .map(|e| verbatim.documents.matches(e).count())
        .sum::<usize>();
    let forms_found: usize = documents.iter().map(|d| d.forms.len()).sum();
    let results = parse::results(&verbatim.results);
    let legal_basis = parse::legal_basis(&verbatim.legal_basis);
    let steps = parse::steps(&verbatim.steps);
    let clean = Clean([
        !channels.is_empty(),
        limit == Ok(LimitNote::Exact),
        fee_known,
        !documents.is_empty(),
        forms_found == form_files,
        !results.is_empty() && results.iter().all(|r| !r.code.is_empty()),
        !legal_basis.is_empty(),
        !steps.is_empty(),
    ]);
    let details = ProcedureDetails {
        channels: channels
            .iter()
            .map(|c| ChannelTerms {
                channel: parse::domain_channel(c.kind),
                time_limit: c.limit.ok().map(|l| l.0),
                fee_vnd: match c.fee {
                    Fee::Free => Some(0),
                    Fee::Dong(n) => Some(n),
                    Fee::Unknown => None,
                },
            })
            .collect(),
        documents: documents.clone(),
        steps,
        results,
        legal_basis,
        applicant_types: parse::list(&nfc(&raw.doi_tuong_thuc_hien)),
        where_to_submit: text_or_empty(&raw.dia_chi_tiep_nhan),
        implementing_body: text_or_empty(&raw.co_quan_thuc_hien),
        issuing_body: nfc(raw.source_dir.trim()),
        kind: text_or_empty(&raw.loai_thu_tuc),
        effective_from: None,
        verbatim,
    };
    let version = ProcedureVersion {
        code,
        version: 1,
        status: if limit.is_ok() {
            VersionStatus::Published
        } else {
            VersionStatus::Draft
        },
        name,
        field: nfc(raw.linh_vuc.trim()),
        levels,
        online_level: parse::online_level(&channels),
        time_limit,
        fee_vnd,
        documents: documents
            .into_iter()
            .map(|d| DocumentRequirement {
                name: d.name,
                required: true,
            })
            .collect(),
        decision_no: nfc(raw.so_quyet_dinh.trim()),
        competent_agency: None,
        workflow: WorkflowDef::standard(time_limit.duration(), None),
        details,
        form: None,
    };
    Ok(Parsed {
        version,
        clean,
        limit,
    })
}

/// Form file extensions counted to tell whether every form file was attached to a document.
const FORM_EXTS: [&str; 4] = [".doc", ".pdf", ".xls", ".DOC"];

fn text_or_empty(s: &str) -> String {
    if parse::blank(s) {
        String::new()
    } else {
        nfc(s.trim())
    }
}

/// A list row as a record: what the list says, nothing else (imported as a draft when new).
pub fn raw_from_list(row: &ListRow) -> RawProcedure {
    RawProcedure {
        ma_thu_tuc: row.code.clone(),
        ten_thu_tuc: row.name.clone(),
        linh_vuc: row.field.clone(),
        co_quan_thuc_hien: row.implementing_body.clone(),
        source_dir: row.issuing_body.clone().unwrap_or_default(),
        cap_thuc_hien: row.levels.clone().unwrap_or_default(),
        so_quyet_dinh: row.decision_no.clone().unwrap_or_default(),
        doi_tuong_thuc_hien: row.applicant_types.clone().unwrap_or_default(),
        loai_thu_tuc: row.kind.clone().unwrap_or_default(),
        ..RawProcedure::default()
    }
}

/// `base` with the fields a list row states replaced (the rest of the version is kept).
pub fn overlay_list(base: &ProcedureVersion, row: &ListRow) -> Result<ProcedureVersion, String> {
    let mut v = base.clone();
    let name = nfc(row.name.trim());
    if name.is_empty() {
        return Err("no name (Tên)".into());
    }
    v.name = name;
    v.field = nfc(row.field.trim());
    v.details.implementing_body = text_or_empty(&row.implementing_body);
    if let Some(i) = &row.issuing_body {
        v.details.issuing_body = nfc(i.trim());
    }
    if let Some(l) = &row.levels {
        v.levels = levels(&nfc(l))?;
    }
    if let Some(d) = &row.decision_no {
        v.decision_no = nfc(d.trim());
    }
    if let Some(a) = &row.applicant_types {
        v.details.applicant_types = parse::list(&nfc(a));
    }
    if let Some(k) = &row.kind {
        v.details.kind = text_or_empty(k);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawProcedure {
        RawProcedure {
            ma_thu_tuc: " 1.001193 ".into(),
            // NFD "Đăng ký khai sinh".
            ten_thu_tuc: "Đa\u{306}ng ky\u{301} khai sinh".into(),
            cap_thuc_hien: "Cấp xã".into(),
            linh_vuc: "Hộ tịch".into(),
            cach_thuc_thuc_hien: "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến5 Ngày làm việcMiễn phíTrực tiếp5 Ngày làm việc8.000 đồng".into(),
            thanh_phan_ho_so: "Tên giấy tờMẫu đơn, tờ khaiSố lượngTờ khai đăng ký khai sinh;Mẫu TK.docx1 bản chính".into(),
            ket_qua_xu_ly: "Giấy khai sinhMã: KQ.G15.000031Từ khóaKhông có thông tinMô tảKhông có thông tin".into(),
            can_cu_phap_ly: "Tên văn bản pháp lýMã văn bảnLuật Hộ tịch60/2014/QH13".into(),
            trinh_tu_thuc_hien: "Bước 1\nBước 2".into(),
            doi_tuong_thuc_hien: "Công dân Việt Nam".into(),
            ..RawProcedure::default()
        }
    }

    #[test]
    fn a_clean_record_reads_every_field() {
        let p = parse_record(&raw()).unwrap();
        let v = &p.version;
        assert_eq!(v.code.to_string(), "1.001193");
        assert_eq!(v.name, "Đăng ký khai sinh", "NFC");
        assert_eq!(v.status, VersionStatus::Published);
        assert_eq!(v.time_limit.label_vi(), "5 ngày làm việc");
        assert_eq!(v.levels, [Level::Commune]);
        assert_eq!(p.clean, Clean([true; FIELDS.len()]));
        assert_eq!(v.details.channels.len(), 2);
        assert_eq!(v.details.channels[1].fee_vnd, Some(8_000));
        assert_eq!(v.details.documents[0].forms, ["Mẫu TK.docx"]);
        assert_eq!(v.details.results[0].code, "KQ.G15.000031");
        assert_eq!(v.details.legal_basis[0].number, "60/2014/QH13");
        assert_eq!(v.details.steps.len(), 2);
        assert!(v.details.verbatim.channels.starts_with("Hình thức nộp"));
        v.validate().unwrap();
    }

    #[test]
    fn no_limit_makes_a_draft_and_bad_input_is_refused() {
        let mut r = raw();
        r.cach_thuc_thuc_hien = "Không có thông tin".into();
        let p = parse_record(&r).unwrap();
        assert_eq!(p.version.status, VersionStatus::Draft);
        assert_eq!(p.version.time_limit, NO_LIMIT);
        assert_eq!(p.limit, Err(NoLimit::NoChannel));
        assert!(!p.clean.0[1]);

        let mut r = raw();
        r.ma_thu_tuc = "1.00119".into();
        assert!(parse_record(&r).unwrap_err().contains("bad procedure code"));
        let mut r = raw();
        r.ten_thu_tuc = "  ".into();
        assert!(parse_record(&r).unwrap_err().contains("no name"));
        let mut r = raw();
        r.cap_thuc_hien = "Cấp huyện".into();
        assert!(parse_record(&r).unwrap_err().contains("unknown level"));
    }

    #[test]
    fn a_list_row_overlays_only_what_it_states() {
        let base = parse_record(&raw()).unwrap().version;
        let row = ListRow {
            code: "1.001193".into(),
            name: "Đăng ký khai sinh (mới)".into(),
            field: "Hộ tịch".into(),
            implementing_body: "UBND cấp xã".into(),
            ..ListRow::default()
        };
        let v = overlay_list(&base, &row).unwrap();
        assert_eq!(v.name, "Đăng ký khai sinh (mới)");
        assert_eq!(v.details.implementing_body, "UBND cấp xã");
        assert_eq!(v.time_limit, base.time_limit);
        assert_eq!(v.levels, base.levels);
    }
}

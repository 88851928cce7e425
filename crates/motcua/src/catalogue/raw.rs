//! The national catalogue's records as scraped (`procedures.jsonl.gz`, one JSON object a line)
//! and the rows of its list exports (`danh-sach-tthc-*.csv`, `procedures_index.csv`).

use serde::Deserialize;

/// One scraped record. Every key of the file is named here, so a key we do not know is an
/// error the import reports (a different format, or a typo in a hand-made file).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawProcedure {
    /// Ministry folder of the scrape, e.g. `bo-tu-phap`.
    pub source_dir: String,
    /// National code.
    pub ma_thu_tuc: String,
    /// Page on the national portal.
    pub detail_url: String,
    /// Portal's internal id.
    pub formality_id: serde_json::Value,
    /// Name.
    pub ten_thu_tuc: String,
    /// Publishing decision.
    pub so_quyet_dinh: String,
    /// Levels, comma-separated.
    pub cap_thuc_hien: String,
    /// Kind of procedure.
    pub loai_thu_tuc: String,
    /// Field.
    pub linh_vuc: String,
    /// Applicant types, comma-separated.
    pub doi_tuong_thuc_hien: String,
    /// Competent body.
    pub co_quan_co_tham_quyen: String,
    /// Where to submit.
    pub dia_chi_tiep_nhan: String,
    /// Delegated body.
    pub co_quan_duoc_uy_quyen: String,
    /// Cooperating bodies, free text.
    pub co_quan_phoi_hop: String,
    /// Related procedures.
    pub thu_tuc_lien_quan: String,
    /// Steps, multi-line.
    pub trinh_tu_thuc_hien: String,
    /// Channels × time × fee, run together.
    pub cach_thuc_thuc_hien: String,
    /// Documents, run together.
    pub thanh_phan_ho_so: String,
    /// Legal basis, run together.
    pub can_cu_phap_ly: String,
    /// Implementing body.
    pub co_quan_thuc_hien: String,
    /// Conditions.
    pub yeu_cau_dieu_kien: String,
    /// Results, run together with page furniture.
    pub ket_qua_xu_ly: String,
    /// Scrape-time concatenation of every field (dropped from the shared copy; accepted).
    pub raw_text: String,
}

/// A row of a list export: the columns both kinds of CSV share, by header name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListRow {
    /// Code (`Mã số` / `ma_thu_tuc`).
    pub code: String,
    /// Name (`Tên` / `ten_thu_tuc`).
    pub name: String,
    /// Field (`Lĩnh vực` / `linh_vuc`).
    pub field: String,
    /// Implementing bodies (`Cơ quan thực hiện` / `co_quan_thuc_hien`), one a line.
    pub implementing_body: String,
    /// Issuing body (`Cơ quan ban hành`), when the list has it.
    pub issuing_body: Option<String>,
    /// Levels (`cap_thuc_hien`), when the list has it.
    pub levels: Option<String>,
    /// Publishing decision (`so_quyet_dinh`), when the list has it.
    pub decision_no: Option<String>,
    /// Applicant types (`doi_tuong_thuc_hien`), when the list has it.
    pub applicant_types: Option<String>,
    /// Kind (`loai_thu_tuc`), when the list has it.
    pub kind: Option<String>,
}

/// Column positions of a list export, found from its header.
#[derive(Clone, Debug)]
pub struct ListColumns {
    code: usize,
    name: usize,
    field: usize,
    implementing: usize,
    issuing: Option<usize>,
    levels: Option<usize>,
    decision: Option<usize>,
    applicants: Option<usize>,
    kind: Option<usize>,
}

impl ListColumns {
    /// Finds the columns by name (with or without diacritics); an error names what is missing.
    pub fn from_header(header: &[String]) -> Result<ListColumns, String> {
        let folded: Vec<String> = header
            .iter()
            .map(|h| motcua_domain::text::fold(h.trim_start_matches('\u{feff}')))
            .collect();
        let find = |names: &[&str]| folded.iter().position(|h| names.contains(&h.as_str()));
        let need = |names: &[&str], what: &str| {
            find(names).ok_or_else(|| format!("the header has no `{what}` column"))
        };
        Ok(ListColumns {
            code: need(&["ma so", "ma_thu_tuc"], "Mã số")?,
            name: need(&["ten", "ten_thu_tuc"], "Tên")?,
            field: need(&["linh vuc", "linh_vuc"], "Lĩnh vực")?,
            implementing: need(
                &["co quan thuc hien", "co_quan_thuc_hien"],
                "Cơ quan thực hiện",
            )?,
            issuing: find(&["co quan ban hanh"]),
            levels: find(&["cap_thuc_hien", "cap thuc hien"]),
            decision: find(&["so_quyet_dinh", "so quyet dinh"]),
            applicants: find(&["doi_tuong_thuc_hien", "doi tuong thuc hien"]),
            kind: find(&["loai_thu_tuc", "loai thu tuc"]),
        })
    }

    /// The row's values; missing cells are empty.
    pub fn row(&self, rec: &[String]) -> ListRow {
        let cell = |i: usize| rec.get(i).cloned().unwrap_or_default();
        ListRow {
            code: cell(self.code),
            name: cell(self.name),
            field: cell(self.field),
            implementing_body: cell(self.implementing),
            issuing_body: self.issuing.map(cell),
            levels: self.levels.map(cell),
            decision_no: self.decision.map(cell),
            applicant_types: self.applicants.map(cell),
            kind: self.kind.map(cell),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn both_list_headers_are_understood() {
        let c = ListColumns::from_header(&strings(&[
            "Mã số",
            "Tên",
            "Cơ quan ban hành",
            "Cơ quan thực hiện",
            "Lĩnh vực",
        ]))
        .unwrap();
        let r = c.row(&strings(&[
            "1.014966",
            "Cấp lại",
            "Bộ Tư pháp",
            "A\nB",
            "Quản tài viên",
        ]));
        assert_eq!(r.code, "1.014966");
        assert_eq!(r.issuing_body.as_deref(), Some("Bộ Tư pháp"));
        assert_eq!(r.levels, None);
        let c = ListColumns::from_header(&strings(&[
            "ma_thu_tuc",
            "ten_thu_tuc",
            "source_dir",
            "cap_thuc_hien",
            "linh_vuc",
            "loai_thu_tuc",
            "so_quyet_dinh",
            "doi_tuong_thuc_hien",
            "co_quan_thuc_hien",
        ]))
        .unwrap();
        let r = c.row(&strings(&[
            "1.0",
            "T",
            "bo",
            "Cấp xã",
            "Hộ tịch",
            "k",
            "1/QĐ",
            "Công dân",
        ]));
        assert_eq!(r.levels.as_deref(), Some("Cấp xã"));
        assert_eq!(r.implementing_body, "", "a short row reads as empty cells");
        let e = ListColumns::from_header(&strings(&["Mã số", "Tên"])).unwrap_err();
        assert!(e.contains("Lĩnh vực"), "{e}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let ok: RawProcedure =
            serde_json::from_str(r#"{"ma_thu_tuc":"1.001193","ten_thu_tuc":"X"}"#).unwrap();
        assert_eq!(ok.ma_thu_tuc, "1.001193");
        let e = serde_json::from_str::<RawProcedure>(r#"{"ma_thu_tuc":"1","tenn":"X"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `tenn`"), "{e}");
    }
}

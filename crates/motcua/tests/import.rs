//! `motcua import procedures`: small good and bad files against a real store, and the whole
//! national file when the shared data is there.

use motcua::catalogue::import::{ImportError, ImportOptions, ImportReport, import_bytes};
use motcua_domain::procedure::VersionStatus;
use motcua_store::Store;
use std::io::Write;

fn opts(strict: bool) -> ImportOptions {
    ImportOptions {
        strict,
        actor: "import:test".into(),
        now: chrono::Utc::now(),
    }
}

/// A fresh store; both backends' procedure storage is proven by the conformance suite.
async fn store() -> Store {
    Store::open("sqlite::memory:").await.unwrap()
}

fn record(code: &str, name: &str, limit: &str) -> String {
    serde_json::json!({
        "source_dir": "bo-tu-phap",
        "ma_thu_tuc": code,
        "ten_thu_tuc": name,
        "so_quyet_dinh": "1/QĐ-BTP",
        "cap_thuc_hien": "Cấp xã",
        "linh_vuc": "Hộ tịch",
        "doi_tuong_thuc_hien": "Công dân Việt Nam",
        "cach_thuc_thuc_hien": format!("Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp{limit}Miễn phí"),
        "thanh_phan_ho_so": "Tên giấy tờMẫu đơn, tờ khaiSố lượngTờ khai đăng ký hộ tịch;Mẫu TK.docx1 bản chính",
        "ket_qua_xu_ly": "Giấy khai sinhMã: KQ.G15.000031Từ khóaKhông có thông tinMô tảKhông có thông tin",
        "can_cu_phap_ly": "Tên văn bản pháp lýMã văn bảnLuật Hộ tịch60/2014/QH13",
        "trinh_tu_thuc_hien": "Bước 1\nBước 2",
    })
    .to_string()
}

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn good_file() -> String {
    [
        record("1.001193", "Đăng ký khai sinh", "5 Ngày làm việc"),
        record("1.000656", "Đăng ký khai tử", "3 Ngày làm việc"),
        record("1.000001", "Thủ tục chưa rõ thời hạn", "Không có thông tin"),
    ]
    .join("\n")
}

async fn run(s: &Store, name: &str, bytes: &[u8], strict: bool) -> ImportReport {
    import_bytes(s, name, bytes, &opts(strict)).await.unwrap()
}

#[tokio::test]
async fn imports_then_rerun_changes_nothing_then_a_change_is_a_new_version() {
    let s = store().await;
    let r = run(&s, "p.jsonl.gz", &gz(&good_file()), false).await;
    assert_eq!(
        (r.read, r.added, r.changed, r.unchanged),
        (3, 3, 0, 0),
        "{r:?}"
    );
    assert_eq!(r.drafts, 1, "no limit: a draft");
    assert!(r.rejected.is_empty());
    assert_eq!(r.clean.iter().find(|c| c.0 == "documents").unwrap().1, 3);
    assert_eq!(r.clean.iter().find(|c| c.0 == "time_limit").unwrap().1, 2);
    assert_eq!(s.count_procedures().await.unwrap(), 2);
    let ks = s.published_procedure("1.001193").await.unwrap().unwrap();
    assert_eq!(ks.version.details.documents[0].forms, ["Mẫu TK.docx"]);
    assert!(!ks.version.details.verbatim.channels.is_empty());

    let again = run(&s, "p.jsonl.gz", &gz(&good_file()), false).await;
    assert_eq!(
        (again.added, again.changed, again.unchanged),
        (0, 0, 3),
        "{again:?}"
    );

    // The same file as plain JSON lines, NFD-encoded: still unchanged (NFC on the way in).
    use unicode_normalization::UnicodeNormalization;
    let nfd: String = good_file().nfd().collect();
    let r = run(&s, "p.jsonl", nfd.as_bytes(), false).await;
    assert_eq!(r.unchanged, 3, "{r:?}");

    let changed = good_file().replace("5 Ngày làm việc", "4 Ngày làm việc");
    let r = run(&s, "p.jsonl", changed.as_bytes(), false).await;
    assert_eq!((r.changed, r.unchanged), (1, 2));
    let versions = s.procedure_versions("1.001193").await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].version.status, VersionStatus::Superseded);
    assert_eq!(versions[1].version.status, VersionStatus::Published);
    assert_eq!(versions[1].version.time_limit.amount, 4);
    let changes = s.procedure_changes("1.001193").await.unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[1].action, "import_changed");
    assert!(changes[1].note.contains("time_limit"), "{:?}", changes[1]);
    assert_eq!(changes[1].actor, "import:test");
}

#[tokio::test]
async fn bad_lines_are_reported_and_skipped_or_refuse_the_file_when_strict() {
    let s = store().await;
    let bad = [
        record("1.001193", "Đăng ký khai sinh", "5 Ngày làm việc"),
        "{not json".to_string(),
        record("1.00119", "Mã sai", "5 Ngày làm việc"),
        r#"{"ma_thu_tuc":"1.000777","ten_thu_tuc":"X","cap_thuc_hien":"Cấp xã","unknown_key":1}"#
            .to_string(),
        record("1.000888", "Cấp huyện", "5 Ngày làm việc").replace("Cấp xã", "Cấp huyện"),
        record("1.000656", "Đăng ký khai tử", "3 Ngày làm việc"),
        record("1.000656", "Đăng ký khai tử (khác)", "3 Ngày làm việc"),
        record("1.000999", "Trùng giống hệt", "2 Ngày làm việc"),
        record("1.000999", "Trùng giống hệt", "2 Ngày làm việc"),
        "[1,2,3]".to_string(),
    ]
    .join("\n");

    // Strict: refused, nothing written.
    let e = import_bytes(&s, "bad.jsonl", bad.as_bytes(), &opts(true))
        .await
        .unwrap_err();
    let ImportError::Strict(r) = e else {
        panic!("{e}")
    };
    assert!(!r.written);
    assert_eq!(s.count_procedures().await.unwrap(), 0);

    let r = run(&s, "bad.jsonl", bad.as_bytes(), false).await;
    let lines: Vec<(usize, &str)> = r
        .rejected
        .iter()
        .map(|x| (x.line, x.reason.as_str()))
        .collect();
    assert_eq!(r.rejected.len(), 7, "{lines:#?}");
    let reason = |line: usize| {
        r.rejected
            .iter()
            .find(|x| x.line == line)
            .map(|x| x.reason.clone())
            .unwrap_or_default()
    };
    assert!(
        reason(2).contains("not a procedure record"),
        "{}",
        reason(2)
    );
    assert!(reason(3).contains("bad procedure code"), "{}", reason(3));
    assert!(
        reason(4).contains("unknown field `unknown_key`"),
        "{}",
        reason(4)
    );
    assert!(reason(5).contains("unknown level"), "{}", reason(5));
    assert!(
        reason(6).contains("conflicting content (lines 6, 7)"),
        "{}",
        reason(6)
    );
    assert!(reason(7).contains("conflicting"));
    assert!(reason(10).contains("not a procedure record"));
    assert_eq!((r.added, r.unchanged), (2, 0), "{r:?}");
    assert!(s.published_procedure("1.000656").await.unwrap().is_none());
    assert!(s.published_procedure("1.000999").await.unwrap().is_some());
}

#[tokio::test]
async fn files_that_are_not_gzip_json_or_csv_are_refused_and_damage_is_reported() {
    let s = store().await;
    for (name, bytes) in [
        ("x.jsonl.gz", b"{\"a\":1}".to_vec()),
        ("x.jsonl", Vec::new()),
        ("x.bin", vec![0u8, 159, 146, 150]),
        ("x.csv", b"a,b,c\n1,2,3\n".to_vec()),
    ] {
        let e = import_bytes(&s, name, &bytes, &opts(false))
            .await
            .unwrap_err();
        assert!(matches!(e, ImportError::Format(_)), "{name}: {e}");
    }
    // A truncated gzip file: the whole lines before the damage count, the damage is reported.
    let full = gz(&good_file());
    let cut = &full[..full.len() - 12];
    let r = run(&s, "cut.jsonl.gz", cut, false).await;
    assert!(
        r.rejected
            .iter()
            .any(|x| x.line == 0 && x.reason.contains("gzip")),
        "{r:?}"
    );
    let e = import_bytes(&s, "cut.jsonl.gz", cut, &opts(true))
        .await
        .unwrap_err();
    assert!(matches!(e, ImportError::Strict(_)));
}

#[tokio::test]
async fn a_list_csv_updates_names_and_adds_drafts_without_touching_the_rest() {
    let s = store().await;
    run(&s, "p.jsonl", good_file().as_bytes(), false).await;
    let csv = "Mã số,Tên,Cơ quan ban hành,Cơ quan thực hiện,Lĩnh vực\n\
               1.001193,Đăng ký khai sinh,Bộ Tư pháp,\"UBND cấp xã\nCông an xã\",Hộ tịch\n\
               1.002000,Thủ tục mới,Bộ Tư pháp,UBND cấp xã,Hộ tịch\n\
               x.1,Sai mã,Bộ Tư pháp,UBND,Hộ tịch\n\
               1.002001,,Bộ Tư pháp,UBND,Hộ tịch\n";
    let r = run(&s, "danh-sach.csv", csv.as_bytes(), false).await;
    assert_eq!(r.format, "csv");
    assert_eq!((r.read, r.added, r.changed), (4, 1, 1), "{r:?}");
    assert_eq!(r.rejected.len(), 2);
    assert_eq!(r.rejected[0].line, 5, "a quoted newline counts: {r:?}");
    let ks = s.published_procedure("1.001193").await.unwrap().unwrap();
    assert_eq!(
        ks.version.details.implementing_body,
        "UBND cấp xã\nCông an xã"
    );
    assert_eq!(ks.version.time_limit.amount, 5, "kept from the record");
    let new = s.procedure_versions("1.002000").await.unwrap();
    assert_eq!(new[0].version.status, VersionStatus::Draft);
    let again = run(&s, "danh-sach.csv", csv.as_bytes(), false).await;
    assert_eq!((again.added, again.changed, again.unchanged), (0, 0, 2));
}

/// The whole national file (when the shared data is beside the repo): every record read, none
/// rejected, a second run changes nothing.
#[tokio::test]
async fn the_national_file_imports_whole_and_idempotently() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/vn-tthc-dvcqg-2026/procedures.jsonl.gz"
    );
    let Ok(bytes) = std::fs::read(path) else {
        eprintln!("{path} not found: skipped");
        return;
    };
    let s = store().await;
    let r = run(&s, "procedures.jsonl.gz", &bytes, false).await;
    eprintln!("{}\n{:?}", r.summary(), r.clean);
    assert!(r.read >= 2000, "{}", r.read);
    assert!(
        r.rejected.is_empty(),
        "{:?}",
        &r.rejected[..r.rejected.len().min(5)]
    );
    assert_eq!(r.added, r.read);
    let again = run(&s, "procedures.jsonl.gz", &bytes, false).await;
    assert_eq!(again.unchanged, r.read, "{}", again.summary());
}

//! Writes one sample of each document to a folder and times receipt rendering:
//! `cargo run -p motcua-documents --example samples -- OUT_DIR [N]` (N receipts timed, default 200).

use chrono::{NaiveDate, NaiveDateTime};
use motcua_documents::*;
use std::time::Instant;

fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, d)
        .and_then(|x| x.and_hms_opt(h, m, 0))
        .expect("valid sample date")
}

fn header(number: &str) -> Header {
    Header {
        governing_body: "UBND tỉnh Lâm Đồng".into(),
        issuing_body: "Trung tâm Phục vụ hành chính công tỉnh".into(),
        number: number.into(),
        place: "Lâm Đồng".into(),
        date: at(1, 0, 0).date(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "samples".into()));
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    std::fs::create_dir_all(&out)?;
    let code = "000.00.01.H40-261201-0007";
    let person = Person {
        name: "Nguyễn Thị Lan".into(),
        personal_id: Some("068190001234".into()),
        address: Some("Phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng".into()),
        phone: Some("0912345678".into()),
        email: Some("lan@example.vn".into()),
    };
    let procedure = "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ";
    let office = "Trung tâm Phục vụ hành chính công tỉnh Lâm Đồng";
    let receipt = Receipt {
        header: header("GTN-0007"),
        dossier_code: code.into(),
        receiving_office: office.into(),
        applicant: person.clone(),
        procedure: procedure.into(),
        documents: vec![
            "Đơn đề nghị cấp giấy phép xây dựng (bản chính)".into(),
            "Bản sao giấy tờ chứng minh quyền sử dụng đất".into(),
            "Hai bộ bản vẽ thiết kế xây dựng".into(),
        ],
        sets: 1,
        time_limit: "15 ngày làm việc".into(),
        received_at: at(1, 8, 30),
        appointment: at(22, 16, 0),
        result_place: office.into(),
        receiver: "Trần Văn Bình".into(),
        tracking_url: format!("http://127.0.0.1:8080/tra-cuu?ma={code}"),
    };
    let docs = [
        ("01-giay-hen", Document::Receipt(receipt.clone())),
        (
            "02-bo-sung",
            Document::Supplement(SupplementNotice {
                header: header("PBS-0007"),
                dossier_code: Some(code.into()),
                office: office.into(),
                applicant: person.clone(),
                procedure: procedure.into(),
                items: vec!["Bản vẽ mặt bằng có chữ ký của chủ đầu tư".into()],
                reason: "Bản vẽ nộp kèm chưa có chữ ký.".into(),
                contact: "Trần Văn Bình, Bộ phận một cửa".into(),
                officer: "Trần Văn Bình".into(),
            }),
        ),
        (
            "03-tu-choi",
            Document::Refusal(RefusalNotice {
                header: header("PTC-0007"),
                dossier_code: Some(code.into()),
                office: office.into(),
                applicant: person.clone(),
                procedure: procedure.into(),
                reasons: vec!["Thửa đất thuộc khu vực đã có quy hoạch giải tỏa.".into()],
                officer: "Trần Văn Bình".into(),
            }),
        ),
        (
            "04-xin-loi",
            Document::Apology(ApologyLetter {
                header: header("PXL-0007"),
                dossier_code: code.into(),
                agency: "Sở Xây dựng tỉnh Lâm Đồng".into(),
                applicant: person.clone(),
                procedure: procedure.into(),
                received_at: at(1, 8, 30),
                original_appointment: at(22, 16, 0),
                reason: "Cần lấy ý kiến của cơ quan quản lý di tích.".into(),
                new_appointment: at(29, 10, 0),
                signer: "Lê Minh Châu".into(),
            }),
        ),
        (
            "05-dung",
            Document::Stop(StopNotice {
                header: header("TBD-0007"),
                dossier_code: Some(code.into()),
                office: office.into(),
                applicant: person.clone(),
                procedure: procedure.into(),
                received_at: at(1, 8, 30),
                cause: StopCause::Withdrawn,
                reason: "Gia đình thay đổi kế hoạch xây dựng.".into(),
                stopped_at: at(3, 9, 15),
                officer: "Trần Văn Bình".into(),
            }),
        ),
        (
            "06-kiem-soat",
            Document::ControlSheet(ControlSheet {
                header: header("PKS-0007"),
                dossier_code: code.into(),
                applicant: person.clone(),
                procedure: procedure.into(),
                handling_agency: "Sở Xây dựng tỉnh Lâm Đồng".into(),
                cooperating: vec![],
                received_at: at(1, 8, 30),
                appointment: at(22, 16, 0),
                rows: vec![
                    HandOver {
                        from_unit: office.into(),
                        to_unit: "Phòng Quản lý xây dựng".into(),
                        at: at(1, 8, 30),
                        giver: "Trần Văn Bình".into(),
                        receiver: "Phạm Thu Hà".into(),
                        result: None,
                        note: String::new(),
                    },
                    HandOver {
                        from_unit: "Phòng Quản lý xây dựng".into(),
                        to_unit: "Lãnh đạo Sở Xây dựng".into(),
                        at: at(10, 15, 0),
                        giver: "Phạm Thu Hà".into(),
                        receiver: "Lê Minh Châu".into(),
                        result: Some(StepResult::OnTime),
                        note: String::new(),
                    },
                ],
            }),
        ),
    ];
    for (name, doc) in &docs {
        let pdf = doc.render()?;
        let path = out.join(format!("{name}.pdf"));
        std::fs::write(&path, &pdf)?;
        println!("{} ({} bytes)", path.display(), pdf.len());
    }
    let start = Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        bytes += receipt.render()?.len();
    }
    let took = start.elapsed();
    println!(
        "{n} receipts in {:.2} s: {:.1} receipts/s, {:.2} ms each, {} bytes on average",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / n.max(1) as f64,
        bytes / n.max(1)
    );
    Ok(())
}

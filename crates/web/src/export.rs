//! Exports of reports: CSV (UTF-8 with a byte-order mark, so Excel shows the diacritics),
//! Excel (rust_xlsxwriter) and PDF (A4 landscape, `motcua_documents::TableReport`). Every raw
//! count and rate of every row, with Vietnamese headings.

use crate::api::reports::{Form06Report, ReportRow};
use crate::error::ApiError;
use axum::http::header;
use axum::response::{IntoResponse, Response};

const RATES: [&str; 8] = [
    "Tỷ lệ trực tuyến (%)",
    "Tỷ lệ trực tuyến toàn trình (%)",
    "Tỷ lệ trực tuyến một phần (%)",
    "Tỷ lệ đúng hạn (%)",
    "Tỷ lệ số hóa thành phần (%)",
    "Tỷ lệ số hóa kết quả (%)",
    "Tỷ lệ hài lòng (%)",
    "Điểm đánh giá trung bình",
];

fn rates(r: &ReportRow) -> [Option<f64>; 8] {
    let x = &r.rates;
    [
        x.online,
        x.online_full,
        x.online_partial,
        x.on_time,
        x.digitized_components,
        x.digitized_results,
        x.satisfaction,
        x.average_score,
    ]
}

/// The heading row.
pub fn headings(first: &str) -> Vec<String> {
    let mut h = vec![format!("Mã {first}"), first.to_string()];
    h.extend(
        motcua_domain::stats::Form06Row::default()
            .columns()
            .iter()
            .map(|c| c.1.to_string()),
    );
    h.extend(RATES.iter().map(|s| s.to_string()));
    h
}

/// The cells of a row, as text.
pub fn cells(r: &ReportRow) -> Vec<String> {
    let mut v = vec![r.key.clone(), r.name.clone()];
    v.extend(r.figures.columns().iter().map(|c| c.2.to_string()));
    v.extend(
        rates(r)
            .iter()
            .map(|x| x.map(|x| format!("{x:.2}")).unwrap_or_default()),
    );
    v
}

fn all_rows(rep: &Form06Report) -> impl Iterator<Item = &ReportRow> {
    rep.rows.iter().chain(std::iter::once(&rep.total))
}

/// CSV bytes of a report.
pub fn csv_bytes(rep: &Form06Report) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(headings("Đơn vị"));
    for r in all_rows(rep) {
        let _ = w.write_record(cells(r));
    }
    w.into_inner().unwrap_or_default()
}

fn attachment(stem: &str, ext: &str, mime: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}.{ext}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A CSV download.
pub fn csv_response(rep: &Form06Report, stem: &str) -> Response {
    attachment(stem, "csv", "text/csv; charset=utf-8", csv_bytes(rep))
}

/// Excel bytes of a report: a title, the period, headings, one row per agency and the total.
pub fn xlsx_bytes(rep: &Form06Report) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let head = Format::new().set_bold().set_text_wrap();
    let ws = wb.add_worksheet();
    ws.set_name("Biểu 06")?;
    ws.write_string_with_format(
        0,
        0,
        "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH (Biểu 06 / II.06a)",
        &bold,
    )?;
    ws.write_string(1, 0, format!("Kỳ báo cáo: {} đến {}", rep.from, rep.to))?;
    let h = headings("Đơn vị");
    for (c, t) in h.iter().enumerate() {
        ws.write_string_with_format(3, c as u16, t, &head)?;
        ws.set_column_width(c as u16, if c == 1 { 40 } else { 14 })?;
    }
    for (i, r) in all_rows(rep).enumerate() {
        let row = 4 + i as u32;
        ws.write_string(row, 0, &r.key)?;
        ws.write_string(row, 1, &r.name)?;
        let cols = r.figures.columns();
        for (j, c) in cols.iter().enumerate() {
            ws.write_number(row, 2 + j as u16, c.2 as f64)?;
        }
        for (j, x) in rates(r).iter().enumerate() {
            if let Some(x) = x {
                ws.write_number(
                    row,
                    (2 + cols.len() + j) as u16,
                    (x * 100.0).round() / 100.0,
                )?;
            }
        }
    }
    wb.save_to_buffer()
}

/// The lines under a report's title: period, scope, filters, and when it was made.
fn scope_lines(rep: &Form06Report) -> Vec<String> {
    let mut v = vec![format!(
        "Kỳ báo cáo: từ ngày {} đến ngày {}",
        rep.from.format("%d/%m/%Y"),
        rep.to.format("%d/%m/%Y")
    )];
    v.push(match &rep.agency {
        Some(a) if rep.children => format!("Đơn vị: {a} và các đơn vị trực thuộc"),
        Some(a) => format!("Đơn vị: {a}"),
        None => "Phạm vi: toàn tỉnh".to_string(),
    });
    if let Some(f) = &rep.field {
        v.push(format!("Lĩnh vực: {f}"));
    }
    if let Some(p) = &rep.procedure {
        v.push(format!("Thủ tục: {p}"));
    }
    let now = chrono::Utc::now() + chrono::Duration::hours(7);
    v.push(format!(
        "Lập lúc {} (giờ Việt Nam) từ nhật ký sự kiện của hồ sơ",
        now.format("%H:%M ngày %d/%m/%Y")
    ));
    v
}

/// The report as a printable table.
pub fn pdf_table(rep: &Form06Report) -> motcua_documents::TableReport {
    motcua_documents::TableReport {
        title: "Tình hình, kết quả giải quyết thủ tục hành chính (Biểu 06 / II.06a)".into(),
        lines: scope_lines(rep),
        headings: headings("Đơn vị"),
        rows: all_rows(rep).map(cells).collect(),
        key_columns: 2,
        note: Some(
            "Định nghĩa từng chỉ tiêu: docs/statistics.md. Tỷ lệ để trống khi mẫu số bằng 0."
                .into(),
        ),
    }
}

/// A PDF download of a printable table, rendered off the async threads.
pub async fn pdf_response(
    table: motcua_documents::TableReport,
    stem: &str,
) -> Result<Response, ApiError> {
    let pdf = tokio::task::spawn_blocking(move || table.render())
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(attachment(stem, "pdf", "application/pdf", pdf))
}

/// An Excel download.
pub fn xlsx_response(rep: &Form06Report, stem: &str) -> Result<Response, ApiError> {
    let body = xlsx_bytes(rep).map_err(ApiError::internal)?;
    Ok(attachment(
        stem,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        body,
    ))
}

/// CSV bytes of any table of text cells.
pub fn table_csv(headings: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let _ = w.write_record(headings);
    for r in rows {
        let _ = w.write_record(r);
    }
    w.into_inner().unwrap_or_default()
}

/// Excel bytes of any table: a title, headings, then the rows (numbers written as numbers).
pub fn table_xlsx(
    title: &str,
    headings: &[&str],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.write_string_with_format(0, 0, title, &bold)?;
    for (c, h) in headings.iter().enumerate() {
        ws.write_string_with_format(2, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, if c < 4 { 28 } else { 12 })?;
    }
    for (i, r) in rows.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            let (row, col) = (3 + i as u32, c as u16);
            match v.parse::<f64>() {
                Ok(x) if c >= 4 => ws.write_number(row, col, x)?,
                _ => ws.write_string(row, col, v)?,
            };
        }
    }
    wb.save_to_buffer()
}

/// A CSV, Excel or PDF download of a table, by `format` (`csv`, `xlsx` or `pdf`).
pub async fn table_response(
    format: &str,
    stem: &str,
    title: &str,
    headings: &[&str],
    rows: &[Vec<String>],
) -> Result<Response, ApiError> {
    match format {
        "csv" => Ok(attachment(
            stem,
            "csv",
            "text/csv; charset=utf-8",
            table_csv(headings, rows),
        )),
        "xlsx" => Ok(attachment(
            stem,
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            table_xlsx(title, headings, rows).map_err(ApiError::internal)?,
        )),
        "pdf" => {
            let table = motcua_documents::TableReport {
                title: title.to_string(),
                lines: Vec::new(),
                headings: headings.iter().map(|h| h.to_string()).collect(),
                rows: rows.to_vec(),
                key_columns: 2,
                note: None,
            };
            pdf_response(table, stem).await
        }
        other => Err(ApiError::invalid(
            "format",
            format!("`{other}`: use json, csv, xlsx or pdf"),
        )),
    }
}

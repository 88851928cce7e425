//! Texts of the signed-in pages, Vietnamese first; every key exists in both languages (a test
//! checks it).

use minijinja::Value;
use motcua_domain::status::Status;
use std::collections::BTreeMap;

const VI: &[(&str, &str)] = &[
    ("sign_in", "Đăng nhập"),
    ("sign_out", "Đăng xuất"),
    ("username", "Tên đăng nhập"),
    ("password", "Mật khẩu"),
    (
        "sign_in_intro",
        "Cán bộ và công dân đăng nhập bằng tài khoản được cấp.",
    ),
    ("wrong", "Sai tên đăng nhập hoặc mật khẩu."),
    (
        "disabled",
        "Tài khoản đã bị quản trị viên vô hiệu hóa. Vui lòng liên hệ quản trị hệ thống.",
    ),
    (
        "locked",
        "Tài khoản tạm khóa 15 phút do đăng nhập sai nhiều lần. Vui lòng thử lại sau.",
    ),
    (
        "too_many",
        "Quá nhiều lần đăng nhập từ máy này. Vui lòng chờ một phút rồi thử lại.",
    ),
    (
        "expired_form",
        "Biểu mẫu đã hết hạn. Vui lòng tải lại trang và thử lại.",
    ),
    ("forbidden_h", "Không có quyền truy cập"),
    ("forbidden", "Tài khoản của bạn không được dùng trang này."),
    ("not_found_h", "Không tìm thấy"),
    (
        "not_found",
        "Không tìm thấy hồ sơ hoặc bạn không có quyền xem hồ sơ này.",
    ),
    ("inbox", "Hồ sơ cần xử lý"),
    ("workspace", "Không gian làm việc"),
    ("all_open", "Tất cả hồ sơ đang mở"),
    ("mine_only", "Chỉ hồ sơ giao cho tôi"),
    ("procedure_code", "Mã thủ tục"),
    ("from", "Nộp từ ngày"),
    ("to", "Đến ngày"),
    ("filter", "Lọc"),
    ("status", "Trạng thái"),
    ("count", "Số hồ sơ"),
    ("overdue", "Quá hạn"),
    ("due_soon", "Sắp đến hạn"),
    ("on_time", "Trong hạn"),
    ("not_received", "Chưa tiếp nhận"),
    ("code", "Mã hồ sơ"),
    ("procedure", "Thủ tục"),
    ("applicant", "Người nộp"),
    ("submitted", "Ngày nộp"),
    ("due", "Hẹn trả"),
    ("open", "Mở"),
    ("next_page", "Trang sau"),
    ("first_page", "Về đầu danh sách"),
    ("empty", "Không có hồ sơ nào."),
    ("dossier", "Hồ sơ"),
    ("history", "Quá trình xử lý"),
    ("when", "Thời điểm"),
    ("who", "Người thực hiện"),
    ("agency", "Cơ quan"),
    ("what", "Nội dung"),
    ("note", "Ghi chú"),
    ("form_data", "Thông tin tờ khai"),
    ("documents", "Thành phần hồ sơ"),
    ("no_file", "chưa số hóa"),
    ("actions", "Thao tác"),
    (
        "no_actions",
        "Bạn không có thao tác nào với hồ sơ ở trạng thái này.",
    ),
    ("done", "Đã thực hiện"),
    ("error", "Không thực hiện được"),
    ("step", "Bước hiện tại"),
    ("channel", "Kênh nộp"),
    ("personal_id", "Số định danh cá nhân"),
    ("phone", "Điện thoại"),
    ("address", "Địa chỉ"),
    ("items", "Giấy tờ cần bổ sung (mỗi dòng một mục)"),
    ("reason", "Lý do"),
    ("reasons", "Lý do (mỗi dòng một lý do)"),
    ("to_step", "Chuyển đến bước"),
    ("amount", "Số tiền (đồng)"),
    ("reference", "Mã giao dịch / biên lai"),
    ("summary", "Kết quả"),
    ("method", "Hình thức trả"),
    ("m_counter", "Tại bộ phận một cửa"),
    ("m_online", "Trực tuyến"),
    ("m_post", "Qua bưu chính"),
    ("receiver", "Người nhận"),
    ("assignee", "Tên đăng nhập của cán bộ được giao"),
    ("specialist", "Chuyên viên được giao"),
    (
        "no_specialists",
        "Cơ quan chưa có chuyên viên nào đang hoạt động để giao.",
    ),
    ("bulk_h", "Thao tác với các hồ sơ đã chọn"),
    ("bulk_approve", "Phê duyệt"),
    ("bulk_assign", "Giao cho chuyên viên"),
    ("bulk_go", "Thực hiện"),
    ("bulk_pick", "Chọn"),
    ("bulk_result", "Kết quả thao tác hàng loạt"),
    ("bulk_done", "Đã thực hiện"),
    ("bulk_refused", "Không thực hiện được"),
    ("bulk_ok", "Đã thực hiện"),
    ("bulk_no", "Bị từ chối"),
    ("new_due", "Ngày hẹn mới"),
    ("audit", "Nhật ký truy cập"),
    ("audit_dossier", "Nhật ký của hồ sơ"),
    ("audit_user", "Nhật ký của người dùng"),
    ("leaders_only", "Chỉ lãnh đạo được xem nhật ký."),
    ("my_dossiers", "Hồ sơ của tôi"),
    ("lookup", "Tra cứu"),
    ("a_receive", "Tiếp nhận, cấp giấy hẹn"),
    ("a_request_supplement", "Yêu cầu bổ sung"),
    ("a_provide_supplement", "Đã nhận bổ sung"),
    ("a_refuse", "Từ chối tiếp nhận"),
    ("a_assign", "Giao xử lý"),
    ("a_complete_step", "Hoàn thành bước, chuyển tiếp"),
    ("a_send_back", "Trả lại bước trước"),
    ("a_approve", "Phê duyệt"),
    ("a_request_payment", "Yêu cầu thực hiện nghĩa vụ tài chính"),
    ("a_confirm_payment", "Xác nhận đã nộp nghĩa vụ tài chính"),
    ("a_mark_result_ready", "Có kết quả"),
    ("a_return_result", "Trả kết quả"),
    ("a_withdraw", "Rút hồ sơ theo đề nghị"),
    ("a_stop_processing", "Dừng xử lý"),
    ("a_issue_apology", "Gửi thư xin lỗi, hẹn lại"),
    ("a_rate", "Đánh giá"),
    ("queue_figures", "Thời gian chờ và phục vụ tại quầy"),
    ("papers", "Giấy tờ in"),
    ("doc_receipt", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
    ("doc_control", "Phiếu kiểm soát quá trình giải quyết hồ sơ"),
    ("doc_supplement", "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"),
    ("doc_apology", "Văn bản xin lỗi và hẹn lại ngày trả kết quả"),
    ("doc_stop", "Thông báo dừng giải quyết hồ sơ"),
    ("doc_refusal", "Phiếu từ chối tiếp nhận giải quyết hồ sơ"),
    (
        "late_note",
        "Nếu không kịp trả kết quả đúng hẹn, cơ quan giải quyết phải gửi văn bản xin lỗi và hẹn lại chậm nhất 01 ngày làm việc trước ngày hẹn trả (thao tác «Gửi thư xin lỗi, hẹn lại»).",
    ),
    (
        "submitted_ok",
        "Đã nộp hồ sơ. Bộ phận một cửa sẽ kiểm tra, tiếp nhận và gửi giấy hẹn; tình trạng hồ sơ hiện ở đây.",
    ),
];

const EN: &[(&str, &str)] = &[
    ("sign_in", "Sign in"),
    ("sign_out", "Sign out"),
    ("username", "User name"),
    ("password", "Password"),
    (
        "sign_in_intro",
        "Staff and citizens sign in with their account.",
    ),
    ("wrong", "Wrong user name or password."),
    (
        "disabled",
        "An administrator disabled this account. Please contact the system administrator.",
    ),
    (
        "locked",
        "The account is locked for 15 minutes after repeated failed sign-ins. Please try later.",
    ),
    (
        "too_many",
        "Too many sign-in attempts from this device. Please wait a minute and try again.",
    ),
    (
        "expired_form",
        "The form has expired. Please reload the page and try again.",
    ),
    ("forbidden_h", "Access denied"),
    ("forbidden", "Your account cannot use this page."),
    ("not_found_h", "Not found"),
    ("not_found", "No such dossier, or you may not see it."),
    ("inbox", "Dossiers to handle"),
    ("workspace", "Workspace"),
    ("all_open", "All open dossiers"),
    ("mine_only", "Only dossiers assigned to me"),
    ("procedure_code", "Procedure code"),
    ("from", "Submitted from"),
    ("to", "To"),
    ("filter", "Filter"),
    ("status", "Status"),
    ("count", "Dossiers"),
    ("overdue", "Overdue"),
    ("due_soon", "Due soon"),
    ("on_time", "On time"),
    ("not_received", "Not received yet"),
    ("code", "Dossier code"),
    ("procedure", "Procedure"),
    ("applicant", "Applicant"),
    ("submitted", "Submitted"),
    ("due", "Appointment"),
    ("open", "Open"),
    ("next_page", "Next page"),
    ("first_page", "Back to the start"),
    ("empty", "No dossiers."),
    ("dossier", "Dossier"),
    ("history", "History"),
    ("when", "When"),
    ("who", "Who"),
    ("agency", "Agency"),
    ("what", "What"),
    ("note", "Note"),
    ("form_data", "Declaration"),
    ("documents", "Documents"),
    ("no_file", "not digitized"),
    ("actions", "Actions"),
    (
        "no_actions",
        "You have no action on this dossier in its present state.",
    ),
    ("done", "Done"),
    ("error", "Could not be done"),
    ("step", "Current step"),
    ("channel", "Channel"),
    ("personal_id", "Personal ID"),
    ("phone", "Phone"),
    ("address", "Address"),
    ("items", "Documents to supply (one per line)"),
    ("reason", "Reason"),
    ("reasons", "Reasons (one per line)"),
    ("to_step", "Move to step"),
    ("amount", "Amount (đồng)"),
    ("reference", "Payment reference"),
    ("summary", "Result"),
    ("method", "Return by"),
    ("m_counter", "At the one-stop desk"),
    ("m_online", "Online"),
    ("m_post", "By post"),
    ("receiver", "Received by"),
    ("assignee", "User name of the staff member"),
    ("specialist", "Specialist to assign"),
    (
        "no_specialists",
        "The agency has no active specialist to assign.",
    ),
    ("bulk_h", "Act on the ticked dossiers"),
    ("bulk_approve", "Approve"),
    ("bulk_assign", "Assign to a specialist"),
    ("bulk_go", "Go"),
    ("bulk_pick", "Pick"),
    ("bulk_result", "Bulk action result"),
    ("bulk_done", "Done"),
    ("bulk_refused", "Refused"),
    ("bulk_ok", "Done"),
    ("bulk_no", "Refused"),
    ("new_due", "New appointment date"),
    ("audit", "Audit trail"),
    ("audit_dossier", "Audit trail of the dossier"),
    ("audit_user", "Audit trail of the user"),
    ("leaders_only", "Only leaders read the audit trail."),
    ("my_dossiers", "My dossiers"),
    ("lookup", "Look up"),
    ("a_receive", "Receive, issue the appointment"),
    ("a_request_supplement", "Request a supplement"),
    ("a_provide_supplement", "Supplement received"),
    ("a_refuse", "Refuse"),
    ("a_assign", "Assign"),
    ("a_complete_step", "Complete the step, move on"),
    ("a_send_back", "Send back"),
    ("a_approve", "Approve"),
    ("a_request_payment", "Request a financial obligation"),
    ("a_confirm_payment", "Confirm payment"),
    ("a_mark_result_ready", "Result ready"),
    ("a_return_result", "Return the result"),
    ("a_withdraw", "Withdraw on request"),
    ("a_stop_processing", "Stop processing"),
    ("a_issue_apology", "Apologise, set a new date"),
    ("a_rate", "Rate"),
    ("queue_figures", "Waiting and service times at the counters"),
    ("papers", "Printable papers"),
    ("doc_receipt", "Receipt and appointment"),
    ("doc_control", "Processing control sheet"),
    ("doc_supplement", "Supplement request"),
    ("doc_apology", "Apology and new appointment"),
    ("doc_stop", "Notice to stop processing"),
    ("doc_refusal", "Refusal notice"),
    (
        "late_note",
        "If the result cannot be ready on time, the deciding agency must send an apology with a new date at least one working day before the appointment (action «Apologise, set a new date»).",
    ),
    (
        "submitted_ok",
        "Your dossier is submitted. The one-stop desk will check and receive it and send the appointment; its status shows here.",
    ),
];

/// The texts of one language.
pub(crate) struct Texts(BTreeMap<&'static str, &'static str>);

impl Texts {
    /// A text (the key itself if missing, which the tests rule out).
    pub(crate) fn get(&self, k: &'static str) -> &'static str {
        self.0.get(k).copied().unwrap_or(k)
    }

    /// For templates.
    pub(crate) fn value(&self) -> Value {
        Value::from_iter(self.0.iter().map(|(k, v)| (*k, *v)))
    }
}

/// The texts of `lang` (`en`, else Vietnamese).
pub(crate) fn get(lang: &str) -> Texts {
    Texts(
        (if lang == "en" { EN } else { VI })
            .iter()
            .copied()
            .collect(),
    )
}

/// A status in words.
pub(crate) fn status(s: Status, lang: &str) -> &'static str {
    use Status::*;
    let en = lang == "en";
    match (s, en) {
        (AwaitingReception, false) => "Chờ tiếp nhận",
        (AwaitingReception, true) => "Awaiting reception",
        (SupplementAtReception, false) => "Chờ bổ sung (khi tiếp nhận)",
        (SupplementAtReception, true) => "Supplement asked at reception",
        (Refused, false) => "Từ chối tiếp nhận",
        (Refused, true) => "Refused",
        (Received, false) => "Đã tiếp nhận",
        (Received, true) => "Received",
        (Processing, false) => "Đang xử lý",
        (Processing, true) => "Processing",
        (SupplementRequested, false) => "Chờ bổ sung",
        (SupplementRequested, true) => "Supplement requested",
        (AwaitingPayment, false) => "Chờ thực hiện nghĩa vụ tài chính",
        (AwaitingPayment, true) => "Awaiting payment",
        (Withdrawn, false) => "Đã rút",
        (Withdrawn, true) => "Withdrawn",
        (Stopped, false) => "Dừng xử lý",
        (Stopped, true) => "Stopped",
        (ResultReady, false) => "Có kết quả, chờ trả",
        (ResultReady, true) => "Result ready",
        (Returned, false) => "Đã trả kết quả",
        (Returned, true) => "Returned",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let vi: Vec<_> = VI.iter().map(|(k, _)| *k).collect();
        let en: Vec<_> = EN.iter().map(|(k, _)| *k).collect();
        assert_eq!(vi, en);
        let mut sorted = vi.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), vi.len(), "no key twice");
    }
}

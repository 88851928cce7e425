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
    ("tr_back", "Hồ sơ của tôi"),
    ("tr_status", "Tình trạng"),
    ("tr_received", "Ngày tiếp nhận"),
    ("tr_due", "Ngày hẹn trả kết quả"),
    ("tr_next", "Tiếp theo"),
    ("tr_history", "Quá trình giải quyết"),
    ("tr_papers", "Giấy tờ của hồ sơ (PDF)"),
    ("tr_fee", "Phí, lệ phí theo thủ tục"),
    ("tr_no_fee", "Danh mục thủ tục không nêu phí, lệ phí"),
    ("tr_expected", "Ngày hẹn trả dự kiến"),
    (
        "tr_provisional",
        "Dự kiến, tính theo ngày làm việc từ hôm nay theo lịch làm việc của cơ quan; ngày hẹn chính thức ghi trên giấy tiếp nhận khi bộ phận một cửa tiếp nhận hồ sơ.",
    ),
    (
        "tr_next_awaiting",
        "Bộ phận một cửa kiểm tra hồ sơ (trong 8 giờ làm việc đối với hồ sơ trực tuyến). Khi hồ sơ đầy đủ, bộ phận tiếp nhận, cấp mã hồ sơ và ngày hẹn trả kết quả; giấy tiếp nhận (có mã QR tra cứu) sẽ có tại trang này. Nếu cần bổ sung, yêu cầu sẽ hiện ở đây.",
    ),
    (
        "tr_next_supplement",
        "Vui lòng bổ sung các giấy tờ được yêu cầu bằng biểu mẫu dưới đây. Thời gian chờ bổ sung không tính vào thời hạn giải quyết.",
    ),
    (
        "tr_next_progress",
        "Hồ sơ đang được giải quyết. Khi có kết quả hoặc cần bổ sung, trang này và thư điện tử/tin nhắn sẽ báo cho bạn.",
    ),
    (
        "tr_next_payment",
        "Vui lòng nộp phí, lệ phí theo thông báo; thời hạn giải quyết tạm dừng đến khi nộp.",
    ),
    (
        "tr_next_ready",
        "Kết quả đã sẵn sàng. Mời nhận kết quả tại bộ phận một cửa (mang theo giấy tiếp nhận) hoặc theo hình thức đã đăng ký.",
    ),
    ("tr_next_closed", "Hồ sơ đã kết thúc."),
    ("tr_n_supplement", "Cơ quan yêu cầu bổ sung hồ sơ"),
    ("tr_n_items", "Cần bổ sung"),
    ("tr_n_reason", "Lý do"),
    ("tr_n_refused", "Hồ sơ không được tiếp nhận"),
    ("tr_n_apology", "Văn bản xin lỗi, hẹn lại ngày trả"),
    ("tr_n_new_due", "Ngày hẹn trả mới"),
    ("tr_n_ready", "Đã có kết quả giải quyết"),
    ("tr_supply", "Gửi bổ sung"),
    (
        "tr_files",
        "Tệp tải lên (PDF, JPEG hoặc PNG; có thể chọn nhiều tệp)",
    ),
    (
        "tr_vault",
        "Hoặc dùng lại giấy tờ trong kho dữ liệu của bạn",
    ),
    ("tr_note", "Ghi chú cho cán bộ (không bắt buộc)"),
    ("tr_sent", "Đã gửi bổ sung. Hồ sơ tiếp tục được giải quyết."),
    (
        "tr_need_file",
        "Hãy chọn ít nhất một tệp hoặc một giấy tờ trong kho dữ liệu.",
    ),
    (
        "tr_not_waiting",
        "Hồ sơ hiện không chờ bổ sung: không cần gửi thêm giấy tờ.",
    ),
    ("tr_too_many", "Mỗi lần gửi tối đa 5 tệp."),
    (
        "tr_too_large",
        "Tệp quá lớn hoặc quá nhiều dữ liệu trong một lần gửi.",
    ),
    (
        "tr_new",
        "Đã nộp hồ sơ. Đây là trang theo dõi hồ sơ của bạn.",
    ),
    ("tr_track", "Theo dõi"),
    ("su_title", "Đăng ký tài khoản công dân"),
    (
        "su_intro",
        "Dùng thư điện tử hoặc số điện thoại di động để đăng nhập, nộp và theo dõi hồ sơ.",
    ),
    ("su_name", "Họ và tên"),
    ("su_login", "Thư điện tử hoặc số điện thoại"),
    ("su_password", "Mật khẩu (ít nhất 8 ký tự)"),
    ("su_password2", "Nhập lại mật khẩu"),
    ("su_submit", "Đăng ký"),
    ("su_have", "Đã có tài khoản? Đăng nhập"),
    ("su_none", "Chưa có tài khoản? Đăng ký"),
    ("su_bad_name", "Hãy nhập họ và tên (2 đến 100 ký tự)."),
    (
        "su_bad_login",
        "Hãy nhập thư điện tử (ví dụ lan@example.vn) hoặc số điện thoại di động 10 số.",
    ),
    ("su_short_password", "Mật khẩu cần ít nhất 8 ký tự."),
    ("su_mismatch", "Hai lần nhập mật khẩu không khớp."),
    (
        "su_exists",
        "Đã có tài khoản với thư điện tử hoặc số điện thoại này: hãy đăng nhập.",
    ),
    ("rs_title", "Quên mật khẩu"),
    (
        "rs_intro",
        "Nhập thư điện tử dùng để đăng nhập; hệ thống gửi liên kết đặt lại mật khẩu (dùng trong 60 phút, một lần).",
    ),
    ("rs_email", "Thư điện tử"),
    ("rs_send", "Gửi liên kết"),
    (
        "rs_sent",
        "Nếu có tài khoản với thư điện tử này, một liên kết đặt lại mật khẩu đã được gửi. Hãy kiểm tra hộp thư.",
    ),
    ("rs_new", "Mật khẩu mới (ít nhất 8 ký tự)"),
    ("rs_set", "Đặt mật khẩu mới"),
    (
        "rs_done",
        "Đã đặt mật khẩu mới. Mọi phiên đăng nhập cũ đã kết thúc; hãy đăng nhập lại.",
    ),
    (
        "rs_bad_link",
        "Liên kết không đúng, đã dùng hoặc đã hết hạn. Hãy yêu cầu liên kết mới.",
    ),
    (
        "rs_bad_email",
        "Hãy nhập thư điện tử, ví dụ lan@example.vn.",
    ),
    ("rs_forgot", "Quên mật khẩu?"),
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
    ("tr_back", "My dossiers"),
    ("tr_status", "Status"),
    ("tr_received", "Received"),
    ("tr_due", "Appointment to return the result"),
    ("tr_next", "What happens next"),
    ("tr_history", "History"),
    ("tr_papers", "Papers of the dossier (PDF)"),
    ("tr_fee", "Fees stated by the procedure"),
    (
        "tr_no_fee",
        "The catalogue states no fee for this procedure",
    ),
    ("tr_expected", "Expected appointment"),
    (
        "tr_provisional",
        "Provisional, counted in working days from today on the agency's calendar; the official date is on the receipt the one-stop desk issues when it receives the dossier.",
    ),
    (
        "tr_next_awaiting",
        "The one-stop desk checks the dossier (within 8 working hours for online dossiers). When it is complete, the desk receives it and issues the dossier code and the appointment; the receipt (with a QR code for tracking) will be on this page. If something is missing, the request shows here.",
    ),
    (
        "tr_next_supplement",
        "Please supply the documents asked for with the form below. The time waiting for them does not count against the time limit.",
    ),
    (
        "tr_next_progress",
        "The dossier is being processed. This page, e-mail and SMS tell you when the result is ready or something is needed.",
    ),
    (
        "tr_next_payment",
        "Please pay the fees as notified; the time limit stops until payment.",
    ),
    (
        "tr_next_ready",
        "The result is ready. Collect it at the one-stop desk (bring the receipt) or as you chose.",
    ),
    ("tr_next_closed", "The dossier is closed."),
    ("tr_n_supplement", "The agency asks for a supplement"),
    ("tr_n_items", "To supply"),
    ("tr_n_reason", "Reason"),
    ("tr_n_refused", "The dossier was not accepted"),
    ("tr_n_apology", "Apology and new appointment"),
    ("tr_n_new_due", "New appointment"),
    ("tr_n_ready", "The result is ready"),
    ("tr_supply", "Send the supplement"),
    (
        "tr_files",
        "Files (PDF, JPEG or PNG; several may be chosen)",
    ),
    ("tr_vault", "Or re-use documents from your data store"),
    ("tr_note", "Note for the officer (optional)"),
    ("tr_sent", "Supplement sent. Processing goes on."),
    (
        "tr_need_file",
        "Choose at least one file or one document of your data store.",
    ),
    (
        "tr_not_waiting",
        "The dossier is not waiting for a supplement: nothing more is needed.",
    ),
    ("tr_too_many", "At most 5 files at a time."),
    (
        "tr_too_large",
        "A file is too large, or too much was sent at once.",
    ),
    (
        "tr_new",
        "Your dossier is submitted. This is its tracking page.",
    ),
    ("tr_track", "Track"),
    ("su_title", "Create a citizen account"),
    (
        "su_intro",
        "Use an e-mail address or a mobile number to sign in, submit and follow dossiers.",
    ),
    ("su_name", "Full name"),
    ("su_login", "E-mail or phone number"),
    ("su_password", "Password (at least 8 characters)"),
    ("su_password2", "Repeat the password"),
    ("su_submit", "Create the account"),
    ("su_have", "Already have an account? Sign in"),
    ("su_none", "No account yet? Create one"),
    ("su_bad_name", "Enter your full name (2 to 100 characters)."),
    (
        "su_bad_login",
        "Enter an e-mail address (e.g. lan@example.vn) or a 10-digit mobile number.",
    ),
    (
        "su_short_password",
        "The password needs at least 8 characters.",
    ),
    ("su_mismatch", "The two passwords differ."),
    (
        "su_exists",
        "An account with this e-mail or phone number exists: please sign in.",
    ),
    ("rs_title", "Forgotten password"),
    (
        "rs_intro",
        "Enter the e-mail address you sign in with; we send a link to set a new password (valid for 60 minutes, once).",
    ),
    ("rs_email", "E-mail"),
    ("rs_send", "Send the link"),
    (
        "rs_sent",
        "If an account has this e-mail address, a link to set a new password was sent. Please check your mailbox.",
    ),
    ("rs_new", "New password (at least 8 characters)"),
    ("rs_set", "Set the new password"),
    (
        "rs_done",
        "The new password is set. Every earlier session has ended; please sign in again.",
    ),
    (
        "rs_bad_link",
        "The link is wrong, used or expired. Please ask for a new one.",
    ),
    (
        "rs_bad_email",
        "Enter an e-mail address, e.g. lan@example.vn.",
    ),
    ("rs_forgot", "Forgotten password?"),
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

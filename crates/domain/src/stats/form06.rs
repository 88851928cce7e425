//! Form 06 (Biểu 06/VPCP/KSTT) and II.06a: one row per agency, its raw counts and its rates.

use super::keys::{Figure, StatKey};
use crate::dossier::Channel;
use serde::{Deserialize, Serialize};

/// Which part of the report a summed figure belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Stock at the end of the day before the period (carried over, "kỳ trước chuyển qua").
    CarriedIn,
    /// Flows in the period; for stock figures, the change of the stock during the period.
    Period,
    /// Stock at the end of the period's last day (in progress, "đang giải quyết").
    EndOfPeriod,
}

/// Which dossiers a report covers beyond the agencies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this field (lĩnh vực), exactly as the procedure names it.
    pub field: Option<String>,
    /// Only this procedure code.
    pub procedure: Option<String>,
}

impl Filter {
    /// Whether a figure of these dimensions is in the report.
    pub fn admits(&self, k: &StatKey) -> bool {
        self.field
            .as_ref()
            .is_none_or(|f| f.replace('|', "/") == k.field)
            && self.procedure.as_ref().is_none_or(|p| *p == k.procedure)
    }
}

/// The raw counts of one form 06 row. See `docs/statistics.md` for each definition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Form06Row {
    /// Open at the end of the day before the period (kỳ trước chuyển qua).
    pub carried_over: i64,
    /// Received in the period online (trực tuyến).
    pub received_online: i64,
    /// ... of which for full-online procedures (toàn trình).
    pub received_online_full: i64,
    /// ... of which for partial-online procedures (một phần).
    pub received_online_partial: i64,
    /// Received in the period at a counter (trực tiếp).
    pub received_counter: i64,
    /// Received in the period by post (bưu chính công ích).
    pub received_post: i64,
    /// Received in the period at a counter or by post with every component digitized.
    pub received_paper_digitized: i64,
    /// Result ready in the period before the appointment day (trước hạn).
    pub resolved_early: i64,
    /// Result ready in the period on the appointment day (đúng hạn).
    pub resolved_on_time: i64,
    /// Result ready in the period late (quá hạn).
    pub resolved_late: i64,
    /// Result ready in the period with an electronic result document.
    pub resolved_e_result: i64,
    /// Open at the end of the period, within the time limit (trong hạn).
    pub in_progress_within: i64,
    /// Open at the end of the period, past the time limit (quá hạn).
    pub in_progress_past: i64,
    /// Withdrawn after reception in the period (rút hồ sơ).
    pub ended_withdrawn: i64,
    /// Processing stopped after reception in the period (dừng xử lý).
    pub ended_stopped: i64,
    /// Withdrawn before reception in the period.
    pub withdrawn_before_receipt: i64,
    /// Refused at reception in the period (từ chối, form 03).
    pub refused: i64,
    /// Supplement requests issued in the period (form 02).
    pub supplement_requested: i64,
    /// Ratings given in the period.
    pub rated: i64,
    /// Ratings of 4 or 5 in the period.
    pub rated_satisfied: i64,
    /// Sum of the scores given in the period.
    pub rating_sum: i64,
    /// Received in the period with a component re-using digitized data of an earlier dossier
    /// (service index 4.3; not a form 06 column).
    #[serde(default)]
    pub received_reused: i64,
    /// Received in the period with the applicant's identity confirmed against the population
    /// database or VNeID (service index 4.5; not a form 06 column).
    #[serde(default)]
    pub received_identified: i64,
    /// Dossiers whose procedure fee was settled in the period with a payment (service index
    /// 3.6; not a form 06 column).
    #[serde(default)]
    pub fees_settled: i64,
    /// Of them, settled by an online payment (service index 3.6).
    #[serde(default)]
    pub fees_settled_online: i64,
}

/// Rates of a row, in percent; `None` when the denominator is zero.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Form06Rates {
    /// Received online / received in the period.
    pub online: Option<f64>,
    /// Received online for full-online procedures / received in the period.
    pub online_full: Option<f64>,
    /// Received online for partial-online procedures / received in the period.
    pub online_partial: Option<f64>,
    /// (Early + on time + in progress within the limit) / (resolved + in progress).
    pub on_time: Option<f64>,
    /// Paper dossiers (counter, post) received with every component digitized / received so.
    pub digitized_components: Option<f64>,
    /// Resolved with an electronic result / resolved.
    pub digitized_results: Option<f64>,
    /// Ratings of 4 or 5 / ratings.
    pub satisfaction: Option<f64>,
    /// Average score (1-5).
    pub average_score: Option<f64>,
}

fn pct(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 * 100.0 / den as f64)
}

impl Form06Row {
    /// Adds a summed figure of dimensions `k` to the row.
    pub fn add(&mut self, k: &StatKey, w: Window, v: i64) {
        let online = k.is_online();
        match (k.figure, w) {
            (Figure::OpenWithin | Figure::OpenPast, Window::CarriedIn) => self.carried_over += v,
            (Figure::OpenWithin, _) => self.in_progress_within += v,
            (Figure::OpenPast, _) => self.in_progress_past += v,
            (_, Window::CarriedIn | Window::EndOfPeriod) => {}
            (Figure::Received, _) if online => {
                self.received_online += v;
                match k.level.as_str() {
                    "full" => self.received_online_full += v,
                    "partial" => self.received_online_partial += v,
                    _ => {}
                }
            }
            (Figure::Received, _) if k.channel == Channel::Post.as_str() => self.received_post += v,
            (Figure::Received, _) => self.received_counter += v,
            (Figure::ReceivedDigitized, _) if !online => self.received_paper_digitized += v,
            (Figure::ReceivedDigitized, _) => {}
            (Figure::ResolvedEarly, _) => self.resolved_early += v,
            (Figure::ResolvedOnTime, _) => self.resolved_on_time += v,
            (Figure::ResolvedLate, _) => self.resolved_late += v,
            (Figure::ResolvedEResult, _) => self.resolved_e_result += v,
            (Figure::EndedWithdrawn, _) => self.ended_withdrawn += v,
            (Figure::EndedStopped, _) => self.ended_stopped += v,
            (Figure::WithdrawnBeforeReceipt, _) => self.withdrawn_before_receipt += v,
            (Figure::Refused, _) => self.refused += v,
            (Figure::SupplementRequested, _) => self.supplement_requested += v,
            (Figure::Rated, _) => self.rated += v,
            (Figure::RatedSatisfied, _) => self.rated_satisfied += v,
            (Figure::RatingSum, _) => self.rating_sum += v,
            (Figure::ReceivedReused, _) => self.received_reused += v,
            (Figure::ReceivedIdentified, _) => self.received_identified += v,
            (Figure::FeeSettled, _) => self.fees_settled += v,
            (Figure::FeeSettledOnline, _) => self.fees_settled_online += v,
        }
    }

    /// Adds another row (for totals).
    pub fn merge(&mut self, o: &Form06Row) {
        self.carried_over += o.carried_over;
        self.received_online += o.received_online;
        self.received_online_full += o.received_online_full;
        self.received_online_partial += o.received_online_partial;
        self.received_counter += o.received_counter;
        self.received_post += o.received_post;
        self.received_paper_digitized += o.received_paper_digitized;
        self.resolved_early += o.resolved_early;
        self.resolved_on_time += o.resolved_on_time;
        self.resolved_late += o.resolved_late;
        self.resolved_e_result += o.resolved_e_result;
        self.in_progress_within += o.in_progress_within;
        self.in_progress_past += o.in_progress_past;
        self.ended_withdrawn += o.ended_withdrawn;
        self.ended_stopped += o.ended_stopped;
        self.withdrawn_before_receipt += o.withdrawn_before_receipt;
        self.refused += o.refused;
        self.supplement_requested += o.supplement_requested;
        self.rated += o.rated;
        self.rated_satisfied += o.rated_satisfied;
        self.rating_sum += o.rating_sum;
        self.received_reused += o.received_reused;
        self.received_identified += o.received_identified;
        self.fees_settled += o.fees_settled;
        self.fees_settled_online += o.fees_settled_online;
    }

    /// Received in the period, every channel.
    pub fn received_in_period(&self) -> i64 {
        self.received_online + self.received_counter + self.received_post
    }

    /// Total to resolve: carried over plus received in the period (tổng số nhận giải quyết).
    pub fn received_total(&self) -> i64 {
        self.carried_over + self.received_in_period()
    }

    /// Resolved in the period (đã giải quyết).
    pub fn resolved(&self) -> i64 {
        self.resolved_early + self.resolved_on_time + self.resolved_late
    }

    /// In progress at the end of the period (đang giải quyết).
    pub fn in_progress(&self) -> i64 {
        self.in_progress_within + self.in_progress_past
    }

    /// Whether the books balance: everything to resolve was resolved, ended otherwise, or is
    /// still in progress.
    pub fn balances(&self) -> bool {
        self.received_total()
            == self.resolved() + self.ended_withdrawn + self.ended_stopped + self.in_progress()
    }

    /// The rates.
    pub fn rates(&self) -> Form06Rates {
        let received = self.received_in_period();
        let paper = self.received_counter + self.received_post;
        Form06Rates {
            online: pct(self.received_online, received),
            online_full: pct(self.received_online_full, received),
            online_partial: pct(self.received_online_partial, received),
            on_time: pct(
                self.resolved_early + self.resolved_on_time + self.in_progress_within,
                self.resolved() + self.in_progress(),
            ),
            digitized_components: pct(self.received_paper_digitized, paper),
            digitized_results: pct(self.resolved_e_result, self.resolved()),
            satisfaction: pct(self.rated_satisfied, self.rated),
            average_score: (self.rated > 0).then(|| self.rating_sum as f64 / self.rated as f64),
        }
    }

    /// Columns for exports: (machine name, Vietnamese heading, value).
    pub fn columns(&self) -> [(&'static str, &'static str, i64); 24] {
        [
            (
                "received_total",
                "Tổng số hồ sơ nhận giải quyết",
                self.received_total(),
            ),
            ("carried_over", "Kỳ trước chuyển qua", self.carried_over),
            (
                "received_online",
                "Nhận trong kỳ: trực tuyến",
                self.received_online,
            ),
            (
                "received_online_full",
                "trong đó toàn trình",
                self.received_online_full,
            ),
            (
                "received_online_partial",
                "trong đó một phần",
                self.received_online_partial,
            ),
            (
                "received_counter",
                "Nhận trong kỳ: trực tiếp",
                self.received_counter,
            ),
            (
                "received_post",
                "Nhận trong kỳ: bưu chính",
                self.received_post,
            ),
            ("resolved", "Đã giải quyết", self.resolved()),
            ("resolved_early", "Trước hạn", self.resolved_early),
            ("resolved_on_time", "Đúng hạn", self.resolved_on_time),
            ("resolved_late", "Quá hạn", self.resolved_late),
            ("in_progress", "Đang giải quyết", self.in_progress()),
            ("in_progress_within", "Trong hạn", self.in_progress_within),
            (
                "in_progress_past",
                "Quá hạn (đang giải quyết)",
                self.in_progress_past,
            ),
            (
                "supplement_requested",
                "Yêu cầu bổ sung",
                self.supplement_requested,
            ),
            ("refused", "Từ chối tiếp nhận", self.refused),
            (
                "ended_withdrawn",
                "Rút hồ sơ sau tiếp nhận",
                self.ended_withdrawn,
            ),
            (
                "withdrawn_before_receipt",
                "Rút hồ sơ trước tiếp nhận",
                self.withdrawn_before_receipt,
            ),
            ("ended_stopped", "Dừng xử lý", self.ended_stopped),
            (
                "received_paper_digitized",
                "Hồ sơ giấy đã số hóa thành phần",
                self.received_paper_digitized,
            ),
            (
                "resolved_e_result",
                "Có kết quả điện tử",
                self.resolved_e_result,
            ),
            ("rated", "Lượt đánh giá", self.rated),
            (
                "rated_satisfied",
                "Đánh giá hài lòng (4-5)",
                self.rated_satisfied,
            ),
            ("rating_sum", "Tổng điểm đánh giá", self.rating_sum),
        ]
    }
}

/// A whole report: the period, one row per agency, and the total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form06 {
    /// Rows by agency code.
    pub rows: Vec<(String, Form06Row)>,
    /// Sum of the rows.
    pub total: Form06Row,
}

impl Form06 {
    /// Builds the report from rows, adding the total.
    pub fn new(rows: Vec<(String, Form06Row)>) -> Form06 {
        let mut total = Form06Row::default();
        for (_, r) in &rows {
            total.merge(r);
        }
        Form06 { rows, total }
    }
}

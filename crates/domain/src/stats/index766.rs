//! The Decision 766/QĐ-TTg service index as the national portal scores it: six groups (CKMB 18,
//! TDGQ 20, CLGQ 12, TTTT 10, MDHL 18, MDSH 22 points), each indicator with its formula, its
//! threshold, its score and the raw counts behind it. Indicators whose data this system does not
//! keep yet are listed with no score, so a leader sees what is missing rather than a zero.
//! Indicator maxima that the research notes mark unconfirmed are [`IndexWeights`], configurable.

use super::form06::Form06Row;
use serde::{Deserialize, Serialize};

/// Maximum points of each indicator. Defaults follow the notes (§5.2): group maxima are
/// confirmed; the split inside a group comes from one vendor's implementation or an unofficial
/// source and is **unconfirmed** unless said otherwise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct IndexWeights {
    /// 1.1 procedures published on time (unconfirmed split of CKMB's 18: 4).
    pub ckmb_on_time: f64,
    /// 1.2 procedures made public on time in the national database (4 in one source).
    pub ckmb_national: f64,
    /// 1.3 procedures disclosed with all seven mandatory parts (unconfirmed: 4).
    pub ckmb_complete: f64,
    /// 1.4 dossiers synced to the national portal (6 in one implementation; unconfirmed).
    pub ckmb_sync: f64,
    /// 2.1 on-time rate: the whole TDGQ group, rate × 20.
    pub tdgq_on_time: f64,
    /// 3.1 procedures offered online (unconfirmed: 2).
    pub clgq_offered: f64,
    /// 3.2 online services that received dossiers (unconfirmed: 4).
    pub clgq_used: f64,
    /// 3.3 online dossier rate, full points from 50 % (unconfirmed: 6).
    pub clgq_online_dossiers: f64,
    /// 3.4 fee-bearing procedures with online-payment transactions in the period ([TH]: 2).
    pub tttt_transactions: f64,
    /// 3.5 fee-bearing procedures payable online, full points from 80 % ([TH]: 2).
    pub tttt_payable: f64,
    /// 3.6 dossiers paid online, full points from 30 % (6).
    pub tttt_paid_online: f64,
    /// 4.1 electronic results (unconfirmed: 6).
    pub mdsh_e_results: f64,
    /// 4.2 digitized dossiers, full points from 80 % (unconfirmed: 4).
    pub mdsh_digitized: f64,
    /// 4.3 dossiers re-using digitized data, full points from 80 % ([TH]: 2).
    pub mdsh_reuse: f64,
    /// 4.4 dossiers connected to the national data warehouse (unconfirmed: 5; not ours).
    pub mdsh_warehouse: f64,
    /// 4.5 use of the population database (unconfirmed: 5).
    pub mdsh_population: f64,
    /// 5.1 feedback (PAKN) classified within its limit (unofficial: 5).
    pub mdhl_classified: f64,
    /// 5.2 feedback handled on time, every step (unofficial: 5).
    pub mdhl_on_time: f64,
    /// 5.3 satisfaction with feedback handling (unofficial: 2).
    pub mdhl_content: f64,
    /// 5.4 satisfaction with procedures, full points from 90 % (unofficial: 6).
    pub mdhl_satisfaction: f64,
}

impl Default for IndexWeights {
    fn default() -> Self {
        IndexWeights {
            ckmb_on_time: 4.0,
            ckmb_national: 4.0,
            ckmb_complete: 4.0,
            ckmb_sync: 6.0,
            tdgq_on_time: 20.0,
            clgq_offered: 2.0,
            clgq_used: 4.0,
            clgq_online_dossiers: 6.0,
            tttt_transactions: 2.0,
            tttt_payable: 2.0,
            tttt_paid_online: 6.0,
            mdsh_e_results: 6.0,
            mdsh_digitized: 4.0,
            mdsh_reuse: 2.0,
            mdsh_warehouse: 5.0,
            mdsh_population: 5.0,
            mdhl_classified: 5.0,
            mdhl_on_time: 5.0,
            mdhl_content: 2.0,
            mdhl_satisfaction: 6.0,
        }
    }
}

/// What the catalogue says about one scope (an agency or the province) for the period: the
/// indicators that count procedures rather than dossiers (1.1, 1.3, 3.1, 3.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CatalogueFacts {
    /// Published procedures in scope (received or decided there).
    pub procedures: i64,
    /// Of them, disclosed with all seven mandatory parts
    /// ([`crate::catalogue::discloses_all_parts`]).
    pub complete: i64,
    /// Of them, offered online (partial or full online).
    pub online: i64,
    /// Of the online ones, those that received at least one online dossier in the period.
    pub online_used: i64,
    /// Versions published in the period that name the date they take effect.
    pub published: i64,
    /// Of them, published at least five working days before that date.
    pub published_on_time: i64,
    /// Procedures in scope with a fee (lệ phí, phí > 0).
    #[serde(default)]
    pub fee_bearing: i64,
    /// Of them, payable online here (online service and the payment platform configured).
    #[serde(default)]
    pub fee_payable_online: i64,
    /// Of them, those with at least one dossier whose fee was settled online in the period.
    #[serde(default)]
    pub fee_paid_online: i64,
    /// Not from the catalogue but, like it, from outside the counters: dossiers received in
    /// the period whose sync to the national portal was acknowledged (1.4).
    #[serde(default)]
    pub portal_synced: i64,
    /// Also from outside the counters: feedback items received in the period (5.1-5.3).
    #[serde(default)]
    pub feedback: crate::feedback::FeedbackFacts,
    /// Dossiers with a feedback item received in the period that were not rated below 4
    /// (those are among the dislikes already): added to 5.4's unhappy dossiers.
    #[serde(default)]
    pub feedback_dossiers: i64,
}

/// One scored indicator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Indicator {
    /// Number in Decision 766, e.g. `2.1`.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    /// How it is computed.
    pub formula: String,
    /// Rate (percent) from which it earns full points, if any.
    pub full_from: Option<f64>,
    /// Maximum points.
    pub max: f64,
    /// Numerator of the rate.
    pub numerator: i64,
    /// Denominator of the rate.
    pub denominator: i64,
    /// Rate in percent (absent when the denominator is zero or the data is not kept).
    pub rate: Option<f64>,
    /// Points (absent when the data is not kept or nothing happened).
    pub score: Option<f64>,
    /// Whether this system keeps the data for it.
    pub measured: bool,
}

/// One group of indicators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Group {
    /// National portal code, e.g. `TDGQ`.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    /// Maximum points of the group.
    pub max: f64,
    /// Points earned on the indicators measured.
    pub score: f64,
    /// Maximum points of the indicators measured.
    pub measured_max: f64,
    /// The indicators.
    pub indicators: Vec<Indicator>,
}

/// The index of one agency or the province for one period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceIndex {
    /// The six groups.
    pub groups: Vec<Group>,
    /// Points earned on what is measured.
    pub score: f64,
    /// Points available on what is measured.
    pub measured_max: f64,
    /// 100.
    pub max: f64,
}

fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 * 100.0 / d as f64)
}

/// Points for a rate: full points from `full_from` percent, else proportional to it.
fn score(rate: Option<f64>, max: f64, full_from: f64) -> Option<f64> {
    rate.map(|r| {
        let s = if r >= full_from {
            max
        } else {
            r * max / full_from
        };
        (s * 100.0).round() / 100.0
    })
}

fn measured(
    code: &str,
    name: &str,
    formula: &str,
    full_from: f64,
    max: f64,
    n: i64,
    d: i64,
) -> Indicator {
    let r = rate(n, d);
    Indicator {
        code: code.into(),
        name: name.into(),
        formula: formula.into(),
        full_from: Some(full_from),
        max,
        numerator: n,
        denominator: d,
        rate: r,
        score: score(r, max, full_from),
        measured: true,
    }
}

fn missing(code: &str, name: &str, formula: &str, max: f64) -> Indicator {
    Indicator {
        code: code.into(),
        name: name.into(),
        formula: formula.into(),
        full_from: None,
        max,
        numerator: 0,
        denominator: 0,
        rate: None,
        score: None,
        measured: false,
    }
}

fn group(code: &str, name: &str, max: f64, indicators: Vec<Indicator>) -> Group {
    let score = indicators.iter().filter_map(|i| i.score).sum::<f64>();
    let measured_max = indicators
        .iter()
        .filter(|i| i.measured)
        .map(|i| i.max)
        .sum();
    Group {
        code: code.into(),
        name: name.into(),
        max,
        score: (score * 100.0).round() / 100.0,
        measured_max,
        indicators,
    }
}

/// A measured indicator when the catalogue facts are known, else a missing one.
#[allow(clippy::too_many_arguments)]
fn from_catalogue(
    facts: Option<&CatalogueFacts>,
    count: impl Fn(&CatalogueFacts) -> (i64, i64),
    code: &str,
    name: &str,
    formula: &str,
    full_from: f64,
    max: f64,
) -> Indicator {
    match facts {
        Some(f) => {
            let (n, d) = count(f);
            measured(code, name, formula, full_from, max, n, d)
        }
        None => missing(code, name, formula, max),
    }
}

/// Scores the index from a form 06 row for the period and, when given, what the catalogue
/// says about the same scope (see `docs/statistics.md`).
pub fn service_index(
    r: &Form06Row,
    facts: Option<&CatalogueFacts>,
    w: &IndexWeights,
) -> ServiceIndex {
    let received = r.received_in_period();
    let paper = r.received_counter + r.received_post;
    let dislikes = r.rated - r.rated_satisfied;
    // 5.4: 100 % minus the late rate and the rate of dossiers rated dissatisfied or with a
    // feedback item, over resolved dossiers.
    let unhappy = r.resolved_late + dislikes + facts.map_or(0, |f| f.feedback_dossiers);
    let groups = vec![
        group(
            "CKMB",
            "Công khai, minh bạch",
            18.0,
            vec![
                from_catalogue(
                    facts,
                    |f| (f.published_on_time, f.published),
                    "1.1",
                    "Thủ tục được công bố đúng hạn",
                    "phiên bản công bố trong kỳ sớm hơn ngày có hiệu lực ít nhất 5 ngày làm việc / phiên bản công bố trong kỳ có ngày hiệu lực",
                    100.0,
                    w.ckmb_on_time,
                ),
                missing(
                    "1.2",
                    "Thủ tục công khai đúng hạn trên CSDL quốc gia",
                    "thủ tục công khai trên CSDL quốc gia trong 5 ngày làm việc từ quyết định công bố / thủ tục công bố",
                    w.ckmb_national,
                ),
                from_catalogue(
                    facts,
                    |f| (f.complete, f.procedures),
                    "1.3",
                    "Thủ tục công khai đủ 7 nội dung bắt buộc",
                    "thủ tục có tên, trình tự, cách thức, thành phần hồ sơ, thời hạn, đối tượng, cơ quan thực hiện / thủ tục đang công bố",
                    100.0,
                    w.ckmb_complete,
                ),
                from_catalogue(
                    facts,
                    |f| (f.portal_synced, received),
                    "1.4",
                    "Hồ sơ đồng bộ lên Cổng DVC quốc gia",
                    "hồ sơ tiếp nhận trong kỳ được Cổng DVC quốc gia xác nhận đồng bộ / hồ sơ tiếp nhận trong kỳ",
                    100.0,
                    w.ckmb_sync,
                ),
            ],
        ),
        group(
            "TDGQ",
            "Tiến độ giải quyết",
            20.0,
            vec![measured(
                "2.1",
                "Hồ sơ giải quyết đúng hạn",
                "(trước hạn + đúng hạn + đang giải quyết trong hạn) / (đã giải quyết + đang giải quyết)",
                100.0,
                w.tdgq_on_time,
                r.resolved_early + r.resolved_on_time + r.in_progress_within,
                r.resolved() + r.in_progress(),
            )],
        ),
        group(
            "CLGQ",
            "Dịch vụ công trực tuyến",
            12.0,
            vec![
                from_catalogue(
                    facts,
                    |f| (f.online, f.procedures),
                    "3.1",
                    "Thủ tục cung cấp trực tuyến",
                    "thủ tục trực tuyến (một phần, toàn trình) / thủ tục thuộc phạm vi; đủ điểm từ 80 %",
                    80.0,
                    w.clgq_offered,
                ),
                from_catalogue(
                    facts,
                    |f| (f.online_used, f.online),
                    "3.2",
                    "Dịch vụ trực tuyến có phát sinh hồ sơ",
                    "thủ tục trực tuyến có hồ sơ trực tuyến tiếp nhận trong kỳ / thủ tục trực tuyến",
                    100.0,
                    w.clgq_used,
                ),
                measured(
                    "3.3",
                    "Hồ sơ trực tuyến",
                    "hồ sơ tiếp nhận trực tuyến / hồ sơ tiếp nhận; đủ điểm từ 50 %",
                    50.0,
                    w.clgq_online_dossiers,
                    r.received_online,
                    received,
                ),
            ],
        ),
        group(
            "TTTT",
            "Thanh toán trực tuyến",
            10.0,
            vec![
                from_catalogue(
                    facts,
                    |f| (f.fee_paid_online, f.fee_bearing),
                    "3.4",
                    "Thủ tục có phát sinh giao dịch thanh toán trực tuyến",
                    "thủ tục có phí có hồ sơ nộp phí trực tuyến trong kỳ / thủ tục có phí",
                    100.0,
                    w.tttt_transactions,
                ),
                from_catalogue(
                    facts,
                    |f| (f.fee_payable_online, f.fee_bearing),
                    "3.5",
                    "Thủ tục có phí thanh toán trực tuyến được",
                    "thủ tục có phí thanh toán trực tuyến được / thủ tục có phí; đủ điểm từ 80 %",
                    80.0,
                    w.tttt_payable,
                ),
                measured(
                    "3.6",
                    "Hồ sơ thanh toán trực tuyến",
                    "hồ sơ nộp đủ phí bằng thanh toán trực tuyến / hồ sơ nộp đủ phí (trừ hồ sơ không phí, được miễn); đủ điểm từ 30 %",
                    30.0,
                    w.tttt_paid_online,
                    r.fees_settled_online,
                    r.fees_settled,
                ),
            ],
        ),
        group(
            "MDHL",
            "Mức độ hài lòng",
            18.0,
            vec![
                from_catalogue(
                    facts,
                    |f| (f.feedback.classified_on_time, f.feedback.received),
                    "5.1",
                    "Phản ánh, kiến nghị được phân loại đúng hạn",
                    "phản ánh, kiến nghị tiếp nhận trong kỳ được phân loại trong hạn (từ chối: 2 ngày làm việc; yêu cầu bổ sung, tiếp nhận xử lý: 5) / phản ánh, kiến nghị tiếp nhận trong kỳ",
                    100.0,
                    w.mdhl_classified,
                ),
                from_catalogue(
                    facts,
                    |f| (f.feedback.on_time, f.feedback.received),
                    "5.2",
                    "Phản ánh, kiến nghị xử lý đúng hạn",
                    "phản ánh, kiến nghị tiếp nhận trong kỳ có mọi bước đúng hạn (bước còn mở đã quá hạn tính là trễ) / phản ánh, kiến nghị tiếp nhận trong kỳ",
                    100.0,
                    w.mdhl_on_time,
                ),
                from_catalogue(
                    facts,
                    |f| (f.feedback.content, f.feedback.received),
                    "5.3",
                    "Hài lòng về xử lý phản ánh, kiến nghị",
                    "(phản ánh, kiến nghị − không hài lòng − quá hạn − bị phản ánh lại) / phản ánh, kiến nghị tiếp nhận trong kỳ; mỗi phản ánh tính một lần",
                    100.0,
                    w.mdhl_content,
                ),
                measured(
                    "5.4",
                    "Hài lòng về giải quyết thủ tục",
                    "100 % − (hồ sơ quá hạn + đánh giá dưới 4 điểm + hồ sơ có phản ánh, kiến nghị) / hồ sơ đã giải quyết; đủ điểm từ 90 %",
                    90.0,
                    w.mdhl_satisfaction,
                    (r.resolved() - unhappy).max(0),
                    r.resolved(),
                ),
            ],
        ),
        group(
            "MDSH",
            "Số hóa hồ sơ",
            22.0,
            vec![
                measured(
                    "4.1",
                    "Kết quả giải quyết điện tử",
                    "hồ sơ có kết quả điện tử / hồ sơ đã giải quyết",
                    100.0,
                    w.mdsh_e_results,
                    r.resolved_e_result,
                    r.resolved(),
                ),
                measured(
                    "4.2",
                    "Hồ sơ số hóa thành phần",
                    "hồ sơ giấy (trực tiếp, bưu chính) số hóa đủ thành phần / hồ sơ giấy tiếp nhận; đủ điểm từ 80 %",
                    80.0,
                    w.mdsh_digitized,
                    r.received_paper_digitized,
                    paper,
                ),
                measured(
                    "4.3",
                    "Hồ sơ tái sử dụng dữ liệu số hóa",
                    "hồ sơ tiếp nhận có thành phần tái sử dụng dữ liệu số hóa / hồ sơ tiếp nhận; đủ điểm từ 80 %",
                    80.0,
                    w.mdsh_reuse,
                    r.received_reused,
                    received,
                ),
                missing(
                    "4.4",
                    "Hồ sơ kết nối kho dữ liệu trên Cổng DVC quốc gia",
                    "hồ sơ lấy dữ liệu từ kho dữ liệu của tổ chức, cá nhân trên Cổng DVC quốc gia / hồ sơ",
                    w.mdsh_warehouse,
                ),
                measured(
                    "4.5",
                    "Khai thác CSDL quốc gia về dân cư",
                    "hồ sơ tiếp nhận có người nộp được xác thực qua CSDL dân cư, VNeID / hồ sơ tiếp nhận",
                    100.0,
                    w.mdsh_population,
                    r.received_identified,
                    received,
                ),
            ],
        ),
    ];
    let score = groups.iter().map(|g| g.score).sum::<f64>();
    let measured_max = groups.iter().map(|g| g.measured_max).sum();
    ServiceIndex {
        groups,
        score: (score * 100.0).round() / 100.0,
        measured_max,
        max: 100.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_add_up_to_the_portal_maxima() {
        let w = IndexWeights::default();
        let idx = service_index(&Form06Row::default(), None, &w);
        let maxima: Vec<(&str, f64)> = idx
            .groups
            .iter()
            .map(|g| (g.code.as_str(), g.max))
            .collect();
        assert_eq!(
            maxima,
            [
                ("CKMB", 18.0),
                ("TDGQ", 20.0),
                ("CLGQ", 12.0),
                ("TTTT", 10.0),
                ("MDHL", 18.0),
                ("MDSH", 22.0)
            ]
        );
        for g in &idx.groups {
            let sum: f64 = g.indicators.iter().map(|i| i.max).sum();
            assert_eq!(
                sum, g.max,
                "default weights of {} add up to its maximum",
                g.code
            );
        }
        assert_eq!(
            idx.score, 0.0,
            "nothing happened: no points, no division by zero"
        );
    }

    #[test]
    fn scores_follow_thresholds_and_show_their_counts() {
        let r = Form06Row {
            received_online: 3,
            received_counter: 7,
            received_paper_digitized: 7,
            resolved_early: 6,
            resolved_on_time: 1,
            resolved_late: 1,
            resolved_e_result: 4,
            in_progress_within: 1,
            in_progress_past: 1,
            rated: 4,
            rated_satisfied: 3,
            ..Form06Row::default()
        };
        let idx = service_index(&r, None, &IndexWeights::default());
        let ind = |code: &str| {
            idx.groups
                .iter()
                .flat_map(|g| &g.indicators)
                .find(|i| i.code == code)
                .unwrap()
                .clone()
        };
        let on_time = ind("2.1");
        assert_eq!((on_time.numerator, on_time.denominator), (8, 10));
        assert_eq!(on_time.score, Some(16.0));
        let online = ind("3.3");
        assert_eq!(online.rate, Some(30.0));
        assert_eq!(
            online.score,
            Some(3.6),
            "30 % of a 50 % threshold of 6 points"
        );
        assert_eq!(ind("4.2").score, Some(4.0), "100 % ≥ 80 %: full points");
        assert_eq!(ind("4.1").score, Some(3.0));
        let sat = ind("5.4");
        assert_eq!((sat.numerator, sat.denominator), (6, 8));
        assert_eq!(sat.score, Some(5.0), "75 % of a 90 % threshold of 6 points");
        assert_eq!(ind("1.4").score, None);
        assert!(!ind("1.4").measured, "no facts: the sync is not known");
        assert_eq!(idx.score, 16.0 + 3.6 + 4.0 + 3.0 + 5.0);
        // 3.6, 4.3 and 4.5 are measured too (no fees settled: 3.6 has no score).
        assert_eq!(
            idx.measured_max,
            20.0 + 6.0 + 6.0 + 6.0 + 4.0 + 6.0 + 2.0 + 5.0
        );
        assert_eq!(ind("3.6").score, None);
        assert_eq!(ind("4.3").score, Some(0.0));
        assert!(
            !ind("4.4").measured,
            "the national data warehouse is not ours"
        );
        assert!(!ind("3.1").measured, "no catalogue facts given");
    }

    #[test]
    fn feedback_scores_5_1_to_5_3_and_counts_in_5_4() {
        let r = Form06Row {
            resolved_on_time: 10,
            rated: 2,
            rated_satisfied: 1,
            ..Form06Row::default()
        };
        let facts = CatalogueFacts {
            feedback: crate::feedback::FeedbackFacts {
                received: 4,
                classified_on_time: 3,
                on_time: 2,
                content: 1,
            },
            feedback_dossiers: 2,
            ..CatalogueFacts::default()
        };
        let idx = service_index(&r, Some(&facts), &IndexWeights::default());
        let ind = |code: &str| {
            idx.groups
                .iter()
                .flat_map(|g| &g.indicators)
                .find(|i| i.code == code)
                .unwrap()
                .clone()
        };
        let c = ind("5.1");
        assert_eq!((c.numerator, c.denominator, c.score), (3, 4, Some(3.75)));
        let t = ind("5.2");
        assert_eq!((t.numerator, t.denominator, t.score), (2, 4, Some(2.5)));
        let h = ind("5.3");
        assert_eq!((h.numerator, h.denominator, h.score), (1, 4, Some(0.5)));
        // 5.4: 10 resolved, 1 dislike, 2 more dossiers with feedback: 7 / 10 of a 90 % threshold.
        let sat = ind("5.4");
        assert_eq!((sat.numerator, sat.denominator), (7, 10));
        assert_eq!(sat.score, Some(4.67));
        let none = service_index(
            &r,
            Some(&CatalogueFacts::default()),
            &IndexWeights::default(),
        );
        let g = none.groups.iter().find(|g| g.code == "MDHL").unwrap();
        assert!(
            g.indicators
                .iter()
                .take(3)
                .all(|i| i.measured && i.score.is_none()),
            "no items: no score"
        );
    }

    #[test]
    fn payment_reuse_and_identity_score_from_their_counts() {
        let r = Form06Row {
            received_online: 6,
            received_counter: 4,
            received_reused: 4,
            received_identified: 5,
            fees_settled: 10,
            fees_settled_online: 2,
            ..Form06Row::default()
        };
        let w = IndexWeights::default();
        let idx = service_index(&r, None, &w);
        let ind = |code: &str| {
            idx.groups
                .iter()
                .flat_map(|g| &g.indicators)
                .find(|i| i.code == code)
                .unwrap()
                .clone()
        };
        let paid = ind("3.6");
        assert_eq!((paid.numerator, paid.denominator), (2, 10));
        assert_eq!(
            paid.score,
            Some(4.0),
            "20 % of a 30 % threshold of 6 points"
        );
        let reuse = ind("4.3");
        assert_eq!((reuse.numerator, reuse.denominator), (4, 10));
        assert_eq!(
            reuse.score,
            Some(1.0),
            "40 % of an 80 % threshold of 2 points"
        );
        let pop = ind("4.5");
        assert_eq!((pop.numerator, pop.denominator), (5, 10));
        assert_eq!(pop.score, Some(2.5), "half of 5 points");
        let full = Form06Row {
            fees_settled_online: 3,
            ..r
        };
        let idx = service_index(&full, None, &w);
        let paid = idx.groups[3].indicators.iter().find(|i| i.code == "3.6");
        assert_eq!(paid.unwrap().score, Some(6.0), "30 % earns full points");
        let custom: IndexWeights =
            serde_json::from_str(r#"{"tttt_paid_online": 3, "mdsh_population": 1}"#).unwrap();
        assert_eq!(
            (custom.tttt_paid_online, custom.mdsh_population),
            (3.0, 1.0)
        );
        assert_eq!(custom.mdsh_reuse, 2.0, "missing fields keep their defaults");
    }

    #[test]
    fn catalogue_indicators_score_from_the_facts() {
        let facts = CatalogueFacts {
            procedures: 10,
            complete: 9,
            online: 6,
            online_used: 3,
            published: 4,
            published_on_time: 1,
            fee_bearing: 5,
            fee_payable_online: 3,
            fee_paid_online: 1,
            portal_synced: 3,
            ..CatalogueFacts::default()
        };
        let idx = service_index(
            &Form06Row::default(),
            Some(&facts),
            &IndexWeights::default(),
        );
        let ind = |code: &str| {
            idx.groups
                .iter()
                .flat_map(|g| &g.indicators)
                .find(|i| i.code == code)
                .unwrap()
                .clone()
        };
        assert_eq!((ind("1.1").numerator, ind("1.1").denominator), (1, 4));
        assert_eq!(ind("1.1").score, Some(1.0), "25 % of 4 points");
        assert!(!ind("1.2").measured);
        assert!(ind("1.4").measured);
        assert_eq!(
            ind("1.4").score,
            None,
            "nothing received in the period: no rate"
        );
        assert_eq!(
            ind("3.4").score,
            Some(0.4),
            "one fee-bearing procedure in five, of 2"
        );
        assert_eq!(
            ind("3.5").score,
            Some(1.5),
            "60 % of an 80 % threshold of 2 points"
        );
        assert_eq!(ind("1.3").score, Some(3.6), "90 % of 4 points");
        assert_eq!(
            ind("3.1").score,
            Some(1.5),
            "60 % of an 80 % threshold of 2 points"
        );
        assert_eq!(
            ind("3.2").score,
            Some(2.0),
            "half of the online services used, of 4"
        );
        let four = Form06Row {
            received_online: 3,
            received_counter: 1,
            ..Form06Row::default()
        };
        let synced = service_index(&four, Some(&facts), &IndexWeights::default());
        let sync = synced.groups[0]
            .indicators
            .iter()
            .find(|i| i.code == "1.4")
            .unwrap();
        assert_eq!((sync.numerator, sync.denominator), (3, 4));
        assert_eq!(sync.score, Some(4.5), "75 % of 6 points");
        let none = service_index(
            &Form06Row::default(),
            Some(&CatalogueFacts::default()),
            &IndexWeights::default(),
        );
        let one = none
            .groups
            .iter()
            .flat_map(|g| &g.indicators)
            .find(|i| i.code == "3.1")
            .unwrap();
        assert!(
            one.measured && one.score.is_none(),
            "nothing in scope: no score, not zero"
        );
    }
}

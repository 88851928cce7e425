//! How a statistics figure is keyed in the counters: `{grain}|{figure}|{procedure}|{channel}|
//! {online level}|{field}` as the metric, with the agency and the day (a month's first day for
//! monthly rows) in their own columns; the agency roll-up (`ad|`, `am|`) keeps only what a form 06
//! row by agency tells apart (see [`StatKey::rolled_up`]).

use crate::dossier::{Channel, Dossier};
use crate::procedure::OnlineLevel;

/// Granularity of a counter row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grain {
    /// One local day.
    Day,
    /// One calendar month (row dated on its first day).
    Month,
}

impl Grain {
    /// The metric prefix of this grain's rows of `detail`.
    pub fn prefix(self, detail: Detail) -> &'static str {
        match (detail, self) {
            (Detail::Full, Grain::Day) => "d|",
            (Detail::Full, Grain::Month) => "m|",
            (Detail::Agency, Grain::Day) => "ad|",
            (Detail::Agency, Grain::Month) => "am|",
        }
    }
}

/// Which dimensions a counter row keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Detail {
    /// Every dimension: procedure, channel, online level, field (reports by field or procedure,
    /// filtered reports).
    Full,
    /// The agency roll-up: the same increments summed over procedures and fields, keeping the
    /// channel and level only where a form 06 column depends on them (unfiltered reports by
    /// agency: a province is a few dozen rows per agency and month instead of thousands).
    Agency,
}

/// One counted figure. Flows count events on their local day; `OpenWithin`/`OpenPast` are stock
/// deltas whose running sum up to a day is the number of open dossiers at the end of that day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Figure {
    /// Received (code and appointment issued).
    Received,
    /// Received with every submitted component digitized (has a file).
    ReceivedDigitized,
    /// Result ready before the appointment day.
    ResolvedEarly,
    /// Result ready on the appointment day, not after its time.
    ResolvedOnTime,
    /// Result ready after the appointment, or after more than one supplement request.
    ResolvedLate,
    /// Result ready with at least one electronic result document.
    ResolvedEResult,
    /// Withdrawn by the applicant after reception.
    EndedWithdrawn,
    /// Processing stopped by the agency after reception.
    EndedStopped,
    /// Withdrawn before reception.
    WithdrawnBeforeReceipt,
    /// Refused at reception (form 03).
    Refused,
    /// Supplement requests issued (form 02), at reception or during processing.
    SupplementRequested,
    /// Ratings given.
    Rated,
    /// Ratings of 4 or 5.
    RatedSatisfied,
    /// Sum of rating scores.
    RatingSum,
    /// Received with at least one component re-using digitized data of an earlier dossier.
    ReceivedReused,
    /// Received with the applicant's identity confirmed against a national source (population
    /// database, VNeID).
    ReceivedIdentified,
    /// Procedure fee (> 0) settled by a payment, not wholly waived: counted on the day of the
    /// payment or waiver after which what was paid and waived first covers the fee.
    FeeSettled,
    /// Of those, settled by an online payment (through the national payment platform).
    FeeSettledOnline,
    /// Stock delta: open and within the time limit.
    OpenWithin,
    /// Stock delta: open and past the time limit.
    OpenPast,
}

impl Figure {
    /// Every figure.
    pub const ALL: [Figure; 20] = [
        Figure::Received,
        Figure::ReceivedDigitized,
        Figure::ResolvedEarly,
        Figure::ResolvedOnTime,
        Figure::ResolvedLate,
        Figure::ResolvedEResult,
        Figure::EndedWithdrawn,
        Figure::EndedStopped,
        Figure::WithdrawnBeforeReceipt,
        Figure::Refused,
        Figure::SupplementRequested,
        Figure::Rated,
        Figure::RatedSatisfied,
        Figure::RatingSum,
        Figure::ReceivedReused,
        Figure::ReceivedIdentified,
        Figure::FeeSettled,
        Figure::FeeSettledOnline,
        Figure::OpenWithin,
        Figure::OpenPast,
    ];

    /// Short stable name used in the counter key.
    pub fn as_str(self) -> &'static str {
        match self {
            Figure::Received => "recv",
            Figure::ReceivedDigitized => "recv_dig",
            Figure::ResolvedEarly => "res_early",
            Figure::ResolvedOnTime => "res_on_time",
            Figure::ResolvedLate => "res_late",
            Figure::ResolvedEResult => "res_eresult",
            Figure::EndedWithdrawn => "end_withdrawn",
            Figure::EndedStopped => "end_stopped",
            Figure::WithdrawnBeforeReceipt => "withdrawn_pre",
            Figure::Refused => "refused",
            Figure::SupplementRequested => "supp",
            Figure::Rated => "rated",
            Figure::RatedSatisfied => "rated_ok",
            Figure::RatingSum => "rating_sum",
            Figure::ReceivedReused => "recv_reuse",
            Figure::ReceivedIdentified => "recv_ident",
            Figure::FeeSettled => "fee_settled",
            Figure::FeeSettledOnline => "fee_online",
            Figure::OpenWithin => "open_in",
            Figure::OpenPast => "open_past",
        }
    }

    /// Parses [`Figure::as_str`].
    pub fn parse(s: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Whether the figure is a stock delta (summed from the beginning of time).
    pub fn is_stock(self) -> bool {
        matches!(self, Figure::OpenWithin | Figure::OpenPast)
    }
}

/// Stable name of an online level in keys.
pub fn level_str(l: OnlineLevel) -> &'static str {
    match l {
        OnlineLevel::Full => "full",
        OnlineLevel::Partial => "partial",
        OnlineLevel::None => "none",
    }
}

/// A decoded statistics metric: the figure and the dossier's dimensions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatKey {
    /// Day or month row.
    pub grain: Grain,
    /// Every dimension, or the agency roll-up.
    pub detail: Detail,
    /// Which figure.
    pub figure: Figure,
    /// Procedure code.
    pub procedure: String,
    /// Channel (`counter`, `online`, `post`).
    pub channel: String,
    /// Online level of the procedure at submission (`full`, `partial`, `none`).
    pub level: String,
    /// Field (lĩnh vực) of the procedure at submission.
    pub field: String,
}

impl StatKey {
    /// The key of `figure` for dossier `d`.
    pub fn of(grain: Grain, figure: Figure, d: &Dossier) -> StatKey {
        StatKey {
            grain,
            detail: Detail::Full,
            figure,
            procedure: d.procedure.code.to_string(),
            channel: d.channel.as_str().to_string(),
            level: level_str(d.procedure.online_level).to_string(),
            // `|` separates the parts; a field name never needs it.
            field: d.procedure.field.replace('|', "/"),
        }
    }

    /// The same figure in the agency roll-up: procedure and field dropped; the channel kept only
    /// for the received figures (online, counter and post are separate columns; digitization
    /// counts paper channels only), the online level only for dossiers received online (the
    /// full / partial columns). [`super::Form06Row::add`] adds a key and its roll-up alike.
    pub fn rolled_up(&self) -> StatKey {
        let channel = matches!(self.figure, Figure::Received | Figure::ReceivedDigitized);
        let level = self.figure == Figure::Received && self.is_online();
        StatKey {
            grain: self.grain,
            detail: Detail::Agency,
            figure: self.figure,
            procedure: String::new(),
            channel: if channel {
                self.channel.clone()
            } else {
                String::new()
            },
            level: if level {
                self.level.clone()
            } else {
                String::new()
            },
            field: String::new(),
        }
    }

    /// The metric string stored in the counters.
    pub fn metric(&self) -> String {
        format!(
            "{}{}|{}|{}|{}|{}",
            self.grain.prefix(self.detail),
            self.figure.as_str(),
            self.procedure,
            self.channel,
            self.level,
            self.field
        )
    }

    /// Parses a metric written by [`StatKey::metric`]; `None` for any other metric.
    pub fn parse(metric: &str) -> Option<StatKey> {
        let mut it = metric.splitn(6, '|');
        let (detail, grain) = match it.next()? {
            "d" => (Detail::Full, Grain::Day),
            "m" => (Detail::Full, Grain::Month),
            "ad" => (Detail::Agency, Grain::Day),
            "am" => (Detail::Agency, Grain::Month),
            _ => return None,
        };
        let figure = Figure::parse(it.next()?)?;
        Some(StatKey {
            grain,
            detail,
            figure,
            procedure: it.next()?.to_string(),
            channel: it.next()?.to_string(),
            level: it.next()?.to_string(),
            field: it.next()?.to_string(),
        })
    }

    /// Whether the dossier was received online.
    pub fn is_online(&self) -> bool {
        self.channel == Channel::Online.as_str()
    }
}

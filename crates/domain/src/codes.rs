//! Official identifiers and codes as validated newtypes.
//!
//! Each code is parsed once, at the edge, and from then on its type proves it is well formed:
//! there is no way to build an [`AgencyCode`], [`DossierCode`], [`ProcedureCode`],
//! [`PersonalId`], [`TaxCode`] or [`AdminUnitCode`] holding an invalid value. `FromStr` (and
//! therefore serde deserialization) is strict and accepts exactly the canonical form that
//! `Display` writes, so codes round-trip through text, JSON and the database unchanged. Codes
//! that come from other systems are read with the `parse_lenient` constructors instead.
//! Formats and sources: `docs/decisions/0003-codes.md`.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which kind of code a [`CodeError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// An [`AgencyCode`].
    Agency,
    /// A [`DossierCode`].
    Dossier,
    /// A [`ProcedureCode`].
    Procedure,
    /// A [`PersonalId`].
    PersonalId,
    /// A [`TaxCode`].
    TaxCode,
    /// An [`AdminUnitCode`].
    AdminUnit,
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Agency => "agency code",
            Self::Dossier => "dossier code",
            Self::Procedure => "procedure code",
            Self::PersonalId => "personal ID",
            Self::TaxCode => "tax code",
            Self::AdminUnit => "administrative unit code",
        })
    }
}

/// What exactly is wrong with a rejected code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeProblem {
    /// Whitespace anywhere (strict parsers never trim).
    #[error("must not contain whitespace")]
    Whitespace,
    /// Lowercase letters, which only the lenient parsers accept.
    #[error("must be uppercase (only the lenient parser accepts lowercase)")]
    Lowercase,
    /// A character outside the allowed set.
    #[error("character `{0}` is not allowed")]
    BadChar(char),
    /// Longer than the maximum length.
    #[error("must be at most {max} characters long")]
    TooLong {
        /// The maximum number of characters.
        max: usize,
    },
    /// Wrong number of characters; the text says what is expected.
    #[error("must be {0}")]
    Length(&'static str),
    /// Does not have the expected overall layout; the text describes it.
    #[error("must have the form {0}")]
    Shape(&'static str),
    /// The agency part of a composite code is empty.
    #[error("agency part is missing")]
    AgencyMissing,
    /// The agency part has no segment or more than five.
    #[error("agency part must have 1 to 5 segments separated by `.`")]
    AgencySegments,
    /// The agency part has an empty segment.
    #[error("agency part has an empty segment (leading, trailing or doubled `.`)")]
    AgencyEmptySegment,
    /// An agency segment is longer than six characters.
    #[error("agency segment `{0}` is longer than 6 characters")]
    AgencySegmentTooLong(String),
    /// The date part has the wrong number of digits or is not digits.
    #[error("date must be {0}")]
    DateFormat(&'static str),
    /// The date part names no calendar day (e.g. `260230`).
    #[error("date `{0}` is not a valid calendar date")]
    BadDate(String),
    /// The year cannot be written as two digits of the 2000s.
    #[error("year {0} is outside 2000..=2099")]
    YearOutOfRange(i32),
    /// The sequence part is not all digits.
    #[error("sequence must contain only digits")]
    SeqNotDigits,
    /// The sequence part has fewer than four digits.
    #[error("sequence must be at least 4 digits")]
    SeqTooShort,
    /// The sequence part has more than ten digits.
    #[error("sequence must be at most 10 digits")]
    SeqTooLong,
    /// The sequence does not fit in 32 bits.
    #[error("sequence must not exceed 4294967295")]
    SeqOverflow,
    /// The sequence is zero.
    #[error("sequence must be at least 1")]
    SeqZero,
    /// A numeric component is outside its range; the text says which and what range.
    #[error("{0}")]
    OutOfRange(&'static str),
    /// The tax code check digit does not match.
    #[error("check digit does not match the first 9 digits")]
    CheckDigit,
    /// A branch (dependent unit) suffix of `000`.
    #[error("branch suffix must be 001 to 999")]
    BranchZero,
}

/// A rejected code: which kind, the offending input (masked for personal data), and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// The input was empty (or only whitespace, for the trimming parsers).
    #[error("{kind}: value is empty")]
    Empty {
        /// Which code was being parsed.
        kind: CodeKind,
    },
    /// The input was present but malformed.
    #[error("{kind} `{value}`: {problem}")]
    Invalid {
        /// Which code was being parsed.
        kind: CodeKind,
        /// The input as shown in messages: at most 64 characters, masked for personal IDs and
        /// tax codes.
        value: String,
        /// What is wrong with it.
        problem: CodeProblem,
    },
}

impl CodeError {
    /// Which code was being parsed.
    pub fn kind(&self) -> CodeKind {
        match self {
            Self::Empty { kind } | Self::Invalid { kind, .. } => *kind,
        }
    }

    /// What is wrong, or `None` when the input was empty.
    pub fn problem(&self) -> Option<&CodeProblem> {
        match self {
            Self::Empty { .. } => None,
            Self::Invalid { problem, .. } => Some(problem),
        }
    }
}

/// The longest input echoed back in an error message.
const SHOWN_MAX: usize = 64;

fn invalid(kind: CodeKind, raw: &str, problem: CodeProblem) -> CodeError {
    let mut value: String = raw.chars().take(SHOWN_MAX).collect();
    if raw.chars().nth(SHOWN_MAX).is_some() {
        value.push('…');
    }
    if matches!(kind, CodeKind::PersonalId | CodeKind::TaxCode) {
        value = mask(&value);
    }
    CodeError::Invalid {
        kind,
        value,
        problem,
    }
}

/// Hides all but the first four and last two characters (all of them when short).
fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..4].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - 6));
    out.extend(&chars[chars.len() - 2..]);
    out
}

/// Checks shared by the strict parsers: empty, whitespace and (optionally) lowercase.
fn precheck(kind: CodeKind, raw: &str, s: &str, reject_lowercase: bool) -> Result<(), CodeError> {
    if s.is_empty() {
        return Err(CodeError::Empty { kind });
    }
    if s.chars().any(char::is_whitespace) {
        return Err(invalid(kind, raw, CodeProblem::Whitespace));
    }
    if reject_lowercase && s.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(invalid(kind, raw, CodeProblem::Lowercase));
    }
    Ok(())
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn first_non_digit(s: &str) -> Option<char> {
    s.chars().find(|c| !c.is_ascii_digit())
}

/// Implements `as_str` and `Display` for a `String`-backed code.
macro_rules! string_backed {
    ($ty:ident) => {
        impl $ty {
            /// The canonical string form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Serializes as the `Display` string and deserializes through the strict `FromStr`.
macro_rules! serde_via_str {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// OpenAPI schema: a string with a pattern and an example.
macro_rules! string_schema {
    ($ty:ident, $description:expr, $pattern:expr, $example:expr) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($description))
                    .pattern(Some($pattern))
                    .examples([$example])
                    .into()
            }
        }

        impl utoipa::ToSchema for $ty {}
    };
}

// ---------------------------------------------------------------------------------------------
// AgencyCode

/// Electronic ID code of an agency (QCVN 102:2016/BTTTT), e.g. `000.00.53.H48`, `H15.50.05.13`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyCode(String);

string_backed!(AgencyCode);
serde_via_str!(AgencyCode);
string_schema!(
    AgencyCode,
    "Electronic ID code of an agency (QCVN 102:2016/BTTTT)",
    r"^[A-Z0-9]{1,6}(\.[A-Z0-9]{1,6}){0,4}$",
    "000.00.53.H48"
);

const AGENCY_MAX_LEN: usize = 40;
const AGENCY_MAX_SEGMENTS: usize = 5;
const AGENCY_MAX_SEGMENT_LEN: usize = 6;

/// Whether `s` is a valid normalized agency code, in one pass over its bytes: the common case
/// (every stored code is read back through here) without the several passes that name a
/// problem. Accepts exactly what [`check_agency`] accepts.
fn is_valid_agency(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > AGENCY_MAX_LEN {
        return false;
    }
    let (mut segments, mut len) = (1, 0);
    for &c in b {
        if c == b'.' {
            if len == 0 {
                return false;
            }
            segments += 1;
            len = 0;
        } else if c.is_ascii_uppercase() || c.is_ascii_digit() {
            len += 1;
            if len > AGENCY_MAX_SEGMENT_LEN {
                return false;
            }
        } else {
            return false;
        }
    }
    len > 0 && segments <= AGENCY_MAX_SEGMENTS
}

/// Validates an already-normalized agency code (no trimming, no case folding).
fn check_agency(s: &str) -> Result<(), CodeProblem> {
    if is_valid_agency(s) {
        return Ok(());
    }
    agency_problem(s)
}

/// What is wrong with `s` as a normalized agency code (`Ok` if nothing).
fn agency_problem(s: &str) -> Result<(), CodeProblem> {
    if s.is_empty() {
        return Err(CodeProblem::AgencyMissing);
    }
    if s.chars().any(char::is_whitespace) {
        return Err(CodeProblem::Whitespace);
    }
    if s.chars().count() > AGENCY_MAX_LEN {
        return Err(CodeProblem::TooLong {
            max: AGENCY_MAX_LEN,
        });
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '.'))
    {
        return Err(if c.is_ascii_lowercase() {
            CodeProblem::Lowercase
        } else {
            CodeProblem::BadChar(c)
        });
    }
    let segments = s.split('.').count();
    if segments > AGENCY_MAX_SEGMENTS {
        return Err(CodeProblem::AgencySegments);
    }
    for segment in s.split('.') {
        if segment.is_empty() {
            return Err(CodeProblem::AgencyEmptySegment);
        }
        if segment.len() > AGENCY_MAX_SEGMENT_LEN {
            return Err(CodeProblem::AgencySegmentTooLong(segment.to_owned()));
        }
    }
    Ok(())
}

impl FromStr for AgencyCode {
    type Err = CodeError;

    /// Trims surrounding whitespace and uppercases ASCII letters, then validates: 1 to 5
    /// `.`-separated segments of 1 to 6 uppercase letters or digits, at most 40 characters.
    fn from_str(raw: &str) -> Result<Self, CodeError> {
        let s = raw.trim().to_ascii_uppercase();
        if s.is_empty() {
            return Err(CodeError::Empty {
                kind: CodeKind::Agency,
            });
        }
        check_agency(&s).map_err(|p| invalid(CodeKind::Agency, raw, p))?;
        Ok(Self(s))
    }
}

// ---------------------------------------------------------------------------------------------
// DossierCode

/// Dossier code (mã số hồ sơ), `{agency}-{YYMMDD}-{sequence of at least 4 digits}`.
///
/// Example: `000.00.53.H48-220921-0099`. The sequence keeps its written width, so a code from a
/// ministry's centralized system such as `G09.20-260609-0092637` (TT 04/2025 `AAXXXX`) is written
/// back exactly as received.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DossierCode {
    agency: AgencyCode,
    date: NaiveDate,
    seq: u32,
    /// Number of digits the sequence is written with: at least 4 and at least its own width.
    digits: u8,
}

serde_via_str!(DossierCode);
string_schema!(
    DossierCode,
    "Dossier code: agency e-ID code, receipt date YYMMDD, daily sequence of at least 4 digits",
    r"^[A-Z0-9]{1,6}(\.[A-Z0-9]{1,6}){0,4}-[0-9]{6}-[0-9]{4,10}$",
    "000.00.53.H48-220921-0099"
);

const DOSSIER_SHAPE: &str = "`{agency}-{YYMMDD}-{sequence}`";
const SEQ_MIN_DIGITS: usize = 4;
const SEQ_MAX_DIGITS: usize = 10;

fn decimal_width(n: u32) -> u8 {
    // ilog10 of a u32 is at most 9, so the width fits in a u8.
    n.checked_ilog10().map_or(1, |l| l as u8 + 1)
}

impl DossierCode {
    /// Builds a code; `seq` must be at least 1 and the date's year within 2000..=2099.
    pub fn new(agency: AgencyCode, date: NaiveDate, seq: u32) -> Result<Self, CodeError> {
        let shown = || format!("{agency}-{date}-{seq:04}");
        if !(2000..=2099).contains(&date.year()) {
            return Err(invalid(
                CodeKind::Dossier,
                &shown(),
                CodeProblem::YearOutOfRange(date.year()),
            ));
        }
        if seq == 0 {
            return Err(invalid(CodeKind::Dossier, &shown(), CodeProblem::SeqZero));
        }
        let digits = decimal_width(seq).max(SEQ_MIN_DIGITS as u8);
        Ok(Self {
            agency,
            date,
            seq,
            digits,
        })
    }

    /// Parses a code from another system: trims, uppercases, and also accepts an 8-digit
    /// `YYYYMMDD` date (e.g. `g09.20-20260609-0092637`).
    pub fn parse_lenient(raw: &str) -> Result<Self, CodeError> {
        let normalized = raw.trim().to_ascii_uppercase();
        parse_dossier(raw, &normalized, true)
    }

    /// The agency that received the dossier.
    pub fn agency(&self) -> &AgencyCode {
        &self.agency
    }

    /// The receipt date.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The daily sequence number.
    pub fn seq(&self) -> u32 {
        self.seq
    }
}

fn parse_dossier(raw: &str, s: &str, lenient: bool) -> Result<DossierCode, CodeError> {
    let kind = CodeKind::Dossier;
    precheck(kind, raw, s, true)?;
    let err = |p| invalid(kind, raw, p);
    let mut parts = s.split('-');
    let (Some(agency), Some(date), Some(seq), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(err(CodeProblem::Shape(DOSSIER_SHAPE)));
    };
    check_agency(agency).map_err(err)?;
    let date = parse_dossier_date(date, lenient).map_err(err)?;
    let (seq, digits) = parse_seq(seq).map_err(err)?;
    Ok(DossierCode {
        agency: AgencyCode(agency.to_owned()),
        date,
        seq,
        digits,
    })
}

fn parse_dossier_date(s: &str, lenient: bool) -> Result<NaiveDate, CodeProblem> {
    let expected = if lenient {
        "6 digits YYMMDD or 8 digits YYYYMMDD"
    } else {
        "6 digits YYMMDD"
    };
    if !all_digits(s) {
        return Err(CodeProblem::DateFormat(expected));
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or_default();
    let (year, rest) = match s.len() {
        6 => (2000 + num(0..2) as i32, 2),
        8 if lenient => (num(0..4) as i32, 4),
        _ => return Err(CodeProblem::DateFormat(expected)),
    };
    if !(2000..=2099).contains(&year) {
        return Err(CodeProblem::YearOutOfRange(year));
    }
    NaiveDate::from_ymd_opt(year, num(rest..rest + 2), num(rest + 2..rest + 4))
        .ok_or_else(|| CodeProblem::BadDate(s.to_owned()))
}

fn parse_seq(s: &str) -> Result<(u32, u8), CodeProblem> {
    if !s.is_empty() && !all_digits(s) {
        return Err(CodeProblem::SeqNotDigits);
    }
    if s.len() < SEQ_MIN_DIGITS {
        return Err(CodeProblem::SeqTooShort);
    }
    if s.len() > SEQ_MAX_DIGITS {
        return Err(CodeProblem::SeqTooLong);
    }
    let seq: u32 = s.parse().map_err(|_| CodeProblem::SeqOverflow)?;
    if seq == 0 {
        return Err(CodeProblem::SeqZero);
    }
    // At most 10 digits, so the width fits in a u8.
    Ok((seq, s.len() as u8))
}

impl FromStr for DossierCode {
    type Err = CodeError;

    /// Strict: exactly `{agency}-{YYMMDD}-{sequence}`, uppercase, no spaces, a real calendar
    /// date, a sequence of 4 to 10 digits that is not zero.
    fn from_str(s: &str) -> Result<Self, CodeError> {
        parse_dossier(s, s, false)
    }
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:02}{:02}{:02}-{:0width$}",
            self.agency,
            self.date.year() % 100,
            self.date.month(),
            self.date.day(),
            self.seq,
            width = usize::from(self.digits)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// ProcedureCode

/// Procedure code: national `d.dddddd` (e.g. `1.001193`), or local with an agency suffix
/// (e.g. `1.003560.000.00.00.H56`, `2.002621.H56`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcedureCode {
    national: String,
    local_agency: Option<AgencyCode>,
}

serde_via_str!(ProcedureCode);
string_schema!(
    ProcedureCode,
    "Procedure code from the national TTHC database, optionally followed by `.{agency code}`",
    r"^[0-9]\.[0-9]{6}(\.[A-Z0-9]{1,6}){0,5}$",
    "1.001193"
);

const PROCEDURE_SHAPE: &str = "`d.dddddd` optionally followed by `.{agency code}`";
const NATIONAL_LEN: usize = 8;

impl ProcedureCode {
    /// Parses a code from another system: trims and uppercases first.
    pub fn parse_lenient(raw: &str) -> Result<Self, CodeError> {
        let normalized = raw.trim().to_ascii_uppercase();
        parse_procedure(raw, &normalized)
    }

    /// The national code, e.g. `1.003560`.
    pub fn national(&self) -> &str {
        &self.national
    }

    /// The agency suffix of a local code, if any.
    pub fn local_agency(&self) -> Option<&AgencyCode> {
        self.local_agency.as_ref()
    }

    /// Whether this is a local code (national code plus agency suffix).
    pub fn is_local(&self) -> bool {
        self.local_agency.is_some()
    }
}

fn parse_procedure(raw: &str, s: &str) -> Result<ProcedureCode, CodeError> {
    let kind = CodeKind::Procedure;
    precheck(kind, raw, s, true)?;
    let err = |p| invalid(kind, raw, p);
    let b = s.as_bytes();
    let national_ok = b.len() >= NATIONAL_LEN
        && b[0].is_ascii_digit()
        && b[1] == b'.'
        && b[2..NATIONAL_LEN].iter().all(u8::is_ascii_digit);
    if !national_ok {
        return Err(err(CodeProblem::Shape(PROCEDURE_SHAPE)));
    }
    let local_agency = match b.get(NATIONAL_LEN) {
        None => None,
        Some(b'.') => {
            let agency = &s[NATIONAL_LEN + 1..];
            check_agency(agency).map_err(err)?;
            Some(AgencyCode(agency.to_owned()))
        }
        Some(_) => return Err(err(CodeProblem::Shape(PROCEDURE_SHAPE))),
    };
    Ok(ProcedureCode {
        national: s[..NATIONAL_LEN].to_owned(),
        local_agency,
    })
}

impl FromStr for ProcedureCode {
    type Err = CodeError;

    /// Strict: `d.dddddd` or `d.dddddd.{agency code}`, uppercase, no spaces.
    fn from_str(s: &str) -> Result<Self, CodeError> {
        parse_procedure(s, s)
    }
}

impl fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.national)?;
        if let Some(agency) = &self.local_agency {
            write!(f, ".{agency}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// PersonalId

/// 12-digit personal identification number (số định danh cá nhân, on the CCCD card).
///
/// Personal data: `Debug` masks it (`PersonalId(0790******45)`); `Display` and serde show it
/// whole because storage and the population-database lookup need it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonalId(String);

string_backed!(PersonalId);
serde_via_str!(PersonalId);
string_schema!(
    PersonalId,
    "12-digit personal identification number (CCCD)",
    r"^[0-9]{12}$",
    "001090123456"
);

/// Validates 12 digits with a birth-registration province prefix of 001..=096.
fn check_personal_id(s: &str) -> Result<(), CodeProblem> {
    if let Some(c) = first_non_digit(s) {
        return Err(CodeProblem::BadChar(c));
    }
    if s.len() != 12 {
        return Err(CodeProblem::Length("exactly 12 digits"));
    }
    let province: u16 = s[..3].parse().unwrap_or_default();
    if !(1..=96).contains(&province) {
        return Err(CodeProblem::OutOfRange(
            "province code (first 3 digits) must be 001 to 096",
        ));
    }
    Ok(())
}

impl PersonalId {
    /// Province code of the birth registration: the first 3 digits (`001`..=`096`).
    pub fn province_code(&self) -> &str {
        &self.0[..3]
    }

    /// Whether the gender-and-century digit (4th) says female (odd digits).
    pub fn is_female(&self) -> bool {
        self.gender_century_digit() % 2 == 1
    }

    /// Birth year: century from the 4th digit (0/1 -> 1900s, 2/3 -> 2000s, ...), year from
    /// digits 5 and 6.
    pub fn birth_year(&self) -> i32 {
        let century = 1900 + 100 * i32::from(self.gender_century_digit() / 2);
        let year_in_century: i32 = self.0[4..6].parse().unwrap_or_default();
        century + year_in_century
    }

    /// The number with all but the first 4 and last 2 digits hidden, for logs and screens.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }

    fn gender_century_digit(&self) -> u8 {
        self.0.as_bytes()[3] - b'0'
    }
}

impl fmt::Debug for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalId({})", self.masked())
    }
}

impl FromStr for PersonalId {
    type Err = CodeError;

    /// Strict: exactly 12 ASCII digits, province prefix 001..=096.
    fn from_str(s: &str) -> Result<Self, CodeError> {
        let kind = CodeKind::PersonalId;
        precheck(kind, s, s, false)?;
        check_personal_id(s).map_err(|p| invalid(kind, s, p))?;
        Ok(Self(s.to_owned()))
    }
}

// ---------------------------------------------------------------------------------------------
// TaxCode

/// Tax code (mã số thuế): 10 digits with a check digit, `10digits-3digits` for a dependent unit
/// (branch), or a 12-digit personal ID (used as individuals' tax code since 1 July 2025).
///
/// `Debug` masks the 12-digit form, which is a personal ID.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaxCode(String);

string_backed!(TaxCode);
serde_via_str!(TaxCode);
string_schema!(
    TaxCode,
    "Tax code: 10 digits, 10 digits-3 digits for a branch, or a 12-digit personal ID",
    r"^([0-9]{10}(-[0-9]{3})?|[0-9]{12})$",
    "0100233488"
);

const TAX_SHAPE: &str = "`dddddddddd-ddd` (10 digits, dash, 3-digit branch number)";
const TAX_LENGTH: &str = "10 digits, 10 digits-3 digits for a branch, or 12 digits (a personal ID)";
const TAX_WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

impl TaxCode {
    /// The check digit for the first nine digits of a 10-digit tax code, or `None` when
    /// `first_nine` is not 9 digits or no digit is valid (weighted sum ≡ 0 mod 11).
    pub fn check_digit(first_nine: &str) -> Option<u8> {
        if first_nine.len() != 9 || !all_digits(first_nine) {
            return None;
        }
        let sum: u32 = TAX_WEIGHTS
            .iter()
            .zip(first_nine.bytes())
            .map(|(w, b)| w * u32::from(b - b'0'))
            .sum();
        let check = 10 - sum % 11;
        // `check` is in 1..=10; 10 has no single digit, so that first-nine digits is unusable.
        (check < 10).then_some(check as u8)
    }

    /// Parses a tax code typed by a person: trims, drops inner spaces and dots, and accepts
    /// the 13-digit branch form without the dash.
    pub fn parse_lenient(raw: &str) -> Result<Self, CodeError> {
        let mut s: String = raw
            .trim()
            .chars()
            .filter(|c| *c != ' ' && *c != '.')
            .collect();
        if s.len() == 13 && all_digits(&s) {
            s.insert(10, '-');
        }
        parse_tax(raw, &s)
    }

    /// Whether this is a dependent unit (branch) code, `10digits-3digits`.
    pub fn is_branch(&self) -> bool {
        self.0.len() == 14
    }

    /// Whether this is a 12-digit personal ID used as a tax code.
    pub fn is_personal_id(&self) -> bool {
        self.0.len() == 12
    }
}

fn check_tax_head(head: &str) -> Result<(), CodeProblem> {
    match TaxCode::check_digit(&head[..9]) {
        Some(d) if d == head.as_bytes()[9] - b'0' => Ok(()),
        _ => Err(CodeProblem::CheckDigit),
    }
}

fn parse_tax(raw: &str, s: &str) -> Result<TaxCode, CodeError> {
    let kind = CodeKind::TaxCode;
    precheck(kind, raw, s, false)?;
    let err = |p| invalid(kind, raw, p);
    if let Some((head, branch)) = s.split_once('-') {
        if head.len() != 10 || !all_digits(head) || branch.len() != 3 || !all_digits(branch) {
            return Err(err(CodeProblem::Shape(TAX_SHAPE)));
        }
        check_tax_head(head).map_err(err)?;
        if branch == "000" {
            return Err(err(CodeProblem::BranchZero));
        }
    } else {
        if let Some(c) = first_non_digit(s) {
            return Err(err(CodeProblem::BadChar(c)));
        }
        match s.len() {
            10 => check_tax_head(s).map_err(err)?,
            12 => check_personal_id(s).map_err(err)?,
            _ => return Err(err(CodeProblem::Length(TAX_LENGTH))),
        }
    }
    Ok(TaxCode(s.to_owned()))
}

impl FromStr for TaxCode {
    type Err = CodeError;

    /// Strict: `dddddddddd` with a valid check digit, `dddddddddd-ddd` (branch `001`..=`999`),
    /// or a valid 12-digit personal ID.
    fn from_str(s: &str) -> Result<Self, CodeError> {
        parse_tax(s, s)
    }
}

impl fmt::Debug for TaxCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_personal_id() {
            write!(f, "TaxCode({})", mask(&self.0))
        } else {
            write!(f, "TaxCode({})", self.0)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AdminUnitCode

/// Level of an administrative unit.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AdminLevel {
    /// Province or centrally-run city (tỉnh, thành phố): a 2-digit code.
    Province,
    /// Commune, ward or special zone (xã, phường, đặc khu): a 5-digit code.
    Commune,
}

/// Official administrative unit code: 2 digits for a province (`01`..`96`), 5 for a commune
/// (e.g. `24778`). Kept as a string because leading zeros matter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdminUnitCode(String);

string_backed!(AdminUnitCode);
serde_via_str!(AdminUnitCode);
string_schema!(
    AdminUnitCode,
    "Official administrative unit code: 2 digits (province) or 5 digits (commune)",
    r"^([0-9]{2}|[0-9]{5})$",
    "24778"
);

impl AdminUnitCode {
    /// Province or commune, from the number of digits.
    pub fn level(&self) -> AdminLevel {
        if self.0.len() == 2 {
            AdminLevel::Province
        } else {
            AdminLevel::Commune
        }
    }

    /// Whether this is a province code.
    pub fn is_province(&self) -> bool {
        self.level() == AdminLevel::Province
    }
}

impl FromStr for AdminUnitCode {
    type Err = CodeError;

    /// Strict: `01`..=`96`, or 5 digits other than `00000`.
    fn from_str(s: &str) -> Result<Self, CodeError> {
        let kind = CodeKind::AdminUnit;
        precheck(kind, s, s, false)?;
        let err = |p| invalid(kind, s, p);
        if let Some(c) = first_non_digit(s) {
            return Err(err(CodeProblem::BadChar(c)));
        }
        match s.len() {
            2 if !(1..=96).contains(&s.parse::<u8>().unwrap_or_default()) => Err(err(
                CodeProblem::OutOfRange("province code must be 01 to 96"),
            )),
            5 if s == "00000" => Err(err(CodeProblem::OutOfRange(
                "commune code must not be 00000",
            ))),
            2 | 5 => Ok(Self(s.to_owned())),
            _ => Err(err(CodeProblem::Length(
                "2 digits (province) or 5 digits (commune)",
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn problem<T: fmt::Debug>(r: Result<T, CodeError>) -> CodeProblem {
        match r {
            Err(CodeError::Invalid { problem, .. }) => problem,
            other => panic!("expected an Invalid error, got {other:?}"),
        }
    }

    fn is_empty_err<T>(r: Result<T, CodeError>, kind: CodeKind) -> bool {
        matches!(r, Err(CodeError::Empty { kind: k }) if k == kind)
    }

    // --- AgencyCode -------------------------------------------------------------------------

    #[test]
    fn agency_accepts_real_codes() {
        for code in [
            "000.00.53.H48",
            "H15.50.05.13",
            "G09.20",
            "H40.24778",
            "H56",
            "000.00.00.G09",
        ] {
            let parsed: AgencyCode = code.parse().expect(code);
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.to_string(), code);
        }
    }

    #[test]
    fn agency_from_str_trims_and_uppercases() {
        let parsed: AgencyCode = "  h56.14\t".parse().unwrap();
        assert_eq!(parsed.as_str(), "H56.14");
    }

    #[test]
    fn agency_rejections() {
        assert!(is_empty_err("".parse::<AgencyCode>(), CodeKind::Agency));
        assert!(is_empty_err("   ".parse::<AgencyCode>(), CodeKind::Agency));
        assert_eq!(
            problem("H56 .14".parse::<AgencyCode>()),
            CodeProblem::Whitespace
        );
        assert_eq!(
            problem("H56-14".parse::<AgencyCode>()),
            CodeProblem::BadChar('-')
        );
        assert_eq!(
            problem("SỞ.H56".parse::<AgencyCode>()),
            CodeProblem::BadChar('Ở')
        );
        assert_eq!(
            problem("A.B.C.D.E.F".parse::<AgencyCode>()),
            CodeProblem::AgencySegments
        );
        assert_eq!(
            problem("H56..14".parse::<AgencyCode>()),
            CodeProblem::AgencyEmptySegment
        );
        assert_eq!(
            problem(".H56".parse::<AgencyCode>()),
            CodeProblem::AgencyEmptySegment
        );
        assert_eq!(
            problem("H56.".parse::<AgencyCode>()),
            CodeProblem::AgencyEmptySegment
        );
        assert_eq!(
            problem("H56.ABCDEFG".parse::<AgencyCode>()),
            CodeProblem::AgencySegmentTooLong("ABCDEFG".into())
        );
        assert_eq!(
            problem("A".repeat(41).parse::<AgencyCode>()),
            CodeProblem::TooLong { max: 40 }
        );
    }

    #[test]
    fn agency_error_message_names_kind_and_problem() {
        let err = "H56.ABCDEFG".parse::<AgencyCode>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "agency code `H56.ABCDEFG`: agency segment `ABCDEFG` is longer than 6 characters"
        );
        assert_eq!(err.kind(), CodeKind::Agency);
    }

    // --- DossierCode ------------------------------------------------------------------------

    #[test]
    fn dossier_parses_real_examples() {
        let c: DossierCode = "000.00.53.H48-220921-0099".parse().unwrap();
        assert_eq!(c.agency().as_str(), "000.00.53.H48");
        assert_eq!(c.date(), date(2022, 9, 21));
        assert_eq!(c.seq(), 99);
        assert_eq!(c.to_string(), "000.00.53.H48-220921-0099");

        let c: DossierCode = "H15.50.05.13-261008-0975".parse().unwrap();
        assert_eq!(c.agency().as_str(), "H15.50.05.13");
        assert_eq!(c.date(), date(2026, 10, 8));
        assert_eq!(c.seq(), 975);
    }

    #[test]
    fn dossier_eight_digit_date_is_lenient_only() {
        let raw = "G09.20-20260609-0092637";
        assert_eq!(
            problem(raw.parse::<DossierCode>()),
            CodeProblem::DateFormat("6 digits YYMMDD")
        );
        let c = DossierCode::parse_lenient(raw).unwrap();
        assert_eq!(c.agency().as_str(), "G09.20");
        assert_eq!(c.date(), date(2026, 6, 9));
        assert_eq!(c.seq(), 92637);
        // The written width of the sequence survives; only the date is canonicalized.
        assert_eq!(c.to_string(), "G09.20-260609-0092637");
        assert_eq!(c.to_string().parse::<DossierCode>(), Ok(c));
    }

    #[test]
    fn dossier_centralized_form_keeps_the_aa_prefix() {
        // TT 04/2025: MX1X2.Y1Y2Y3.Z1Z2-YYMMDD-AAXXXX, AA = owner of the centralized system.
        let c: DossierCode = "H15.123.45-260125-090001".parse().unwrap();
        assert_eq!(c.seq(), 90_001);
        assert_eq!(c.to_string(), "H15.123.45-260125-090001");
        let leading: DossierCode = "H15.123.45-260125-030001".parse().unwrap();
        assert_eq!(leading.seq(), 30_001);
        assert_eq!(leading.to_string(), "H15.123.45-260125-030001");
    }

    #[test]
    fn dossier_lowercase_and_spaces_are_lenient_only() {
        let raw = "  000.00.53.h48-220921-0099 ";
        assert_eq!(
            problem("000.00.53.h48-220921-0099".parse::<DossierCode>()),
            CodeProblem::Lowercase
        );
        assert_eq!(problem(raw.parse::<DossierCode>()), CodeProblem::Whitespace);
        assert_eq!(
            DossierCode::parse_lenient(raw).unwrap().to_string(),
            "000.00.53.H48-220921-0099"
        );
        assert_eq!(
            problem(DossierCode::parse_lenient("H48 -220921-0099")),
            CodeProblem::Whitespace
        );
    }

    #[test]
    fn dossier_rejections() {
        assert!(is_empty_err("".parse::<DossierCode>(), CodeKind::Dossier));
        assert!(is_empty_err(
            DossierCode::parse_lenient("  "),
            CodeKind::Dossier
        ));
        assert_eq!(
            problem("H56-260230-0001".parse::<DossierCode>()),
            CodeProblem::BadDate("260230".into())
        );
        assert_eq!(
            problem("H56-261301-0001".parse::<DossierCode>()),
            CodeProblem::BadDate("261301".into())
        );
        assert_eq!(
            problem(DossierCode::parse_lenient("H56-20260230-0001")),
            CodeProblem::BadDate("20260230".into())
        );
        assert_eq!(
            problem(DossierCode::parse_lenient("H56-19991231-0001")),
            CodeProblem::YearOutOfRange(1999)
        );
        assert_eq!(
            problem("H56-260101-0000".parse::<DossierCode>()),
            CodeProblem::SeqZero
        );
        assert_eq!(
            problem("H56-260101-001".parse::<DossierCode>()),
            CodeProblem::SeqTooShort
        );
        assert_eq!(
            problem("H56-260101-".parse::<DossierCode>()),
            CodeProblem::SeqTooShort
        );
        assert_eq!(
            problem("H56-260101-00A1".parse::<DossierCode>()),
            CodeProblem::SeqNotDigits
        );
        assert_eq!(
            problem("H56-260101-12345678901".parse::<DossierCode>()),
            CodeProblem::SeqTooLong
        );
        assert_eq!(
            problem("H56-260101-9999999999".parse::<DossierCode>()),
            CodeProblem::SeqOverflow
        );
        assert_eq!(
            problem("H56-26011-0001".parse::<DossierCode>()),
            CodeProblem::DateFormat("6 digits YYMMDD")
        );
        assert_eq!(
            problem("H56-2601AB-0001".parse::<DossierCode>()),
            CodeProblem::DateFormat("6 digits YYMMDD")
        );
        assert_eq!(
            problem("H56-260101".parse::<DossierCode>()),
            CodeProblem::Shape(DOSSIER_SHAPE)
        );
        assert_eq!(
            problem("H56-260101-0001-2".parse::<DossierCode>()),
            CodeProblem::Shape(DOSSIER_SHAPE)
        );
        assert_eq!(
            problem("-260101-0001".parse::<DossierCode>()),
            CodeProblem::AgencyMissing
        );
        assert_eq!(
            problem("H56.ABCDEFG-260101-0001".parse::<DossierCode>()),
            CodeProblem::AgencySegmentTooLong("ABCDEFG".into())
        );
    }

    #[test]
    fn dossier_error_message_is_precise() {
        let err = "H56-260101-001".parse::<DossierCode>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "dossier code `H56-260101-001`: sequence must be at least 4 digits"
        );
        let err = "H56-260230-0001".parse::<DossierCode>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "dossier code `H56-260230-0001`: date `260230` is not a valid calendar date"
        );
    }

    #[test]
    fn dossier_new_validates_and_pads() {
        let agency: AgencyCode = "000.00.00.H56".parse().unwrap();
        let c = DossierCode::new(agency.clone(), date(2026, 1, 5), 7).unwrap();
        assert_eq!(c.to_string(), "000.00.00.H56-260105-0007");
        let c = DossierCode::new(agency.clone(), date(2026, 1, 5), 123_456).unwrap();
        assert_eq!(c.to_string(), "000.00.00.H56-260105-123456");
        assert_eq!(
            problem(DossierCode::new(agency.clone(), date(2026, 1, 5), 0)),
            CodeProblem::SeqZero
        );
        assert_eq!(
            problem(DossierCode::new(agency.clone(), date(1999, 12, 31), 1)),
            CodeProblem::YearOutOfRange(1999)
        );
        assert_eq!(
            problem(DossierCode::new(agency, date(2100, 1, 1), 1)),
            CodeProblem::YearOutOfRange(2100)
        );
    }

    #[test]
    fn dossier_orders_by_agency_then_date_then_seq() {
        let parse = |s: &str| s.parse::<DossierCode>().unwrap();
        let mut codes = [
            parse("H56-260102-0001"),
            parse("H15-261231-9999"),
            parse("H56-260101-0010"),
            parse("H56-260101-0002"),
        ];
        codes.sort();
        let sorted: Vec<String> = codes.iter().map(ToString::to_string).collect();
        assert_eq!(
            sorted,
            [
                "H15-261231-9999",
                "H56-260101-0002",
                "H56-260101-0010",
                "H56-260102-0001"
            ]
        );
    }

    // --- ProcedureCode ----------------------------------------------------------------------

    #[test]
    fn procedure_national_and_local_forms() {
        let national: ProcedureCode = "1.001193".parse().unwrap();
        assert_eq!(national.national(), "1.001193");
        assert!(!national.is_local());
        assert_eq!(national.local_agency(), None);
        assert_eq!(national.to_string(), "1.001193");

        let local: ProcedureCode = "1.003560.000.00.00.H56".parse().unwrap();
        assert_eq!(local.national(), "1.003560");
        assert_eq!(local.local_agency().unwrap().as_str(), "000.00.00.H56");
        assert!(local.is_local());
        assert_eq!(local.to_string(), "1.003560.000.00.00.H56");

        let short: ProcedureCode = "2.002621.H56".parse().unwrap();
        assert_eq!(short.national(), "2.002621");
        assert_eq!(short.local_agency().unwrap().as_str(), "H56");
    }

    #[test]
    fn procedure_rejections() {
        assert!(is_empty_err(
            "".parse::<ProcedureCode>(),
            CodeKind::Procedure
        ));
        let shape = CodeProblem::Shape(PROCEDURE_SHAPE);
        for bad in [
            "1.00119",
            "1001193",
            "1.00119A",
            "A.001193",
            "1.0011934",
            "1,001193",
        ] {
            assert_eq!(problem(bad.parse::<ProcedureCode>()), shape, "{bad}");
        }
        assert_eq!(
            problem("1.001193 ".parse::<ProcedureCode>()),
            CodeProblem::Whitespace
        );
        assert_eq!(
            problem("1.001193.h56".parse::<ProcedureCode>()),
            CodeProblem::Lowercase
        );
        assert_eq!(
            problem("1.001193.".parse::<ProcedureCode>()),
            CodeProblem::AgencyMissing
        );
        assert_eq!(
            problem("1.001193.H56-1".parse::<ProcedureCode>()),
            CodeProblem::BadChar('-')
        );
        assert_eq!(
            ProcedureCode::parse_lenient(" 2.002621.h56 ")
                .unwrap()
                .to_string(),
            "2.002621.H56"
        );
    }

    // --- PersonalId -------------------------------------------------------------------------

    #[test]
    fn personal_id_fields() {
        let id: PersonalId = "079190123445".parse().unwrap();
        assert_eq!(id.province_code(), "079");
        assert!(id.is_female());
        assert_eq!(id.birth_year(), 1990);

        let id: PersonalId = "001087123456".parse().unwrap();
        assert!(!id.is_female());
        assert_eq!(id.birth_year(), 1987);

        let id: PersonalId = "038205000001".parse().unwrap();
        assert_eq!(id.birth_year(), 2005);
        assert!(!id.is_female());
        let id: PersonalId = "096310000001".parse().unwrap();
        assert_eq!(id.birth_year(), 2010);
        assert!(id.is_female());
        let id: PersonalId = "001999000001".parse().unwrap();
        assert_eq!(id.birth_year(), 2399);
    }

    #[test]
    fn personal_id_debug_is_masked_display_is_whole() {
        let id: PersonalId = "079012345645".parse().unwrap();
        assert_eq!(format!("{id:?}"), "PersonalId(0790******45)");
        assert_eq!(id.to_string(), "079012345645");
        assert_eq!(id.as_str(), "079012345645");
        assert_eq!(id.masked(), "0790******45");
        // Nested Debug (e.g. in a struct dump) stays masked.
        assert_eq!(format!("{:?}", Some(&id)), "Some(PersonalId(0790******45))");
    }

    #[test]
    fn personal_id_rejections_do_not_leak_the_number() {
        assert!(is_empty_err("".parse::<PersonalId>(), CodeKind::PersonalId));
        assert_eq!(
            problem("0790 12345645".parse::<PersonalId>()),
            CodeProblem::Whitespace
        );
        assert_eq!(
            problem("07901234564A".parse::<PersonalId>()),
            CodeProblem::BadChar('A')
        );
        assert_eq!(
            problem("07901234564".parse::<PersonalId>()),
            CodeProblem::Length("exactly 12 digits")
        );
        assert_eq!(
            problem("0790123456450".parse::<PersonalId>()),
            CodeProblem::Length("exactly 12 digits")
        );
        for bad in ["000012345645", "097012345645", "999012345645"] {
            assert!(matches!(
                problem(bad.parse::<PersonalId>()),
                CodeProblem::OutOfRange(_)
            ));
        }
        let err = "999012345645".parse::<PersonalId>().unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains("999012345645"), "{msg}");
        assert!(
            msg.starts_with("personal ID `9990******45`: province code"),
            "{msg}"
        );
    }

    // --- TaxCode ----------------------------------------------------------------------------

    #[test]
    fn tax_check_digit_matches_published_examples() {
        // Examples from python-stdnum (stdnum/vn/mst.py) and vn-ident.
        assert_eq!(TaxCode::check_digit("010023348"), Some(8));
        assert_eq!(TaxCode::check_digit("031440905"), Some(8));
        assert_eq!(TaxCode::check_digit("010004751"), Some(6));
        assert_eq!(TaxCode::check_digit("000000000"), None);
        assert_eq!(TaxCode::check_digit("01002334"), None);
        assert_eq!(TaxCode::check_digit("01002334A"), None);
        for good in ["0100233488", "0314409058", "0100047516", "0314409058-002"] {
            let t: TaxCode = good.parse().expect(good);
            assert_eq!(t.to_string(), good);
        }
    }

    #[test]
    fn tax_forms() {
        let company: TaxCode = "0100233488".parse().unwrap();
        assert!(!company.is_branch() && !company.is_personal_id());
        assert_eq!(format!("{company:?}"), "TaxCode(0100233488)");
        let branch: TaxCode = "0314409058-002".parse().unwrap();
        assert!(branch.is_branch() && !branch.is_personal_id());
        let person: TaxCode = "079012345645".parse().unwrap();
        assert!(person.is_personal_id() && !person.is_branch());
        assert_eq!(format!("{person:?}"), "TaxCode(0790******45)");
    }

    #[test]
    fn tax_rejections() {
        assert!(is_empty_err("".parse::<TaxCode>(), CodeKind::TaxCode));
        assert_eq!(
            problem("0100233480".parse::<TaxCode>()),
            CodeProblem::CheckDigit
        );
        assert_eq!(
            problem("0000000000".parse::<TaxCode>()),
            CodeProblem::CheckDigit
        );
        assert_eq!(
            problem("0100233480-001".parse::<TaxCode>()),
            CodeProblem::CheckDigit
        );
        assert_eq!(
            problem("0314409058-000".parse::<TaxCode>()),
            CodeProblem::BranchZero
        );
        assert_eq!(
            problem("0314409058-02".parse::<TaxCode>()),
            CodeProblem::Shape(TAX_SHAPE)
        );
        assert_eq!(
            problem("0314409058002".parse::<TaxCode>()),
            CodeProblem::Length(TAX_LENGTH)
        );
        assert_eq!(
            problem("010023348".parse::<TaxCode>()),
            CodeProblem::Length(TAX_LENGTH)
        );
        assert_eq!(
            problem("01002334BB".parse::<TaxCode>()),
            CodeProblem::BadChar('B')
        );
        assert_eq!(
            problem("0100 233488".parse::<TaxCode>()),
            CodeProblem::Whitespace
        );
        assert!(matches!(
            problem("999012345645".parse::<TaxCode>()),
            CodeProblem::OutOfRange(_)
        ));
    }

    #[test]
    fn tax_lenient_accepts_typed_forms() {
        let lenient = |s| TaxCode::parse_lenient(s).map(|t| t.to_string());
        assert_eq!(lenient(" 0314409058002 "), Ok("0314409058-002".into()));
        assert_eq!(lenient("0312 68 78 78 - 001"), Ok("0312687878-001".into()));
        assert_eq!(lenient("01.00.233.488"), Ok("0100233488".into()));
        assert_eq!(
            problem(TaxCode::parse_lenient("0100233480")),
            CodeProblem::CheckDigit
        );
    }

    // --- AdminUnitCode ----------------------------------------------------------------------

    #[test]
    fn admin_unit_levels() {
        let hanoi: AdminUnitCode = "01".parse().unwrap();
        assert_eq!(hanoi.level(), AdminLevel::Province);
        assert!(hanoi.is_province());
        let ward: AdminUnitCode = "24778".parse().unwrap();
        assert_eq!(ward.level(), AdminLevel::Commune);
        assert!(!ward.is_province());
        assert_eq!(ward.as_str(), "24778");
        let leading_zero: AdminUnitCode = "00004".parse().unwrap();
        assert_eq!(leading_zero.to_string(), "00004");
        assert_eq!(
            serde_json::to_string(&AdminLevel::Commune).unwrap(),
            "\"commune\""
        );
    }

    #[test]
    fn admin_unit_rejections() {
        assert!(is_empty_err(
            "".parse::<AdminUnitCode>(),
            CodeKind::AdminUnit
        ));
        for (bad, expected) in [
            (
                "1",
                CodeProblem::Length("2 digits (province) or 5 digits (commune)"),
            ),
            (
                "001",
                CodeProblem::Length("2 digits (province) or 5 digits (commune)"),
            ),
            (
                "247781",
                CodeProblem::Length("2 digits (province) or 5 digits (commune)"),
            ),
            (
                "00",
                CodeProblem::OutOfRange("province code must be 01 to 96"),
            ),
            (
                "97",
                CodeProblem::OutOfRange("province code must be 01 to 96"),
            ),
            (
                "00000",
                CodeProblem::OutOfRange("commune code must not be 00000"),
            ),
            ("2477A", CodeProblem::BadChar('A')),
            (" 01", CodeProblem::Whitespace),
        ] {
            assert_eq!(problem(bad.parse::<AdminUnitCode>()), expected, "{bad:?}");
        }
    }

    // --- serde and schema -------------------------------------------------------------------

    #[test]
    fn serde_round_trips_as_plain_strings() {
        fn check<T>(s: &str)
        where
            T: FromStr<Err = CodeError> + Serialize + for<'de> Deserialize<'de> + PartialEq,
            T: fmt::Debug,
        {
            let value: T = s.parse().unwrap();
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value);
        }
        check::<AgencyCode>("000.00.53.H48");
        check::<DossierCode>("000.00.53.H48-220921-0099");
        check::<ProcedureCode>("1.003560.000.00.00.H56");
        check::<PersonalId>("079012345645");
        check::<TaxCode>("0314409058-002");
        check::<AdminUnitCode>("24778");
    }

    #[test]
    fn serde_rejects_invalid_values_at_parse_time() {
        let err = serde_json::from_str::<DossierCode>("\"H56-260230-0001\"").unwrap_err();
        assert!(
            err.to_string().contains("not a valid calendar date"),
            "{err}"
        );
        // Deserialization is strict: the lenient forms are for explicit external-code imports.
        assert!(serde_json::from_str::<DossierCode>("\"G09.20-20260609-0092637\"").is_err());
        assert!(serde_json::from_str::<DossierCode>("42").is_err());
        assert!(serde_json::from_str::<ProcedureCode>("\"1.00119\"").is_err());
        assert!(serde_json::from_str::<AgencyCode>("\"H56-1\"").is_err());
        assert!(serde_json::from_str::<TaxCode>("\"0100233480\"").is_err());
        assert!(serde_json::from_str::<AdminUnitCode>("\"97\"").is_err());
        let err = serde_json::from_str::<PersonalId>("\"999012345645\"").unwrap_err();
        assert!(!err.to_string().contains("999012345645"), "{err}");

        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Form {
            code: DossierCode,
            applicant: PersonalId,
        }
        let bad = r#"{"code":"H56-260101-001","applicant":"079012345645"}"#;
        let err = serde_json::from_str::<Form>(bad).unwrap_err();
        assert!(err.to_string().contains("at least 4 digits"), "{err}");
    }

    #[test]
    fn schemas_are_strings_with_patterns() {
        use utoipa::PartialSchema;
        let json = serde_json::to_value(DossierCode::schema()).unwrap();
        assert_eq!(json["type"], "string");
        assert!(json["pattern"].as_str().unwrap().starts_with('^'));
        assert_eq!(json["examples"][0], "000.00.53.H48-220921-0099");
    }

    // --- properties -------------------------------------------------------------------------

    fn agency_strategy() -> impl Strategy<Value = String> {
        proptest::collection::vec("[A-Z0-9]{1,6}", 1..=5).prop_map(|v| v.join("."))
    }

    fn date_strategy() -> impl Strategy<Value = NaiveDate> {
        // 36525 days from 2000-01-01 is 2100-01-01.
        (0u64..36525).prop_map(|d| date(2000, 1, 1) + chrono::Days::new(d))
    }

    fn dossier_strategy() -> impl Strategy<Value = String> {
        (agency_strategy(), date_strategy(), 1..=u32::MAX, 0usize..4).prop_map(
            |(agency, date, seq, extra_zeros)| {
                let width = (usize::from(decimal_width(seq)).max(4) + extra_zeros).min(10);
                format!("{agency}-{}-{seq:0width$}", date.format("%y%m%d"))
            },
        )
    }

    fn procedure_strategy() -> impl Strategy<Value = String> {
        ("[0-9]\\.[0-9]{6}", proptest::option::of(agency_strategy())).prop_map(
            |(national, agency)| match agency {
                Some(a) => format!("{national}.{a}"),
                None => national,
            },
        )
    }

    fn personal_id_strategy() -> impl Strategy<Value = String> {
        (1u32..=96, "[0-9]{9}").prop_map(|(province, rest)| format!("{province:03}{rest}"))
    }

    fn tax_strategy() -> impl Strategy<Value = String> {
        let ten = "[0-9]{9}".prop_filter_map("no valid check digit", |nine: String| {
            TaxCode::check_digit(&nine).map(|d| format!("{nine}{d}"))
        });
        prop_oneof![
            ten.clone(),
            (ten, 1u32..=999).prop_map(|(t, b)| format!("{t}-{b:03}")),
            personal_id_strategy(),
        ]
    }

    fn admin_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            (1u32..=96).prop_map(|p| format!("{p:02}")),
            (1u32..=99_999).prop_map(|c| format!("{c:05}")),
        ]
    }

    /// Text that looks a bit like codes, to exercise the error paths.
    fn codeish() -> impl Strategy<Value = String> {
        prop_oneof!["[A-Za-z0-9.\\- ]{0,30}", any::<String>()]
    }

    fn strict_round_trip<T>(s: &str) -> Result<(), TestCaseError>
    where
        T: FromStr<Err = CodeError> + fmt::Display + PartialEq + fmt::Debug,
        T: Serialize + for<'de> Deserialize<'de>,
    {
        let value: T = s
            .parse()
            .map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))?;
        prop_assert_eq!(value.to_string(), s);
        prop_assert_eq!(&value.to_string().parse::<T>().unwrap(), &value);
        let json = serde_json::to_string(&value).unwrap();
        prop_assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), &value);
        Ok(())
    }

    /// Whatever a parser accepts, it prints in a form that parses back to the same value.
    fn accepted_round_trips<T>(r: Result<T, CodeError>) -> Result<(), TestCaseError>
    where
        T: FromStr<Err = CodeError> + fmt::Display + PartialEq + fmt::Debug,
    {
        if let Ok(value) = r {
            prop_assert_eq!(value.to_string().parse::<T>(), Ok(value));
        }
        Ok(())
    }

    proptest! {
        /// The one-pass check accepts exactly what the check that names problems accepts,
        /// over valid codes and over strings near them (empty or long segments, stray
        /// characters, lowercase, Vietnamese letters, too many segments).
        #[test]
        fn the_quick_agency_check_agrees_with_the_full_one(
            s in prop_oneof![agency_strategy(), "[A-Z0-9a-zĐ. _-]{0,45}", "([A-Z0-9]{0,7}\\.){0,6}[A-Z0-9]{0,7}"]
        ) {
            prop_assert_eq!(is_valid_agency(&s), agency_problem(&s).is_ok(), "{:?}", s);
        }

        #[test]
        fn agency_round_trip(s in agency_strategy()) {
            strict_round_trip::<AgencyCode>(&s)?;
            let lower = format!(" {} ", s.to_ascii_lowercase());
            let normalized: AgencyCode = lower.parse().unwrap();
            prop_assert_eq!(normalized.as_str(), s.as_str());
        }

        #[test]
        fn dossier_round_trip(s in dossier_strategy()) {
            strict_round_trip::<DossierCode>(&s)?;
            let strict: DossierCode = s.parse().unwrap();
            prop_assert_eq!(DossierCode::parse_lenient(&s), Ok(strict.clone()));
            let messy = format!("  {}\t", s.to_ascii_lowercase());
            prop_assert_eq!(DossierCode::parse_lenient(&messy), Ok(strict));
        }

        #[test]
        fn dossier_new_round_trip(
            agency in agency_strategy(),
            date in date_strategy(),
            seq in 1..=u32::MAX,
        ) {
            let agency: AgencyCode = agency.parse().unwrap();
            let code = DossierCode::new(agency.clone(), date, seq).unwrap();
            prop_assert_eq!(code.agency(), &agency);
            prop_assert_eq!(code.date(), date);
            prop_assert_eq!(code.seq(), seq);
            prop_assert_eq!(code.to_string().parse::<DossierCode>(), Ok(code));
        }

        #[test]
        fn dossier_lenient_eight_digit_date(s in dossier_strategy()) {
            let code: DossierCode = s.parse().unwrap();
            let (agency, rest) = s.split_once('-').unwrap();
            let long = format!("{agency}-20{rest}");
            prop_assert_eq!(DossierCode::parse_lenient(&long), Ok(code));
        }

        #[test]
        fn procedure_round_trip(s in procedure_strategy()) {
            strict_round_trip::<ProcedureCode>(&s)?;
        }

        #[test]
        fn personal_id_round_trip(s in personal_id_strategy()) {
            strict_round_trip::<PersonalId>(&s)?;
            let id: PersonalId = s.parse().unwrap();
            prop_assert!((1900..=2399).contains(&id.birth_year()));
            let debug = format!("{id:?}");
            prop_assert!(!debug.contains(&s), "{}", debug);
        }

        #[test]
        fn tax_round_trip(s in tax_strategy()) {
            strict_round_trip::<TaxCode>(&s)?;
        }

        #[test]
        fn tax_single_digit_change_is_caught(nine in "[0-9]{9}", pos in 0usize..10, delta in 1u8..10) {
            if let Some(check) = TaxCode::check_digit(&nine) {
                let mut bytes = format!("{nine}{check}").into_bytes();
                bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
                let changed = String::from_utf8(bytes).unwrap();
                prop_assert_eq!(problem(changed.parse::<TaxCode>()), CodeProblem::CheckDigit);
            }
        }

        #[test]
        fn admin_unit_round_trip(s in admin_strategy()) {
            strict_round_trip::<AdminUnitCode>(&s)?;
        }

        #[test]
        fn parsers_never_panic_and_accepted_values_round_trip(s in codeish()) {
            accepted_round_trips(s.parse::<AgencyCode>())?;
            accepted_round_trips(s.parse::<DossierCode>())?;
            accepted_round_trips(DossierCode::parse_lenient(&s))?;
            accepted_round_trips(s.parse::<ProcedureCode>())?;
            accepted_round_trips(ProcedureCode::parse_lenient(&s))?;
            accepted_round_trips(s.parse::<PersonalId>())?;
            accepted_round_trips(s.parse::<TaxCode>())?;
            accepted_round_trips(TaxCode::parse_lenient(&s))?;
            accepted_round_trips(s.parse::<AdminUnitCode>())?;
            if let Ok(code) = s.parse::<DossierCode>() {
                prop_assert_eq!(code.to_string(), s.clone());
            }
            if let Err(CodeError::Invalid { value, .. }) = s.parse::<DossierCode>() {
                prop_assert!(value.chars().count() <= SHOWN_MAX + 1);
            }
        }
    }
}

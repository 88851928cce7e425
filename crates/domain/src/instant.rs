//! UTC instants read from JSON without chrono's general parser. Every stored event and state
//! holds several instants, all written by chrono as RFC 3339 in UTC (`2026-12-06T13:08:06Z`,
//! with 0, 3, 6 or 9 fraction digits); a counter rebuild reads tens of millions of them, and
//! chrono's `FromStr` (a format-item interpreter accepting many variants) was ~8 % of its time.
//!
//! [`parse`] reads exactly that shape by position; anything else (an offset other than `Z`, a
//! space for `T`, another fraction length, a leap second) goes to chrono as before, so what is
//! accepted and what it means are unchanged. Use as
//! `#[serde(deserialize_with = "crate::instant::de")]`, or for an `Option`
//! `#[serde(default, deserialize_with = "crate::instant::de_opt")]`.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::Deserializer;
use serde::de::{Error, Visitor};
use std::fmt;

/// An instant as chrono's `Deserialize` reads it (any RFC 3339 offset, shown in UTC).
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    quick(s).or_else(|| {
        s.parse::<DateTime<FixedOffset>>()
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// A day written `YYYY-MM-DD` (as the stores write counter days), read by position; anything
/// else through chrono's parser, as for instants.
pub fn day(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() == 10
        && let Some(d) = quick_day(b)
    {
        return Some(d);
    }
    s.parse().ok()
}

/// The number written in `b[from..to]` (ASCII digits only), or `None`.
fn digits(b: &[u8], from: usize, to: usize) -> Option<u32> {
    let mut n = 0u32;
    for &c in b.get(from..to)? {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(c - b'0');
    }
    Some(n)
}

/// The `YYYY-MM-DD` at the start of `b`, or `None`.
fn quick_day(b: &[u8]) -> Option<NaiveDate> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(digits(b, 0, 4)? as i32, digits(b, 5, 7)?, digits(b, 8, 10)?)
}

/// `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z`, or `None`.
fn quick(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let digits = |from: usize, to: usize| digits(b, from, to);
    if !matches!(b.len(), 20 | 24 | 27 | 30)
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[b.len() - 1] != b'Z'
    {
        return None;
    }
    let nanos = match b.len() {
        20 => 0,
        n => {
            if b[19] != b'.' {
                return None;
            }
            let frac = digits(20, n - 1)?;
            frac * 10u32.pow((30 - n) as u32)
        }
    };
    let date = quick_day(b)?;
    let (h, m, sec) = (digits(11, 13)?, digits(14, 16)?, digits(17, 19)?);
    // A leap second (60) is chrono's to read.
    if sec > 59 {
        return None;
    }
    let time = NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?;
    Some(date.and_time(time).and_utc())
}

struct InstantVisitor;

impl Visitor<'_> for InstantVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 date and time")
    }

    fn visit_str<E: Error>(self, s: &str) -> Result<DateTime<Utc>, E> {
        parse(s).ok_or_else(|| E::custom(format!("not an RFC 3339 date and time: {s:?}")))
    }
}

/// Deserializes an instant (see the module).
pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(InstantVisitor)
}

/// Deserializes an optional instant (`null` or absent: `None`; absent needs `default`).
pub fn de_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<DateTime<Utc>>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an RFC 3339 date and time or null")
        }

        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            de(d).map(Some)
        }
    }
    d.deserialize_option(Opt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{SecondsFormat, TimeZone};
    use proptest::prelude::*;

    #[test]
    fn days_read_by_position_equal_chronos() {
        let mut d = NaiveDate::from_ymd_opt(370, 1, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(2200, 1, 1).unwrap();
        while d < end {
            assert_eq!(day(&d.to_string()), Some(d));
            d = d + chrono::Days::new(37);
        }
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "2026/01/01",
            "",
            "abcd-ef-gh",
        ] {
            assert_eq!(day(bad), bad.parse::<NaiveDate>().ok(), "{bad}");
        }
        assert_eq!(day("+12026-01-01"), "+12026-01-01".parse().ok());
    }

    fn chrono_reads(s: &str) -> Option<DateTime<Utc>> {
        serde_json::from_value::<DateTime<Utc>>(serde_json::Value::String(s.into())).ok()
    }

    #[test]
    fn reads_what_chrono_writes_and_hands_the_rest_to_chrono() {
        for s in [
            "2026-12-06T13:08:06Z",
            "2026-12-06T13:08:06.784Z",
            "2026-12-06T13:08:06.784673Z",
            "2026-12-06T13:08:06.784673372Z",
            "2026-12-06T20:08:06+07:00",
            "2026-12-06 13:08:06Z",
            "2026-12-06T13:08:06.78Z",
            "2016-12-31T23:59:60Z",
        ] {
            assert_eq!(parse(s), chrono_reads(s), "{s}");
            assert!(parse(s).is_some(), "{s}");
        }
        for s in [
            "",
            "2026-02-30T00:00:00Z",
            "2026-12-06T24:00:00Z",
            "2026-12-06T13:08:06",
            "2026-12-06T13:08:06.Z",
            "２０２６-12-06T13:08:06Z",
            "2026-12-06T13:08:06.7846733720Z",
        ] {
            assert_eq!(parse(s), chrono_reads(s), "{s:?}");
        }
    }

    #[test]
    fn optional_instants_read_null_and_values() {
        #[derive(serde::Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "de_opt")]
            a: Option<DateTime<Utc>>,
        }
        let t: T = serde_json::from_str(r#"{"a":null}"#).unwrap();
        assert_eq!(t.a, None);
        let t: T = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(t.a, None);
        let t: T = serde_json::from_str(r#"{"a":"2026-12-06T13:08:06Z"}"#).unwrap();
        assert_eq!(t.a, Utc.with_ymd_and_hms(2026, 12, 6, 13, 8, 6).single());
        assert!(serde_json::from_str::<T>(r#"{"a":"06/12/2026"}"#).is_err());
    }

    proptest! {
        /// Every instant chrono writes (any precision) reads back to itself, as chrono reads it.
        #[test]
        fn round_trips_what_chrono_writes(secs in 0i64..253_402_300_799, nanos in 0u32..1_000_000_000) {
            let t = Utc.timestamp_opt(secs, nanos).single().unwrap();
            for f in [SecondsFormat::AutoSi, SecondsFormat::Secs, SecondsFormat::Millis, SecondsFormat::Micros, SecondsFormat::Nanos] {
                let s = t.to_rfc3339_opts(f, true);
                prop_assert_eq!(parse(&s), chrono_reads(&s));
            }
            let json = serde_json::to_string(&t).unwrap();
            prop_assert_eq!(quick(json.trim_matches('"')), Some(t));
        }

        /// Strings near the shape read as chrono reads them (or fail as it does).
        #[test]
        fn agrees_with_chrono_near_the_shape(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?(Z|[+-][0-9]{2}:[0-9]{2})?") {
            prop_assert_eq!(parse(&s), chrono_reads(&s));
        }
    }
}

//! UTC instants in JSON, written byte for byte as chrono's own `Serialize` writes them
//! (RFC 3339, `Z`, the fraction in 0, 3, 6 or 9 digits: `SecondsFormat::AutoSi`) without going
//! through `core::fmt`. A page of 50 inbox rows writes 100 instants; through chrono's `Display`
//! they took 7 % of the server's CPU under the inbox benchmark (docs/benchmarks.md).
//!
//! Use as `#[serde(serialize_with = "crate::json_time::instant")]` (or `instant_opt` for an
//! `Option`). Instants chrono writes differently (years outside 0-9999, leap seconds) are
//! handed to chrono.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};

/// Serializes an instant as chrono does.
pub fn instant<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match write(t, &mut buf) {
        // The buffer holds ASCII digits and separators only.
        Some(n) => s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default()),
        None => t.serialize(s),
    }
}

/// Serializes an optional instant as chrono does (`null` when absent).
pub fn instant_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => instant(t, s),
        None => s.serialize_none(),
    }
}

/// Writes `t` into `buf` and returns its length, or `None` for what only chrono writes.
fn write(t: &DateTime<Utc>, buf: &mut [u8; 30]) -> Option<usize> {
    let t = t.naive_utc();
    let year = t.year();
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    fn digits(buf: &mut [u8], at: usize, mut v: u32, n: usize) {
        for i in (0..n).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    digits(buf, 0, year as u32, 4);
    buf[4] = b'-';
    digits(buf, 5, t.month(), 2);
    buf[7] = b'-';
    digits(buf, 8, t.day(), 2);
    buf[10] = b'T';
    digits(buf, 11, t.hour(), 2);
    buf[13] = b':';
    digits(buf, 14, t.minute(), 2);
    buf[16] = b':';
    digits(buf, 17, t.second(), 2);
    let mut n = 19;
    if nanos != 0 {
        buf[n] = b'.';
        n += 1;
        let (v, width) = if nanos.is_multiple_of(1_000_000) {
            (nanos / 1_000_000, 3)
        } else if nanos.is_multiple_of(1_000) {
            (nanos / 1_000, 6)
        } else {
            (nanos, 9)
        };
        digits(buf, n, v, width);
        n += width;
    }
    buf[n] = b'Z';
    Some(n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Fast {
        #[serde(serialize_with = "instant")]
        t: DateTime<Utc>,
        #[serde(serialize_with = "instant_opt")]
        o: Option<DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct Chrono {
        t: DateTime<Utc>,
        o: Option<DateTime<Utc>>,
    }

    fn same(t: DateTime<Utc>) {
        let fast = serde_json::to_string(&Fast { t, o: Some(t) }).unwrap();
        let chrono = serde_json::to_string(&Chrono { t, o: Some(t) }).unwrap();
        assert_eq!(fast, chrono, "{t:?}");
    }

    /// Every fraction width, the edges of the years we write, and a spread of instants: the
    /// text is chrono's to the byte, so clients and stored JSON see no difference.
    #[test]
    fn instants_are_written_exactly_as_chrono_writes_them() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = (x % 253_402_300_799) as i64; // 1970 .. 9999-12-31T23:59:59
            let nanos = match x % 4 {
                0 => 0,
                1 => ((x >> 20) % 1000) as u32 * 1_000_000,
                2 => ((x >> 20) % 1_000_000) as u32 * 1_000,
                _ => ((x >> 20) % 1_000_000_000) as u32,
            };
            same(DateTime::from_timestamp(secs, nanos).unwrap());
            same(DateTime::from_timestamp(-secs / 40, nanos).unwrap());
        }
        for t in [
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2026-12-04T20:25:19.1Z",
            "2026-12-04T20:25:19.000001Z",
        ] {
            same(t.parse().unwrap());
        }
        let none = serde_json::to_string(&Fast {
            t: DateTime::UNIX_EPOCH,
            o: None,
        })
        .unwrap();
        assert_eq!(none, r#"{"t":"1970-01-01T00:00:00Z","o":null}"#);
    }

    /// What chrono writes its own way (a year past 9999, a leap second) is left to chrono.
    #[test]
    fn unusual_instants_fall_back_to_chrono() {
        same("+10000-01-01T00:00:00Z".parse().unwrap());
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        same(leap);
        same(DateTime::from_timestamp(-70_000_000_000, 5).unwrap());
    }
}

//! Every timestamp conversion the formats need, each named after the shape
//! AWS writes, all to RFC 3339 UTC (`...Z`), which is what `@timestamp`,
//! `event.start` and `event.end` hold:
//!
//! | shape | example | where | function |
//! |---|---|---|---|
//! | RFC 3339 | `2026-11-22T20:55:04.5+02:00` | CloudTrail, JSON lines | [`rfc3339_utc`] |
//! | ISO 8601, `+0000` or no zone | `2018-12-20T02:59:40`, `2021-11-08T14:22:12.637611+0000` | load balancers, GuardDuty, Config, Network Firewall, Route 53 | [`iso8601_utc`], [`iso8601_utc_cow`] |
//! | access log date | `06/Feb/2019:00:00:38 +0000` | S3 server access | [`http_date_utc`] |
//! | epoch seconds, fraction | `1700000000.5` | CloudFront (`timestamp`) | [`epoch_seconds_utc`] |
//! | epoch seconds, integer | `1636381332` | Network Firewall | [`seconds_rfc3339`] |
//! | epoch milliseconds | `1510109208016` | WAF, CloudWatch Logs | [`millis_rfc3339`] |
//! | epoch seconds or milliseconds, repeated | `1418530010` | VPC flow logs | [`EpochText`] |
//!
//! It does not decide which field of a format is its time: the formats do.

use std::borrow::Cow;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// An RFC 3339 time as RFC 3339 UTC (`...Z`); kept as it is when it already is.
pub fn rfc3339_utc<'a>(s: &Cow<'a, str>) -> Option<Cow<'a, str>> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    if t.offset().is_utc() && s.ends_with('Z') {
        return Some(s.clone());
    }
    t.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .ok()
        .map(Cow::Owned)
}

/// An ISO 8601 time as RFC 3339 UTC: RFC 3339 (kept as is when it ends in
/// `Z`), the `+0000` offsets Suricata writes, and times without a zone,
/// which AWS writes in UTC (the load balancer logs).
pub fn iso8601_utc(s: &str) -> Option<Cow<'_, str>> {
    if let Some(t) = rfc3339_utc(&Cow::Borrowed(s)) {
        return Some(t);
    }
    let b = s.as_bytes();
    let n = b.len();
    let fixed = if n > 5
        && (b[n - 5] == b'+' || b[n - 5] == b'-')
        && b[n - 4..].iter().all(u8::is_ascii_digit)
        && s.contains('T')
    {
        format!("{}:{}", &s[..n - 2], &s[n - 2..])
    } else if n >= 19 && b[n - 1].is_ascii_digit() && s.get(10..11) == Some("T") {
        format!("{s}Z")
    } else {
        return None;
    };
    rfc3339_utc(&Cow::Owned(fixed)).map(|c| Cow::Owned(c.into_owned()))
}

/// [`iso8601_utc`] of text that may be owned (a JSON string with escapes).
pub fn iso8601_utc_cow<'a>(s: &Cow<'a, str>) -> Option<Cow<'a, str>> {
    match s {
        Cow::Borrowed(b) => iso8601_utc(b),
        Cow::Owned(o) => iso8601_utc(o).map(|t| Cow::Owned(t.into_owned())),
    }
}

/// `06/Feb/2019:00:00:38 +0000` (S3 server access logs) as RFC 3339 UTC.
pub fn http_date_utc(s: &str) -> Option<String> {
    let format = format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
    );
    OffsetDateTime::parse(s, format)
        .ok()?
        .to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .ok()
}

/// Epoch seconds (with an optional fraction) as RFC 3339 UTC.
pub fn epoch_seconds_utc(secs: f64) -> Option<String> {
    if !secs.is_finite() {
        return None;
    }
    let nanos = (secs * 1e9).round();
    if nanos.abs() > 9.0e18 {
        return None;
    }
    OffsetDateTime::from_unix_timestamp_nanos(nanos as i128)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// A JSON number of epoch milliseconds (WAF's `timestamp`, CloudWatch Logs'
/// event `timestamp`) as the event's time, RFC 3339 UTC with milliseconds.
pub fn millis_time(n: Option<&super::json::Num>) -> Option<Cow<'static, str>> {
    n.and_then(super::json::Num::as_i64)
        .and_then(millis_rfc3339)
        .map(Cow::Owned)
}

/// Epoch milliseconds as RFC 3339 UTC with milliseconds.
pub fn millis_rfc3339(ms: i64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .ok()
}

/// Epoch seconds as RFC 3339 UTC.
pub fn seconds_rfc3339(s: i64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp(s).ok()?;
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .ok()
}

/// An epoch time formatted as RFC 3339 UTC with milliseconds, reused while
/// the value repeats (flow log lines of one file share their times). The
/// date is formatted once per day and the time of day by arithmetic: this
/// runs twice for every flow log line.
pub struct EpochText {
    value: Option<u64>,
    /// The day (days since the epoch) whose date is in `text[..10]`.
    day: Option<u64>,
    /// `YYYY-MM-DDThh:mm:ss.mmmZ`.
    text: [u8; 24],
}

impl Default for EpochText {
    fn default() -> Self {
        EpochText {
            value: None,
            day: None,
            text: *b"0000-00-00T00:00:00.000Z",
        }
    }
}

impl EpochText {
    /// Formats `raw` (epoch seconds, or milliseconds when too large to be
    /// seconds, which some writers produce). `false` if it is not a time.
    pub fn set(&mut self, raw: u64) -> bool {
        if self.value == Some(raw) {
            return true;
        }
        self.value = None;
        // 10^11 seconds is the year 5138: larger values are milliseconds.
        let (secs, millis) = if raw >= 100_000_000_000 {
            (raw / 1000, raw % 1000)
        } else {
            (raw, 0)
        };
        let day = secs / 86_400;
        if self.day != Some(day) {
            let Ok(secs) = i64::try_from(secs) else {
                return false;
            };
            let Ok(t) = OffsetDateTime::from_unix_timestamp(secs) else {
                return false;
            };
            let year = t.year();
            if !(0..=9999).contains(&year) {
                return false;
            }
            let year = year as u32;
            digits(&mut self.text[0..2], year / 100);
            digits(&mut self.text[2..4], year % 100);
            digits(&mut self.text[5..7], u8::from(t.month()) as u32);
            digits(&mut self.text[8..10], t.day() as u32);
            self.day = Some(day);
        }
        let in_day = (secs % 86_400) as u32;
        digits(&mut self.text[11..13], in_day / 3600);
        digits(&mut self.text[14..16], in_day / 60 % 60);
        digits(&mut self.text[17..19], in_day % 60);
        let millis = millis as u32;
        self.text[20] = b'0' + (millis / 100) as u8;
        digits(&mut self.text[21..23], millis % 100);
        self.value = Some(raw);
        true
    }

    /// The last time set.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever written into the ASCII template.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }
}

/// Writes `n` (below 100) as two digits.
fn digits(out: &mut [u8], n: u32) {
    out[0] = b'0' + (n / 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_are_kept_or_moved_to_utc() {
        let cases = [
            ("2026-11-22T20:55:04Z", Some("2026-11-22T20:55:04Z")),
            (
                "2026-11-22T10:00:00.5+02:00",
                Some("2026-11-22T08:00:00.5Z"),
            ),
            ("2026-11-22T20:55:04", None),
            ("1700000000", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                rfc3339_utc(&Cow::Borrowed(input)).as_deref(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn iso8601_times_in_every_aws_shape() {
        let cases = [
            // ALB, with microseconds and Z.
            (
                "2018-07-02T22:23:00.186641Z",
                Some("2018-07-02T22:23:00.186641Z"),
            ),
            // NLB: no zone.
            ("2018-12-20T02:59:40", Some("2018-12-20T02:59:40Z")),
            ("2018-12-20T02:59:40+01:00", Some("2018-12-20T01:59:40Z")),
            // Network Firewall (Suricata): +0000 without a colon.
            (
                "2021-11-08T14:22:12.637611+0000",
                Some("2021-11-08T14:22:12.637611Z"),
            ),
            ("2021-11-08T14:22:12-0130", Some("2021-11-08T15:52:12Z")),
            ("2022-11-03T00:00:00", Some("2022-11-03T00:00:00Z")),
            ("2018-13-20T02:59:40", None),
            ("yesterday", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(iso8601_utc(input).as_deref(), want, "{input}");
            let owned = Cow::Owned(input.to_string());
            assert_eq!(iso8601_utc_cow(&owned).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn access_log_dates_and_epoch_times() {
        assert_eq!(
            http_date_utc("06/Feb/2019:00:00:38 +0100").as_deref(),
            Some("2019-02-05T23:00:38Z")
        );
        assert_eq!(http_date_utc("06/Foo/2019:00:00:38 +0000"), None);
        assert_eq!(
            epoch_seconds_utc(1_700_000_000.5).as_deref(),
            Some("2023-11-14T22:13:20.5Z")
        );
        assert_eq!(epoch_seconds_utc(f64::NAN), None);
        assert_eq!(
            millis_rfc3339(1510109208016).as_deref(),
            Some("2017-11-08T02:46:48.016Z")
        );
        assert_eq!(millis_rfc3339(i64::MAX), None);
        assert_eq!(
            seconds_rfc3339(1636381332).as_deref(),
            Some("2021-11-08T14:22:12Z")
        );
    }

    #[test]
    fn flow_log_epochs_in_seconds_or_milliseconds() {
        let mut t = EpochText::default();
        assert!(t.set(1418530010));
        assert_eq!(t.as_str(), "2014-12-14T04:06:50.000Z");
        assert!(t.set(1418530010123));
        assert_eq!(t.as_str(), "2014-12-14T04:06:50.123Z");
        assert!(!t.set(u64::MAX));
    }

    #[test]
    fn flow_log_epochs_agree_with_the_time_crate_across_days_and_years() {
        let mut t = EpochText::default();
        // Within a day, across midnight, leap days, far and near years, and
        // back again (the cached date must follow).
        let cases: [u64; 10] = [
            0,
            86_399,
            86_400,
            951_782_400, // 2000-02-29
            1_709_164_799,
            1_709_164_800,
            1_418_530_010,
            253_402_300_799, // 9999-12-31T23:59:59 in seconds, read as milliseconds
            99_999_999_999,
            1_418_530_011,
        ];
        for raw in cases {
            let (secs, millis) = if raw >= 100_000_000_000 {
                (raw / 1000, raw % 1000)
            } else {
                (raw, 0)
            };
            let want = seconds_rfc3339(secs as i64)
                .filter(|s| !s.starts_with('+'))
                .map(|s| format!("{}.{millis:03}Z", s.trim_end_matches('Z')));
            let got = t.set(raw).then(|| t.as_str().to_string());
            assert_eq!(got, want, "{raw}");
        }
    }
}

//! Record versions (CO-3): `YYYYMMDDhhmmss` in Swedish local time, strictly increasing.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};
use chrono_tz::Europe::Stockholm;
use std::fmt;

/// A `Timestamp` of the contract: 14 characters, Swedish local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(NaiveDateTime);

/// The date in Sweden at `now`: ages (GU-1) and the end of an address (P5) count in it.
pub fn swedish_date(now: DateTime<Utc>) -> chrono::NaiveDate {
    now.with_timezone(&Stockholm).date_naive()
}

impl Version {
    /// Swedish local time of `now`, to the second.
    pub fn at(now: DateTime<Utc>) -> Self {
        let local = now.with_timezone(&Stockholm).naive_local();
        Self(local.with_nanosecond_zero())
    }

    /// The version for a new change: now, or one second after `last` if the clock has not moved past it.
    pub(crate) fn next_after(last: Option<Version>, now: DateTime<Utc>) -> Self {
        let candidate = Self::at(now);
        match last {
            Some(prev) if prev >= candidate => Self(prev.0 + Duration::seconds(1)),
            _ => candidate,
        }
    }

    /// Parses the 14-character form.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // By hand: chrono's parse_from_str interprets its format string at every call, and
        // versions are read on every update and written on every answer with contacts.
        let n = |at: usize, len: usize| s[at..at + len].parse::<u32>().ok();
        NaiveDate::from_ymd_opt(i32::try_from(n(0, 4)?).ok()?, n(4, 2)?, n(6, 2)?)?
            .and_hms_opt(n(8, 2)?, n(10, 2)?, n(12, 2)?)
            .map(Self)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (d, t) = (self.0.date(), self.0.time());
        write!(
            f,
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            d.year(),
            d.month(),
            d.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

trait NanosecondZero {
    fn with_nanosecond_zero(self) -> Self;
}

impl NanosecondZero for NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn co3_versions_are_swedish_local_time_and_strictly_increase() {
        let now = Utc.with_ymd_and_hms(2026, 7, 1, 10, 0, 0).unwrap();
        let v1 = Version::next_after(None, now);
        assert_eq!(v1.to_string(), "20260701120000");
        let v2 = Version::next_after(Some(v1), now);
        assert_eq!(v2.to_string(), "20260701120001");
        assert!(v2 > v1);
        assert_eq!(Version::parse("20260701120001"), Some(v2));
        assert_eq!(Version::parse("2026070112000"), None);
    }

    #[test]
    fn co3_a_version_is_read_back_exactly_and_impossible_times_are_refused() {
        for text in [
            "20260701120001",
            "19991231235959",
            "20280229000000",
            "00010101000000",
        ] {
            let v = Version::parse(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(v.to_string(), text);
        }
        for bad in [
            "20261301120000", // month 13
            "20270229120000", // 29 February in a common year
            "20260701240000", // hour 24
            "20260701126000", // minute 60
            "20260701120060", // second 60
            "2026070112000x",
            "+2026070112000",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn co3_versions_increase_across_the_autumn_clock_change() {
        let before = Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 10, 25, 1, 10, 0).unwrap();
        let v1 = Version::next_after(None, before);
        let v2 = Version::next_after(Some(v1), after);
        assert!(v2 > v1, "{v1} then {v2}");
    }
}

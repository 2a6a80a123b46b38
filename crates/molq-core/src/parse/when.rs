//! Calendar times as PBS, LSF and Grid Engine print them, read as UTC.
//!
//! Those commands format times in the client's local time zone; molq runs
//! them with `TZ=UTC`, so every time read here is UTC. The core has no time
//! zone database and never reads a clock, so a time printed without a year
//! (LSF's default `Jun 11 13:47`) cannot be placed and reads as `None`.

use crate::model::Timestamp;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// `Fri Nov 11 17:57:05 2016` (C `ctime`; PBS, qacct, bhist with a year),
/// also without the weekday, with `HH:MM` only, or with the year missing
/// (then `None`). A trailing LSF marker letter (`L`, `E`, `X`) is ignored.
pub(crate) fn month_day(text: &str) -> Option<Timestamp> {
    month_day_near(text, None)
}

/// As [`month_day`]; a time without a year is placed in the year that puts
/// it closest before `reference` (at most a day after it, for clock skew).
pub(crate) fn month_day_near(text: &str, reference: Option<Timestamp>) -> Option<Timestamp> {
    let mut words = text.split_whitespace().peekable();
    if words.peek().is_some_and(|w| WEEKDAYS.contains(w)) {
        words.next();
    }
    let word = words.next()?;
    let month = MONTHS.iter().position(|m| *m == word)? as i64 + 1;
    let day = number(words.next()?)?;
    let (h, mi, s) = clock(words.next()?)?;
    let marker = |w: &str| w.len() == 1 && w.bytes().all(|b| b.is_ascii_uppercase());
    let year = match words.next() {
        Some(w) if !marker(w) => Some(number(w)?),
        Some(_) | None => None,
    };
    match words.next() {
        None => {}
        Some(w) if year.is_some() && marker(w) => {}
        Some(_) => return None,
    }
    match (year, reference) {
        (Some(y), _) => civil(y, month, day, h, mi, s),
        (None, Some(now)) => {
            let this = year_of(now);
            let t = civil(this, month, day, h, mi, s);
            match t {
                Some(t) if t <= now + 86_400.0 => Some(t),
                // later in the year than now: it was last year (or Feb 29 of a leap year)
                _ => civil(this - 1, month, day, h, mi, s),
            }
        }
        (None, None) => None,
    }
}

/// The UTC calendar year of an epoch time.
fn year_of(t: Timestamp) -> i64 {
    let mut year = 1970 + (t / 31_556_952.0).floor() as i64;
    // the estimate is off by at most one either way: settle it on Jan 1st
    while civil(year, 1, 1, 0, 0, 0).is_some_and(|jan1| jan1 > t) {
        year -= 1;
    }
    while civil(year + 1, 1, 1, 0, 0, 0).is_some_and(|next| next <= t) {
        year += 1;
    }
    year
}

/// Whether `text` starts like a `ctime` date (`Mon Jun 11 ...`), with or without a year.
pub(crate) fn starts_with_weekday_month(text: &str) -> bool {
    let mut words = text.split_whitespace();
    words.next().is_some_and(|w| WEEKDAYS.contains(&w))
        && words.next().is_some_and(|m| MONTHS.contains(&m))
}

/// `2026-11-24T22:29:59`, optionally with fractional seconds (Grid Engine XML).
pub(crate) fn iso(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-');
    let (y, mo, day) = (number(d.next()?)?, number(d.next()?)?, number(d.next()?)?);
    if d.next().is_some() {
        return None;
    }
    let (whole, frac) = match time.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            (w, format!("0.{f}").parse::<f64>().ok()?)
        }
        Some(_) => return None,
        None => (time, 0.0),
    };
    let (h, mi, s) = clock(whole)?;
    Some(civil(y, mo, day, h, mi, s)? + frac)
}

/// `06/01/2024 10:00:00` (tracejob's month/day/year).
pub(crate) fn month_day_year(date: &str, time: &str) -> Option<Timestamp> {
    let mut d = date.split('/');
    let (mo, day, y) = (number(d.next()?)?, number(d.next()?)?, number(d.next()?)?);
    if d.next().is_some() {
        return None;
    }
    let (h, mi, s) = clock(time)?;
    civil(y, mo, day, h, mi, s)
}

/// Whole epoch seconds written as digits (at most 15, so exact as f64).
pub(crate) fn epoch(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    (!t.is_empty() && t.len() <= 15 && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| t.parse::<i64>().ok().map(|v| v as f64))
        .flatten()
}

/// Epoch seconds or a `ctime` string, whichever `text` is.
pub(crate) fn epoch_or_month_day(text: &str) -> Option<Timestamp> {
    epoch(text).or_else(|| month_day(text))
}

fn number(text: &str) -> Option<i64> {
    let ok = !text.is_empty() && text.len() <= 6 && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.parse().ok()).flatten()
}

/// `HH:MM:SS` or `HH:MM`.
fn clock(text: &str) -> Option<(i64, i64, i64)> {
    let mut parts = text.split(':');
    let h = number(parts.next()?)?;
    let mi = number(parts.next()?)?;
    let s = match parts.next() {
        Some(s) => number(s)?,
        None => 0,
    };
    parts.next().is_none().then_some((h, mi, s))
}

/// Seconds since the epoch of a UTC calendar time; `None` if it is not a real one.
fn civil(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<Timestamp> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_len = match mo {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1970..=9999).contains(&y) || d < 1 || d > month_len || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days before this year, then before this month, counted from 1970-01-01.
    let years = y - 1970;
    let leaps_before = |year: i64| (year - 1) / 4 - (year - 1) / 100 + (year - 1) / 400;
    let mut days = years * 365 + leaps_before(y) - leaps_before(1970);
    const BEFORE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    days += BEFORE[(mo - 1) as usize] + d - 1;
    if leap && mo > 2 {
        days += 1;
    }
    Some((days * 86_400 + h * 3_600 + mi * 60 + s) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctime_forms() {
        // date -u -d '2016-11-11 17:57:05' +%s
        assert_eq!(month_day("Fri Nov 11 17:57:05 2016"), Some(1_478_887_025.0));
        assert_eq!(month_day("Nov 11 17:57:05 2016"), Some(1_478_887_025.0));
        assert_eq!(month_day("Tue Nov 24 22:29:58 2026"), Some(1_795_559_398.0));
        assert_eq!(month_day("Jun 11 13:47 2024 L"), Some(1_718_113_620.0));
        assert_eq!(month_day("Feb 29 00:00:00 2024"), Some(1_709_164_800.0));
        for bad in [
            "Jun 11 13:47",
            "Jun 11 13:47 L",
            "Feb 30 00:00:00 2024",
            "Foo 1 00:00 2020",
            "",
            "Jun 1 25:00 2020",
        ] {
            assert_eq!(month_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn year_less_times_near_a_reference() {
        let now = 1_717_236_000.0; // 2024-06-01 10:00 UTC
        assert_eq!(month_day_near("Jun  1 09:59", Some(now)), Some(now - 60.0));
        assert_eq!(
            month_day_near("Jun  2 09:00", Some(now)),
            Some(now + 82_800.0),
            "within a day ahead: skew"
        );
        // December seen in June is last December
        assert_eq!(
            month_day_near("Dec 31 23:00", Some(now)),
            Some(1_704_063_600.0)
        );
        assert_eq!(
            month_day_near("Jun  1 09:59 2023", Some(now)),
            Some(1_685_613_540.0),
            "a year wins"
        );
        assert_eq!(month_day_near("Jun  1 09:59", None), None);
        assert_eq!(
            month_day_near("Jun  1 09:59 L", Some(now)),
            Some(now - 60.0),
            "LSF's marker letter is ignored"
        );
        assert_eq!(year_of(1_704_067_199.0), 2023);
        assert_eq!(year_of(1_704_067_200.0), 2024);
    }

    #[test]
    fn iso_and_tracejob_forms() {
        assert_eq!(iso("2026-11-24T22:29:59"), Some(1_795_559_399.0));
        assert_eq!(iso("2026-11-24T22:29:59.250"), Some(1_795_559_399.25));
        assert_eq!(iso("1970-01-01T00:00:00"), Some(0.0));
        for bad in [
            "2026-11-24 22:29:59",
            "2026-13-01T00:00:00",
            "x",
            "2026-11-24T22:29:59.",
        ] {
            assert_eq!(iso(bad), None, "{bad}");
        }
        assert_eq!(
            month_day_year("06/01/2024", "10:00:00"),
            Some(1_717_236_000.0)
        );
        assert_eq!(month_day_year("6/1/2024", "10:00"), Some(1_717_236_000.0));
        assert_eq!(month_day_year("2024/06/01", "10:00:00"), None);
        assert_eq!(epoch("1717236000"), Some(1_717_236_000.0));
        assert_eq!(epoch("-5"), None);
        assert_eq!(
            epoch_or_month_day("Sat Jun  1 10:00:00 2024"),
            Some(1_717_236_000.0)
        );
    }
}

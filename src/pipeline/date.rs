//! Dates as listing pages and JSON endpoints write them: ISO 8601, RFC 2822, `24 November 2026`,
//! `November 24, 2026`, `24.11.2026`, `2026-11-24`, Unix timestamps; found inside longer text
//! such as `Press release | 24.11.2026 | Brussels`. Dates without a time are midnight UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Date-and-time forms without an offset (read as UTC).
const NAIVE_DATE_TIMES: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M",
];

/// Date-and-time forms with an offset such as `+0100` (RFC 3339's `+01:00` is tried first).
const OFFSET_DATE_TIMES: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"];

/// Date-only forms; day-first before month-first, as European sites write them.
const DATES: &[&str] = &[
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%d %B %Y",
    "%d %b. %Y",
    "%B %d, %Y",
    "%b. %d, %Y",
    "%B %d %Y",
    "%Y%m%d",
];

/// Reads a date from `text`: the whole text first, then the longest run of words that is one.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(d) = parse_exact(text) {
        return Some(d);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    for len in (1..=words.len().min(5)).rev() {
        for start in 0..=words.len() - len {
            let candidate = words[start..start + len].join(" ");
            let candidate = candidate
                .trim_start_matches(['(', '[', '|', ','])
                .trim_end_matches([',', ';', '|', ')', ']', ':', '.']);
            if let Some(d) = parse_exact(candidate) {
                return Some(d);
            }
        }
    }
    None
}

/// Seconds (or milliseconds, for values past the year 5138) since 1970 → a date.
pub fn from_timestamp(n: f64) -> Option<DateTime<Utc>> {
    if !n.is_finite() || n <= 0.0 {
        return None;
    }
    let millis = if n >= 1e11 { n } else { n * 1000.0 };
    DateTime::from_timestamp_millis(millis as i64)
}

fn parse_exact(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    for f in OFFSET_DATE_TIMES {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for f in NAIVE_DATE_TIMES {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&d));
        }
    }
    // Eight digits alone are a date only when they look like one (not an id).
    if s.len() == 8 && !s.starts_with(['1', '2']) {
        return None;
    }
    DATES.iter().find_map(|f| {
        NaiveDate::parse_from_str(s, f)
            .ok()
            .filter(|d| (1990..=2100).contains(&chrono::Datelike::year(d)))
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| Utc.from_utc_datetime(&d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(s: &str) -> String {
        parse_date(s)
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "none".into())
    }

    #[test]
    fn the_forms_listing_pages_use() {
        assert_eq!(ymd("2026-11-24T10:30:00+01:00"), "2026-11-24 09:30");
        assert_eq!(ymd("2026-11-24T10:30:00Z"), "2026-11-24 10:30");
        assert_eq!(ymd("2026-11-24T10:30:00.000+0100"), "2026-11-24 09:30");
        assert_eq!(ymd("2026-11-24T10:30:00"), "2026-11-24 10:30");
        assert_eq!(ymd("Tue, 24 Nov 2026 10:30:00 GMT"), "2026-11-24 10:30");
        assert_eq!(ymd("24 November 2026"), "2026-11-24 00:00");
        assert_eq!(ymd("4 November 2026"), "2026-11-04 00:00");
        assert_eq!(ymd("24 Nov. 2026"), "2026-11-24 00:00");
        assert_eq!(ymd("November 24, 2026"), "2026-11-24 00:00");
        assert_eq!(ymd("24.11.2026"), "2026-11-24 00:00");
        assert_eq!(ymd("24/11/2026"), "2026-11-24 00:00");
        assert_eq!(ymd("11/24/2026"), "2026-11-24 00:00");
        assert_eq!(ymd("2026-11-24"), "2026-11-24 00:00");
    }

    #[test]
    fn a_date_inside_other_words_is_found() {
        assert_eq!(
            ymd("Press release | 24.11.2026 | Brussels"),
            "2026-11-24 00:00"
        );
        assert_eq!(ymd("Monday, 24 November 2026"), "2026-11-24 00:00");
        assert_eq!(ymd("Published on 24 November 2026."), "2026-11-24 00:00");
        assert_eq!(ymd("Published (24 November 2026)"), "2026-11-24 00:00");
    }

    #[test]
    fn what_is_not_a_date_gives_none() {
        assert_eq!(ymd(""), "none");
        assert_eq!(ymd("Statement by the spokesperson"), "none");
        assert_eq!(ymd("230145"), "none");
        assert_eq!(ymd("99999999"), "none");
        assert_eq!(ymd("31.02.2026"), "none");
    }

    #[test]
    fn timestamps_in_seconds_or_milliseconds() {
        let s = from_timestamp(1_795_516_200.0).unwrap();
        assert_eq!(s, from_timestamp(1_795_516_200_000.0).unwrap());
        assert_eq!(s.format("%Y-%m-%d").to_string(), "2026-11-24");
        assert!(from_timestamp(-5.0).is_none());
    }
}

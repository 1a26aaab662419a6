//! Dates as feeds, listing pages and JSON endpoints write them: ISO 8601, RFC 2822 and the
//! forms sloppy feeds use instead (`Sat, Dec 16 2023 02:02:33 PM`, `Thurs, 13 Jul 2011 07:38 GMT`,
//! `16 December 2023 14:02 CET`), `24 November 2026`, `November 24, 2026`, `24.11.2026`,
//! `2026-11-24`, Unix timestamps; found inside longer text such as
//! `Press release | 24.11.2026 | Brussels`. Dates without a time are midnight, without a zone UTC.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

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

/// A feed's date (`<pubDate>`, `<dc:date>`, `<updated>`, …): RFC 3339 and RFC 2822 first (the
/// forms well-made feeds use, read fast), then [`loose_date_time`], then [`parse_date`].
pub fn parse_feed_date(text: &str) -> Option<DateTime<Utc>> {
    let s = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    loose_date_time(s).or_else(|| parse_date(s))
}

/// A date and time written as words and numbers in any order the way feeds do: an optional
/// weekday (ignored, even when wrong), day, month name and year in either order (`16 Dec 2023`,
/// `Dec 16 2023`, `December 16th, 2023`) or a numeric date (`2023-12-16`, `16.12.2023`,
/// `12/16/2023`), an optional time (`2:02`, `14:02:33`, `02:02:33 PM`), and an optional zone
/// (`Z`, `UTC`, `GMT`, `EST`, `CET`, `+0100`, `-05:00`, `GMT+1`). `None` on any other word.
pub fn loose_date_time(s: &str) -> Option<DateTime<Utc>> {
    let mut d = Parts::default();
    for token in s.split(|c: char| c.is_whitespace() || c == ',') {
        if !token.is_empty() {
            d.take(token)?;
        }
    }
    d.finish()
}

/// What [`loose_date_time`] has read so far.
#[derive(Default)]
struct Parts {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    time: Option<(u32, u32, u32)>,
    pm: Option<bool>,
    offset: Option<i32>,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const FILLERS: [&str; 4] = ["at", "on", "the", "of"];

impl Parts {
    fn take(&mut self, token: &str) -> Option<()> {
        let lower = token.trim_end_matches('.').to_ascii_lowercase();
        let t = lower.as_str();
        if t.starts_with(|c: char| c.is_ascii_digit()) {
            return self.number(t);
        }
        if let Some(rest) = t.strip_prefix(['+', '-']) {
            if self.time.is_some() && rest.starts_with(|c: char| c.is_ascii_digit()) {
                return self.set_offset(t);
            }
            return None;
        }
        match t {
            "am" | "a.m" => self.pm = Some(false),
            "pm" | "p.m" => self.pm = Some(true),
            _ if FILLERS.contains(&t) => {}
            _ if t.len() >= 3 && WEEKDAYS.iter().any(|w| t.starts_with(w)) && weekday(t) => {}
            _ if t.len() >= 3 && month(t).is_some() => self.month = Some(month(t)?),
            _ => return self.zone(t),
        }
        Some(())
    }

    /// A token starting with a digit: a time, a numeric date, a year, a day or a day with `th`.
    fn number(&mut self, t: &str) -> Option<()> {
        if t.contains(':') {
            let end = t
                .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
                .unwrap_or(t.len());
            let (clock, suffix) = t.split_at(end);
            let mut parts = clock.split(':');
            let h: u32 = parts.next()?.parse().ok()?;
            let m: u32 = parts.next()?.parse().ok()?;
            let sec: u32 = match parts.next() {
                Some(sec) => sec.split('.').next()?.parse().ok()?,
                None => 0,
            };
            self.time = Some((h, m, sec));
            return match suffix {
                "" => Some(()),
                "am" | "pm" => {
                    self.pm = Some(suffix == "pm");
                    Some(())
                }
                _ => self.take(suffix),
            };
        }
        if let Some(sep) = t.chars().find(|c| matches!(c, '-' | '/' | '.')) {
            return self.numeric_date(t, sep);
        }
        let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let suffix = &t[digits.len()..];
        if !matches!(suffix, "" | "st" | "nd" | "rd" | "th") {
            return None;
        }
        let n: u32 = digits.parse().ok()?;
        if digits.len() == 4 && suffix.is_empty() {
            self.year = Some(n as i32);
        } else if digits.len() <= 2 && self.day.is_none() {
            self.day = Some(n);
        } else if digits.len() == 2 && self.year.is_none() && suffix.is_empty() {
            // RFC 822's two-digit years.
            self.year = Some(if n < 70 { 2000 + n } else { 1900 + n } as i32);
        } else {
            return None;
        }
        Some(())
    }

    /// `2023-12-16`, `16.12.2023`, `16/12/2023`, `12/16/2023` (day first unless it cannot be).
    fn numeric_date(&mut self, t: &str, sep: char) -> Option<()> {
        let parts: Vec<&str> = t.split(sep).collect();
        let [a, b, c] = parts[..] else { return None };
        let n = |s: &str| s.parse::<u32>().ok();
        let (y, m, d) = if a.len() == 4 {
            (n(a)?, n(b)?, n(c)?)
        } else if c.len() == 4 {
            let (a, b) = (n(a)?, n(b)?);
            if sep != '.' && a <= 12 && b > 12 {
                (n(c)?, a, b)
            } else {
                (n(c)?, b, a)
            }
        } else {
            return None;
        };
        (self.year, self.month, self.day) = (Some(y as i32), Some(m), Some(d));
        Some(())
    }

    /// A zone name, or `GMT+1` / `UTC-05:00`.
    fn zone(&mut self, t: &str) -> Option<()> {
        let hours = match t {
            "z" | "ut" | "utc" | "gmt" | "wet" => 0,
            "bst" | "cet" | "met" | "west" => 1,
            "cest" | "eet" | "mest" => 2,
            "eest" | "msk" => 3,
            "edt" => -4,
            "est" | "cdt" => -5,
            "cst" | "mdt" => -6,
            "mst" | "pdt" => -7,
            "pst" => -8,
            _ => {
                let rest = t.strip_prefix("gmt").or_else(|| t.strip_prefix("utc"))?;
                return self.set_offset(rest);
            }
        };
        self.offset = Some(hours * 3600);
        Some(())
    }

    /// `+0100`, `-05:00`, `+1`.
    fn set_offset(&mut self, t: &str) -> Option<()> {
        let sign = match t.chars().next()? {
            '+' => 1,
            '-' => -1,
            _ => return None,
        };
        let digits: String = t[1..].chars().filter(|c| *c != ':').collect();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let (h, m) = match digits.len() {
            1 | 2 => (digits.parse::<i32>().ok()?, 0),
            4 => (digits[..2].parse().ok()?, digits[2..].parse::<i32>().ok()?),
            _ => return None,
        };
        if h > 14 || m > 59 {
            return None;
        }
        self.offset = Some(sign * (h * 3600 + m * 60));
        Some(())
    }

    fn finish(self) -> Option<DateTime<Utc>> {
        let date = NaiveDate::from_ymd_opt(self.year?, self.month?, self.day?)?;
        let (mut h, m, s) = self.time.unwrap_or((0, 0, 0));
        match self.pm {
            Some(true) if h < 12 => h += 12,
            Some(false) if h == 12 => h = 0,
            _ if h == 24 && m == 0 && s == 0 => h = 0,
            _ => {}
        }
        let naive = date.and_hms_opt(h, m, s.min(59))?;
        let offset = FixedOffset::east_opt(self.offset.unwrap_or(0))?;
        offset
            .from_local_datetime(&naive)
            .single()
            .map(|d| d.with_timezone(&Utc))
    }
}

fn month(t: &str) -> Option<u32> {
    const LONG: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let i = MONTHS.iter().position(|m| t.starts_with(m))?;
    (t == MONTHS[i] || LONG[i].starts_with(t) || (i == 8 && t == "sept")).then_some(i as u32 + 1)
}

fn weekday(t: &str) -> bool {
    const LONG: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    LONG.iter().any(|w| w.starts_with(t)) || matches!(t, "tues" | "thur" | "thurs")
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

    fn feed(s: &str) -> String {
        parse_feed_date(s)
            .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "none".into())
    }

    #[test]
    fn feed_dates_in_non_rfc_forms() {
        // Regression (issue 14): a pubDate with the month first and a 12-hour clock was lost.
        assert_eq!(feed("Sat, Dec 16 2023 02:02:33 PM"), "2023-12-16 14:02:33");
        assert_eq!(
            feed("Sat, 16 Dec 2023 02:02:33 PM EST"),
            "2023-12-16 19:02:33"
        );
        assert_eq!(
            feed("Thurs, 13 Jul 2011 07:38:00 GMT"),
            "2011-07-13 07:38:00"
        );
        assert_eq!(
            feed("Wed, 25 Aug 2012 10:00:00 +0000"),
            "2012-08-25 10:00:00"
        );
        assert_eq!(
            feed("Monday, 16 December 2023 9:05 UTC"),
            "2023-12-16 09:05:00"
        );
        assert_eq!(feed("December 16th, 2023 at 2:02pm"), "2023-12-16 14:02:00");
        assert_eq!(feed("16 Dec 23 14:02 +0100"), "2023-12-16 13:02:00");
        assert_eq!(feed("2023-12-16 14:02:33 +01:00"), "2023-12-16 13:02:33");
        assert_eq!(feed("2023-12-16T14:02:33+0100"), "2023-12-16 13:02:33");
        assert_eq!(feed("2023-12-16T14:02:33"), "2023-12-16 14:02:33");
        assert_eq!(feed("16.12.2023 14:02"), "2023-12-16 14:02:00");
        assert_eq!(feed("12/16/2023 2:02 PM"), "2023-12-16 14:02:00");
        assert_eq!(feed("Sat, 16 Dec 2023 24:00:00 GMT"), "2023-12-16 00:00:00");
        assert_eq!(
            feed("Sat, 16 Dec 2023 14:02:33 GMT+1"),
            "2023-12-16 13:02:33"
        );
        assert_eq!(feed("2023-12-16"), "2023-12-16 00:00:00");
        assert_eq!(
            feed("Tue, 24 Nov 2026 10:30:00 -0000"),
            "2026-11-24 10:30:00"
        );
        assert_eq!(
            feed("Sat, 16 Sept 2023 14:02:33 CEST"),
            "2023-09-16 12:02:33"
        );
    }

    #[test]
    fn what_is_not_a_feed_date_gives_none() {
        assert_eq!(feed(""), "none");
        assert_eq!(feed("yesterday"), "none");
        assert_eq!(feed("Sat, 31 Feb 2023 10:00:00 GMT"), "none");
        assert_eq!(feed("Dec 2023"), "none");
        assert_eq!(feed("Marching orders 16 2023"), "none");
    }

    #[test]
    fn timestamps_in_seconds_or_milliseconds() {
        let s = from_timestamp(1_795_516_200.0).unwrap();
        assert_eq!(s, from_timestamp(1_795_516_200_000.0).unwrap());
        assert_eq!(s.format("%Y-%m-%d").to_string(), "2026-11-24");
        assert!(from_timestamp(-5.0).is_none());
    }
}

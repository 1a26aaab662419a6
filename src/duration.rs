//! Durations as the configuration and the command line write them (`30s`, `2h`, `1d`, humantime
//! syntax), and the range each one must fall in: a value outside it is refused when the
//! configuration is read, never met later as an overflow.

use std::time::Duration;

use serde::Deserialize;
use serde_spanned::Spanned;

use crate::error::ConfigError;

/// A duration written as text (`"30m"`), read with humantime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map(HumanDuration).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration {s:?} ({e}); expected a duration such as \"30m\", \"2h\" or \"1d\""
            ))
        })
    }
}

/// The range a duration must fall in, with its name for messages.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub min: Duration,
    pub max: Duration,
}

impl Bounds {
    pub const fn new(min: Duration, max: Duration) -> Bounds {
        Bounds { min, max }
    }

    /// `Ok(d)` inside the range, else a message saying what is accepted.
    pub fn check(&self, d: Duration) -> Result<Duration, String> {
        if d < self.min || d > self.max {
            let what = if d < self.min {
                "too short"
            } else {
                "too long"
            };
            return Err(format!(
                "{} is {what}; expected from {} to {}",
                show(d),
                show(self.min),
                show(self.max)
            ));
        }
        Ok(d)
    }
}

/// A duration for messages, in the largest whole unit (`365d`, `90m`, `250ms`).
pub fn show(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 2 * 31_557_600 {
        return format!("about {} years", s / 31_557_600);
    }
    if d.subsec_nanos() != 0 || s == 0 {
        return humantime::format_duration(d).to_string();
    }
    match s {
        _ if s.is_multiple_of(86400) => format!("{}d", s / 86400),
        _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// A feed's `every`: at least a minute (politeness), at most a year.
pub const EVERY: Bounds = Bounds::new(MINUTE, Duration::from_secs(365 * 86400));
/// `fetch.timeout` and `fetch.connect_timeout`.
pub const FETCH_TIMEOUT: Bounds = Bounds::new(Duration::from_millis(100), HOUR);
/// `fetch.per_host_delay`.
pub const PER_HOST_DELAY: Bounds = Bounds::new(Duration::ZERO, HOUR);
/// `mail.timeout`: one delivery attempt, from connecting to the server's last reply.
pub const MAIL_TIMEOUT: Bounds = Bounds::new(SECOND, HOUR);
/// `veille run --tick`.
pub const TICK: Bounds = Bounds::new(Duration::from_millis(10), HOUR);
/// `veille items --since` as an age.
pub const AGE: Bounds = Bounds::new(Duration::ZERO, Duration::from_secs(100 * 365 * 86400));

/// A duration of the file checked against `bounds`, or `default` when absent; an error points
/// at the value and names `key`.
pub(crate) fn duration_in(
    value: &Option<Spanned<HumanDuration>>,
    default: Duration,
    bounds: Bounds,
    located_at: impl Fn(usize, String) -> ConfigError,
) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => bounds
            .check(v.get_ref().0)
            .map_err(|m| located_at(v.span().start, m)),
    }
}

/// `now + wait`, saturating at a year after `now` (configured intervals are at most a year, so
/// this bound only guards against values that were never validated).
pub fn later(now: chrono::DateTime<chrono::Utc>, wait: Duration) -> chrono::DateTime<chrono::Utc> {
    let year = chrono::Duration::days(366);
    let wait = chrono::Duration::from_std(wait).unwrap_or(year).min(year);
    now.checked_add_signed(wait).unwrap_or(now)
}

/// Parses a `--tick`-like argument: a humantime duration within `bounds`.
pub fn parse_within(s: &str, bounds: Bounds) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("invalid duration {s:?} ({e}); expected e.g. \"15s\""))?;
    bounds.check(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_values_say_what_is_accepted() {
        let e = EVERY
            .check(Duration::from_secs(100_000_000_000 * 365 * 86400))
            .unwrap_err();
        assert!(e.contains("too long") && e.contains("to 365d"), "{e}");
        let e = TICK.check(Duration::ZERO).unwrap_err();
        assert!(e.contains("too short"), "{e}");
        assert_eq!(EVERY.check(HOUR), Ok(HOUR));
    }
}

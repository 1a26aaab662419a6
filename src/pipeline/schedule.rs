//! When to check a feed next: the configured interval, stretched by what the server asks for
//! (TTL, `Cache-Control: max-age`, `Retry-After`), spread by a per-feed jitter, and backed off
//! exponentially after consecutive errors.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The longest wait after errors.
pub const MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);
/// The longest a server's cache hints may stretch an interval (a year-long max-age is not obeyed).
pub const MAX_HINT: Duration = Duration::from_secs(24 * 3600);
/// Consecutive errors after which a feed is shown as failing.
pub const FAILING_AFTER: i64 = 3;

/// What the last fetch said about timing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    pub ttl: Option<Duration>,
    pub max_age: Option<Duration>,
    pub retry_after: Option<Duration>,
}

/// The next check of `feed` after a fetch at `now`; `errors` counts consecutive errors
/// including this fetch (0 after a success).
pub fn next_check(
    now: DateTime<Utc>,
    feed: &str,
    every: Duration,
    timing: Timing,
    errors: i64,
) -> DateTime<Utc> {
    let hinted = [timing.ttl, timing.max_age, timing.retry_after]
        .into_iter()
        .flatten()
        .map(|d| d.min(MAX_HINT))
        .fold(every, Duration::max);
    let wait = if errors > 0 {
        let factor = 2u32.saturating_pow((errors - 1).clamp(0, 20) as u32);
        every
            .saturating_mul(factor)
            .min(MAX_BACKOFF)
            .max(hinted.min(MAX_BACKOFF))
    } else {
        hinted
    };
    let wait = wait + jitter(feed, wait);
    crate::duration::later(now, wait)
}

/// A stable per-feed spread of up to a tenth of the wait, so feeds configured alike do not all
/// fire at the same second.
fn jitter(feed: &str, wait: Duration) -> Duration {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let h = feed.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    let tenth = wait.as_millis() as u64 / 10;
    Duration::from_millis(if tenth == 0 { 0 } else { h % tenth })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        (b - a).num_seconds()
    }
    const M30: Duration = Duration::from_secs(1800);

    #[test]
    fn success_waits_the_interval_plus_at_most_a_tenth() {
        let now = at("2026-11-24T10:00:00Z");
        let s = secs(now, next_check(now, "feed-a", M30, Timing::default(), 0));
        assert!((1800..1980).contains(&s), "{s}");
    }

    #[test]
    fn server_hints_stretch_but_never_shrink_the_interval() {
        let now = at("2026-11-24T10:00:00Z");
        let t = Timing {
            max_age: Some(Duration::from_secs(7200)),
            ..Timing::default()
        };
        let s = secs(now, next_check(now, "f", M30, t, 0));
        assert!((7200..7920).contains(&s), "{s}");
        let t = Timing {
            max_age: Some(Duration::from_secs(5)),
            retry_after: Some(Duration::from_secs(10 * 24 * 3600)),
            ..Timing::default()
        };
        let s = secs(now, next_check(now, "f", M30, t, 0));
        assert!((86400..95040).contains(&s), "capped at a day: {s}");
    }

    #[test]
    fn an_absurd_interval_saturates_instead_of_overflowing() {
        // Regression (issue 15): `every = "100000000000y"` panicked with
        // "DateTime + TimeDelta overflowed" in every poll.
        let now = at("2026-11-24T10:00:00Z");
        let huge = Duration::from_secs(100_000_000_000 * 365 * 86400);
        let next = next_check(now, "f", huge, Timing::default(), 0);
        assert_eq!((next - now).num_days(), 366);
        assert!(next_check(now, "f", huge, Timing::default(), 30) > now);
    }

    #[test]
    fn errors_back_off_exponentially_up_to_a_day() {
        let now = at("2026-11-24T10:00:00Z");
        let waits: Vec<i64> = (1..=10)
            .map(|e| secs(now, next_check(now, "f", M30, Timing::default(), e)))
            .collect();
        assert!((1800..1980).contains(&waits[0]));
        assert!((3600..3960).contains(&waits[1]));
        assert!((7200..7920).contains(&waits[2]));
        assert!(waits.windows(2).all(|w| w[1] >= w[0]));
        assert!((86400..95040).contains(&waits[9]), "{}", waits[9]);
    }
}

//! When a watch list's digest is due: the next fire time of its cron expression in its time
//! zone (wall-clock times, so 08:00 stays 08:00 across daylight-saving changes), and what to do
//! when fires were missed (coalesce them into one, never replay).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// The first fire strictly after `after`, as a UTC instant; `None` if the expression never fires
/// again (e.g. a date that does not exist).
pub fn next_fire(cron: &Cron, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after.with_timezone(&tz), false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// What the schedule says at `now` for a watch list whose next fire was stored as `stored`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Not yet: wait for this instant.
    Wait(DateTime<Utc>),
    /// Fire now (however many fires were missed since `stored`); afterwards wait for `next`.
    Fire { next: DateTime<Utc> },
}

/// Decides whether to fire at `now`. Missed fires are coalesced: one digest, and the next fire
/// is the first one after `now`, not the one after the missed fire.
pub fn due(cron: &Cron, tz: Tz, stored: DateTime<Utc>, now: DateTime<Utc>) -> Option<Due> {
    if now < stored {
        return Some(Due::Wait(stored));
    }
    next_fire(cron, tz, now).map(|next| Due::Fire { next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn cron(s: &str) -> Cron {
        Cron::from_str(s).unwrap()
    }
    const BXL: Tz = chrono_tz::Europe::Brussels;

    #[test]
    fn weekday_mornings_in_brussels_follow_the_wall_clock_across_dst() {
        let c = cron("0 8 * * 1-5");
        // Friday 2026-03-27 08:00 CET = 07:00 UTC; DST starts Sunday 29 March.
        let fires: Vec<_> =
            std::iter::successors(Some(at("2026-03-26T12:00:00Z")), |t| next_fire(&c, BXL, *t))
                .skip(1)
                .take(3)
                .collect();
        assert_eq!(
            fires,
            [
                at("2026-03-27T07:00:00Z"), // Fri, CET (+01)
                at("2026-03-30T06:00:00Z"), // Mon, CEST (+02): still 08:00 local
                at("2026-03-31T06:00:00Z"),
            ]
        );
        // DST ends Sunday 25 October 2026: Friday 23rd is CEST, Monday 26th is CET.
        assert_eq!(
            next_fire(&c, BXL, at("2026-10-23T00:00:00Z")),
            Some(at("2026-10-23T06:00:00Z"))
        );
        assert_eq!(
            next_fire(&c, BXL, at("2026-10-23T06:00:00Z")),
            Some(at("2026-10-26T07:00:00Z"))
        );
    }

    #[test]
    fn a_daily_fire_in_the_skipped_hour_or_the_repeated_hour_fires_once_that_day() {
        // 02:30 does not exist on 29 March 2026 in Brussels; 02:30 happens twice on 25 October.
        let c = cron("30 2 * * *");
        let march: Vec<_> =
            std::iter::successors(Some(at("2026-03-28T12:00:00Z")), |t| next_fire(&c, BXL, *t))
                .skip(1)
                .take(3)
                .collect();
        // The skipped 02:30 fires once, when the gap ends (03:00 CEST = 01:00 UTC).
        assert_eq!(
            march,
            [
                at("2026-03-29T01:00:00Z"),
                at("2026-03-30T00:30:00Z"),
                at("2026-03-31T00:30:00Z")
            ]
        );
        let oct: Vec<_> =
            std::iter::successors(Some(at("2026-10-24T12:00:00Z")), |t| next_fire(&c, BXL, *t))
                .skip(1)
                .take(2)
                .collect();
        // The repeated 02:30 fires once, at its first occurrence (CEST), not again an hour later.
        assert_eq!(
            oct,
            [at("2026-10-25T00:30:00Z"), at("2026-10-26T01:30:00Z")]
        );
    }

    #[test]
    fn missed_fires_are_coalesced_into_one() {
        let c = cron("0 8 * * *");
        let stored = at("2026-11-20T07:00:00Z");
        // The service was down for four days: one fire now, the next one tomorrow 08:00.
        let now = at("2026-11-24T10:00:00Z");
        assert_eq!(
            due(&c, BXL, stored, now),
            Some(Due::Fire {
                next: at("2026-11-25T07:00:00Z")
            })
        );
        assert_eq!(
            due(&c, BXL, stored, at("2026-11-20T06:59:59Z")),
            Some(Due::Wait(stored))
        );
    }
}

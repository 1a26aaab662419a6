//! Query strings and form bodies of the web view, read strictly into typed filters: an unknown
//! or repeated parameter or a malformed value is a [`BadQuery`] (a 400 page), never a panic or a
//! 500. Empty values (a form's blank fields) count as absent. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::pipeline::classify::fold::fold_str;
use crate::store::{Cursor, SearchTerm};

/// Why a query string was refused, in words for the 400 page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadQuery(pub String);

/// The longest search accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// The most search terms accepted.
pub const MAX_TERMS: usize = 32;

/// Decoded `key=value` pairs, each key at most once, only `allowed` keys, blanks dropped.
pub fn pairs(raw: &str, allowed: &[&str]) -> Result<BTreeMap<String, String>, BadQuery> {
    let mut out = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        if !allowed.contains(&k.as_ref()) {
            return Err(BadQuery(format!(
                "unknown parameter `{k}` (expected {})",
                allowed.join(", ")
            )));
        }
        if out.contains_key(k.as_ref()) {
            return Err(BadQuery(format!("parameter `{k}` given twice")));
        }
        let v = v.trim();
        if v.chars().any(char::is_control) {
            return Err(BadQuery(format!(
                "parameter `{k}` holds control characters"
            )));
        }
        if !v.is_empty() {
            out.insert(k.into_owned(), v.to_string());
        }
    }
    Ok(out)
}

/// The filters of the matches page and Atom feeds, as given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchFilters {
    pub watchlist: Option<String>,
    pub topic: Option<String>,
    pub language: Option<String>,
    pub feed: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub min_score: Option<f64>,
    pub cursor: Option<Cursor>,
}

pub const MATCH_KEYS: &[&str] = &[
    "watchlist",
    "topic",
    "language",
    "feed",
    "from",
    "to",
    "min_score",
    "before",
    "after",
];

fn date(key: &str, v: &str) -> Result<NaiveDate, BadQuery> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        BadQuery(format!(
            "`{key}` must be a date such as 2026-11-24, not {v:?}"
        ))
    })
}

fn id(key: &str, v: &str) -> Result<i64, BadQuery> {
    v.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| BadQuery(format!("`{key}` must be an item number, not {v:?}")))
}

/// Reads `before`/`after` (at most one of them).
pub fn cursor(p: &BTreeMap<String, String>) -> Result<Option<Cursor>, BadQuery> {
    match (p.get("before"), p.get("after")) {
        (Some(_), Some(_)) => Err(BadQuery("give `before` or `after`, not both".into())),
        (Some(b), None) => Ok(Some(Cursor::Before(id("before", b)?))),
        (None, Some(a)) => Ok(Some(Cursor::After(id("after", a)?))),
        (None, None) => Ok(None),
    }
}

/// Reads the matches page's query string.
pub fn match_filters(raw: &str) -> Result<MatchFilters, BadQuery> {
    let p = pairs(raw, MATCH_KEYS)?;
    let name = |key: &str| -> Result<Option<String>, BadQuery> {
        match p.get(key) {
            Some(v) if v.chars().count() > 200 => Err(BadQuery(format!("`{key}` is too long"))),
            other => Ok(other.cloned()),
        }
    };
    let language = match p.get("language") {
        Some(l) if l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()) => Some(l.clone()),
        Some(l) => {
            return Err(BadQuery(format!(
                "`language` must be a two-letter code such as en or fr, not {l:?}"
            )));
        }
        None => None,
    };
    let min_score = match p.get("min_score") {
        Some(s) => Some(
            s.parse::<f64>()
                .ok()
                .filter(|x| (0.0..=1.0).contains(x))
                .ok_or_else(|| {
                    BadQuery(format!(
                        "`min_score` must be a number from 0 to 1, not {s:?}"
                    ))
                })?,
        ),
        None => None,
    };
    let from = p.get("from").map(|v| date("from", v)).transpose()?;
    let to = p.get("to").map(|v| date("to", v)).transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(BadQuery(format!("`from` ({f}) is after `to` ({t})")));
    }
    Ok(MatchFilters {
        watchlist: name("watchlist")?,
        topic: name("topic")?,
        feed: name("feed")?,
        language,
        from,
        to,
        min_score,
        cursor: cursor(&p)?,
    })
}

impl MatchFilters {
    /// The start of `from`, UTC.
    pub fn from_time(&self) -> Option<DateTime<Utc>> {
        self.from
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
    }

    /// The end of `to` (the start of the next day), UTC.
    pub fn until_time(&self) -> Option<DateTime<Utc>> {
        self.to
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
    }

    /// The query string of these filters (without the cursor), for links.
    pub fn to_query(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        let opt = |s: &mut url::form_urlencoded::Serializer<String>, k: &str, v: Option<String>| {
            if let Some(v) = v {
                s.append_pair(k, &v);
            }
        };
        opt(&mut s, "watchlist", self.watchlist.clone());
        opt(&mut s, "topic", self.topic.clone());
        opt(&mut s, "language", self.language.clone());
        opt(&mut s, "feed", self.feed.clone());
        opt(&mut s, "from", self.from.map(|d| d.to_string()));
        opt(&mut s, "to", self.to.map(|d| d.to_string()));
        opt(&mut s, "min_score", self.min_score.map(|x| x.to_string()));
        s.finish()
    }
}

/// A search as typed, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// As typed (shown back in the search box).
    pub text: String,
    pub terms: Vec<SearchTerm>,
    pub cursor: Option<Cursor>,
}

/// Reads the search page's query string; `Ok(None)` when no search was asked for.
pub fn search(raw: &str) -> Result<Option<Search>, BadQuery> {
    let p = pairs(raw, &["q", "before", "after"])?;
    let Some(text) = p.get("q") else {
        return Ok(None);
    };
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(BadQuery(format!(
            "the search is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    let terms = search_terms(text);
    if terms.len() > MAX_TERMS {
        return Err(BadQuery(format!(
            "the search has more than {MAX_TERMS} terms"
        )));
    }
    if !terms.iter().any(|t| !t.negated) {
        return Err(BadQuery(
            "nothing to search for: give at least one word that must occur".into(),
        ));
    }
    Ok(Some(Search {
        text: text.clone(),
        terms,
        cursor: cursor(&p)?,
    }))
}

/// Splits a search into terms: words, `"exact phrases"`, `prefix*`, `-excluded`. Each term is
/// folded like the index (case, diacritics) and cut into words at anything not a letter or a
/// digit; terms with no word are dropped.
pub fn search_terms(text: &str) -> Vec<SearchTerm> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let negated = rest.starts_with('-');
        if negated {
            rest = &rest[1..];
        }
        let (raw, after) = if let Some(r) = rest.strip_prefix('"') {
            match r.find('"') {
                Some(end) => (&r[..end], &r[end + 1..]),
                None => (r, ""),
            }
        } else {
            match rest.find(char::is_whitespace) {
                Some(end) => (&rest[..end], &rest[end..]),
                None => (rest, ""),
            }
        };
        let prefix = raw.ends_with('*') || after.starts_with('*');
        let after = after.strip_prefix('*').unwrap_or(after);
        let words: Vec<String> = fold_str(raw)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        if !words.is_empty() {
            out.push(SearchTerm {
                words,
                prefix,
                negated,
            });
        }
        rest = after.trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_filters_read_blank_fields_as_absent_and_refuse_bad_values() {
        let f =
            match_filters("topic=eu-nato-cyber&language=&from=2026-01-02&min_score=0.5&before=9")
                .unwrap();
        assert_eq!(f.topic.as_deref(), Some("eu-nato-cyber"));
        assert_eq!(f.language, None);
        assert_eq!(f.min_score, Some(0.5));
        assert_eq!(f.cursor, Some(Cursor::Before(9)));
        assert_eq!(
            f.from_time().unwrap().to_rfc3339(),
            "2026-01-02T00:00:00+00:00"
        );
        assert_eq!(
            f.to_query(),
            "topic=eu-nato-cyber&from=2026-01-02&min_score=0.5"
        );
        for bad in [
            "colour=red",
            "topic=a&topic=b",
            "from=yesterday",
            "min_score=2",
            "min_score=NaN",
            "language=english",
            "before=-1",
            "before=1&after=2",
            "from=2026-02-01&to=2026-01-01",
            "topic=%00",
            "before=99999999999999999999999",
        ] {
            assert!(match_filters(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(match_filters("").unwrap(), MatchFilters::default());
        assert!(
            match_filters("%zz=%").is_err(),
            "undecodable keys are unknown"
        );
    }

    #[test]
    fn searches_fold_quote_and_exclude() {
        let t = search_terms("Défense \"cyber-sécurité UE\" otan* -ÉTATS");
        let words: Vec<_> = t
            .iter()
            .map(|t| (t.words.join(" "), t.prefix, t.negated))
            .collect();
        assert_eq!(
            words,
            [
                ("defense".to_string(), false, false),
                ("cyber securite ue".to_string(), false, false),
                ("otan".to_string(), true, false),
                ("etats".to_string(), false, true),
            ]
        );
        assert!(search_terms("*** -- \"\"").is_empty());
        assert_eq!(search_terms("\"unclosed phrase").len(), 1);
        assert!(search("q=-nato").is_err(), "only exclusions");
        assert!(search("q=%22%22").is_err());
        assert_eq!(search("").unwrap(), None);
        assert!(search(&format!("q={}", "a".repeat(600))).is_err());
        assert_eq!(
            search("q=NATO&before=3").unwrap().unwrap().cursor,
            Some(Cursor::Before(3))
        );
    }
}

//! What goes into one digest: the candidates a watch list accepts (feeds, languages, score),
//! grouped into stories, each story filed under its best topic with its evidence. Pure.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::config::Watchlist;
use super::evidence::{self, ConceptTerms};
use super::group::{StoryKey, group_stories};
use crate::store::Candidate;

/// One language version of a story.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub item_id: i64,
    pub title: String,
    pub feed: String,
    pub url: Option<String>,
    pub language: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub snippet: String,
    /// The item's matches on the watch list's topics, best first.
    pub topics: Vec<(String, f64)>,
}

/// One story: its versions (the first is the lead), best topic and score, and why it matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub topic: String,
    pub score: f64,
    pub versions: Vec<Version>,
    pub evidence: Vec<ConceptTerms>,
}

/// The entries of one topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub topic: String,
    pub entries: Vec<Entry>,
}

/// A feed shown as failing in the footer.
#[derive(Debug, Clone, PartialEq)]
pub struct FailingFeed {
    pub name: String,
    pub errors: i64,
    pub last_error: Option<String>,
    /// It has never been read successfully (shown whatever its error count).
    pub never_succeeded: bool,
}

/// A feed whose last batch of article pages had some that gave no text: those items carry
/// only the feed's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleTrouble {
    pub feed: String,
    pub report: crate::model::ArticleReport,
}

/// Everything a digest says, before rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestContent {
    pub watchlist: String,
    pub topics: Vec<String>,
    pub sections: Vec<Section>,
    pub failing: Vec<FailingFeed>,
    /// Feeds whose article pages gave no text (footer).
    pub articles: Vec<ArticleTrouble>,
    /// Enabled feeds never polled yet (footer).
    pub unpolled: Vec<String>,
    /// Stories left for the next digest because this one reached [`MAX_STORIES`] (their
    /// items are not claimed, so they stay candidates).
    pub held_back: usize,
    pub composed_at: DateTime<Utc>,
    pub timezone: Tz,
    /// Where each entry's "judge this match" link points, when the web view has an address.
    pub links: Option<JudgeLinks>,
}

/// The web view's address and the key that signs judgement links.
#[derive(Debug, Clone)]
pub struct JudgeLinks {
    /// Ends in `/`.
    pub base: String,
    pub key: crate::links::Key,
}

impl PartialEq for JudgeLinks {
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base && self.key.sign("") == other.key.sign("")
    }
}

impl JudgeLinks {
    /// The link that judges `item_id` for `topic`.
    pub fn url(&self, item_id: i64, topic: &str) -> String {
        format!(
            "{}{}",
            self.base,
            crate::links::judge_path(&self.key, item_id, topic)
        )
    }
}

impl DigestContent {
    /// Items carried, over all versions of all entries.
    pub fn item_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .sections
            .iter()
            .flat_map(|s| &s.entries)
            .flat_map(|e| &e.versions)
            .map(|v| v.item_id)
            .collect();
        ids.sort_unstable();
        ids
    }

    pub fn is_empty(&self) -> bool {
        self.sections.iter().all(|s| s.entries.is_empty())
    }
}

/// The most stories one digest carries; the lowest-scoring rest waits for the next digest.
pub const MAX_STORIES: usize = 100;
/// The longest snippet, in characters.
pub const SNIPPET_CHARS: usize = 240;
/// Languages shown first when a story has several versions.
const LEAD_LANGUAGES: &[&str] = &["en", "fr", "de"];

/// Whether `wl` takes this candidate: seen in one of its feeds (or any), one of its languages (or any;
/// an item of unknown language is taken only when the list is open) and a match on one of its
/// topics scoring at least `min_score`.
pub fn accepts(wl: &Watchlist, c: &Candidate) -> bool {
    (wl.feeds.is_empty()
        || c.feeds
            .iter()
            .chain([&c.feed])
            .any(|f| wl.feeds.contains(f)))
        && (wl.languages.is_empty()
            || c.language
                .as_ref()
                .is_some_and(|l| wl.languages.contains(l)))
        && c.matches
            .iter()
            .any(|m| wl.topics.contains(&m.topic) && m.score >= wl.min_score)
}

/// Builds the digest of `wl` from candidates (those it does not accept are left out).
pub fn build(
    wl: &Watchlist,
    candidates: &[Candidate],
    failing: Vec<FailingFeed>,
    composed_at: DateTime<Utc>,
) -> DigestContent {
    let taken: Vec<&Candidate> = candidates.iter().filter(|c| accepts(wl, c)).collect();
    let keys: Vec<StoryKey<'_>> = taken
        .iter()
        .map(|c| StoryKey {
            url: c.url.as_deref().or(c.canonical_url.as_deref()),
            language: c.language.as_deref(),
            published: c.published,
            text: &c.text,
            html: c.links.as_deref(),
        })
        .collect();
    let mut sections: Vec<Section> = wl
        .topics
        .iter()
        .map(|t| Section {
            topic: t.clone(),
            entries: Vec::new(),
        })
        .collect();
    for group in group_stories(&keys) {
        let mut members: Vec<&Candidate> = group.iter().map(|&i| taken[i]).collect();
        members.sort_by_key(|c| {
            let lang = c.language.as_deref().unwrap_or("");
            (
                LEAD_LANGUAGES
                    .iter()
                    .position(|l| *l == lang)
                    .unwrap_or(LEAD_LANGUAGES.len()),
                c.published.unwrap_or(c.fetched_at),
                c.id,
            )
        });
        let best = members
            .iter()
            .flat_map(|c| &c.matches)
            .filter(|m| wl.topics.contains(&m.topic) && m.score >= wl.min_score)
            .max_by(|a, b| {
                a.score.total_cmp(&b.score).then_with(|| {
                    // on a tie, the watch list's first topic wins
                    let pos = |t: &str| wl.topics.iter().position(|x| x == t);
                    pos(&b.topic).cmp(&pos(&a.topic))
                })
            })
            .expect("accepted candidates match a topic");
        let (topic, score) = (best.topic.clone(), best.score);
        let evidence = evidence::merge(members.iter().flat_map(|c| {
            c.matches
                .iter()
                .filter(|m| wl.topics.contains(&m.topic))
                .map(|m| evidence::concept_terms(&m.evidence_json))
                .collect::<Vec<_>>()
        }));
        let versions = members
            .iter()
            .map(|c| Version {
                item_id: c.id,
                title: one_line(&c.title),
                feed: c.feed.clone(),
                url: c.url.clone().or_else(|| c.canonical_url.clone()),
                language: c.language.clone(),
                published: c.published,
                snippet: snippet(c),
                topics: c
                    .matches
                    .iter()
                    .filter(|m| wl.topics.contains(&m.topic))
                    .map(|m| (m.topic.clone(), m.score))
                    .collect(),
            })
            .collect();
        let section = sections
            .iter_mut()
            .find(|s| s.topic == topic)
            .expect("topic of the watch list");
        section.entries.push(Entry {
            topic,
            score,
            versions,
            evidence,
        });
    }
    let by_rank = |a: &Entry, b: &Entry| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| lead_time(b).cmp(&lead_time(a)))
    };
    for s in &mut sections {
        s.entries.sort_by(by_rank);
    }
    // Over the cap: keep the best-ranked stories over all sections.
    let total: usize = sections.iter().map(|s| s.entries.len()).sum();
    let held_back = total.saturating_sub(MAX_STORIES);
    if held_back > 0 {
        let mut all: Vec<&Entry> = sections.iter().flat_map(|s| &s.entries).collect();
        all.sort_by(|a, b| by_rank(a, b));
        let cut = all[MAX_STORIES - 1].clone();
        let mut kept = 0;
        for s in &mut sections {
            s.entries.retain(|e| by_rank(e, &cut).is_le());
        }
        // ties at the cut: drop from the end until at most MAX_STORIES remain
        for s in &mut sections {
            let room = MAX_STORIES.saturating_sub(kept);
            s.entries.truncate(room);
            kept += s.entries.len();
        }
    }
    let held_back = total - sections.iter().map(|s| s.entries.len()).sum::<usize>();
    DigestContent {
        watchlist: wl.name.clone(),
        topics: wl.topics.clone(),
        sections,
        failing,
        articles: Vec::new(),
        unpolled: Vec::new(),
        held_back,
        composed_at,
        timezone: wl.timezone,
        links: None,
    }
}

fn lead_time(e: &Entry) -> Option<DateTime<Utc>> {
    e.versions.first().and_then(|v| v.published)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A short plain-text snippet: the article's text when it was extracted, else the item's clean
/// text (derived from its feed HTML when the feed was parsed: the HTML itself is not stored),
/// cut at a word boundary.
pub fn snippet(c: &Candidate) -> String {
    let text = c
        .article_text
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(&c.text);
    cut(&one_line(text), SNIPPET_CHARS)
}

/// Feed HTML to plain text: ammonia with no tag allowed, script and style dropped with their
/// content, then entities decoded by the HTML parser's serialisation being undone.
pub fn strip_html(html: &str) -> String {
    let cleaned = ammonia::Builder::empty()
        .clean_content_tags(["script", "style"].into_iter().collect())
        .clean(html)
        .to_string();
    // ammonia serialises text with &lt; &gt; &amp; &quot; escaped; we want plain text here
    // (it is escaped again when put into HTML).
    cleaned
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let end = s.char_indices().nth(max).map_or(s.len(), |(i, _)| i);
    let head = &s[..end];
    let head = head
        .rfind(' ')
        .filter(|&i| i > end / 2)
        .map_or(head, |i| &head[..i]);
    format!("{}…", head.trim_end_matches([',', ';', ':', '.', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoredMatch;
    use std::str::FromStr;

    fn watchlist(feeds: &[&str], languages: &[&str]) -> Watchlist {
        Watchlist {
            name: "w".into(),
            topics: vec!["t1".into(), "t2".into()],
            feeds: feeds.iter().map(|s| s.to_string()).collect(),
            languages: languages.iter().map(|s| s.to_string()).collect(),
            min_score: 0.5,
            recipients: vec![],
            schedule: "0 8 * * *".into(),
            cron: croner::Cron::from_str("0 8 * * *").unwrap(),
            timezone: chrono_tz::UTC,
            send_empty: false,
            webhook: None,
        }
    }

    /// Regression (issue 16, point 11): the snippet was the feed's summary even when the
    /// article's full text had been extracted.
    #[test]
    fn the_snippet_is_the_article_text_when_extracted() {
        let mut c = candidate(1, "f", &[], Some("en"), &[("t1", 0.9)]);
        c.text = "One line of summary from the feed.".into();
        c.article_text = Some(
            "The Council adopted the regulation today after a long debate.\nSecond paragraph."
                .into(),
        );
        assert_eq!(
            snippet(&c),
            "The Council adopted the regulation today after a long debate. Second paragraph."
        );
        c.article_text = None;
        assert_eq!(snippet(&c), "One line of summary from the feed.");
    }

    fn candidate(
        id: i64,
        feed: &str,
        also: &[&str],
        lang: Option<&str>,
        m: &[(&str, f64)],
    ) -> Candidate {
        Candidate {
            id,
            feed: feed.into(),
            feeds: std::iter::once(feed)
                .chain(also.iter().copied())
                .map(String::from)
                .collect(),
            url: None,
            canonical_url: None,
            title: format!("title {id}"),
            links: None,
            text: format!("text {id}"),
            article_text: None,
            published: None,
            fetched_at: "2026-11-24T07:00:00Z".parse().unwrap(),
            language: lang.map(String::from),
            matches: m
                .iter()
                .map(|(t, s)| StoredMatch {
                    topic: t.to_string(),
                    score: *s,
                    evidence_json: "[]".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn watch_list_filters_on_feeds_languages_topics_and_score() {
        let c = [
            candidate(1, "a", &[], Some("en"), &[("t1", 0.9)]),
            candidate(2, "b", &["a"], Some("fr"), &[("t2", 0.6)]),
            candidate(3, "b", &[], Some("en"), &[("t1", 0.9)]),
            candidate(4, "a", &[], None, &[("t1", 0.9)]),
            candidate(5, "a", &[], Some("en"), &[("t1", 0.4), ("other", 1.0)]),
        ];
        let taken = |wl: &Watchlist| {
            c.iter()
                .filter(|c| accepts(wl, c))
                .map(|c| c.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(taken(&watchlist(&[], &[])), [1, 2, 3, 4]);
        assert_eq!(
            taken(&watchlist(&["a"], &[])),
            [1, 2, 4],
            "item 2 was also seen in feed a"
        );
        assert_eq!(
            taken(&watchlist(&[], &["en"])),
            [1, 3],
            "unknown language only for open lists"
        );
    }

    #[test]
    fn entries_go_under_their_best_topic_and_sections_follow_the_watch_list() {
        let c = [
            candidate(1, "a", &[], Some("en"), &[("t1", 0.6), ("t2", 0.8)]),
            candidate(2, "a", &[], Some("en"), &[("t1", 0.7)]),
            candidate(3, "a", &[], Some("en"), &[("t1", 0.9)]),
        ];
        let d = build(
            &watchlist(&[], &[]),
            &c,
            vec![],
            "2026-11-24T07:00:00Z".parse().unwrap(),
        );
        let ids = |s: &Section| {
            s.entries
                .iter()
                .map(|e| e.versions[0].item_id)
                .collect::<Vec<_>>()
        };
        assert_eq!(d.sections[0].topic, "t1");
        assert_eq!(ids(&d.sections[0]), [3, 2], "by score");
        assert_eq!(ids(&d.sections[1]), [1]);
        assert_eq!(d.item_ids(), [1, 2, 3]);
        assert_eq!(d.held_back, 0);
    }

    #[test]
    fn a_digest_carries_at_most_max_stories_keeping_the_best() {
        let c: Vec<Candidate> = (0..MAX_STORIES as i64 + 5)
            .map(|i| {
                let topic = if i % 2 == 0 { "t1" } else { "t2" };
                candidate(i, "a", &[], Some("en"), &[(topic, 0.5 + i as f64 / 1000.0)])
            })
            .collect();
        let d = build(
            &watchlist(&[], &[]),
            &c,
            vec![],
            "2026-11-24T07:00:00Z".parse().unwrap(),
        );
        assert_eq!(d.held_back, 5);
        assert_eq!(d.item_ids().len(), MAX_STORIES);
        assert_eq!(d.item_ids()[0], 5, "the five lowest scores wait");
    }

    #[test]
    fn snippets_are_short_plain_and_cut_on_words() {
        let s = cut(&"word ".repeat(100), 20);
        assert!(s.ends_with('…') && s.chars().count() <= 21, "{s}");
        assert!(!s.contains("wor…"), "{s}");
        assert_eq!(cut("short", 20), "short");
        let t = strip_html(
            "<p>EU &amp; NATO <script>alert(1)</script><img src=x onerror=y><b>meet</b> &lt;today&gt;</p>",
        );
        assert_eq!(t, "EU & NATO meet <today>");
    }
}

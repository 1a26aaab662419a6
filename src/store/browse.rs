//! Reading for the analyst web view and `veille items --show`: matches with filters and keyset
//! pagination, one item with everything known about it, full-text search (FTS5), the digests
//! that carried an item.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};

use super::{DigestRow, Store, StoredMatch};
use crate::error::StoreError;

/// Where a page starts: strictly older or strictly newer than an item (by date, then id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    Before(i64),
    After(i64),
}

/// Which matched items to list. Empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchQuery {
    /// Items matching one of these topics (any topic when empty)…
    pub topics: Vec<String>,
    /// …with a score on it of at least this.
    pub min_score: f64,
    /// Seen in one of these feeds.
    pub feeds: Vec<String>,
    pub languages: Vec<String>,
    /// Dated (published, else fetched) at or after `from` and before `until`.
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

/// One item in a list, with its stored matches.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedItem {
    pub id: i64,
    /// The feed that brought it first.
    pub feed: String,
    pub url: Option<String>,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub fetched_at: DateTime<Utc>,
    pub language: Option<String>,
    /// The article text when extracted, else the feed's text.
    pub text: String,
    /// The feed's HTML (content, else summary), for links between language versions.
    pub html: Option<String>,
    /// Every stored match, best score first.
    pub matches: Vec<StoredMatch>,
}

/// A page of a list, newest first, with the cursors of its neighbours.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Start of the next older page, when there is one.
    pub older: Option<Cursor>,
    /// Start of the next newer page, when there is one.
    pub newer: Option<Cursor>,
}

/// Everything stored about one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDetail {
    pub id: i64,
    pub feed: String,
    /// Every feed it was seen in.
    pub feeds: Vec<String>,
    pub feed_language: Option<String>,
    pub url: Option<String>,
    pub canonical_url: Option<String>,
    pub title: String,
    pub text: String,
    pub article_text: Option<String>,
    pub article_status: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub fetched_at: DateTime<Utc>,
    pub language: Option<String>,
    pub language_source: Option<String>,
    pub language_confidence: Option<f64>,
    pub matches: Vec<StoredMatch>,
}

impl ItemDetail {
    /// The text classified and shown: the article's when extracted, else the feed's.
    pub fn body(&self) -> &str {
        self.article_text.as_deref().unwrap_or(&self.text)
    }
}

/// A digest that carried an item.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestRef {
    pub id: i64,
    pub watchlist: String,
    pub subject: String,
    pub status: String,
    pub composed_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// One part of a search: words (folded like the index) that must, or must not, occur; several
/// words form a phrase; a prefix word matches every word it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm {
    pub words: Vec<String>,
    pub prefix: bool,
    pub negated: bool,
}

/// The FTS5 expression of `terms`: every word quoted (so nothing typed can be read as syntax),
/// the wanted ones joined by AND, the unwanted ones cut with NOT. `None` when nothing is wanted.
pub fn fts_expression(terms: &[SearchTerm]) -> Option<String> {
    let quote = |t: &SearchTerm| {
        let s = format!("\"{}\"", t.words.join(" ").replace('"', "\"\""));
        if t.prefix { format!("{s}*") } else { s }
    };
    let wanted: Vec<String> = terms
        .iter()
        .filter(|t| !t.negated && !t.words.is_empty())
        .map(quote)
        .collect();
    if wanted.is_empty() {
        return None;
    }
    let mut expr = format!("({})", wanted.join(" AND "));
    for t in terms.iter().filter(|t| t.negated && !t.words.is_empty()) {
        expr.push_str(" NOT ");
        expr.push_str(&quote(t));
    }
    Some(expr)
}

const DATE: &str = "COALESCE(i.published_at, i.fetched_at)";

const LISTED: &str = "i.id, f.name, i.url, i.title, i.published_at, i.fetched_at, i.language,
    veille_text(COALESCE(i.article_text, i.text)), COALESCE(i.links, i.content_html, i.summary_html)";

fn listed(r: &rusqlite::Row<'_>) -> rusqlite::Result<ListedItem> {
    Ok(ListedItem {
        id: r.get(0)?,
        feed: r.get(1)?,
        url: r.get(2)?,
        title: r.get(3)?,
        published: r.get(4)?,
        fetched_at: r.get(5)?,
        language: r.get(6)?,
        text: r.get(7)?,
        html: r.get(8)?,
        matches: Vec::new(),
    })
}

fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn texts(v: &[String]) -> impl Iterator<Item = Value> + '_ {
    v.iter().cloned().map(Value::Text)
}

/// Turns rows fetched one past `limit`, in the cursor's direction, into a page newest first.
fn paged(mut rows: Vec<ListedItem>, cursor: Option<Cursor>, limit: usize) -> Page<ListedItem> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let backwards = matches!(cursor, Some(Cursor::After(_)));
    if backwards {
        rows.reverse();
    }
    let first = rows.first().map(|r| r.id);
    let last = rows.last().map(|r| r.id);
    let (older, newer) = if backwards {
        (
            last.map(Cursor::Before),
            first.filter(|_| more).map(Cursor::After),
        )
    } else {
        (
            last.filter(|_| more).map(Cursor::Before),
            first.filter(|_| cursor.is_some()).map(Cursor::After),
        )
    };
    Page {
        items: rows,
        older,
        newer,
    }
}

impl Store {
    /// Matched items, newest first (by published date, else fetch time), one page.
    ///
    /// Read in the order that reads least: the items of the chosen feeds (sorted), else the
    /// matches of the one chosen language, or of the one chosen topic, or all matches, by date
    /// from an index that also holds topic, score and language, each item once.
    pub fn list_matches(&self, q: &MatchQuery) -> Result<Page<ListedItem>, StoreError> {
        let mut args: Vec<Value> = Vec::new();
        let mut sql;
        let date;
        let id;
        if !q.feeds.is_empty() {
            date = DATE;
            id = "i.id";
            sql = format!(
                "SELECT {LISTED} FROM items i JOIN feeds f ON f.id = i.feed_id
                 WHERE i.id IN (SELECT s.item_id FROM item_sources s JOIN feeds g ON g.id = s.feed_id
                                WHERE g.name IN ({}))
                   AND EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id AND m.score >= ?",
                marks(q.feeds.len())
            );
            args.extend(texts(&q.feeds));
            args.push(Value::Real(q.min_score));
            if !q.topics.is_empty() {
                sql.push_str(&format!(" AND m.topic IN ({})", marks(q.topics.len())));
                args.extend(texts(&q.topics));
            }
            sql.push(')');
        } else {
            date = "m.item_date";
            id = "m.item_id";
            // One language: its index (24 languages cut finer than 2 topics); else one topic:
            // its index; else all matches by date (SQLite would otherwise read every match of
            // the topics or languages and sort them).
            let index = if q.languages.len() == 1 {
                "matches_language_date"
            } else if q.topics.len() == 1 {
                "matches_topic_date"
            } else {
                "matches_date"
            };
            sql = format!(
                "SELECT {LISTED} FROM matches m INDEXED BY {index} CROSS JOIN items i ON i.id = m.item_id
                 JOIN feeds f ON f.id = i.feed_id WHERE m.score >= ?"
            );
            args.push(Value::Real(q.min_score));
            if !q.topics.is_empty() {
                sql.push_str(&format!(" AND m.topic IN ({})", marks(q.topics.len())));
                args.extend(texts(&q.topics));
            }
            if q.topics.len() != 1 {
                // An item with several matches is listed once: at its first qualifying topic.
                sql.push_str(
                    " AND NOT EXISTS (SELECT 1 FROM matches n WHERE n.item_id = m.item_id AND n.topic < m.topic AND n.score >= ?",
                );
                args.push(Value::Real(q.min_score));
                if !q.topics.is_empty() {
                    sql.push_str(&format!(" AND n.topic IN ({})", marks(q.topics.len())));
                    args.extend(texts(&q.topics));
                }
                sql.push(')');
            }
        }
        if !q.languages.is_empty() {
            let column = if q.feeds.is_empty() {
                "m.item_language"
            } else {
                "i.language"
            };
            sql.push_str(&format!(" AND {column} IN ({})", marks(q.languages.len())));
            args.extend(texts(&q.languages));
        }
        if let Some(from) = q.from {
            sql.push_str(&format!(" AND {date} >= ?"));
            args.push(Value::Text(super::digests::since_text(from)));
        }
        if let Some(until) = q.until {
            sql.push_str(&format!(" AND {date} < ?"));
            args.push(Value::Text(super::digests::since_text(until)));
        }
        let order = match q.cursor {
            Some(Cursor::Before(c)) => {
                sql.push_str(&format!(
                    " AND ({date}, {id}) < ((SELECT COALESCE(published_at, fetched_at) FROM items WHERE id = ?), ?)"
                ));
                args.extend([Value::Integer(c), Value::Integer(c)]);
                "DESC"
            }
            Some(Cursor::After(c)) => {
                sql.push_str(&format!(
                    " AND ({date}, {id}) > ((SELECT COALESCE(published_at, fetched_at) FROM items WHERE id = ?), ?)"
                ));
                args.extend([Value::Integer(c), Value::Integer(c)]);
                "ASC"
            }
            None => "DESC",
        };
        sql.push_str(&format!(
            " ORDER BY {date} {order}, {id} {order} LIMIT {}",
            q.limit + 1
        ));
        let rows = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), listed)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut page = paged(rows, q.cursor, q.limit);
        self.attach_matches(&mut page.items)?;
        Ok(page)
    }

    /// Items whose folded title or text hold `expression` (see [`fts_expression`]), newest
    /// stored first, one page.
    pub fn search(
        &self,
        expression: &str,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> Result<Page<ListedItem>, StoreError> {
        let (cond, order) = match cursor {
            Some(Cursor::Before(_)) => ("AND s.rowid < ?2", "DESC"),
            Some(Cursor::After(_)) => ("AND s.rowid > ?2", "ASC"),
            None => ("AND ?2 IS NULL", "DESC"),
        };
        let at = cursor.map(|c| match c {
            Cursor::Before(id) | Cursor::After(id) => id,
        });
        let sql = format!(
            "SELECT {LISTED} FROM items_fts s CROSS JOIN items i ON i.id = s.rowid JOIN feeds f ON f.id = i.feed_id
             WHERE items_fts MATCH ?1 {cond} ORDER BY s.rowid {order} LIMIT ?3"
        );
        let rows = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params![expression, at, (limit + 1) as i64], listed)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut page = paged(rows, cursor, limit);
        self.attach_matches(&mut page.items)?;
        Ok(page)
    }

    fn attach_matches(&self, items: &mut [ListedItem]) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT topic, score, evidence FROM matches WHERE item_id = ?1 ORDER BY score DESC, topic",
        )?;
        for it in items {
            it.matches = stmt
                .query_map([it.id], |r| {
                    Ok(StoredMatch {
                        topic: r.get(0)?,
                        score: r.get(1)?,
                        evidence_json: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
        }
        Ok(())
    }

    /// One item with everything stored about it, if it exists.
    pub fn item_detail(&self, id: i64) -> Result<Option<ItemDetail>, StoreError> {
        let found = self
            .conn
            .prepare_cached(
                "SELECT i.id, f.name, f.language, i.url, i.canonical_url, i.title, veille_text(i.text), veille_text(i.article_text),
                        i.article_status, i.author, i.published_at, i.fetched_at, i.language,
                        i.language_source, i.language_confidence,
                        (SELECT group_concat(g.name, char(10)) FROM item_sources s JOIN feeds g ON g.id = s.feed_id
                         WHERE s.item_id = i.id)
                 FROM items i JOIN feeds f ON f.id = i.feed_id WHERE i.id = ?1",
            )?
            .query_row([id], |r| {
                Ok(ItemDetail {
                    id: r.get(0)?,
                    feed: r.get(1)?,
                    feed_language: r.get(2)?,
                    url: r.get(3)?,
                    canonical_url: r.get(4)?,
                    title: r.get(5)?,
                    text: r.get(6)?,
                    article_text: r.get(7)?,
                    article_status: r.get(8)?,
                    author: r.get(9)?,
                    published: r.get(10)?,
                    fetched_at: r.get(11)?,
                    language: r.get(12)?,
                    language_source: r.get(13)?,
                    language_confidence: r.get(14)?,
                    feeds: r
                        .get::<_, Option<String>>(15)?
                        .map(|f| f.split('\n').map(str::to_string).collect())
                        .unwrap_or_default(),
                    matches: Vec::new(),
                })
            })
            .optional()?;
        let Some(mut item) = found else {
            return Ok(None);
        };
        item.matches = self.matches(id)?;
        Ok(Some(item))
    }

    /// The digests that carried an item, newest first.
    pub fn item_digests(&self, item_id: i64) -> Result<Vec<DigestRef>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.id, d.watchlist, d.subject, d.status, d.composed_at, d.sent_at
             FROM digest_items di JOIN digests d ON d.id = di.digest_id
             WHERE di.item_id = ?1 ORDER BY d.composed_at DESC, d.id DESC",
        )?;
        let rows = stmt.query_map([item_id], |r| {
            Ok(DigestRef {
                id: r.get(0)?,
                watchlist: r.get(1)?,
                subject: r.get(2)?,
                status: r.get(3)?,
                composed_at: r.get(4)?,
                sent_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One digest and the message as composed (and mailed), if it exists.
    pub fn digest_message(&self, id: i64) -> Result<Option<(DigestRow, Vec<u8>)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {}, d.message
                     FROM digests d LEFT JOIN digest_webhooks w ON w.digest_id = d.id WHERE d.id = ?1",
                    super::digests::DIGEST_ROW_COLUMNS
                ),
                [id],
                |r| Ok((super::digests::digest_row(r)?, r.get(18)?)),
            )
            .optional()?)
    }

    /// The names of all feeds, sorted (cheap: no counts).
    pub fn feed_names(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name FROM feeds ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Why a feed's recent article pages gave no text: status and count over its last `recent`
    /// items whose page was fetched.
    pub fn article_failure_reasons(
        &self,
        feed_id: i64,
        recent: usize,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT article_status, COUNT(*) FROM
               (SELECT article_status FROM items WHERE feed_id = ?1 AND article_status IS NOT NULL
                ORDER BY id DESC LIMIT ?2)
             WHERE article_status <> 'ok' GROUP BY article_status ORDER BY COUNT(*) DESC, article_status",
        )?;
        let rows = stmt.query_map(params![feed_id, recent as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ParsedItem;
    use crate::store::NewItem;

    /// Two feeds; item n is dated n hours after a start, in `en` when even, `fr` when odd;
    /// items 0..10 match `a`, every third also `b`; item 10 matches nothing.
    fn store() -> (Store, Vec<i64>) {
        let mut s = Store::open_in_memory().unwrap();
        let feed = |name: &str| {
            crate::config::FeedConfig::for_tests(
                name,
                &format!("https://x.eu/{name}"),
                crate::config::FetchArticle::Never,
            )
        };
        let start: DateTime<Utc> = "2026-06-01T00:00:00Z".parse().unwrap();
        s.sync_feeds(&[feed("f"), feed("g")], start).unwrap();
        let m = |topic: &str, score: f64| StoredMatch {
            topic: topic.into(),
            score,
            evidence_json: "[]".into(),
        };
        let mut ids = Vec::new();
        for n in 0..11i64 {
            let mut matches = Vec::new();
            if n < 10 {
                matches.push(m("a", 0.5 + n as f64 / 100.0));
                if n % 3 == 0 {
                    matches.push(m("b", 0.9));
                }
            }
            let item = NewItem {
                parsed: ParsedItem {
                    guid: format!("g{n}"),
                    title: format!("t{n}"),
                    text: "x".into(),
                    published: Some(start + chrono::Duration::hours(n)),
                    ..ParsedItem::default()
                },
                language: Some(if n % 2 == 0 { "en" } else { "fr" }.into()),
                matches,
                ..NewItem::default()
            };
            let feed_id = if n < 8 { 1 } else { 2 };
            ids.extend(s.store_items(feed_id, &[item], start).unwrap().new_ids);
        }
        (s, ids)
    }

    fn titles(p: &Page<ListedItem>) -> Vec<String> {
        p.items.iter().map(|i| i.title.clone()).collect()
    }

    #[test]
    fn matches_are_listed_newest_first_once_each_whichever_way_they_are_read() {
        let (s, ids) = store();
        let q = |f: &dyn Fn(&mut MatchQuery)| {
            let mut q = MatchQuery {
                limit: 4,
                ..MatchQuery::default()
            };
            f(&mut q);
            s.list_matches(&q).unwrap()
        };
        // All topics: items with two matches appear once; item 10 (no match) never.
        let p = q(&|_| {});
        assert_eq!(titles(&p), ["t9", "t8", "t7", "t6"]);
        assert_eq!((p.newer, p.older), (None, Some(Cursor::Before(ids[6]))));
        let p2 = q(&|q| q.cursor = p.older);
        assert_eq!(titles(&p2), ["t5", "t4", "t3", "t2"]);
        assert_eq!(p2.newer, Some(Cursor::After(ids[5])));
        let back = q(&|q| q.cursor = p2.newer);
        assert_eq!(titles(&back), titles(&p), "paging back gives the same page");
        let last = q(&|q| q.cursor = Some(Cursor::Before(ids[2])));
        assert_eq!(
            (titles(&last), last.older),
            (vec!["t1".into(), "t0".into()], None)
        );
        // One topic (its own index), with a language and a score.
        assert_eq!(
            titles(&q(&|q| q.topics = vec!["b".into()])),
            ["t9", "t6", "t3", "t0"]
        );
        let p = q(&|q| {
            q.topics = vec!["a".into(), "b".into()];
            q.languages = vec!["fr".into()];
            q.min_score = 0.55;
        });
        assert_eq!(titles(&p), ["t9", "t7", "t5", "t3"]);
        // A feed (its items, sorted); a date range.
        assert_eq!(titles(&q(&|q| q.feeds = vec!["g".into()])), ["t9", "t8"]);
        let p = q(&|q| {
            q.from = Some("2026-06-01T02:00:00Z".parse().unwrap());
            q.until = Some("2026-06-01T04:00:00Z".parse().unwrap());
        });
        assert_eq!(titles(&p), ["t3", "t2"]);
        // Each listed item carries all its matches, best first.
        let p = q(&|q| q.topics = vec!["b".into()]);
        assert_eq!(p.items[0].matches.len(), 2);
        assert_eq!(p.items[0].matches[0].topic, "b");
    }

    #[test]
    fn a_changed_date_or_language_moves_the_item_in_the_list() {
        let (mut s, ids) = store();
        s.conn
            .execute(
                "UPDATE items SET published_at = '2027-01-01T00:00:00Z' WHERE id = ?1",
                [ids[0]],
            )
            .unwrap();
        s.set_classification(ids[9], Some("de"), &[], Utc::now())
            .unwrap();
        s.set_classification(
            ids[8],
            Some("de"),
            &[StoredMatch {
                topic: "a".into(),
                score: 0.7,
                evidence_json: "[]".into(),
            }],
            Utc::now(),
        )
        .unwrap();
        let de = s
            .list_matches(&MatchQuery {
                languages: vec!["de".into()],
                limit: 5,
                ..MatchQuery::default()
            })
            .unwrap();
        assert_eq!(
            titles(&de),
            ["t8"],
            "item 9 lost its matches; item 8 is German now"
        );
        let p = s
            .list_matches(&MatchQuery {
                limit: 2,
                ..MatchQuery::default()
            })
            .unwrap();
        assert_eq!(titles(&p), ["t0", "t8"]);
    }

    fn term(w: &[&str], prefix: bool, negated: bool) -> SearchTerm {
        SearchTerm {
            words: w.iter().map(|s| s.to_string()).collect(),
            prefix,
            negated,
        }
    }

    #[test]
    fn fts_expressions_quote_every_word() {
        assert_eq!(
            fts_expression(&[
                term(&["otan"], false, false),
                term(&["cyber"], true, false),
                term(&["a\"b", "c"], false, false),
                term(&["usa"], false, true),
            ])
            .as_deref(),
            Some("(\"otan\" AND \"cyber\"* AND \"a\"\"b c\") NOT \"usa\"")
        );
        assert_eq!(fts_expression(&[term(&["x"], false, true)]), None);
        assert_eq!(fts_expression(&[]), None);
    }
}

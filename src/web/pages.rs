//! The routes and their handlers: read the request strictly (bad input is a 400 page), ask the
//! store, shape the view, render its template. Only the judgement and login handlers write.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Utc;
use maud::Markup;

use super::auth::{self, Csrf};
use super::highlight::{self, Needle};
use super::query::{self, MatchFilters};
use super::templates::{self, atom, item, judge, matches};
use super::{PageError, State, mail};
use crate::digest::evidence::{self, ConceptTerms};
use crate::digest::group::{StoryKey, group_stories};
use crate::links;
use crate::pipeline::language;
use crate::pipeline::schedule::FAILING_AFTER;
use crate::store::{
    Cursor, ItemDetail, ListedItem, MatchQuery, NewJudgement, StoredMatch, Verdict, fts_expression,
};

/// Items per page (matches, search) and per Atom feed.
pub const PAGE_SIZE: usize = 50;
/// Languages that lead a story with several versions, in order.
const LEAD_LANGUAGES: [&str; 3] = ["en", "fr", "de"];
/// Bytes of text and HTML compared when grouping a page's items into stories.
const GROUP_BYTES: usize = 1500;
/// Characters of a snippet.
const SNIPPET_CHARS: usize = 240;

const CSS: &str = include_str!("static/veille.css");
const ICON: &str = include_str!("static/icon.svg");

type PageResult = Result<Response, PageError>;

pub fn routes(state: Arc<State>) -> Router {
    Router::new()
        .route("/", get(matches_page))
        .route("/items/{id}", get(item_page))
        .route("/items/{id}/judge", axum::routing::post(judge_on_page))
        .route("/search", get(search_page))
        .route("/feeds", get(feeds_page))
        .route("/digests", get(digests_page))
        .route("/digests/{id}", get(digest_page))
        .route("/digests/{id}/mail", get(digest_mail))
        .route("/watchlists/{file}", get(atom_feed))
        .route("/judge/{item}/{topic}", get(judge_page).post(judge_by_link))
        .route("/login", get(login_page).post(login))
        .route("/static/veille.css", get(css))
        .route("/static/icon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), auth::guard))
        .layer(middleware::from_fn(auth::security_headers))
        .with_state(state)
}

fn html(m: Markup) -> Response {
    m.into_response()
}

async fn not_found() -> Response {
    PageError::NotFound("There is no page here.".into()).into_response()
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
        .into_response()
}

/// A positive item or digest number from a path segment.
fn number(what: &str, s: &str) -> Result<i64, PageError> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| PageError::BadRequest(format!("{what} must be a number, not {s:?}")))
}

/// Refuses any query string on pages that take none.
fn no_query(raw: &Option<String>) -> Result<(), PageError> {
    query::pairs(raw.as_deref().unwrap_or(""), &[])?;
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `chars` characters of a one-line text, cut on a word, with `…`.
fn cut(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        None => s.to_string(),
        Some((end, _)) => {
            let head = &s[..end];
            let head = head
                .rfind(' ')
                .filter(|&i| i > end / 2)
                .map_or(head, |i| &head[..i]);
            format!("{head}…")
        }
    }
}

fn owned(pieces: Vec<(bool, &str)>) -> Vec<(bool, String)> {
    pieces
        .into_iter()
        .map(|(m, s)| (m, s.to_string()))
        .collect()
}

/// `text` with `needles` marked.
fn mark(text: &str, needles: &[Needle]) -> Vec<(bool, String)> {
    owned(highlight::pieces(text, &highlight::ranges(text, needles)))
}

/// The matched words of stored evidence, as whole-word needles.
fn needles_of(ev: &[ConceptTerms]) -> Vec<Needle> {
    ev.iter()
        .flat_map(|c| &c.terms)
        .map(|t| Needle {
            text: t.clone(),
            prefix: false,
        })
        .collect()
}

fn page_link(base: &str, filters: &str, cursor: Option<Cursor>) -> Option<String> {
    let c = match cursor? {
        Cursor::Before(id) => format!("before={id}"),
        Cursor::After(id) => format!("after={id}"),
    };
    Some(if filters.is_empty() {
        format!("{base}?{c}")
    } else {
        format!("{base}?{filters}&{c}")
    })
}

// ---- matches ----

/// The store query of the filters, after checking names against the configuration; `Err` with
/// a note when the filters contradict each other (nothing can match).
fn match_query(
    state: &State,
    f: &MatchFilters,
    feeds: &[String],
) -> Result<Result<MatchQuery, String>, PageError> {
    let wl = match &f.watchlist {
        Some(name) => Some(
            state
                .watchlists
                .iter()
                .find(|w| &w.name == name)
                .ok_or_else(|| PageError::BadRequest(format!("no watch list named {name:?}")))?,
        ),
        None => None,
    };
    if let Some(t) = &f.topic
        && !state.topics().contains(t)
    {
        return Err(PageError::BadRequest(format!("no topic named {t:?}")));
    }
    if let Some(name) = &f.feed
        && !feeds.contains(name)
    {
        return Err(PageError::BadRequest(format!("no feed named {name:?}")));
    }
    // A filter narrows what the watch list allows; an empty list allows everything.
    let narrow =
        |allowed: &[String], chosen: &Option<String>, what: &str| -> Result<Vec<String>, String> {
            match chosen {
                Some(c) if allowed.is_empty() || allowed.contains(c) => Ok(vec![c.clone()]),
                Some(c) => Err(format!("The watch list does not take {what} {c}.")),
                None => Ok(allowed.to_vec()),
            }
        };
    let none: Vec<String> = Vec::new();
    let q = (|| {
        Ok(MatchQuery {
            topics: narrow(wl.map_or(&none, |w| &w.topics), &f.topic, "topic")?,
            feeds: narrow(wl.map_or(&none, |w| &w.feeds), &f.feed, "feed")?,
            languages: narrow(wl.map_or(&none, |w| &w.languages), &f.language, "language")?,
            min_score: f
                .min_score
                .unwrap_or(0.0)
                .max(wl.map_or(0.0, |w| w.min_score)),
            from: f.from_time(),
            until: f.until_time(),
            cursor: f.cursor,
            limit: PAGE_SIZE,
        })
    })();
    Ok(q)
}

/// The matches of `it` on the topics of `q` at its minimum score, best first.
fn relevant<'a>(it: &'a ListedItem, q: &MatchQuery) -> Vec<&'a StoredMatch> {
    it.matches
        .iter()
        .filter(|m| (q.topics.is_empty() || q.topics.contains(&m.topic)) && m.score >= q.min_score)
        .collect()
}

fn version(it: &ListedItem) -> matches::Version {
    matches::Version {
        id: it.id,
        title: one_line(&it.title),
        url: it.url.clone(),
        feed: it.feed.clone(),
        date: it.published.or(Some(it.fetched_at)),
        language: it.language.clone(),
    }
}

/// The first `bytes` of `s`, cut on a char boundary.
fn head(s: &str, bytes: usize) -> &str {
    let mut end = bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Groups a page of items into stories as digests do (language versions of one story), on the
/// start of each text and its HTML ([`GROUP_BYTES`]): pairs are compared with each other, and
/// whole articles would make a page slow.
fn stories(items: &[ListedItem], q: &MatchQuery) -> Vec<matches::Story> {
    // One highlighter for the page: the evidence terms of every item shown.
    let needles: Vec<Needle> = items
        .iter()
        .flat_map(|it| relevant(it, q))
        .flat_map(|m| needles_of(&evidence::concept_terms(&m.evidence_json)))
        .collect();
    let highlighter = highlight::Highlighter::new(&needles);
    let keys: Vec<StoryKey<'_>> = items
        .iter()
        .map(|c| StoryKey {
            url: c.url.as_deref(),
            language: c.language.as_deref(),
            published: c.published,
            text: head(&c.text, GROUP_BYTES),
            html: c.html.as_deref().map(|h| head(h, GROUP_BYTES)),
        })
        .collect();
    group_stories(&keys)
        .into_iter()
        .filter_map(|group| {
            let mut members: Vec<&ListedItem> = group.iter().map(|&i| &items[i]).collect();
            // As in digests: an English, French or German version leads.
            members.sort_by_key(|m| {
                let l = m.language.as_deref().unwrap_or("");
                LEAD_LANGUAGES
                    .iter()
                    .position(|x| *x == l)
                    .unwrap_or(LEAD_LANGUAGES.len())
            });
            let lead = members[0];
            let all: Vec<&StoredMatch> = members.iter().flat_map(|m| relevant(m, q)).collect();
            let best = all.iter().max_by(|a, b| a.score.total_cmp(&b.score))?;
            let ev = evidence::merge(
                all.iter()
                    .map(|m| evidence::concept_terms(&m.evidence_json)),
            );
            let snippet = cut(
                &one_line(head(&lead.text, 4 * SNIPPET_CHARS)),
                SNIPPET_CHARS,
            );
            Some(matches::Story {
                snippet: owned(highlight::pieces(&snippet, &highlighter.ranges(&snippet))),
                lead: version(lead),
                others: members[1..].iter().map(|m| version(m)).collect(),
                topic: best.topic.clone(),
                score: best.score,
                evidence: ev,
            })
        })
        .collect()
}

async fn matches_page(AxState(state): AxState<Arc<State>>, RawQuery(raw): RawQuery) -> PageResult {
    let filters = query::match_filters(raw.as_deref().unwrap_or(""))?;
    let st = Arc::clone(&state);
    let f = filters.clone();
    let (feeds, q, page) = state
        .db(move |store| {
            let feeds = store.feed_names()?;
            let q = match match_query(&st, &f, &feeds) {
                Ok(q) => q,
                Err(e) => return Ok((feeds, Err(e), None)),
            };
            let page = match &q {
                Ok(q) => Some(store.list_matches(q)?),
                Err(_) => None,
            };
            Ok((feeds, Ok(q), page))
        })
        .await?;
    let q = q?;
    let filters_query = filters.to_query();
    let (stories, newer, older, note) = match (&q, page) {
        (Ok(q), Some(page)) => (
            stories(&page.items, q),
            page_link("/", &filters_query, page.newer),
            page_link("/", &filters_query, page.older),
            None,
        ),
        (Err(note), _) => (Vec::new(), None, None, Some(note.clone())),
        _ => (Vec::new(), None, None, None),
    };
    let view = matches::View {
        filters: &filters,
        options: matches::Options {
            watchlists: state.watchlists.iter().map(|w| w.name.clone()).collect(),
            topics: state.topics(),
            languages: language::EU_LANGUAGES
                .iter()
                .map(|l| l.to_string())
                .collect(),
            feeds,
        },
        stories,
        newer,
        older,
        note,
    };
    Ok(html(matches::page(&view)))
}

// ---- one item ----

/// How the language was decided, in words.
fn language_how(it: &ItemDetail) -> String {
    let said = |source: &str| match source {
        "text" => "read from the text",
        "item" => "declared by the item",
        "page" => "declared by the article page",
        "url" => "named by the link",
        "configured" => "configured for the feed",
        "feed" => "declared by the feed",
        _ => "decided",
    };
    match (&it.language_source, it.language_confidence) {
        (Some(s), Some(c)) => format!("{} (confidence {c:.2})", said(s)),
        (Some(s), None) => said(s).to_string(),
        (None, _) => {
            let hints = language::Hints {
                configured: it.feed_language.as_deref(),
                url: it.url.as_deref(),
                ..Default::default()
            };
            match language::detect(&it.title, it.body(), &hints) {
                Some(d) => format!(
                    "stored before veille recorded how; read again now: {} {} (confidence {:.2})",
                    d.code,
                    said(d.source.as_str()),
                    d.confidence
                ),
                None => "stored before veille recorded how; nothing decides it now".into(),
            }
        }
    }
}

async fn item_page(
    AxState(state): AxState<Arc<State>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    Extension(csrf): Extension<Csrf>,
) -> PageResult {
    let id = number("the item", &id)?;
    no_query(&raw)?;
    let st = Arc::clone(&state);
    let found = state
        .db(move |store| {
            let Some(item) = store.item_detail(id)? else {
                return Ok(None);
            };
            let digests = store.item_digests(id)?;
            let judgements = store.judgements_of(id)?;
            let now =
                st.classifier
                    .classify_item(&item.title, item.body(), item.language.as_deref());
            Ok(Some((item, digests, judgements, now)))
        })
        .await?;
    let Some((item, digests, judgements, now)) = found else {
        return Err(PageError::NotFound(format!("There is no item {id}.")));
    };
    let mut topics: Vec<item::TopicRow> = state
        .classifier
        .topics()
        .iter()
        .map(|t| item::TopicRow {
            id: t.id.clone(),
            name: t.name.clone(),
            threshold: Some(t.threshold),
            stored: None,
            now: None,
            verdict: None,
        })
        .collect();
    for m in &item.matches {
        if !topics.iter().any(|t| t.id == m.topic) {
            topics.push(item::TopicRow {
                id: m.topic.clone(),
                name: m.topic.clone(),
                threshold: None,
                stored: None,
                now: None,
                verdict: None,
            });
        }
    }
    let mut needles = Vec::new();
    for row in &mut topics {
        if let Some(m) = item.matches.iter().find(|m| m.topic == row.id) {
            let ev = evidence::concept_terms(&m.evidence_json);
            needles.extend(needles_of(&ev));
            row.stored = Some((m.score, ev));
        }
        if let Some(r) = now.iter().find(|r| r.id == row.id) {
            let ev = evidence::concept_terms(
                &serde_json::to_string(&r.evidence).unwrap_or_else(|_| "[]".into()),
            );
            needles.extend(needles_of(&ev));
            row.now = Some((r.score, r.matched, ev));
        }
        row.verdict = judgements
            .iter()
            .rev()
            .find(|j| j.topic == row.id)
            .map(|j| j.verdict);
    }
    needles.sort();
    needles.dedup();
    let view = item::View {
        title: mark(&item.title, &needles),
        body: mark(item.body(), &needles),
        language_how: language_how(&item),
        item,
        topics,
        digests,
        judgements,
        csrf: csrf.token,
    };
    Ok(html(item::page(&view)))
}

/// A form body as pairs of the `allowed` keys.
fn form(
    body: &Bytes,
    allowed: &[&str],
) -> Result<std::collections::BTreeMap<String, String>, PageError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| PageError::BadRequest("the form is not UTF-8".into()))?;
    Ok(query::pairs(text, allowed)?)
}

/// Checks a verdict against the item's state for the topic and records it.
async fn record(
    state: &Arc<State>,
    item_id: i64,
    topic: String,
    verdict: Verdict,
    via: &'static str,
) -> Result<(), PageError> {
    let known = state.topics();
    let recorded = state
        .db(move |store| {
            let matched = store.matches(item_id)?.iter().any(|m| m.topic == topic);
            if !matched && !known.contains(&topic) {
                return Ok(Err(format!("no topic named {topic:?}")));
            }
            if matched == (verdict == Verdict::ShouldMatch) {
                return Ok(Err(if matched {
                    format!("the item matches {topic}: say relevant or not relevant")
                } else {
                    format!("the item does not match {topic}: say should match")
                }));
            }
            let j = NewJudgement {
                item_id,
                topic,
                verdict,
                via,
                at: Utc::now(),
            };
            Ok(store
                .record_judgement(&j)?
                .ok_or_else(|| format!("There is no item {item_id}.")))
        })
        .await?;
    match recorded {
        Ok(id) => {
            tracing::info!(
                item = item_id,
                verdict = verdict.as_str(),
                via,
                judgement = id,
                "judgement recorded"
            );
            Ok(())
        }
        Err(e) if e.starts_with("There is no") => Err(PageError::NotFound(e)),
        Err(e) => Err(PageError::BadRequest(e)),
    }
}

fn verdict_of(f: &std::collections::BTreeMap<String, String>) -> Result<Verdict, PageError> {
    let v = f
        .get("verdict")
        .ok_or_else(|| PageError::BadRequest("the form names no verdict".into()))?;
    Verdict::parse(v).ok_or_else(|| PageError::BadRequest(format!("unknown verdict {v:?}")))
}

async fn judge_on_page(
    AxState(state): AxState<Arc<State>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let id = number("the item", &id)?;
    let f = form(&body, &["csrf", "topic", "verdict"])?;
    auth::check_csrf(&state, &headers, f.get("csrf").map(String::as_str))?;
    let topic = f
        .get("topic")
        .cloned()
        .ok_or_else(|| PageError::BadRequest("the form names no topic".into()))?;
    record(&state, id, topic, verdict_of(&f)?, "page").await?;
    Ok(Redirect::to(&format!("/items/{id}#topics-h")).into_response())
}

// ---- judgement links ----

/// The item and topic of a judgement link, after its signature is checked.
fn signed(state: &State, item: &str, topic: &str, t: Option<&String>) -> Result<i64, PageError> {
    let item = number("the item", item)?;
    let ok = t.is_some_and(|t| state.key.verify(&links::judge_message(item, topic), t));
    if ok {
        Ok(item)
    } else {
        Err(PageError::Forbidden(
            "This judgement link is not valid: it was altered, or it comes from another veille database.".into(),
        ))
    }
}

async fn judge_page(
    AxState(state): AxState<Arc<State>>,
    Path((item, topic)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    Extension(csrf): Extension<Csrf>,
) -> PageResult {
    let p = query::pairs(raw.as_deref().unwrap_or(""), &["t", "done"])?;
    let item_id = signed(&state, &item, &topic, p.get("t"))?;
    let t = topic.clone();
    let found = state
        .db(move |store| {
            let Some(it) = store.item_detail(item_id)? else {
                return Ok(None);
            };
            let verdict = store
                .judgements_of(item_id)?
                .into_iter()
                .rev()
                .find(|j| j.topic == t)
                .map(|j| j.verdict);
            Ok(Some((it, verdict)))
        })
        .await?;
    let Some((it, verdict)) = found else {
        return Err(PageError::NotFound(format!("There is no item {item_id}.")));
    };
    let stored = it
        .matches
        .iter()
        .find(|m| m.topic == topic)
        .map(|m| (m.score, evidence::concept_terms(&m.evidence_json)));
    let view = judge::View {
        item_id,
        title: one_line(&it.title),
        url: it.url.clone(),
        feed: it.feed.clone(),
        date: it.published.or(Some(it.fetched_at)),
        language: it.language.clone(),
        action: format!("/{}", links::judge_path(&state.key, item_id, &topic)),
        topic,
        stored,
        verdict,
        csrf: csrf.token,
        done: p.contains_key("done"),
    };
    Ok(html(judge::page(&view)))
}

async fn judge_by_link(
    AxState(state): AxState<Arc<State>>,
    Path((item, topic)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let p = query::pairs(raw.as_deref().unwrap_or(""), &["t", "done"])?;
    let item_id = signed(&state, &item, &topic, p.get("t"))?;
    let f = form(&body, &["csrf", "topic", "verdict"])?;
    auth::check_csrf(&state, &headers, f.get("csrf").map(String::as_str))?;
    if f.get("topic").is_some_and(|t| *t != topic) {
        return Err(PageError::BadRequest(
            "the form's topic is not the link's".into(),
        ));
    }
    record(&state, item_id, topic.clone(), verdict_of(&f)?, "link").await?;
    Ok(Redirect::to(&format!(
        "/{}&done=1",
        links::judge_path(&state.key, item_id, &topic)
    ))
    .into_response())
}

// ---- search ----

async fn search_page(AxState(state): AxState<Arc<State>>, RawQuery(raw): RawQuery) -> PageResult {
    let Some(search) = query::search(raw.as_deref().unwrap_or(""))? else {
        return Ok(html(templates::search::page(&templates::search::View {
            query: String::new(),
            hits: Vec::new(),
            searched: false,
            newer: None,
            older: None,
        })));
    };
    let expr = fts_expression(&search.terms)
        .ok_or_else(|| PageError::BadRequest("nothing to search for".into()))?;
    let cursor = search.cursor;
    let page = state
        .db(move |store| store.search(&expr, cursor, PAGE_SIZE))
        .await?;
    let needles: Vec<Needle> = search
        .terms
        .iter()
        .filter(|t| !t.negated)
        .flat_map(|t| {
            let last = t.words.len().saturating_sub(1);
            t.words.iter().enumerate().map(move |(i, w)| Needle {
                text: w.clone(),
                prefix: t.prefix && i == last,
            })
        })
        .collect();
    let highlighter = highlight::Highlighter::new(&needles);
    let hits = page
        .items
        .iter()
        .map(|it| {
            let text = one_line(&it.text);
            let ranges = highlighter.ranges(&text);
            let (window, inside) = highlight::window(&text, &ranges, SNIPPET_CHARS);
            templates::search::Hit {
                id: it.id,
                title: {
                    let t = one_line(&it.title);
                    owned(highlight::pieces(&t, &highlighter.ranges(&t)))
                },
                feed: it.feed.clone(),
                date: it.published.or(Some(it.fetched_at)),
                language: it.language.clone(),
                topics: it
                    .matches
                    .iter()
                    .map(|m| (m.topic.clone(), m.score))
                    .collect(),
                snippet: owned(highlight::pieces(&window, &inside)),
            }
        })
        .collect();
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", &search.text)
        .finish();
    Ok(html(templates::search::page(&templates::search::View {
        query: search.text,
        hits,
        searched: true,
        newer: page_link("/search", &q, page.newer),
        older: page_link("/search", &q, page.older),
    })))
}

// ---- feeds and digests ----

async fn feeds_page(AxState(state): AxState<Arc<State>>, RawQuery(raw): RawQuery) -> PageResult {
    no_query(&raw)?;
    let rows = state
        .db(|store| {
            let feeds = store.feeds()?;
            feeds
                .into_iter()
                .map(|f| {
                    let reasons = if f.article_failures > 0 {
                        store.article_failure_reasons(f.id, 50)?
                    } else {
                        Vec::new()
                    };
                    Ok(templates::feeds::Row {
                        state: f.state(FAILING_AFTER),
                        feed: f,
                        reasons,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(html(templates::feeds::page(&rows)))
}

async fn digests_page(AxState(state): AxState<Arc<State>>, RawQuery(raw): RawQuery) -> PageResult {
    no_query(&raw)?;
    let rows = state.db(|store| store.digests(None)).await?;
    Ok(html(templates::digests::list(&rows)))
}

async fn digest_page(
    AxState(state): AxState<Arc<State>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let id = number("the digest", &id)?;
    no_query(&raw)?;
    let found = state
        .db(move |store| {
            Ok(match store.digest_message(id)? {
                Some((row, _)) => Some((row, store.digest_item_ids(id)?)),
                None => None,
            })
        })
        .await?;
    let (row, items) =
        found.ok_or_else(|| PageError::NotFound(format!("There is no digest {id}.")))?;
    Ok(html(templates::digests::one(&row, &items)))
}

/// The digest's HTML part, sanitised, as its own document: no script can run (sanitised, and a
/// CSP sandbox that allows none), only inline styles, framed only by this server's pages.
async fn digest_mail(
    AxState(state): AxState<Arc<State>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let id = number("the digest", &id)?;
    no_query(&raw)?;
    let found = state.db(move |store| store.digest_message(id)).await?;
    let (_, message) =
        found.ok_or_else(|| PageError::NotFound(format!("There is no digest {id}.")))?;
    let doc = mail::as_mailed(&message);
    let mut resp = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], doc).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; form-action 'none'; sandbox allow-popups allow-popups-to-escape-sandbox",
        ),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    Ok(resp)
}

// ---- Atom ----

/// The base URL for absolute links: the configured one, else this request's host.
fn base_url(state: &State, headers: &HeaderMap) -> String {
    if let Some(u) = &state.url {
        return u.to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}/")
}

async fn atom_feed(
    AxState(state): AxState<Arc<State>>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> PageResult {
    no_query(&raw)?;
    let name = file
        .strip_suffix(".atom")
        .ok_or_else(|| PageError::NotFound("watch list feeds end in .atom".into()))?;
    let wl = state
        .watchlists
        .iter()
        .find(|w| w.name == name)
        .ok_or_else(|| PageError::NotFound(format!("There is no watch list {name:?}.")))?
        .clone();
    let q = MatchQuery {
        topics: wl.topics.clone(),
        feeds: wl.feeds.clone(),
        languages: wl.languages.clone(),
        min_score: wl.min_score,
        limit: PAGE_SIZE,
        ..MatchQuery::default()
    };
    let q2 = q.clone();
    let page = state.db(move |store| store.list_matches(&q2)).await?;
    let base = base_url(&state, &headers);
    let enc = |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    let entries = page
        .items
        .iter()
        .map(|it| {
            let ms = relevant(it, &q);
            let ev = evidence::merge(ms.iter().map(|m| evidence::concept_terms(&m.evidence_json)));
            let why: Vec<String> = ev
                .iter()
                .map(|c| format!("{}: {}", c.concept, c.terms.join(", ")))
                .collect();
            let scores: Vec<String> = ms
                .iter()
                .map(|m| format!("{} {:.2}", m.topic, m.score))
                .collect();
            atom::Entry {
                id: it.id,
                title: one_line(&it.title),
                url: it.url.clone(),
                page: format!("{base}items/{}", it.id),
                feed: it.feed.clone(),
                updated: it.published.unwrap_or(it.fetched_at),
                published: it.published,
                language: it.language.clone(),
                summary: format!(
                    "Score: {}. Why: {}.\n\n{}",
                    scores.join(", "),
                    if why.is_empty() {
                        "-".to_string()
                    } else {
                        why.join("; ")
                    },
                    cut(&one_line(&it.text), SNIPPET_CHARS)
                ),
                topics: ms
                    .iter()
                    .map(|m| m.topic.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            }
        })
        .collect();
    let doc = atom::render(&atom::Feed {
        this: format!("{base}watchlists/{}.atom", enc(&wl.name)),
        page: format!("{base}?watchlist={}", enc(&wl.name)),
        watchlist: wl.name,
        topics: wl.topics,
        entries,
        now: Utc::now(),
    });
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        doc,
    )
        .into_response())
}

// ---- login ----

async fn login_page(
    AxState(state): AxState<Arc<State>>,
    RawQuery(raw): RawQuery,
    Extension(csrf): Extension<Csrf>,
) -> PageResult {
    let p = query::pairs(raw.as_deref().unwrap_or(""), &["next"])?;
    if state.token.is_none() {
        return Ok(Redirect::to("/").into_response());
    }
    let next = safe_next(p.get("next").map(String::as_str));
    Ok(html(templates::login::page(&csrf.token, &next, None)))
}

/// A local path to go back to after login (never another site).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

async fn login(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    Extension(csrf): Extension<Csrf>,
    body: Bytes,
) -> PageResult {
    let f = form(&body, &["csrf", "token", "next"])?;
    auth::check_csrf(&state, &headers, f.get("csrf").map(String::as_str))?;
    let Some(token) = &state.token else {
        return Ok(Redirect::to("/").into_response());
    };
    let next = safe_next(f.get("next").map(String::as_str));
    let given = f.get("token").map_or("", String::as_str);
    if !auth::token_matches(&state.key, token, given) {
        tracing::warn!("web view login refused: wrong token");
        return Ok((
            StatusCode::UNAUTHORIZED,
            templates::login::page(&csrf.token, &next, Some("That is not the token.")),
        )
            .into_response());
    }
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict{}",
        auth::SESSION_COOKIE,
        auth::session_value(&state.key, token),
        auth::secure_attr(&state)
    );
    let mut resp = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

//! The matches page: filters, then the matched items newest first, grouped into stories like a
//! digest (lead version, its other language versions, score, why it matched), then paging.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::{Nav, day, evidence, layout, marked, outside_link, score};
use crate::digest::evidence::ConceptTerms;
use crate::web::query::MatchFilters;

/// One language version of a story.
#[derive(Debug, Clone)]
pub struct Version {
    pub id: i64,
    pub title: String,
    pub url: Option<String>,
    pub feed: String,
    pub date: Option<DateTime<Utc>>,
    pub language: Option<String>,
}

/// One story on the page.
#[derive(Debug, Clone)]
pub struct Story {
    pub lead: Version,
    pub snippet: Vec<(bool, String)>,
    pub others: Vec<Version>,
    pub topic: String,
    pub score: f64,
    pub evidence: Vec<ConceptTerms>,
}

/// The choices of the filter form.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub watchlists: Vec<String>,
    pub topics: Vec<String>,
    pub languages: Vec<String>,
    pub feeds: Vec<String>,
}

pub struct View<'a> {
    pub filters: &'a MatchFilters,
    pub options: Options,
    pub stories: Vec<Story>,
    /// Links to the neighbouring pages.
    pub newer: Option<String>,
    pub older: Option<String>,
    /// Why the list is empty, when it is.
    pub note: Option<String>,
}

fn select(name: &str, label: &str, all: &str, choices: &[String], chosen: Option<&str>) -> Markup {
    html! {
        label {
            span { (label) }
            select name=(name) {
                option value="" { (all) }
                @for c in choices {
                    option value=(c) selected[chosen == Some(c.as_str())] { (c) }
                }
            }
        }
    }
}

fn lang(l: &Option<String>) -> &str {
    l.as_deref().unwrap_or("??")
}

pub fn page(v: &View<'_>) -> Markup {
    let f = v.filters;
    layout(
        "Matches",
        Nav::Matches,
        "",
        html! {
            h1 { "Matches" }
            form.filters method="get" action="/" {
                (select("watchlist", "Watch list", "any", &v.options.watchlists, f.watchlist.as_deref()))
                (select("topic", "Topic", "any", &v.options.topics, f.topic.as_deref()))
                (select("language", "Language", "any", &v.options.languages, f.language.as_deref()))
                (select("feed", "Feed", "any", &v.options.feeds, f.feed.as_deref()))
                label { span { "From" } input type="date" name="from" value=[f.from.map(|d| d.to_string())]; }
                label { span { "To" } input type="date" name="to" value=[f.to.map(|d| d.to_string())]; }
                label { span { "Min. score" }
                    input type="number" name="min_score" min="0" max="1" step="0.05"
                        value=[f.min_score.map(|s| s.to_string())];
                }
                div.actions {
                    button type="submit" { "Filter" }
                    a href="/" { "Reset" }
                }
            }
            @if v.stories.is_empty() {
                p.empty { (v.note.as_deref().unwrap_or("No matched items.")) }
            }
            ol.entries {
                @for s in &v.stories {
                    li.entry {
                        h2 lang=(s.lead.language.as_deref().unwrap_or("und")) {
                            a href={ "/items/" (s.lead.id) } { (s.lead.title) }
                        }
                        p.meta {
                            (s.lead.feed) " · " (day(s.lead.date)) " · " (lang(&s.lead.language))
                            " · " span.score title="best score on the topics shown" { (s.topic) " " (score(s.score)) }
                            @if s.lead.url.is_some() { " · " (outside_link(s.lead.url.as_deref(), "original")) }
                        }
                        @if !s.snippet.is_empty() {
                            p.snippet lang=(s.lead.language.as_deref().unwrap_or("und")) { (marked(&s.snippet)) }
                        }
                        @if !s.evidence.is_empty() {
                            p.why { "Why: " (evidence(&s.evidence)) }
                        }
                        @if !s.others.is_empty() {
                            details.versions {
                                summary { "Also in " (s.others.iter().map(|o| lang(&o.language)).collect::<Vec<_>>().join(", ")) }
                                ul {
                                    @for o in &s.others {
                                        li lang=(o.language.as_deref().unwrap_or("und")) {
                                            "[" (lang(&o.language)) "] "
                                            a href={ "/items/" (o.id) } { (o.title) }
                                            " — " (o.feed) ", " (day(o.date))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (pager(v.newer.as_deref(), v.older.as_deref()))
        },
    )
}

/// "← Newer · Older →" links.
pub fn pager(newer: Option<&str>, older: Option<&str>) -> Markup {
    html! {
        @if newer.is_some() || older.is_some() {
            nav.pager aria-label="Pages of the list" {
                @if let Some(n) = newer { a rel="prev" href=(n) { "← Newer" } }
                @if let Some(o) = older { a rel="next" href=(o) { "Older →" } }
            }
        }
    }
}

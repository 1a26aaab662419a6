//! The search page: the search box with its syntax, then every stored item (matched or not)
//! holding the words, newest stored first, each with a snippet around the first hit.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::matches::pager;
use super::{Nav, day, layout, marked, score};

/// One item found.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: i64,
    pub title: Vec<(bool, String)>,
    pub feed: String,
    pub date: Option<DateTime<Utc>>,
    pub language: Option<String>,
    pub topics: Vec<(String, f64)>,
    pub snippet: Vec<(bool, String)>,
}

pub struct View {
    pub query: String,
    pub hits: Vec<Hit>,
    pub searched: bool,
    pub newer: Option<String>,
    pub older: Option<String>,
}

pub fn page(v: &View) -> Markup {
    let title = if v.searched {
        format!("Search: {}", v.query)
    } else {
        "Search".to_string()
    };
    layout(
        &title,
        Nav::Search,
        &v.query,
        html! {
            h1 { "Search every item" }
            form.search method="get" action="/search" role="search" {
                input type="search" name="q" value=(v.query) aria-label="Words to find" maxlength="500" autofocus[!v.searched];
                button type="submit" { "Search" }
            }
            p.help {
                "All words must occur; case and accents do not matter. "
                code { "\"exact phrase\"" } ", " code { "cyber*" } " (word start), "
                code { "-word" } " (leave out). Matched or not: find what the rules missed, open the item and say "
                em { "should match" } "."
            }
            @if v.searched {
                @if v.hits.is_empty() {
                    p.empty { "No stored item holds these words." }
                }
                ol.entries {
                    @for h in &v.hits {
                        li.entry {
                            h2 lang=(h.language.as_deref().unwrap_or("und")) {
                                a href={ "/items/" (h.id) } { (marked(&h.title)) }
                            }
                            p.meta {
                                (h.feed) " · " (day(h.date)) " · " (h.language.as_deref().unwrap_or("??")) " · "
                                @if h.topics.is_empty() { span.unmatched { "no topic" } }
                                @for (i, (t, s)) in h.topics.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    span.score { (t) " " (score(*s)) }
                                }
                            }
                            @if !h.snippet.is_empty() {
                                p.snippet lang=(h.language.as_deref().unwrap_or("und")) { (marked(&h.snippet)) }
                            }
                        }
                    }
                }
                (pager(v.newer.as_deref(), v.older.as_deref()))
            }
        },
    )
}

//! The HTML of the web view (maud: checked at compile time, every value escaped unless wrapped
//! in `PreEscaped`, which only this module's constants and sanitised HTML are). One module per
//! page; the shared frame and small pieces here.

pub mod atom;
pub mod digests;
pub mod error;
pub mod feeds;
pub mod item;
pub mod judge;
pub mod login;
pub mod matches;
pub mod search;

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use crate::digest::evidence::ConceptTerms;

/// Which entry of the navigation is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Matches,
    Search,
    Feeds,
    Digests,
    None,
}

/// The frame of every page: head, navigation with the search box, then `body`.
pub fn layout(title: &str, nav: Nav, search: &str, body: Markup) -> Markup {
    let link = |to: Nav, href: &str, label: &str| {
        html! { a href=(href) aria-current=[(nav == to).then_some("page")] { (label) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · veille" }
                link rel="stylesheet" href="/static/veille.css";
                link rel="icon" href="/static/icon.svg" type="image/svg+xml";
            }
            body {
                header.top {
                    a.brand href="/" { "veille" }
                    nav aria-label="Pages" {
                        (link(Nav::Matches, "/", "Matches"))
                        (link(Nav::Search, "/search", "Search"))
                        (link(Nav::Feeds, "/feeds", "Feeds"))
                        (link(Nav::Digests, "/digests", "Digests"))
                    }
                    form.quick action="/search" method="get" role="search" {
                        input type="search" name="q" value=(search) placeholder="Search every item"
                            aria-label="Search every item" maxlength="500";
                        button type="submit" { "Search" }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// `2026-11-24` or `undated`.
pub fn day(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "undated".into(), |t| t.format("%Y-%m-%d").to_string())
}

/// `2026-11-24 08:30 UTC` or `-`.
pub fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "-".into(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// Text with some pieces marked (highlighted terms).
pub fn marked(pieces: &[(bool, String)]) -> Markup {
    html! {
        @for (m, s) in pieces {
            @if *m { mark { (s) } } @else { (s) }
        }
    }
}

/// A link to a page outside when the URL is http(s), else the label alone.
pub fn outside_link(url: Option<&str>, label: &str) -> Markup {
    html! {
        @match url.filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
            Some(u) => a href=(u) rel="noopener noreferrer" { (label) },
            None => (label),
        }
    }
}

/// "nato: NATO, OTAN · cyber: cybersecurity".
pub fn evidence(ev: &[ConceptTerms]) -> Markup {
    html! {
        @for (i, c) in ev.iter().enumerate() {
            @if i > 0 { " · " }
            b { (c.concept) } ": " (c.terms.join(", "))
        }
    }
}

/// A score as shown: two decimals.
pub fn score(s: f64) -> String {
    format!("{s:.2}")
}

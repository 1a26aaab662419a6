//! The page a digest's "judge" link opens: the item and the topic, and buttons that record the
//! verdict with a POST (fetching the link records nothing: mail scanners follow links).

use maud::{Markup, html};

use super::item::verdict_form;
use super::{Nav, day, evidence, layout, outside_link, score};
use crate::digest::evidence::ConceptTerms;
use crate::store::Verdict;

pub struct View {
    pub item_id: i64,
    pub title: String,
    pub url: Option<String>,
    pub feed: String,
    pub date: Option<chrono::DateTime<chrono::Utc>>,
    pub language: Option<String>,
    pub topic: String,
    pub stored: Option<(f64, Vec<ConceptTerms>)>,
    pub verdict: Option<Verdict>,
    /// The form's target (with the link's signature).
    pub action: String,
    pub csrf: String,
    /// Just recorded.
    pub done: bool,
}

pub fn page(v: &View) -> Markup {
    layout(
        "Judge a match",
        Nav::None,
        "",
        html! {
            h1 { "Is this about " (v.topic) "?" }
            @if v.done {
                p.done role="status" { "Recorded: " b { (v.verdict.map_or("-", |x| x.label())) } ". Thank you. You can change it below." }
            }
            article.entry {
                h2 lang=(v.language.as_deref().unwrap_or("und")) { (outside_link(v.url.as_deref(), &v.title)) }
                p.meta { (v.feed) " · " (day(v.date)) " · " (v.language.as_deref().unwrap_or("??"))
                    @if let Some((s, _)) = &v.stored { " · " span.score { (v.topic) " " (score(*s)) } } }
                @if let Some((_, ev)) = &v.stored { @if !ev.is_empty() { p.why { "Why: " (evidence(ev)) } } }
            }
            (verdict_form(&v.action, &v.csrf, &v.topic, v.stored.is_some(), v.verdict))
            p.help { "Your answer is recorded only when you press a button; it tunes veille's rules ("
                code { "veille eval --judged" } ")." }
            p { a href={ "/items/" (v.item_id) } { "Open the item page" } " (may ask for the web view's token)" }
        },
    )
}

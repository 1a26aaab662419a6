//! The item page: title and link, the text with the evidence terms highlighted, every topic's
//! score (stored, and by the current rules, also below the threshold) with its evidence and the
//! judgement buttons, the feeds, the language and how it was decided, the digests that carried it.

use maud::{Markup, html};

use super::{Nav, day, evidence, layout, marked, outside_link, score, time};
use crate::digest::evidence::ConceptTerms;
use crate::store::{DigestRef, ItemDetail, Judgement, Verdict};

/// One topic of the rules (or found stored) and where the item stands on it.
#[derive(Debug, Clone)]
pub struct TopicRow {
    pub id: String,
    pub name: String,
    pub threshold: Option<f64>,
    /// The stored match: score and evidence, when the item matched at classification.
    pub stored: Option<(f64, Vec<ConceptTerms>)>,
    /// The current rules' score, whether they match, and their evidence.
    pub now: Option<(f64, bool, Vec<ConceptTerms>)>,
    /// The verdict in force.
    pub verdict: Option<Verdict>,
}

pub struct View {
    pub item: ItemDetail,
    pub title: Vec<(bool, String)>,
    pub body: Vec<(bool, String)>,
    pub language_how: String,
    pub topics: Vec<TopicRow>,
    pub digests: Vec<DigestRef>,
    pub judgements: Vec<Judgement>,
    pub csrf: String,
}

/// The judgement buttons of one topic, posting to `action`.
pub fn verdict_form(
    action: &str,
    csrf: &str,
    topic: &str,
    matched: bool,
    current: Option<Verdict>,
) -> Markup {
    let choices: &[Verdict] = if matched {
        &[Verdict::Relevant, Verdict::NotRelevant]
    } else {
        &[Verdict::ShouldMatch]
    };
    html! {
        form.judge method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="topic" value=(topic);
            @for v in choices {
                button type="submit" name="verdict" value=(v.as_str())
                    class={ "verdict " (v.as_str()) } aria-pressed=(current == Some(*v)) {
                    (v.label())
                }
            }
        }
    }
}

pub fn page(v: &View) -> Markup {
    let it = &v.item;
    let lang = it.language.as_deref().unwrap_or("und");
    let action = format!("/items/{}/judge", it.id);
    layout(
        &it.title,
        Nav::None,
        "",
        html! {
            article.item {
                h1 lang=(lang) { (marked(&v.title)) }
                p.meta {
                    (it.feed) " · " (day(it.published)) " · fetched " (time(Some(it.fetched_at)))
                    @if let Some(a) = &it.author { " · " (a) }
                }
                @if let Some(u) = &it.url { p.link { (outside_link(Some(u), u)) } }
                section.topics aria-labelledby="topics-h" {
                    h2 #topics-h { "Topics" }
                    table {
                        thead { tr { th { "Topic" } th { "Stored" } th { "Rules now" } th { "Evidence" } th { "Judgement" } } }
                        tbody {
                            @for t in &v.topics {
                                tr.matched[t.stored.is_some()] {
                                    td { b { (t.id) } @if t.name != t.id { br; small { (t.name) } }
                                        @if let Some(th) = t.threshold { br; small { "threshold " (score(th)) } } }
                                    td { span.ph { "stored: " } @match &t.stored { Some((s, _)) => { "matched " (score(*s)) }, None => { span.unmatched { "not matched" } } } }
                                    td { span.ph { "rules now: " } @match &t.now { Some((s, m, _)) => { (score(*s)) @if *m { " (matches)" } }, None => "—" } }
                                    td.why {
                                        @match (&t.stored, &t.now) {
                                            (Some((_, ev)), _) if !ev.is_empty() => (evidence(ev)),
                                            (_, Some((_, _, ev))) if !ev.is_empty() => (evidence(ev)),
                                            _ => "—",
                                        }
                                    }
                                    td {
                                        (verdict_form(&action, &v.csrf, &t.id, t.stored.is_some(), t.verdict))
                                        @if let Some(verdict) = t.verdict { small.judged { "judged " (verdict.label()) } }
                                    }
                                }
                            }
                        }
                    }
                }
                section.facts aria-labelledby="facts-h" {
                    h2 #facts-h { "About this item" }
                    dl {
                        dt { "Feeds" } dd { (it.feeds.join(", ")) }
                        dt { "Language" } dd { (it.language.as_deref().unwrap_or("unknown")) " — " (v.language_how) }
                        dt { "Text" } dd {
                            @match (&it.article_text, &it.article_status) {
                                (Some(_), _) => "the article page, extracted",
                                (None, Some(s)) => { "the feed's text (article page: " (s) ")" },
                                (None, None) => "the feed's text",
                            }
                        }
                        @if let Some(c) = &it.canonical_url { dt { "Canonical URL" } dd { (c) } }
                        dt { "Digests" } dd {
                            @if v.digests.is_empty() { "none yet" }
                            @for (i, d) in v.digests.iter().enumerate() {
                                @if i > 0 { br; }
                                a href={ "/digests/" (d.id) } { (d.watchlist) " — " (time(Some(d.composed_at))) } " (" (d.status) ")"
                            }
                        }
                        @if !v.judgements.is_empty() {
                            dt #judgements { "Judgements" } dd {
                                ul.judgements {
                                    @for j in v.judgements.iter().rev() {
                                        li { (time(Some(j.judged_at))) ": " b { (j.topic) } " " (j.verdict.label())
                                            " (" @if j.matched { "matched" } @else { "not matched" }
                                            @if let Some(s) = j.score { " " (score(s)) } ", via " (j.via) ")" }
                                    }
                                }
                            }
                        }
                    }
                }
                section.text aria-labelledby="text-h" {
                    h2 #text-h { "Text" }
                    div.body lang=(lang) { (marked(&v.body)) }
                }
            }
        },
    )
}

//! The feeds page: each feed's health as `veille feeds` shows it (last error, the last
//! document's recovery warning, the last batch of article pages without text and why, guids that
//! change between polls), with why recent article pages failed.

use maud::{Markup, html};

use super::{Nav, layout, time};
use crate::model::FeedRow;

pub struct Row {
    pub feed: FeedRow,
    pub state: &'static str,
    /// Article extraction failures over the feed's recent items: status and count.
    pub reasons: Vec<(String, i64)>,
}

pub fn page(rows: &[Row]) -> Markup {
    let failing = rows.iter().filter(|r| r.state == "failing").count();
    layout(
        "Feeds",
        Nav::Feeds,
        "",
        html! {
            h1 { "Feeds" }
            p { (rows.len()) " feeds, " (failing) " failing." }
            @let retry = rows.iter().filter(|r| r.feed.article_trouble().is_some_and(|a| a.retryable())).map(|r| r.feed.name.as_str()).collect::<Vec<_>>();
            @if !retry.is_empty() {
                p { "Once the cause is fixed, " code { "veille refetch --feed NAME" } " fetches those article pages again (" (retry.join(", ")) ")." }
            }
            div.scroll {
                table.feeds {
                    thead { tr { th { "Feed" } th { "State" } th { "Errors" } th { "Items" } th { "Last success" } th { "Next check" } th { "Last error or warning / article pages" } } }
                    tbody {
                        @for r in rows {
                            @let f = &r.feed;
                            tr class=(r.state) {
                                td { b { (f.name) } @if let Some(t) = &f.title { br; small { (t) } } br; small.url { (f.url) } }
                                td { span class={ "state " (r.state) } { (r.state) } }
                                td.num { (f.error_count) }
                                td.num { (f.item_count) }
                                td { (time(f.last_success_at)) }
                                td { (time(f.next_check_at)) }
                                td {
                                    @if let Some(e) = &f.last_error { span.error { (e) } @if let Some(s) = f.last_status { " (HTTP " (s) ")" } }
                                    @for (i, note) in f.notices().iter().enumerate() {
                                        @if i > 0 || f.last_error.is_some() { br; }
                                        (note)
                                    }
                                    @if !r.reasons.is_empty() {
                                        br; small { "recent: " (r.reasons.iter().map(|(s, n)| format!("{s} ×{n}")).collect::<Vec<_>>().join(", ")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

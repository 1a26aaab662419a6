//! The feeds page: each feed's health as `veille feeds` shows it (last error, else the last
//! document's recovery warning; article pages without text; guids that change between polls),
//! with why article pages failed.

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
                                    @if f.article_failures > 0 {
                                        @if f.last_error.is_some() { br; }
                                        (f.article_failures) " article pages gave no text at the last refresh"
                                    }
                                    @let warning = f.last_warning.as_ref().filter(|_| f.last_error.is_none());
                                    @if let Some(w) = warning {
                                        @if f.article_failures > 0 { br; }
                                        "warning: " (w)
                                    }
                                    @if f.reissued > 0 {
                                        @if f.last_error.is_some() || f.article_failures > 0 || warning.is_some() { br; }
                                        "guids change between polls: " (f.reissued) " items recognised by link or content at the last refresh"
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

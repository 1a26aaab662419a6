//! The digests page (every digest with its state) and one digest as it was mailed (its HTML
//! part, sanitised, in a sandboxed frame).

use maud::{Markup, html};

use super::{Nav, layout, time};
use crate::store::DigestRow;

pub fn list(rows: &[DigestRow]) -> Markup {
    layout(
        "Digests",
        Nav::Digests,
        "",
        html! {
            h1 { "Digests" }
            @if rows.is_empty() { p.empty { "No digest composed yet." } }
            div.scroll {
                table.digests {
                    thead { tr { th { "Digest" } th { "Watch list" } th { "Items" } th { "State" } th { "Composed" } th { "Sent" } } }
                    tbody {
                        @for d in rows {
                            tr {
                                td { a href={ "/digests/" (d.id) } { (d.subject) } }
                                td { (d.watchlist) }
                                td.num { (d.item_count) }
                                td { span class={ "state " (d.status) } { (d.status) }
                                    @if d.status == "pending" {
                                        br; small { (d.attempts) " attempts; next " (time(Some(d.next_attempt_at))) }
                                        @if let Some(e) = &d.last_error { br; small.error { (e) } }
                                    }
                                }
                                td { (time(Some(d.composed_at))) }
                                td { (time(d.sent_at)) }
                            }
                        }
                    }
                }
            }
        },
    )
}

pub fn one(d: &DigestRow, items: &[i64]) -> Markup {
    layout(
        &d.subject,
        Nav::Digests,
        "",
        html! {
            h1 { (d.subject) }
            dl.facts {
                dt { "Watch list" } dd { (d.watchlist) }
                dt { "State" } dd { (d.status) " after " (d.attempts) " attempts"
                    @if let Some(e) = &d.last_error { " — last error: " span.error { (e) } } }
                @if let Some(w) = &d.webhook {
                    dt { "Webhook" } dd { (w.format) " to " (w.host) ": " (w.status) " after " (w.attempts) " attempts"
                        @if let Some(e) = &w.last_error { " — last error: " span.error { (e) } } }
                }
                dt { "Composed" } dd { (time(Some(d.composed_at))) }
                dt { "Sent" } dd { (time(d.sent_at)) }
                dt { "Message-ID" } dd { code { (d.message_id) } }
                dt { "Items" } dd {
                    @for (i, id) in items.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={ "/items/" (id) } { (id) }
                    }
                }
            }
            h2 { "As mailed" }
            p { a href={ "/digests/" (d.id) "/mail" } { "Open the mail alone" } " (its HTML part, sanitised; links open in a new tab)" }
            iframe.mail src={ "/digests/" (d.id) "/mail" } title="The digest as mailed"
                sandbox="allow-popups allow-popups-to-escape-sandbox" {}
        },
    )
}

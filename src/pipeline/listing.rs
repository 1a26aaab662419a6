//! Reading a listing source page after page: the next pages of an HTML listing are fetched one
//! at a time through the shared fetcher, up to the source's page limit, until a page repeats.
//!
//! A next link comes from fetched content: it is trusted like the configured URL only while it
//! stays on that URL's origin; a next page anywhere else goes through the SSRF guard.

use std::collections::HashSet;

use url::Url;

use super::fetch::{Fetcher, Trust, Validators};
use super::guard::same_origin;
use super::sources::{Page, Source, dedupe, parse_page_raw};
use crate::model::ParsedFeed;

/// All pages of one refresh: the items of every page read, in page order.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub feed: ParsedFeed,
    /// URLs of the pages read, the first included.
    pub pages: Vec<String>,
    /// Why reading stopped early on a later page (the first page's items are kept).
    pub failures: Vec<String>,
}

/// Reads the pages after `first` (fetched from `first_url`, final URL `final_url`) while they
/// have a next link (items as [`parse_page_raw`] gives them), up to the source's `max_pages`, one at a time through `fetcher`; stops on a
/// URL already read. A later page that fails ends the walk and is reported in `failures`.
pub async fn follow_pages(
    fetcher: &Fetcher,
    source: &Source,
    first_url: &str,
    final_url: &str,
    first: Page,
) -> Listing {
    let max_pages = source.max_pages();
    if matches!(source, Source::Rss) {
        // A feed is one document: nothing to follow, and repeated guids are left to
        // `limits::bound_items`, which keeps one item per distinct content.
        return Listing {
            pages: vec![final_url.to_string()],
            feed: first.feed,
            ..Listing::default()
        };
    }
    let mut visited: HashSet<String> = [first_url, final_url].into_iter().map(page_key).collect();
    let mut guids = HashSet::new();
    let Page { mut feed, mut next } = first;
    dedupe(&mut feed.items, &mut guids);
    let mut listing = Listing {
        pages: vec![final_url.to_string()],
        ..Listing::default()
    };
    while let Some(url) = next.take() {
        if listing.pages.len() >= max_pages {
            break;
        }
        if !visited.insert(page_key(&url)) {
            tracing::debug!(url = %url, "next page already read; pagination stops");
            break;
        }
        let trust = match (Url::parse(first_url), Url::parse(&url)) {
            (Ok(origin), Ok(next)) if same_origin(&origin, &next) => Trust::Configured,
            _ => Trust::Untrusted,
        };
        let fetched = match fetcher.fetch(&url, &Validators::default(), trust).await {
            Ok(f) => f,
            Err(failure) => {
                listing
                    .failures
                    .push(format!("page {url}: {}", failure.error));
                break;
            }
        };
        visited.insert(page_key(&fetched.final_url));
        match parse_page_raw(
            &fetched.body,
            fetched.content_type.as_deref(),
            &fetched.final_url,
            source,
        ) {
            Ok(mut page) => {
                dedupe(&mut page.feed.items, &mut guids);
                feed.items.append(&mut page.feed.items);
                listing.pages.push(fetched.final_url);
                next = page.next;
            }
            Err(e) => {
                listing.failures.push(format!("page {url}: {e}"));
                break;
            }
        }
    }
    listing.feed = feed;
    listing
}

/// A page URL without its fragment, to recognise a page already read.
fn page_key(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

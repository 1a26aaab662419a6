//! Feed discovery (`veille feeds add URL`): the URL is a feed, or an HTML page that names its
//! feeds (`<link rel="alternate" type="application/rss+xml" href="…">`), or a site with a feed at
//! a common path (`/feed`, `/rss.xml`, …). Every candidate is fetched and parsed once: only a URL
//! that gives a feed is proposed, with what the check found.

use scraper::{Html, Selector};
use url::Url;

use super::fetch::{Fetcher, Validators};
use super::parse::parse_feed;

/// Paths tried on the page's site when it names no feed, in order.
pub const COMMON_PATHS: &[&str] = &[
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feeds/all.atom.xml",
    "/?feed=rss2",
];

/// Feed media types in `<link rel="alternate">`, the most common first.
const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
    "application/json",
    "text/xml",
    "application/xml",
];

/// How the feed was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The URL given is the feed.
    Given,
    /// Named by the page's `<link rel="alternate">`.
    Alternate,
    /// At a common path of the site.
    CommonPath,
}

/// A feed found and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub url: String,
    pub via: Via,
    /// The feed's own title and language, as its document declares them.
    pub title: Option<String>,
    pub language: Option<String>,
    /// Items in the document when checked.
    pub items: usize,
}

/// Why no feed was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoverError {
    #[error("{url} is not an http(s) URL")]
    BadUrl { url: String },
    #[error("cannot fetch {url}: {error}")]
    Fetch { url: String, error: String },
    #[error(
        "no feed found at {url}: it is not a feed, it names none with <link rel=\"alternate\">, and none of these gave one:\n{}",
        tried.iter().map(|(u, why)| format!("  {u}: {why}")).collect::<Vec<_>>().join("\n")
    )]
    NotFound {
        url: String,
        tried: Vec<(String, String)>,
    },
}

/// The feed URLs a page names, resolved against `base`, feeds of the known types first, each once.
pub fn alternates(html: &str, base: &Url) -> Vec<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("link[href]").expect("valid selector");
    let mut found: Vec<(usize, String)> = Vec::new();
    for link in doc.select(&sel) {
        let el = link.value();
        let rel = el.attr("rel").unwrap_or("").to_ascii_lowercase();
        if !rel.split_ascii_whitespace().any(|r| r == "alternate") {
            continue;
        }
        let kind = el.attr("type").unwrap_or("").trim().to_ascii_lowercase();
        let Some(rank) = FEED_TYPES.iter().position(|t| kind == *t) else {
            continue;
        };
        let Some(href) = el.attr("href").and_then(|h| base.join(h.trim()).ok()) else {
            continue;
        };
        if matches!(href.scheme(), "http" | "https")
            && !found.iter().any(|(_, u)| u == href.as_str())
        {
            found.push((rank, href.to_string()));
        }
    }
    found.sort_by_key(|(rank, _)| *rank);
    found.into_iter().map(|(_, u)| u).collect()
}

/// Fetches `url` and reads it as a feed: `Err` says why it is none (or why it was not fetched).
async fn check(fetcher: &Fetcher, url: &str, via: Via) -> Result<Found, String> {
    let fetched = fetcher
        .get(url, &Validators::default())
        .await
        .map_err(|f| f.error.to_string())?;
    let feed = parse_feed(
        &fetched.body,
        fetched.content_type.as_deref(),
        &fetched.final_url,
    )
    .map_err(|e| e.to_string())?;
    Ok(Found {
        url: url.to_string(),
        via,
        title: feed.title.filter(|t| !t.trim().is_empty()),
        language: feed.language,
        items: feed.items.len(),
    })
}

/// Finds and checks the feed of `url` (see the module documentation).
pub async fn discover(fetcher: &Fetcher, url: &str) -> Result<Found, DiscoverError> {
    let parsed = Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| DiscoverError::BadUrl { url: url.into() })?;
    let page = fetcher
        .get(parsed.as_str(), &Validators::default())
        .await
        .map_err(|f| DiscoverError::Fetch {
            url: url.into(),
            error: f.error.to_string(),
        })?;
    let mut tried = Vec::new();
    match parse_feed(&page.body, page.content_type.as_deref(), &page.final_url) {
        Ok(feed) => {
            return Ok(Found {
                url: parsed.to_string(),
                via: Via::Given,
                title: feed.title.filter(|t| !t.trim().is_empty()),
                language: feed.language,
                items: feed.items.len(),
            });
        }
        Err(e) => tried.push((parsed.to_string(), format!("not a feed ({e})"))),
    }
    let base = Url::parse(&page.final_url).unwrap_or(parsed.clone());
    let html = String::from_utf8_lossy(&page.body);
    for candidate in alternates(&html, &base) {
        match check(fetcher, &candidate, Via::Alternate).await {
            Ok(found) => return Ok(found),
            Err(why) => tried.push((candidate, why)),
        }
    }
    for path in COMMON_PATHS {
        let Ok(candidate) = base.join(path) else {
            continue;
        };
        let candidate = candidate.to_string();
        if tried.iter().any(|(u, _)| *u == candidate) {
            continue;
        }
        match check(fetcher, &candidate, Via::CommonPath).await {
            Ok(found) => return Ok(found),
            Err(why) => tried.push((candidate, why)),
        }
    }
    Err(DiscoverError::NotFound {
        url: url.into(),
        tried,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternates_are_resolved_feeds_first_and_other_links_ignored() {
        let base = Url::parse("https://www.example.eu/en/press/").unwrap();
        let html = r#"<html><head>
            <link rel="stylesheet" href="/s.css">
            <link rel="alternate" hreflang="fr" href="/fr/press/">
            <link rel="alternate" type="application/json" href="/api/press.json">
            <link rel="alternate" type="application/atom+xml" title="Atom" href="atom.xml">
            <link rel="Alternate" type="application/rss+xml" title="RSS" href="https://www.example.eu/en/rss.xml">
            <link rel="alternate" type="application/rss+xml" href="https://www.example.eu/en/rss.xml">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            </head><body></body></html>"#;
        assert_eq!(
            alternates(html, &base),
            [
                "https://www.example.eu/en/rss.xml",
                "https://www.example.eu/en/press/atom.xml",
                "https://www.example.eu/api/press.json",
            ]
        );
    }
}

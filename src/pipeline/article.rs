//! The article page behind an item: when to fetch it, and fetch → decode → extract.

use crate::config::FetchArticle;
use crate::model::ParsedItem;
use crate::store::Article;

use super::charset::decode_html;
use super::extract::{Extractor, Status};
use super::fetch::Fetcher;

/// Below this many characters of feed text, `fetch_article = "auto"` fetches the page.
pub const AUTO_MIN_CHARS: usize = 600;

/// Whether `item`'s article page should be fetched under `mode`.
pub fn wanted(mode: FetchArticle, item: &ParsedItem) -> bool {
    item.url.is_some()
        && match mode {
            FetchArticle::Always => true,
            FetchArticle::Never => false,
            FetchArticle::Auto => item.text.chars().count() < AUTO_MIN_CHARS,
        }
}

/// An extracted article and the language its page declared.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fetched {
    pub article: Article,
    /// `<html lang>`, `og:locale` or `Content-Language`, lower-cased.
    pub declared_language: Option<String>,
}

impl Fetched {
    /// Whether extraction gave usable text.
    pub fn ok(&self) -> bool {
        self.article.text.is_some()
    }
}

/// Fetches `url` and extracts its article; every failure is a status, never an error.
pub async fn fetch(fetcher: &Fetcher, extractor: &Extractor, url: &str) -> Fetched {
    let page = match fetcher.get_untrusted(url).await {
        Ok(page) => page,
        Err(failure) => {
            return Fetched {
                article: Article {
                    text: None,
                    status: format!("fetch_failed: {}", failure.error),
                },
                declared_language: None,
            };
        }
    };
    let (html, _) = decode_html(&page.body, page.content_type.as_deref());
    let base = url::Url::parse(&page.final_url).ok();
    // Extraction walks untrusted markup: a bug there must cost this item its article, no more.
    let extracted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        extractor.extract_with_language(&html, base.as_ref(), page.content_language.as_deref())
    }));
    let Ok(extracted) = extracted else {
        tracing::error!(url, "article extraction panicked");
        return Fetched {
            article: Article {
                text: None,
                status: "extract_failed".into(),
            },
            declared_language: None,
        };
    };
    Fetched {
        article: Article {
            text: (extracted.status == Status::Ok)
                .then(|| super::clean::strip_controls(&extracted.text).into_owned()),
            status: extracted.status.as_str().to_string(),
        },
        declared_language: extracted.language,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(text: &str, url: Option<&str>) -> ParsedItem {
        ParsedItem {
            text: text.into(),
            url: url.map(str::to_string),
            ..ParsedItem::default()
        }
    }

    #[test]
    fn auto_fetches_only_short_items_with_a_link() {
        let short = item("One line of summary.", Some("https://x.eu/a"));
        let long = item(&"word ".repeat(200), Some("https://x.eu/a"));
        assert!(wanted(FetchArticle::Auto, &short));
        assert!(!wanted(FetchArticle::Auto, &long));
        assert!(wanted(FetchArticle::Always, &long));
        assert!(!wanted(FetchArticle::Never, &short));
        assert!(!wanted(FetchArticle::Always, &item("x", None)));
    }
}

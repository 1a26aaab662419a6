//! The article page behind an item: when to fetch it, and fetch → decode → extract.

use chrono::{DateTime, Utc};

use crate::config::FetchArticle;
use crate::model::{ArticleReport, FailureKind, ParsedItem};
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

/// The kind of an extraction status that is not `ok`, for counting failures: the status
/// itself (`too_short`, `consent_wall`, …), or for a page that could not be fetched what
/// went wrong (`blocked`, `HTTP 404`, `timeout`, `connection failed`, …).
pub fn failure_kind(status: &str) -> String {
    let Some(error) = status.strip_prefix("fetch_failed: ") else {
        return status.to_string();
    };
    if let Some(code) = error
        .strip_prefix("HTTP status ")
        .and_then(|r| r.split_whitespace().next())
    {
        return format!("HTTP {code}");
    }
    let lower = error.to_ascii_lowercase();
    let kind = if lower.starts_with("blocked") {
        "blocked"
    } else if lower.contains("timed out") || lower.contains("timeout") {
        "timeout"
    } else if lower.starts_with("connection failed") {
        "connection failed"
    } else if lower.starts_with("too many redirects") {
        "too many redirects"
    } else if lower.contains("exceeds the cap") {
        "too large"
    } else {
        "fetch failed"
    };
    kind.to_string()
}

/// What one batch of article pages gave, from each page's URL and outcome: how many were
/// fetched and those without text by kind (most frequent first, then by name), each with its
/// first page as an example.
pub fn report<'a>(
    at: DateTime<Utc>,
    pages: impl IntoIterator<Item = (&'a str, &'a Article)>,
) -> ArticleReport {
    let mut report = ArticleReport {
        at,
        pages: 0,
        failed: Vec::new(),
    };
    for (url, article) in pages {
        report.pages += 1;
        if article.text.is_some() {
            continue;
        }
        let kind = failure_kind(&article.status);
        match report.failed.iter_mut().find(|k| k.kind == kind) {
            Some(k) => k.count += 1,
            None => report.failed.push(FailureKind {
                kind,
                count: 1,
                example: url.to_string(),
                status: article.status.clone(),
            }),
        }
    }
    report
        .failed
        .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.kind.cmp(&b.kind)));
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_by_kind_with_an_example() {
        let failed = |status: &str| Article {
            text: None,
            status: status.into(),
        };
        let ok = Article {
            text: Some("text".into()),
            status: "ok".into(),
        };
        let blocked = failed(
            "fetch_failed: blocked: http://127.0.0.1/a resolves to 127.0.0.1, a loopback, private or reserved address (set [fetch] allow_private_networks = true to allow)",
        );
        let gone = failed("fetch_failed: HTTP status 404");
        let short = failed("too_short");
        let pages = [
            ("http://127.0.0.1/a", &blocked),
            ("http://x.eu/ok", &ok),
            ("http://127.0.0.1/b", &blocked),
            ("http://x.eu/gone", &gone),
            ("http://x.eu/short", &short),
        ];
        let r = report(Utc::now(), pages);
        assert_eq!(r.pages, 5);
        assert_eq!(r.failed_pages(), 4);
        let kinds: Vec<(&str, usize, &str)> = r
            .failed
            .iter()
            .map(|k| (k.kind.as_str(), k.count, k.example.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("blocked", 2, "http://127.0.0.1/a"),
                ("HTTP 404", 1, "http://x.eu/gone"),
                ("too_short", 1, "http://x.eu/short"),
            ]
        );
        assert!(
            r.reasons().contains("allow_private_networks = true"),
            "{}",
            r.reasons()
        );
        assert!(r.retryable());
        assert_eq!(
            failure_kind("fetch_failed: timed out after 30 s"),
            "timeout"
        );
        assert_eq!(
            failure_kind("fetch_failed: connection failed: refused"),
            "connection failed"
        );
        assert_eq!(failure_kind("consent_wall"), "consent_wall");
    }

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

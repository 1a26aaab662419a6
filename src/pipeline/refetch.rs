//! `veille refetch`: fetches again the article pages of stored items that gave no text (a
//! page blocked by the SSRF guard, a server down, a wall), then decides their language and
//! topics again from what the pages now give. Each feed's article report is replaced by the
//! outcome, so `veille feeds`, `/health` and the digest footer stop showing a fixed problem.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use super::article;
use super::refresh::{ARTICLES_IN_FLIGHT, Pipeline, PipelineError, enrich};
use crate::model::{ArticleReport, ParsedFeed, ParsedItem};
use crate::store::RetryItem;

/// One item fetched again.
#[derive(Debug, Clone, PartialEq)]
pub struct Refetched {
    pub id: i64,
    pub feed: String,
    pub url: String,
    pub title: String,
    /// The status before and now (`ok` when the page gave its text).
    pub before: String,
    pub status: String,
    /// Stored topics before and after, sorted.
    pub topics_before: Vec<String>,
    pub topics: Vec<String>,
}

/// What a refetch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefetchReport {
    pub items: Vec<Refetched>,
    /// By feed: the pages fetched and why those without text still gave none.
    pub feeds: BTreeMap<String, ArticleReport>,
}

impl RefetchReport {
    /// Items whose page now gave its text.
    pub fn fixed(&self) -> usize {
        self.items.iter().filter(|i| i.status == "ok").count()
    }
}

impl Pipeline {
    /// Fetches again the article pages of the stored items that gave no text (of one feed,
    /// fetched since a time, when given), a few at a time within the fetcher's per-host limits,
    /// and stores what they give now.
    pub async fn refetch(
        &self,
        feed: Option<&str>,
        since: Option<DateTime<Utc>>,
    ) -> Result<RefetchReport, PipelineError> {
        // Refuse to go on with a database file that is no longer the one opened.
        self.store().check_file()?;
        let retries = self.store().article_retries(feed, since)?;
        let fetcher = self.fetcher();
        let fetcher = &fetcher;
        let fetched: Vec<(RetryItem, article::Fetched)> = futures_util::stream::iter(retries)
            .map(|item| async move {
                let (_, extractor) = self.feed_runtime(&item.feed);
                let page = article::fetch(fetcher, &extractor, &item.url).await;
                (item, page)
            })
            .buffered(ARTICLES_IN_FLIGHT)
            .collect()
            .await;
        let now = Utc::now();
        let mut report = RefetchReport::default();
        let mut by_feed: BTreeMap<String, Vec<(String, crate::store::Article)>> = BTreeMap::new();
        for (item, page) in fetched {
            let (config, _) = self.feed_runtime(&item.feed);
            let classifier = self.classifier();
            let parsed = ParsedItem {
                title: item.title.clone(),
                url: Some(item.url.clone()),
                text: item.text.clone(),
                ..ParsedItem::default()
            };
            let feed_doc = ParsedFeed {
                language: item.feed_language.clone(),
                ..ParsedFeed::default()
            };
            let status = page.article.status.clone();
            let new = self
                .off_runtime(move || {
                    enrich(parsed, Some(page), &feed_doc, config.as_ref(), &classifier)
                })
                .await
                .map_err(PipelineError::Internal)?;
            let article = new.article.clone().unwrap_or_default();
            let topics_before = {
                let store = self.store();
                let mut t: Vec<String> = store
                    .matches(item.id)?
                    .into_iter()
                    .map(|m| m.topic)
                    .collect();
                t.sort();
                t
            };
            {
                // Never write into a database file that was deleted or replaced meanwhile.
                let mut store = self.store();
                store.check_file()?;
                store.set_article(
                    item.id,
                    &article,
                    new.language.as_deref(),
                    new.language_source.as_ref().map(|(s, c)| (s.as_str(), *c)),
                    &new.matches,
                    now,
                )?;
            }
            let mut topics: Vec<String> = new.matches.iter().map(|m| m.topic.clone()).collect();
            topics.sort();
            tracing::info!(item = item.id, feed = %item.feed, url = %item.url, before = %item.status,
                status = %status, "article page fetched again");
            by_feed
                .entry(item.feed.clone())
                .or_default()
                .push((item.url.clone(), article));
            report.items.push(Refetched {
                id: item.id,
                feed: item.feed,
                url: item.url,
                title: item.title,
                before: item.status,
                status,
                topics_before,
                topics,
            });
        }
        for (feed, pages) in by_feed {
            let r = article::report(now, pages.iter().map(|(u, a)| (u.as_str(), a)));
            self.store().set_article_report(&feed, &r)?;
            report.feeds.insert(feed, r);
        }
        Ok(report)
    }
}

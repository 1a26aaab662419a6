//! `veille items`: stored items, newest first, as a table or JSON lines; `--show ID`:
//! everything about one item — its text, every topic's score and evidence, how its language
//! was decided and the digests that carried it.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use chrono::{DateTime, Utc};
use veille::config::Config;
use veille::pipeline::classify::{Classifier, Evidence, TopicResult};
use veille::store::{ItemDetail, ItemFilter, Store};

use super::{short_time, zoned_time};

#[derive(clap::Args)]
pub struct Args {
    /// One JSON object per line (url, title, feed, published, language, topics)
    #[arg(long)]
    json: bool,
    /// Show everything about one item: text, every topic's score and evidence, how its language
    /// was decided, the digests that carried it
    #[arg(long, value_name = "ID", conflicts_with_all = ["feed", "since", "topic"])]
    show: Option<i64>,
    /// Only items seen in this feed
    #[arg(long, value_name = "NAME")]
    feed: Option<String>,
    /// Only items published since: a date (2026-11-01), a timestamp (RFC 3339) or an age (36h, 7d)
    #[arg(long, value_name = "WHEN", value_parser = super::parse_since)]
    since: Option<DateTime<Utc>>,
    /// Only items that matched this topic
    #[arg(long, value_name = "ID")]
    topic: Option<String>,
    /// At most this many items
    #[arg(long, value_name = "N", default_value_t = 50)]
    limit: usize,
}

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, store) = super::open_existing(config)?;
    let Some(store) = store else {
        if let Some(id) = args.show {
            bail!(
                "no item {id}: no database yet at {} (`veille poll` creates it)",
                super::absolute(&config.storage.database).display()
            );
        }
        eprintln!(
            "no items: no database yet at {} (`veille poll` creates it)",
            super::absolute(&config.storage.database).display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    if let Some(id) = args.show {
        return show(&config, &store, id, args.json);
    }
    if let Some(feed) = &args.feed
        && config.feed(feed).is_none()
        && !store.feeds()?.iter().any(|f| &f.name == feed)
    {
        bail!("no feed named {feed:?}; `veille feeds` lists them");
    }
    if let Some(topic) = &args.topic {
        let mut known: BTreeSet<String> =
            veille::digest::config::known_topics(&config.classifier.topics_dir);
        known.extend(store.stored_topics()?);
        if !known.contains(topic) {
            let list = known.into_iter().collect::<Vec<_>>().join(", ");
            bail!("no topic named {topic:?}; the topics are {list}");
        }
    }
    let items = store.items(&ItemFilter {
        feed: args.feed.clone(),
        since: args.since,
        topic: args.topic.clone(),
        limit: Some(args.limit),
    })?;
    if items.is_empty() {
        let why = if args.feed.is_some() || args.since.is_some() || args.topic.is_some() {
            "no stored item matches these filters".to_string()
        } else {
            format!(
                "no items stored yet in {} (`veille poll` fetches them)",
                super::absolute(&config.storage.database).display()
            )
        };
        // Keep standard output valid JSON lines (none) for scripts.
        if args.json {
            eprintln!("{why}");
        } else {
            println!("{why}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    for it in &items {
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "id": it.id,
                    "url": it.url,
                    "title": it.title,
                    "feed": it.feed,
                    "published": it.published,
                    "fetched_at": it.fetched_at,
                    "language": it.language,
                    "topics": it.topics,
                })
            );
        } else {
            println!(
                "{}  {:<20} {:<3} {:<28} {}\n{:>18}#{} {}",
                short_time(it.published.or(Some(it.fetched_at))),
                it.feed,
                it.language.as_deref().unwrap_or("-"),
                it.topics.join(","),
                it.title,
                "",
                it.id,
                it.url.as_deref().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One topic's verdict on the item: as stored when it was classified, and with the rules now.
struct TopicView {
    id: String,
    /// Score and evidence stored (only matched topics are stored).
    stored: Option<(f64, Vec<Evidence>)>,
    /// Score, verdict, signals and evidence with the current rules on the stored text.
    now: Option<TopicResult>,
}

fn show(config: &Config, store: &Store, id: i64, json: bool) -> anyhow::Result<ExitCode> {
    let Some(item) = store.item_detail(id)? else {
        bail!("no item {id}; `veille items` lists them with their ids");
    };
    let digests = store.item_digests(id)?;
    let classifier = Classifier::load(&config.classifier.topics_dir)?;
    let topics = topic_views(&item, &classifier);
    let tz_of = |watchlist: &str| {
        config
            .watchlist(watchlist)
            .map_or(chrono_tz::UTC, |w| w.timezone)
    };
    if json {
        let value = serde_json::json!({
            "id": item.id,
            "title": item.title,
            "url": item.url,
            "feed": item.feed,
            "feeds": item.feeds,
            "author": item.author,
            "published": item.published,
            "fetched_at": item.fetched_at,
            "language": {
                "code": item.language,
                "source": item.language_source,
                "confidence": item.language_confidence,
                "explanation": language_explanation(&item),
            },
            "article": {"status": item.article_status, "extracted": item.article_text.is_some()},
            "text": item.body(),
            "topics": topics.iter().map(|t| serde_json::json!({
                "id": t.id,
                "stored": t.stored.as_ref().map(|(score, evidence)| serde_json::json!({"score": score, "matched": true, "evidence": evidence})),
                "now": t.now.as_ref().map(|r| serde_json::json!({"score": r.score, "matched": r.matched, "signals": r.reasons, "evidence": r.evidence})),
            })).collect::<Vec<_>>(),
            "digests": digests.iter().map(|d| serde_json::json!({
                "id": d.id, "watchlist": d.watchlist, "subject": d.subject, "status": d.status,
                "composed_at": d.composed_at, "sent_at": d.sent_at,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("#{} {}", item.id, item.title);
    let others: Vec<&String> = item.feeds.iter().filter(|f| **f != item.feed).collect();
    println!(
        "feed       {}{}",
        item.feed,
        if others.is_empty() {
            String::new()
        } else {
            format!(
                " (also seen in {})",
                others
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    if let Some(url) = &item.url {
        println!("link       {url}");
    }
    println!(
        "published  {} · fetched {}",
        item.published
            .map_or("undated".into(), |t| zoned_time(t, chrono_tz::UTC)),
        zoned_time(item.fetched_at, chrono_tz::UTC)
    );
    println!("language   {}", language_explanation(&item));
    println!("article    {}", article_explanation(&item));
    println!("topics     stored when classified · with the current rules");
    for t in &topics {
        let stored = t
            .stored
            .as_ref()
            .map_or("not matched".into(), |(s, _)| format!("matched {s:.3}"));
        let now = t.now.as_ref().map_or("not in the rules now".into(), |r| {
            let verdict = if r.matched {
                "matches"
            } else {
                "below threshold"
            };
            format!("{verdict} {:.3}", r.score)
        });
        println!("  {:<16} {stored} · now {now}", t.id);
        if let Some(r) = &t.now {
            super::classify::print_reasons(r);
        }
        // The evidence that made it match when stored, else what the rules find now.
        let evidence = t
            .stored
            .as_ref()
            .map(|(_, e)| e)
            .or(t.now.as_ref().map(|r| &r.evidence));
        super::classify::print_evidence_list(evidence.map_or(&[][..], |e| e.as_slice()));
    }
    if digests.is_empty() {
        println!("digests    none has carried it");
    } else {
        println!("digests");
        for d in &digests {
            let tz = tz_of(&d.watchlist);
            println!(
                "  #{} {} {} {}: {}",
                d.id,
                d.watchlist,
                d.status,
                zoned_time(d.sent_at.unwrap_or(d.composed_at), tz),
                d.subject
            );
        }
    }
    println!("text");
    for line in item.body().lines() {
        println!("  {line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Every topic of the current rules and every stored one, with both verdicts.
fn topic_views(item: &ItemDetail, classifier: &Classifier) -> Vec<TopicView> {
    let now = classifier.classify_item(&item.title, item.body(), item.language.as_deref());
    let mut views: Vec<TopicView> = now
        .into_iter()
        .map(|r| TopicView {
            id: r.id.clone(),
            stored: None,
            now: Some(r),
        })
        .collect();
    for m in &item.matches {
        let evidence: Vec<Evidence> = serde_json::from_str(&m.evidence_json).unwrap_or_default();
        match views.iter_mut().find(|v| v.id == m.topic) {
            Some(v) => v.stored = Some((m.score, evidence)),
            None => views.push(TopicView {
                id: m.topic.clone(),
                stored: Some((m.score, evidence)),
                now: None,
            }),
        }
    }
    views
}

/// How the stored language was decided, in words.
fn language_explanation(item: &ItemDetail) -> String {
    let Some(code) = &item.language else {
        return "unknown: neither the text nor any declaration named a language".into();
    };
    let how = match item.language_source.as_deref() {
        Some("text") => "read from the text".to_string(),
        Some("item") => "declared by the item in its feed (xml:lang, dc:language)".into(),
        Some("page") => {
            "declared by the article page (<html lang>, og:locale or Content-Language)".into()
        }
        Some("feed") => "declared by the feed document (<language>)".into(),
        Some("configured") => "configured for the feed (language = … in the configuration)".into(),
        Some("url") => "read from the link (a language segment or parameter)".into(),
        Some(other) => format!("decided by {other}"),
        None => "how it was decided was not recorded (stored by an older veille)".into(),
    };
    match item.language_confidence {
        Some(c) => format!("{code}: {how}, confidence {c:.2}"),
        None => format!("{code}: {how}"),
    }
}

/// What became of the article page.
fn article_explanation(item: &ItemDetail) -> String {
    match (&item.article_status, &item.article_text) {
        (None, _) => "not fetched: the feed's own text is the item's text".into(),
        (Some(_), Some(text)) => format!(
            "extracted from the page ({} characters); it is the item's text",
            text.chars().count()
        ),
        (Some(status), None) => format!(
            "no text ({status}); the item keeps the feed's summary — `veille refetch --feed {}` fetches the page again",
            item.feed
        ),
    }
}

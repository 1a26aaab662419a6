//! Generator of a simulated year of veille (`bench/retention.py`): `--per-day` items a day for
//! `--days` days ending now, from `--feeds` synthetic feeds in eight languages (`bench/synth.rs`),
//! written through veille's own store (search index, triggers, indexes exactly as in service),
//! each day's items fetched that day; each feed's batch of a day is built and prepared (texts
//! deflated, search rows folded: `NewItem::prepare`, as a poll does before the write lock) on a
//! second thread while the store writes the batch before it. Text sizes follow official feeds:
//! most items are a one-sentence summary whose article page was fetched (2–6 KB of article text),
//! the others carry their whole text in the feed (1–2 KB); a share (`--topical`) matched a topic
//! (with evidence), and a few of those were judged.
//!
//! Article texts are real ones when `--texts` names the extraction benchmark's ground truth
//! (`../shared/extraction-benchmark/ground-truth.json`: 181 articles, 4.8 KB on average), so that
//! compression sees real prose; without it they are synthetic (which compresses far better than
//! real text, and says so).
//!
//! cargo run --release --example bench-year -- --db bench/data/year/veille.db
//! cargo run --release --example bench-year -- --db /tmp/y.db --days 30 --prune-daily 180d

#[path = "synth.rs"]
mod synth;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use clap::Parser;
use veille::model::ParsedItem;
use veille::store::{Article, NewItem, NewJudgement, Retention, Store, StoredMatch, Verdict};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 365)]
    days: i64,
    #[arg(long, default_value_t = 10_000)]
    per_day: usize,
    #[arg(long, default_value_t = 500)]
    feeds: usize,
    /// Share of items that matched a topic
    #[arg(long, default_value_t = 0.08)]
    topical: f64,
    /// Share of items whose text is a summary with an article page (the rest: full feed text)
    #[arg(long, default_value_t = 0.7)]
    articles: f64,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Apply retention after each simulated day, as `veille run` does (e.g. "180d")
    #[arg(long, value_parser = humantime::parse_duration)]
    prune_daily: Option<Duration>,
    /// Real article texts: a JSON object of {"articleBody": "…"} values
    #[arg(long)]
    texts: Option<PathBuf>,
    /// The database to create (must not exist)
    #[arg(long)]
    db: PathBuf,
}

/// The article bodies of `path` (at least 500 bytes each).
fn real_texts(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let all: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path)?)?;
    Ok(all
        .values()
        .filter_map(|v| v.get("articleBody")?.as_str().map(str::to_string))
        .filter(|t| t.len() >= 500)
        .collect())
}

const EVIDENCE: &str = r#"{"score":0.91,"signals":[{"name":"pair_sentence","value":1.0,"part":0.42},{"name":"title_cyber","value":1.0,"part":0.18}],"concepts":[{"concept":"eu","terms":["European Union","EU"]},{"concept":"nato","terms":["NATO"]},{"concept":"cyber","terms":["cyber defence","cybersecurity"]}],"sentences":["The European Union and NATO agreed to deepen their cooperation on cyber defence."]}"#;

/// One feed's items of one day, prepared to store, and which of them are judged (one matched
/// item in a thousand); empty: the end of the day.
#[derive(Default)]
struct Batch {
    items: Vec<NewItem>,
    judged: Vec<bool>,
}

/// Feed `i`'s `n` items of `day` (days after `start`), drawn from `rng` in the order the
/// generator always drew them: the items, then whether each matched one is judged.
fn day_batch(
    args: &Args,
    real: &[String],
    rng: &mut synth::Rng,
    day: i64,
    i: usize,
    n: usize,
    start: DateTime<Utc>,
) -> Batch {
    let today = start + chrono::Duration::days(day);
    let doc = synth::feed(
        args.seed ^ (day as u64).wrapping_mul(0x9E37_79B9),
        i,
        synth::Format::Rss2,
        n,
    );
    let items: Vec<NewItem> = doc
        .items
        .iter()
        .map(|it| {
            let paragraphs: Vec<String> = it
                .html
                .lines()
                .filter(|l| !l.is_empty())
                .map(|l| {
                    l.trim_start_matches("<p>")
                        .trim_end_matches("</p>")
                        .to_string()
                })
                .collect();
            let full = paragraphs.join("\n\n");
            let article = rng.range(0, 999) < (args.articles * 1000.0) as usize;
            let (text, article) = if article {
                let page = if real.is_empty() {
                    // the page: the item's paragraphs, then as many again (2–6 KB)
                    let page: Vec<&String> =
                        paragraphs.iter().chain(paragraphs.iter().rev()).collect();
                    page.iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join("\n\n")
                } else {
                    real[rng.range(0, real.len() - 1)].clone()
                };
                let first: String = page
                    .split(". ")
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(300)
                    .collect();
                (
                    format!("{first}."),
                    Some(Article {
                        text: Some(page),
                        status: "ok".into(),
                    }),
                )
            } else {
                (full, None)
            };
            let topical = rng.range(0, 9999) < (args.topical * 10_000.0) as usize;
            let link = format!("{}/d{day}", it.link);
            NewItem {
                parsed: ParsedItem {
                    guid: format!("{}/d{day}", it.guid),
                    url: Some(link.clone()),
                    canonical_url: Some(link.clone()),
                    title: it.title.clone(),
                    text,
                    published: DateTime::from_timestamp(today.timestamp() - 3600, 0),
                    language: Some(doc.language.to_string()),
                    ..ParsedItem::default()
                },
                language: Some(doc.language.to_string()),
                language_source: Some(("item".into(), 0.9)),
                matches: if topical {
                    vec![StoredMatch {
                        topic: if rng.range(0, 1) == 0 {
                            "eu-nato-cyber"
                        } else {
                            "eu-us-cyber"
                        }
                        .into(),
                        score: 0.9,
                        evidence_json: EVIDENCE.into(),
                    }]
                } else {
                    Vec::new()
                },
                article,
                links: Some(link),
                hashes: None,
                prepared: None,
            }
            .prepared()
        })
        .collect();
    // one matched item in a thousand is judged
    let judged = items
        .iter()
        .map(|b| !b.matches.is_empty() && rng.range(0, 999) == 0)
        .collect();
    Batch { items, judged }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        !args.db.exists(),
        "{} exists; the generator only creates new databases",
        args.db.display()
    );
    let started = Instant::now();
    let real = match &args.texts {
        Some(p) if p.exists() => real_texts(p)?,
        Some(p) => {
            println!(
                "{} not found: synthetic article texts (they compress far better than real ones)",
                p.display()
            );
            Vec::new()
        }
        None => {
            println!(
                "no --texts: synthetic article texts (they compress far better than real ones)"
            );
            Vec::new()
        }
    };
    if !real.is_empty() {
        println!("article texts: {} real articles", real.len());
    }
    let mut store = Store::open(&args.db)?;
    let feeds: Vec<veille::config::FeedConfig> = (0..args.feeds)
        .map(|i| veille::config::FeedConfig {
            name: format!("year-{i:05}"),
            url: url::Url::parse(&format!("https://news.year.example/year-{i:05}.xml")).unwrap(),
            every: Duration::from_secs(3600),
            language: None,
            enabled: true,
            fetch_article: veille::config::FetchArticle::Auto,
            content_selector: None,
            remove_selectors: Vec::new(),
            source: Default::default(),
        })
        .collect();
    let end = Utc::now();
    let start = end - chrono::Duration::days(args.days);
    store.sync_feeds(&feeds, start)?;
    let ids: Vec<i64> = {
        let by_name: std::collections::HashMap<String, i64> =
            store.feeds()?.into_iter().map(|f| (f.name, f.id)).collect();
        feeds.iter().map(|f| by_name[&f.name]).collect()
    };
    let keep = Retention {
        keep_items: args.prune_daily,
        keep_matches: None,
    };
    let per_feed = args.per_day.div_ceil(args.feeds);
    let (mut written, mut matched, mut with_article, mut text_bytes) =
        (0usize, 0usize, 0usize, 0usize);
    let stop = AtomicBool::new(false);
    // One thread builds each feed's batch of the day and prepares its items (packs and folds
    // their texts, as the poll does before the write lock: `NewItem::prepare`) while this one
    // stores the batch before it: the rows, the search index and the compression are the same.
    std::thread::scope(|scope| -> anyhow::Result<()> {
        // dropped on an error here, which ends the other thread (its next send fails)
        let (to_store, batches) = std::sync::mpsc::sync_channel::<Batch>(4);
        let (args, real, ids) = (&args, &real, &ids);
        scope.spawn(move || {
            let mut rng = synth::Rng::new(args.seed);
            for day in 0..args.days {
                let mut left = args.per_day;
                for i in 0..ids.len() {
                    if left == 0 {
                        break;
                    }
                    let n = per_feed.min(left);
                    left -= n;
                    let batch = day_batch(args, real, &mut rng, day, i, n, start);
                    if to_store.send(batch).is_err() {
                        return;
                    }
                }
                // The end of the day (retention, a progress line).
                if to_store.send(Batch::default()).is_err() {
                    return;
                }
            }
        });
        for day in 0..args.days {
            let today = start + chrono::Duration::days(day);
            for (i, &feed_id) in ids.iter().enumerate() {
                let Batch {
                    items: batch,
                    judged,
                } = batches.recv()?;
                if batch.is_empty() {
                    break;
                }
                for b in &batch {
                    matched += usize::from(!b.matches.is_empty());
                    with_article += usize::from(b.article.is_some());
                    text_bytes += b.parsed.title.len()
                        + b.parsed.text.len()
                        + b.article
                            .as_ref()
                            .and_then(|a| a.text.as_ref())
                            .map_or(0, String::len);
                }
                let at = today + chrono::Duration::seconds((i * 86_000 / args.feeds) as i64);
                let report = store.store_items(feed_id, &batch, at)?;
                anyhow::ensure!(
                    report.new_ids.len() == batch.len(),
                    "an item of day {day}, feed {i} was not new"
                );
                written += report.new;
                for ((id, b), judged) in report.new_ids.iter().zip(&batch).zip(judged) {
                    if judged {
                        store.record_judgement(&NewJudgement {
                            item_id: *id,
                            topic: b.matches[0].topic.clone(),
                            verdict: Verdict::Relevant,
                            via: "page",
                            at,
                        })?;
                    }
                }
                if i + 1 == ids.len() {
                    // every feed had items today: the end of the day follows
                    anyhow::ensure!(batches.recv()?.items.is_empty(), "a day had more batches");
                }
            }
            if args.prune_daily.is_some() {
                let end_of_day = today + chrono::Duration::days(1);
                veille::service::retention::run(&mut store, &keep, end_of_day, false, &stop)?;
            }
            if day % 30 == 29 || day == args.days - 1 {
                store.checkpoint()?;
                let stats = store.file_stats()?;
                println!(
                    "day {:>3}: {written} items written ({matched} matched, {with_article} with article text), {} stored; file {:.0} MB ({:.0} bytes per stored item); {:.0} s",
                    day + 1,
                    store.item_count()?,
                    stats.bytes() as f64 / 1e6,
                    stats.bytes() as f64 / store.item_count()?.max(1) as f64,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    })?;
    println!(
        "{written} items in {:.0} s; text (title, feed text, article text) {:.0} bytes per item on average",
        started.elapsed().as_secs_f64(),
        text_bytes as f64 / written.max(1) as f64
    );
    Ok(())
}

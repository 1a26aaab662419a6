//! Generator of a large veille database for the web view benchmark (`bench/web.py`): N items
//! from `--feeds` synthetic feeds in eight languages (`bench/synth.rs`, deterministic from
//! `--seed`), written through veille's own store (so the search index, triggers and indexes are
//! exactly those of a real database), each item's language as declared by its feed and its
//! topics from the real classifier. A share of items (`--topical`) gets one sentence about
//! EU–NATO or EU–US cyber cooperation in its language, so that matches exist in the proportion a
//! policy monitor sees.
//!
//! cargo run --release --example bench-webdb -- --items 1000000 --db bench/data/web/veille.db

#[path = "synth.rs"]
mod synth;

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};
use clap::Parser;
use veille::model::ParsedItem;
use veille::pipeline::classify::Classifier;
use veille::store::{NewItem, Store};

#[derive(Parser)]
struct Args {
    /// Items to generate in all
    #[arg(long, default_value_t = 1_000_000)]
    items: usize,
    /// Feeds they come from (items are spread evenly)
    #[arg(long, default_value_t = 1000)]
    feeds: usize,
    /// Share of items given a sentence on a watched topic
    #[arg(long, default_value_t = 0.08)]
    topical: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The database to create (must not exist)
    #[arg(long)]
    db: PathBuf,
}

/// Sentences on the watched topics, per language (written for this benchmark).
const TOPICAL: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "The European Union and NATO agreed to deepen their cooperation on cyber defence and to hold a joint exercise.",
            "The EU and the United States discussed ransomware and the cybersecurity of undersea cables in their cyber dialogue.",
        ],
    ),
    (
        "fr",
        &[
            "L'Union européenne et l'OTAN ont convenu de renforcer leur coopération en matière de cyberdéfense.",
            "L'UE et les États-Unis ont évoqué les rançongiciels et la cybersécurité des câbles sous-marins lors de leur dialogue cyber.",
        ],
    ),
    (
        "de",
        &[
            "Die Europäische Union und die NATO vereinbarten eine engere Zusammenarbeit bei der Cyberabwehr.",
            "Die EU und die Vereinigten Staaten erörterten in ihrem Cyberdialog Ransomware und die Cybersicherheit von Unterseekabeln.",
        ],
    ),
    (
        "it",
        &[
            "L'Unione europea e la NATO hanno concordato di rafforzare la cooperazione in materia di ciberdifesa.",
            "L'UE e gli Stati Uniti hanno discusso di ransomware e di cibersicurezza dei cavi sottomarini nel loro dialogo cibernetico.",
        ],
    ),
    (
        "es",
        &[
            "La Unión Europea y la OTAN acordaron reforzar su cooperación en materia de ciberdefensa.",
            "La UE y los Estados Unidos debatieron sobre el ransomware y la ciberseguridad de los cables submarinos en su diálogo cibernético.",
        ],
    ),
    (
        "nl",
        &[
            "De Europese Unie en de NAVO kwamen overeen hun samenwerking op het gebied van cyberdefensie te versterken.",
            "De EU en de Verenigde Staten bespraken ransomware en de cyberbeveiliging van onderzeese kabels tijdens hun cyberdialoog.",
        ],
    ),
    (
        "pl",
        &[
            "Unia Europejska i NATO uzgodniły zacieśnienie współpracy w dziedzinie cyberobrony.",
            "UE i Stany Zjednoczone omówiły ransomware i cyberbezpieczeństwo kabli podmorskich w ramach dialogu cybernetycznego.",
        ],
    ),
    (
        "pt",
        &[
            "A União Europeia e a NATO acordaram reforçar a sua cooperação em matéria de ciberdefesa.",
            "A UE e os Estados Unidos debateram o ransomware e a cibersegurança dos cabos submarinos no seu diálogo cibernético.",
        ],
    ),
];

fn text_of(html: &str) -> String {
    html.replace("</p>\n", "\n\n").replace("<p>", "")
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        !args.db.exists(),
        "{} exists; the generator only creates new databases",
        args.db.display()
    );
    let started = Instant::now();
    let mut store = Store::open(&args.db)?;
    let classifier = Classifier::embedded()?;
    let per_feed = args.items.div_ceil(args.feeds);
    let feeds: Vec<veille::config::FeedConfig> = (0..args.feeds)
        .map(|i| veille::config::FeedConfig {
            name: format!("bench-{i:05}"),
            url: url::Url::parse(&format!("https://news.bench.example/bench-{i:05}.xml")).unwrap(),
            every: std::time::Duration::from_secs(3600),
            language: None,
            enabled: true,
            fetch_article: veille::config::FetchArticle::Never,
            content_selector: None,
            remove_selectors: Vec::new(),
            source: Default::default(),
        })
        .collect();
    let now = Utc::now();
    store.sync_feeds(&feeds, now)?;
    let ids: std::collections::HashMap<String, i64> =
        store.feeds()?.into_iter().map(|f| (f.name, f.id)).collect();
    let mut rng = synth::Rng::new(args.seed);
    let (mut written, mut matched) = (0usize, 0usize);
    for i in 0..args.feeds {
        if written >= args.items {
            break;
        }
        let n = per_feed.min(args.items - written);
        let feed = synth::feed(args.seed, i, synth::Format::Rss2, n);
        let topical = TOPICAL
            .iter()
            .find(|(l, _)| *l == feed.language)
            .map(|(_, s)| *s);
        let batch: Vec<NewItem> = feed
            .items
            .iter()
            .map(|it| {
                let mut text = text_of(&it.html);
                if let Some(sentences) = topical
                    && (rng.next_u64() % 10_000) as f64 / 10_000.0 < args.topical
                {
                    text = format!("{}\n\n{text}", rng.pick(sentences));
                }
                let matches = classifier.matches(&it.title, &text, Some(feed.language));
                let parsed = ParsedItem {
                    guid: it.guid.clone(),
                    url: Some(it.link.clone()),
                    canonical_url: Some(it.link.clone()),
                    title: it.title.clone(),
                    title_html: None,
                    summary_html: None,
                    content_html: Some(it.html.clone()),
                    text,
                    author: None,
                    published: DateTime::from_timestamp(it.published, 0),
                    language: Some(feed.language.to_string()),
                };
                NewItem {
                    parsed,
                    language: Some(feed.language.to_string()),
                    language_source: Some(("item".into(), 0.9)),
                    matches,
                    article: None,
                    links: None,
                    hashes: None,
                    prepared: None,
                }
            })
            .collect();
        matched += batch.iter().filter(|b| !b.matches.is_empty()).count();
        store.store_items(ids[&feed.name], &batch, now)?;
        written += n;
        if i % 50 == 49 {
            eprintln!(
                "{written} items ({matched} matched), {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    drop(store);
    let size = std::fs::metadata(&args.db)?.len();
    println!(
        "{written} items ({matched} matched) in {:.0} s; database {} MB, {:.0} bytes per item",
        started.elapsed().as_secs_f64(),
        size / 1_000_000,
        size as f64 / written as f64
    );
    Ok(())
}

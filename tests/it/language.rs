//! Language detection on the labelled corpus (tests/data/corpus: 180 items, 24 languages):
//! full items, titles alone, one-line snippets, with and without (right and wrong) hints.

use std::path::Path;

use veille::config::Config;
use veille::pipeline::Pipeline;
use veille::pipeline::language::{EU_LANGUAGES, Hints, Source, detect, detect_stored};
use veille::store::{ItemFilter, Store};

use super::server::TestServer;

/// One corpus item: id, language (from labels.tsv), headline, body.
struct Doc {
    id: String,
    lang: String,
    title: String,
    body: String,
}

fn corpus() -> Vec<Doc> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
    let labels = std::fs::read_to_string(dir.join("labels.tsv")).unwrap();
    let docs: Vec<Doc> = labels
        .lines()
        .skip(1)
        .map(|line| {
            let mut cols = line.split('\t');
            let (id, lang) = (cols.next().unwrap(), cols.next().unwrap());
            assert!(
                id.starts_with(&format!("{lang}-")),
                "{id}: lang column {lang}"
            );
            let text = std::fs::read_to_string(dir.join("docs").join(format!("{id}.txt"))).unwrap();
            let (title, body) = text.split_once('\n').unwrap_or((&text, ""));
            Doc {
                id: id.to_string(),
                lang: lang.to_string(),
                title: title.trim().to_string(),
                body: body.trim().to_string(),
            }
        })
        .collect();
    assert_eq!(docs.len(), 180);
    docs
}

/// Runs `detect` on every item as `view` presents it and returns the misses as
/// `id: expected → got (source)`.
fn misses(view: impl Fn(&Doc) -> Option<(&'static str, Source)>) -> Vec<String> {
    corpus()
        .iter()
        .filter_map(|d| {
            let got = view(d);
            (got.map(|g| g.0) != Some(d.lang.as_str()))
                .then(|| format!("{}: {} → {got:?}", d.id, d.lang))
        })
        .collect()
}

fn run(title: &str, body: &str, hints: &Hints) -> Option<(&'static str, Source)> {
    detect(title, body, hints).map(|d| (d.code, d.source))
}

/// The first sentence of the body, at most 160 characters.
fn snippet(body: &str) -> String {
    let first = body.split(". ").next().unwrap_or(body);
    first.chars().take(160).collect()
}

#[test]
fn the_corpus_covers_the_24_languages() {
    let docs = corpus();
    for lang in EU_LANGUAGES {
        assert!(docs.iter().any(|d| d.lang == lang), "no item in {lang}");
    }
}

#[test]
fn every_full_item_is_read_right_from_its_text_alone() {
    let m = misses(|d| run(&d.title, &d.body, &Hints::default()));
    assert!(m.is_empty(), "{} misses:\n{}", m.len(), m.join("\n"));
}

#[test]
fn a_confident_text_overrules_a_wrong_feed_language() {
    // Every item in a feed declared in another language (English, or French for English items).
    let m = misses(|d| {
        let feed = if d.lang == "en" { "fr" } else { "en-GB" };
        let hints = Hints {
            feed: Some(feed),
            configured: Some(feed),
            ..Hints::default()
        };
        run(&d.title, &d.body, &hints).filter(|(_, s)| *s == Source::Text)
    });
    assert!(m.is_empty(), "{} misses:\n{}", m.len(), m.join("\n"));
}

/// A long text whose start agrees with the declared language is decided from its start (the
/// quick path); it must give what the whole sample gives, and say the text decided it.
#[test]
fn a_declared_language_the_text_confirms_is_read_from_the_text() {
    let m = misses(|d| {
        let hints = Hints {
            configured: Some(&d.lang),
            ..Hints::default()
        };
        run(&d.title, &d.body, &hints).filter(|(_, source)| *source == Source::Text)
    });
    assert!(m.is_empty(), "{} misses:\n{}", m.len(), m.join("\n"));
}

#[test]
fn titles_alone_are_read_right_with_a_url_hint() {
    let m = misses(|d| {
        let url = format!(
            "https://ec.europa.eu/commission/presscorner/detail/{}/{}",
            d.lang, d.id
        );
        // The feed says English; the link says better.
        let hints = Hints {
            url: Some(&url),
            feed: Some("en"),
            ..Hints::default()
        };
        run(&d.title, "", &hints)
    });
    assert!(m.is_empty(), "{} misses:\n{}", m.len(), m.join("\n"));
}

#[test]
fn one_line_snippets_are_read_right_with_a_declared_language() {
    let m = misses(|d| {
        let hints = Hints {
            configured: Some(&d.lang),
            ..Hints::default()
        };
        run("", &snippet(&d.body), &hints)
    });
    assert!(m.is_empty(), "{} misses:\n{}", m.len(), m.join("\n"));
    // Titles with their first sentence, declared by the page only.
    let m = misses(|d| {
        let page = format!("{}-{}", d.lang, d.lang.to_uppercase());
        let hints = Hints {
            page: Some(&page),
            ..Hints::default()
        };
        run(&d.title, &snippet(&d.body), &hints)
    });
    assert!(m.is_empty(), "{} misses:\n{}", m.len(), m.join("\n"));
}

#[test]
fn titles_alone_without_hints_are_mostly_read_right() {
    let m = misses(|d| run(&d.title, "", &Hints::default()));
    let accuracy = 1.0 - m.len() as f64 / 180.0;
    println!(
        "titles alone, no hints: {:.1} % ({} misses)\n{}",
        accuracy * 100.0,
        m.len(),
        m.join("\n")
    );
    assert!(accuracy >= 0.85, "{:.3}:\n{}", accuracy, m.join("\n"));
}

#[tokio::test]
async fn polled_items_are_stored_in_the_language_they_are_written_in() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("veille.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndatabase = \"veille.db\"\n[[feeds]]\nname = \"roundup\"\nurl = \"{}\"\n\
             language = \"en\"\nfetch_article = \"never\"\n",
            server.url("/feeds/multilingual.xml")
        ),
    )
    .unwrap();
    let config = Config::from_file(&config).unwrap();
    let p = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    let summary = p.poll(true, |_, _| {}).await.unwrap();
    assert_eq!(summary.new_items, 5, "{summary:?}");

    let items = p.store().items(&ItemFilter::default()).unwrap();
    let language_of = |slug: &str| {
        let item = items
            .iter()
            .find(|i| i.url.as_deref().is_some_and(|u| u.ends_with(slug)))
            .unwrap_or_else(|| panic!("no item {slug}: {items:#?}"));
        item.language.clone()
    };
    // Feed and configuration say English; the text says otherwise.
    assert_eq!(
        language_of("cyber-solidarity-agreement").as_deref(),
        Some("en")
    );
    assert_eq!(
        language_of("krankenhaeuser-cybersicherheit").as_deref(),
        Some("de")
    );
    assert_eq!(language_of("ae-sa-cibear").as_deref(), Some("ga"));
    assert_eq!(language_of("mt-sptarijiet").as_deref(), Some("mt"));
    // A title alone is too short to overrule the feed, but its link says Italian.
    assert_eq!(language_of("sicurezza-ospedali").as_deref(), Some("it"));

    // Reclassification reads stored items the same way.
    let texts = p.store().texts(0, 100).unwrap();
    assert_eq!(texts.len(), 5);
    for t in &texts {
        let again = detect_stored(t).map(|d| d.code.to_string());
        assert_eq!(again, t.language, "{}", t.title);
    }
}

/// The shortcut (a declared language confirmed by its function words, no statistical reading)
/// answers as the full reading does, or right, on every labelled text of every corpus, declared
/// in its own language, in a close one and in an unrelated one; and it saves the full reading
/// for most texts declared right. The blind corpus is read here only to check the language.
#[test]
fn the_language_shortcut_answers_as_the_full_reading_or_right() {
    use veille::eval::corpus::load;
    use veille::pipeline::language::{detect_without_shortcut, shortcut};

    let sibling = |lang: &str| match lang {
        "cs" => "sk",
        "sk" => "cs",
        "hr" => "sl",
        "sl" => "hr",
        "da" => "sv",
        "sv" => "da",
        "es" => "pt",
        "pt" => "es",
        "lv" => "lt",
        "lt" => "lv",
        "et" => "fi",
        "fi" => "et",
        "it" => "mt",
        "ga" => "en",
        "mt" => "it",
        "en" => "ga",
        "bg" => "ru",
        "el" => "en",
        "de" => "nl",
        "nl" => "de",
        "fr" => "it",
        "ro" => "it",
        "pl" => "cs",
        "hu" => "fi",
        _ => "en",
    };
    let (mut texts, mut fired_right, mut fired_wrong, mut overruled) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for dir in ["corpus", "holdout", "probes", "train", "blind"] {
        let docs = load(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(dir),
        )
        .unwrap();
        for d in docs {
            let truth = d.language.as_deref().unwrap();
            let (title, body) = d.text.split_once('\n').unwrap_or((&d.text, ""));
            let unrelated = if truth == "en" { "fr" } else { "en" };
            texts += 1;
            for declared in [truth, sibling(truth), unrelated] {
                let hints = Hints {
                    configured: Some(declared),
                    ..Hints::default()
                };
                let Some(quick) = shortcut(title, body, &hints) else {
                    continue;
                };
                assert_eq!(detect(title, body, &hints), Some(quick), "{}", d.id);
                if declared == truth {
                    fired_right += 1;
                } else {
                    fired_wrong += 1;
                }
                let full = detect_without_shortcut(title, body, &hints).map(|f| f.code);
                if full != Some(quick.code) {
                    overruled += 1;
                }
                if full != Some(quick.code) && quick.code != truth {
                    failures.push(format!(
                        "{dir}/{} ({truth}) declared {declared}: shortcut {}, full {full:?}",
                        d.id, quick.code
                    ));
                }
            }
        }
    }
    println!(
        "{texts} texts: the shortcut decided {fired_right} declared right, {fired_wrong} of \
         {} declared wrong; it differed from the full reading {overruled} times, each time right",
        texts * 2
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(fired_right * 2 >= texts, "{fired_right} of {texts}");
}

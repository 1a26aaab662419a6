//! `veille classify [--json] [PATH ...|-] [--text TEXT]`: the topics, score and evidence of
//! texts (first line = title), for analysts tuning the rules. HTML is reduced to its article
//! text first.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use veille::config::Config;
use veille::pipeline::classify::{Classifier, TopicResult};
use veille::pipeline::extract::{Extractor, Options};
use veille::pipeline::language::{self, Hints};

/// Classify texts or HTML pages and show the evidence.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files to classify; `-` reads standard input (the default without --text).
    pub paths: Vec<PathBuf>,
    /// Classify this text instead (first line = title).
    #[arg(long, conflicts_with = "paths")]
    pub text: Option<String>,
    /// Language of the texts (ISO 639-1); detected from each text when not given.
    #[arg(long)]
    pub language: Option<String>,
    /// One JSON line per input with the matching topics and their evidence.
    #[arg(long)]
    pub json: bool,
    /// Also show (and with --json list) topics that did not match, with their score.
    #[arg(long)]
    pub all: bool,
}

#[derive(serde::Serialize)]
struct JsonLine<'a> {
    path: String,
    language: Option<&'a str>,
    topics: Vec<&'a TopicResult>,
}

/// The language given with `--language`, else the one detected from the text (the page's own
/// declaration, when the input is HTML, is a hint).
fn language_of(
    given: Option<&'static str>,
    text: &str,
    page: Option<&str>,
) -> Option<&'static str> {
    if given.is_some() {
        return given;
    }
    let (title, body) = text.split_once('\n').unwrap_or((text, ""));
    let hints = Hints {
        page,
        ..Hints::default()
    };
    language::detect(title, body, &hints).map(|d| d.code)
}

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(config)?;
    let classifier = Classifier::load(&config.classifier.topics_dir)?;
    let inputs: Vec<(String, String)> = match &args.text {
        Some(t) => vec![("--text".into(), t.clone())],
        None if args.paths.is_empty() => vec![("-".into(), read_input(Path::new("-"))?)],
        None => args
            .paths
            .iter()
            .map(|p| Ok((p.display().to_string(), read_input(p)?)))
            .collect::<anyhow::Result<_>>()?,
    };
    let extractor = Extractor::new(&Options::default())?;
    let given = match args.language.as_deref() {
        None => None,
        Some(l) => Some(language::normalize(l).with_context(|| {
            format!("--language {l}: not one of the 24 EU languages (an ISO 639-1 code such as it, de, pl)")
        })?),
    };
    for (name, raw) in inputs {
        let (text, page_language) = plain_text(&raw, &extractor);
        let language = language_of(given, &text, page_language.as_deref());
        let results = classifier.classify(&text, language);
        let shown: Vec<&TopicResult> = results.iter().filter(|r| r.matched || args.all).collect();
        if args.json {
            let line = JsonLine {
                path: name,
                language,
                topics: results.iter().filter(|r| r.matched || args.all).collect(),
            };
            println!("{}", serde_json::to_string(&line)?);
            continue;
        }
        let matched: Vec<&str> = results
            .iter()
            .filter(|r| r.matched)
            .map(|r| r.id.as_str())
            .collect();
        println!(
            "{name} [{}]: {}",
            language.unwrap_or("-"),
            if matched.is_empty() {
                "no topic".to_string()
            } else {
                matched.join(", ")
            }
        );
        for r in shown {
            println!(
                "  {} score {:.3}{}",
                r.id,
                r.score,
                if r.matched { "" } else { " (below threshold)" }
            );
            print_reasons(r);
            print_evidence(r);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_input(path: &Path) -> anyhow::Result<String> {
    let bytes = if path == Path::new("-") {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .context("reading standard input")?;
        b
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
    };
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Plain text stays as it is; an HTML page becomes its title and article text.
fn plain_text(raw: &str, extractor: &Extractor) -> (String, Option<String>) {
    let head = raw
        .trim_start()
        .get(..512)
        .unwrap_or(raw.trim_start())
        .to_ascii_lowercase();
    let html =
        head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<body");
    if !html {
        return (raw.to_string(), None);
    }
    let article = extractor.extract(raw, None);
    let title = article.title.unwrap_or_default();
    (
        format!("{}\n{}", title.replace('\n', " "), article.text),
        article.language,
    )
}

/// One line with the signals behind a score and their parts in its log-odds.
pub fn print_reasons(r: &TopicResult) {
    if r.reasons.is_empty() {
        return;
    }
    let parts: Vec<String> = r
        .reasons
        .iter()
        .map(|c| format!("{} {:+.2}", c.signal, c.contribution))
        .collect();
    println!("    signals: {}", parts.join(", "));
}

/// One line per piece of evidence: concept, field, offset, matched text and snippet.
pub fn print_evidence(r: &TopicResult) {
    print_evidence_list(&r.evidence);
}

/// [`print_evidence`] for evidence from anywhere (the store, a classification).
pub fn print_evidence_list(evidence: &[veille::pipeline::classify::Evidence]) {
    for ev in evidence {
        println!(
            "    {:<14} {:<5} @{:<6} {:?}  {}",
            ev.concept,
            ev.field.as_str(),
            ev.offset,
            ev.matched,
            ev.snippet
        );
    }
}

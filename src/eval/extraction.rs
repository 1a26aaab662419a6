//! Scores the extractor on a directory laid out like the article-extraction benchmark
//! (`html/<id>.html.gz` + `ground-truth.json`), with the benchmark's shingle metric.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use super::{EvalError, read_page};
use crate::pipeline::charset::decode_html;
use crate::pipeline::extract::metric::DocScore;
use crate::pipeline::extract::{Extractor, Options};

#[derive(serde::Deserialize)]
struct Truth {
    #[serde(default)]
    url: String,
    #[serde(rename = "articleBody")]
    article_body: String,
}

/// One document's score and extraction time.
pub struct DocResult {
    pub id: String,
    pub url: String,
    pub score: DocScore,
    /// Extraction only: no I/O, decompression or decoding.
    pub millis: f64,
}

/// Extracts and scores every document of `dir`, calling `progress(done, total)` as it goes.
pub fn evaluate(
    dir: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<DocResult>, EvalError> {
    let truth = load_truth(dir)?;
    let extractor = Extractor::new(&Options::default())?;
    let total = truth.len();
    let mut results = Vec::with_capacity(total);
    for (id, t) in truth {
        let bytes = read_page(&dir.join("html").join(format!("{id}.html.gz")))?;
        let (html, _) = decode_html(&bytes, None);
        let url = url::Url::parse(&t.url).ok();
        let start = Instant::now();
        let article = extractor.extract(&html, url.as_ref());
        let millis = start.elapsed().as_secs_f64() * 1000.0;
        results.push(DocResult {
            score: DocScore::compare(&t.article_body, &article.text),
            id,
            url: t.url,
            millis,
        });
        progress(results.len(), total);
    }
    Ok(results)
}

/// Scores another extractor's output with the same metric: `predictions/<id>.txt` holds its
/// text for document `<id>` (a missing file counts as an empty prediction). Times are zero.
pub fn score_predictions(dir: &Path, predictions: &Path) -> Result<Vec<DocResult>, EvalError> {
    let truth = load_truth(dir)?;
    truth
        .into_iter()
        .map(|(id, t)| {
            let path = predictions.join(format!("{id}.txt"));
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(source) => return Err(EvalError::Read { path, source }),
            };
            Ok(DocResult {
                score: DocScore::compare(&t.article_body, &text),
                id,
                url: t.url,
                millis: 0.0,
            })
        })
        .collect()
}

fn load_truth(dir: &Path) -> Result<BTreeMap<String, Truth>, EvalError> {
    let truth_path = dir.join("ground-truth.json");
    let raw = std::fs::read_to_string(&truth_path).map_err(|source| EvalError::Read {
        path: truth_path.clone(),
        source,
    })?;
    serde_json::from_str(&raw).map_err(|e| EvalError::Format {
        path: truth_path,
        message: format!("expected {{id: {{url, articleBody}}}}: {e}"),
    })
}

//! Runs the poll's classification (`Classifier::matches`, both topics, evidence of the matching
//! ones) over the dev corpus a given number of times, for `bench/instructions.py`: counted by
//! valgrind, one pass is the difference between runs of N and 1 passes, whatever the host is
//! doing (criterion's timings move by a third between hours on a shared machine).
//!
//!     bench-classify-loop PASSES [RULES_DIR] [CORPUS_DIR]

use std::path::{Path, PathBuf};

use veille::pipeline::classify::Classifier;

fn main() {
    let mut args = std::env::args().skip(1);
    let passes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = args
        .next()
        .map_or_else(|| root.join("config/topics"), PathBuf::from);
    let corpus = args
        .next()
        .map_or_else(|| root.join("tests/data/corpus/docs"), PathBuf::from);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&corpus) {
        Ok(dir) => dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect(),
        Err(e) => {
            eprintln!("cannot read the corpus {}: {e}", corpus.display());
            std::process::exit(2);
        }
    };
    files.sort();
    let docs: Vec<String> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let classifier = match Classifier::load(&rules) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot load the rules: {e}");
            std::process::exit(2);
        }
    };
    // What the passes wrote, so that no pass can be optimised away and two builds can be
    // compared: the bytes of stored evidence.
    let mut written = 0usize;
    for _ in 0..passes {
        for d in &docs {
            let (title, body) = d.split_once('\n').unwrap_or((d, ""));
            written += classifier
                .matches(std::hint::black_box(title), body, None)
                .iter()
                .map(|m| m.evidence_json.len())
                .sum::<usize>();
        }
    }
    let bytes: usize = docs.iter().map(String::len).sum();
    println!(
        "passes={passes} documents={} bytes={bytes} evidence_bytes={written}",
        docs.len()
    );
}

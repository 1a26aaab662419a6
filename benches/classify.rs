//! Topic classification throughput (bytes of plain text per second, both topics) over the dev
//! corpus `tests/data/corpus` (180 items, 24 languages). Baselines measured in the same run:
//! `to_lowercase` (one trivial pass over the text) and `fold` (our normalisation alone); the
//! ratio of `classify` to them is the cost of matching and scoring.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use veille::pipeline::classify::{Classifier, fold::fold};

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/docs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("text"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let docs = corpus();
    let bytes: usize = docs.iter().map(String::len).sum();
    let classifier = Classifier::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/topics"))
        .expect("rules");
    let mut group = c.benchmark_group("dev_corpus");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("to_lowercase_baseline", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| black_box(d.as_str()).to_lowercase().len())
                .sum::<usize>()
        })
    });
    group.bench_function("fold", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| fold(black_box(d)).text.len())
                .sum::<usize>()
        })
    });
    // What a poll does: both topics scored, evidence for the matching ones.
    group.bench_function("classify", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| {
                    let (title, body) = d.split_once('\n').unwrap_or((d, ""));
                    classifier.matches(black_box(title), body, None).len()
                })
                .sum::<usize>()
        })
    });
    // What `veille classify --all` and `eval` do: the evidence of every topic too.
    group.bench_function("classify_with_all_evidence", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| classifier.classify(black_box(d), None).len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Language detection throughput over the labelled corpus (tests/data/corpus/docs: 180 items,
//! 24 languages), in bytes and in items per second. `whatlang_full_text` is the baseline in
//! the same run: plain whatlang (all its languages) on each whole item. `detect_declared_right`
//! is the usual feed: the declared language is the item's; `detect_english_feed` the worst case.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use veille::pipeline::language::{Hints, detect};

/// (language, title, body) of every corpus item (the language is the file name's prefix).
fn corpus() -> Vec<(String, String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/docs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("corpus item");
            let (title, body) = text.split_once('\n').unwrap_or((&text, ""));
            let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            let lang = name.split('-').next().unwrap_or_default();
            (lang.to_string(), title.to_string(), body.to_string())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let items = corpus();
    let bytes: usize = items.iter().map(|(_, t, b)| t.len() + b.len()).sum();
    let feed_en = Hints {
        feed: Some("en"),
        ..Hints::default()
    };
    for (unit, throughput) in [
        ("bytes", Throughput::Bytes(bytes as u64)),
        ("items", Throughput::Elements(items.len() as u64)),
    ] {
        let mut group = c.benchmark_group(format!("language_{unit}"));
        group.throughput(throughput);
        group.bench_function("detect", |b| {
            b.iter(|| {
                for (_, title, body) in &items {
                    black_box(detect(title, body, &Hints::default()));
                }
            })
        });
        // The common case of a feed: its declared language is the item's (the quick path).
        group.bench_function("detect_declared_right", |b| {
            b.iter(|| {
                for (lang, title, body) in &items {
                    let hints = Hints {
                        configured: Some(lang),
                        ..Hints::default()
                    };
                    black_box(detect(title, body, &hints));
                }
            })
        });
        group.bench_function("detect_english_feed", |b| {
            b.iter(|| {
                for (_, title, body) in &items {
                    black_box(detect(title, body, &feed_en));
                }
            })
        });
        group.bench_function("whatlang_full_text", |b| {
            b.iter(|| {
                for (_, title, body) in &items {
                    black_box(whatlang::detect(title));
                    black_box(whatlang::detect(body));
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

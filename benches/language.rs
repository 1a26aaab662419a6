//! Language detection throughput over the labelled corpus (tests/data/corpus/docs: 180 items,
//! 24 languages), in bytes and in items per second. `whatlang_full_text` is the baseline in
//! the same run: plain whatlang (all its languages) on each whole item.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use veille::pipeline::language::{Hints, detect};

/// (title, body) of every corpus item.
fn corpus() -> Vec<(String, String)> {
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
            (title.to_string(), body.to_string())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let items = corpus();
    let bytes: usize = items.iter().map(|(t, b)| t.len() + b.len()).sum();
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
                for (title, body) in &items {
                    black_box(detect(title, body, &Hints::default()));
                }
            })
        });
        group.bench_function("detect_english_feed", |b| {
            b.iter(|| {
                for (title, body) in &items {
                    black_box(detect(title, body, &feed_en));
                }
            })
        });
        group.bench_function("whatlang_full_text", |b| {
            b.iter(|| {
                for (title, body) in &items {
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

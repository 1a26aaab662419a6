//! Article extraction throughput (bytes of HTML per second) on a handful of real pages from
//! `../shared/extraction-benchmark` when it is there, else on the hand-written fixtures.
//! `html5ever_parse` is the baseline measured in the same run: extraction cannot be faster
//! than parsing, and the ratio between the two is the cost of our own heuristics.
//! `limit_depth` is the nesting cap run before every parse (`pipeline::nesting`), alone.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use veille::pipeline::charset::decode_html;
use veille::pipeline::extract::{Extractor, Options};

const PAGES: usize = 6;

fn pages() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/extraction-benchmark/html");
    let (dir, gz) = if shared.is_dir() {
        (shared, true)
    } else {
        (root.join("tests/data/pages"), false)
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("page directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.to_string_lossy()
                .ends_with(if gz { ".html.gz" } else { ".html" })
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .take(PAGES)
        .map(|path| {
            let raw = std::fs::read(&path).expect("page");
            let bytes = if gz {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(raw.as_slice())
                    .read_to_end(&mut out)
                    .expect("gzip");
                out
            } else {
                raw
            };
            let name = path.file_name().unwrap().to_string_lossy();
            (
                name[..name.len().min(16)].to_string(),
                decode_html(&bytes, None).0,
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let extractor = Extractor::new(&Options::default()).expect("default options");
    for (name, html) in pages() {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(html.len() as u64));
        group.bench_function("html5ever_parse", |b| {
            b.iter(|| scraper::Html::parse_document(black_box(&html)))
        });
        group.bench_function("limit_depth", |b| {
            b.iter(|| veille::pipeline::nesting::limit_depth(black_box(&html)).len())
        });
        group.bench_function("extract", |b| {
            b.iter(|| extractor.extract(black_box(&html), None))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Feed parsing throughput (bytes and items per second) on synthetic multilingual feeds of
//! 50 items each: RSS 2.0, Atom, JSON Feed, and RSS 2.0 encoded in Windows-1252 (the decoder's
//! cost). `xml_tokens` — a bare pass of the XML tokenizer over the same RSS document — is the
//! baseline measured in the same run: parsing cannot be faster than reading the XML once.

#[path = "../bench/synth.rs"]
mod synth;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use veille::pipeline::parse::parse_feed;

const SEED: u64 = 42;
const ITEMS: usize = 50;

fn bench(c: &mut Criterion) {
    let doc = |index, format| synth::render(&synth::feed(SEED, index, format, ITEMS)).into_bytes();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("rss2", doc(0, synth::Format::Rss2), "application/rss+xml"),
        ("atom", doc(2, synth::Format::Atom), "application/atom+xml"),
        (
            "json_feed",
            doc(3, synth::Format::Json),
            "application/feed+json",
        ),
        (
            "rss2_windows_1252",
            synth::rss2_windows_1252(SEED, ITEMS),
            "application/rss+xml",
        ),
    ];
    let mut group = c.benchmark_group("parse_feed");
    for (name, body, content_type) in &cases {
        let parsed = parse_feed(body, Some(content_type), "http://127.0.0.1/feed").expect("parses");
        assert_eq!(parsed.items.len(), ITEMS, "{name}: every item parsed");
        group.throughput(Throughput::ElementsAndBytes {
            elements: ITEMS as u64,
            bytes: body.len() as u64,
        });
        group.bench_function(*name, |b| {
            b.iter(|| parse_feed(black_box(body), Some(content_type), "http://127.0.0.1/feed"))
        });
    }
    let rss = &cases[0].1;
    group.throughput(Throughput::ElementsAndBytes {
        elements: ITEMS as u64,
        bytes: rss.len() as u64,
    });
    group.bench_function("xml_tokens_baseline", |b| {
        b.iter(|| {
            let mut reader = quick_xml::Reader::from_reader(black_box(rss.as_slice()));
            let mut buf = Vec::new();
            let mut events = 0usize;
            loop {
                match reader.read_event_into(&mut buf) {
                    Ok(quick_xml::events::Event::Eof) | Err(_) => break,
                    Ok(_) => events += 1,
                }
                buf.clear();
            }
            events
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

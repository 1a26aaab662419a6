//! Runs the poll's classification (`Classifier::matches`, both topics, evidence of the matching
//! ones) over the dev corpus a given number of times, for `bench/instructions.py`: counted by
//! valgrind, one pass is the difference between runs of N and 1 passes, whatever the host is
//! doing (criterion's timings move by a third between hours on a shared machine).
//!
//! It also prints the throughput per core: the corpus bytes of the passes after the first (which
//! builds the term trie) over the CPU time this thread spent on them. A core shared with other
//! processes still gives this thread whole time slices, so the figure moves far less with the
//! host's load than a wall-clock one.
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
    let mut timed_from = None;
    for pass in 0..passes {
        if pass == 1 {
            timed_from = Some((thread_cpu_seconds(), std::time::Instant::now()));
        }
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
    if let Some((cpu, wall)) = timed_from {
        let (cpu, wall) = (thread_cpu_seconds() - cpu, wall.elapsed().as_secs_f64());
        let mib = (bytes * (passes - 1)) as f64 / (1024.0 * 1024.0);
        println!(
            "timed_passes={} cpu_s={cpu:.3} wall_s={wall:.3} mib_per_cpu_s={:.2} mib_per_wall_s={:.2}",
            passes - 1,
            mib / cpu,
            mib / wall
        );
    }
}

/// The CPU time this thread has used, in seconds.
fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to write.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

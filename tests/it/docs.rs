//! The documentation stays true.
//!
//! - Every key of every configuration table, and of the topic rule files, is documented: the key
//!   lists come from the code (serde's "unknown field `x`, expected one of …" for each table, all
//!   of which deny unknown fields; the signal names for `[model]`), and each key must appear in
//!   backticks in the section of `docs/configuration.md` (or `docs/rules.md`) whose heading names
//!   the table.
//! - Every ```toml example parses: as a veille configuration, or in `docs/rules.md` as a topic
//!   rule file.
//! - Every ```sh block of the documentation is handled by the marker on the line before it:
//!   none: each command is run here, `veille` (or `cargo run … --`) being the built binary, in a
//!   scratch directory holding a copy of `config/` and the repository's `tests/`; it must exit 0
//!   (or the status its comment gives, `# exits 1`); a ```text block marked `<!-- output -->`
//!   after it holds the last command's output, whose first line must match;
//!   `<!-- ci -->`: each command is a line of `.ci/run`;
//!   `<!-- not run: why -->`: nothing is run, but what the commands name must exist: `veille`
//!   subcommands and flags parse (`--help` appended), `cargo test --test main FILTER` selects
//!   tests, `cargo bench --bench NAME`, `--example NAME` and `python3 bench/…` scripts exist, a bare
//!   `cargo test` is what `.ci/run` runs.

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_veille");

/// The documentation whose commands are checked.
const DOCS: [&str; 8] = [
    "README.md",
    "ARCHITECTURE.md",
    "CHANGELOG.md",
    "docs/configuration.md",
    "docs/rules.md",
    "docs/operations.md",
    "docs/performance.md",
    "docs/pipeline.md",
];

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

// ---- configuration keys ----

/// The keys serde expects where `bogus_key_zz` stands, from its "unknown field" error.
fn expected_keys(message: &str) -> Vec<String> {
    let Some(at) = message.find("unknown field `bogus_key_zz`") else {
        panic!("not an unknown-field error (does the table deny unknown fields?): {message}");
    };
    let rest = &message[at + "unknown field `bogus_key_zz`".len()..];
    let keys: Vec<String> = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(!keys.is_empty(), "no key list in: {message}");
    keys
}

fn config_keys(text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("veille.toml");
    std::fs::write(&path, text).unwrap();
    let e = veille::config::Config::from_file(&path).expect_err(text);
    expected_keys(&e.message)
}

fn topic_keys(text: &str) -> Vec<String> {
    let e = veille::pipeline::classify::rules::parse_topic(text, Path::new("topics/t.toml"))
        .expect_err(text);
    expected_keys(&e.message)
}

/// The text of the section whose heading contains `heading`, up to the next heading of the same
/// or a higher level.
fn section<'a>(doc: &'a str, file: &str, heading: &str) -> &'a str {
    let mut start = None;
    let mut level = 0;
    let mut offset = 0;
    for line in doc.split_inclusive('\n') {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        let is_heading = hashes > 0 && line[hashes..].starts_with(' ');
        if let Some(s) = start {
            if is_heading && hashes <= level {
                return &doc[s..offset];
            }
        } else if is_heading && line.contains(heading) {
            start = Some(offset);
            level = hashes;
        }
        offset += line.len();
    }
    match start {
        Some(s) => &doc[s..],
        None => panic!("{file} has no heading naming {heading}"),
    }
}

/// The keys the section of `heading` does not name in backticks.
fn missing_keys(doc: &str, file: &str, heading: &str, keys: &[String]) -> Vec<String> {
    let text = section(doc, file, heading);
    keys.iter()
        .filter(|k| !text.contains(&format!("`{k}`")))
        .cloned()
        .collect()
}

fn assert_documented(file: &str, heading: &str, keys: &[String]) {
    let missing = missing_keys(&read(file), file, heading, keys);
    assert!(
        missing.is_empty(),
        "{file}, section {heading}: keys the code accepts but the section does not name (in backticks): {missing:?}"
    );
}

#[test]
fn every_configuration_key_is_documented() {
    const FEED: &str = "[[feeds]]\nname = \"a\"\nurl = \"http://example.org/\"\n";
    let tables: [(&str, String); 10] = [
        ("Top level", "bogus_key_zz = 1\n".into()),
        ("`[storage]`", "[storage]\nbogus_key_zz = 1\n".into()),
        ("`[fetch]`", "[fetch]\nbogus_key_zz = 1\n".into()),
        ("`[classifier]`", "[classifier]\nbogus_key_zz = 1\n".into()),
        ("`[server]`", "[server]\nbogus_key_zz = 1\n".into()),
        ("`[[feeds]]`", "[[feeds]]\nbogus_key_zz = 1\n".into()),
        (
            "`[feeds.html]`",
            format!("{FEED}kind = \"html\"\n[feeds.html]\nbogus_key_zz = 1\n"),
        ),
        (
            "`[feeds.json]`",
            format!("{FEED}kind = \"json\"\n[feeds.json]\nbogus_key_zz = 1\n"),
        ),
        (
            "`[[watchlists]]`",
            "[[watchlists]]\nbogus_key_zz = 1\n".into(),
        ),
        ("`[mail]`", "[mail]\nbogus_key_zz = 1\n".into()),
    ];
    for (heading, text) in &tables {
        assert_documented("docs/configuration.md", heading, &config_keys(text));
    }
    // A file of watchlists/ beside the configuration.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("watchlists")).unwrap();
    std::fs::write(dir.path().join("watchlists/x.toml"), "bogus_key_zz = 1\n").unwrap();
    std::fs::write(dir.path().join("veille.toml"), "").unwrap();
    let e = veille::config::Config::from_file(&dir.path().join("veille.toml")).unwrap_err();
    assert_documented(
        "docs/configuration.md",
        "`watchlists/*.toml`",
        &expected_keys(&e.message),
    );
}

#[test]
fn every_topic_rule_key_is_documented() {
    assert_documented(
        "docs/rules.md",
        "the top of a rule file",
        &topic_keys("bogus_key_zz = 1\n"),
    );
    assert_documented(
        "docs/rules.md",
        "`[concepts.NAME]`",
        &topic_keys("threshold = 0.5\n[concepts.a]\nbogus_key_zz = 1\n"),
    );
    let mut model: Vec<String> = veille::pipeline::classify::features::FEATURES
        .iter()
        .map(|s| s.to_string())
        .collect();
    model.push("bias".into());
    assert_documented("docs/rules.md", "`[model]`", &model);
    let languages: Vec<String> = veille::pipeline::classify::rules::LANGUAGES
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_documented("docs/rules.md", "`[concepts.NAME.terms]`", &languages);
}

#[test]
fn an_undocumented_key_is_caught() {
    // The check itself: the keys come from the code, and a key named only in another section
    // (or not at all) is reported.
    let keys = config_keys("[fetch]\nbogus_key_zz = 1\n");
    assert!(keys.contains(&"per_host_delay".to_string()), "{keys:?}");
    assert!(!keys.contains(&"bogus_key_zz".to_string()));
    let doc = "## `[fetch]`\n`timeout` and more\n### sub\n`concurrency`\n## `[mail]`\n`per_host`\n";
    let missing = missing_keys(doc, "test", "`[fetch]`", &keys);
    assert!(missing.contains(&"per_host".to_string()), "{missing:?}");
    assert!(!missing.contains(&"timeout".to_string()));
    assert!(
        !missing.contains(&"concurrency".to_string()),
        "subsections belong to the section"
    );
}

// ---- fenced blocks ----

#[derive(Debug)]
struct Block {
    file: &'static str,
    /// Line number of the opening fence (1-based).
    line: usize,
    lang: String,
    /// The marker comment on the line before the fence, if any (`ci`, `not run: …`, `output`).
    marker: Option<String>,
    body: String,
}

fn blocks(file: &'static str) -> Vec<Block> {
    let text = read(file);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(lang) = l.strip_prefix("```") {
            let start = i;
            let mut body = String::new();
            i += 1;
            while i < lines.len() && !lines[i].starts_with("```") {
                body.push_str(lines[i]);
                body.push('\n');
                i += 1;
            }
            let marker = lines[..start]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .and_then(|l| l.trim().strip_prefix("<!--"))
                .and_then(|l| l.strip_suffix("-->"))
                .map(|m| m.trim().to_string());
            out.push(Block {
                file,
                line: start + 1,
                lang: lang.trim().to_string(),
                marker,
                body,
            });
        }
        i += 1;
    }
    out
}

/// The commands of a shell block: continuation lines joined, blank and comment lines dropped.
fn commands(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        if current.is_empty() && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
            continue;
        }
        match line.trim_end().strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    assert!(
        current.is_empty(),
        "a block ends with a continuation: {body}"
    );
    out
}

/// A command without its trailing `# comment` (outside quotes), and the comment.
fn split_comment(cmd: &str) -> (&str, &str) {
    let (mut single, mut double) = (false, false);
    let mut prev = ' ';
    for (i, c) in cmd.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev.is_whitespace() => {
                return (cmd[..i].trim_end(), cmd[i + 1..].trim());
            }
            _ => {}
        }
        prev = c;
    }
    (cmd.trim_end(), "")
}

/// `veille ARGS`, `cargo run [--release] [-q] -- ARGS` or `./target/*/veille ARGS` → ARGS.
fn veille_args(cmd: &str) -> Option<&str> {
    if let Some(rest) = cmd.strip_prefix("veille ") {
        return Some(rest);
    }
    if let Some(rest) = cmd.strip_prefix("./target/") {
        let (_, args) = rest.split_once("/veille ")?;
        return Some(args);
    }
    let rest = cmd.strip_prefix("cargo run ")?;
    let (flags, args) = rest.split_once("-- ")?;
    flags
        .split_whitespace()
        .all(|f| matches!(f, "--release" | "-q" | "--quiet" | "--bin" | "veille"))
        .then_some(args)
}

/// A scratch directory laid out like the repository for the commands: `config/` copied,
/// `tests/` linked.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(ROOT).join("config"), &dir.path().join("config"));
    #[cfg(unix)]
    std::os::unix::fs::symlink(Path::new(ROOT).join("tests"), dir.path().join("tests")).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn sh(cmd: &str, dir: &Path) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .env_remove("VEILLE_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// The names of this binary's tests (`--list`), for `cargo test --test main FILTER` lines.
fn test_names() -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe).args(["--list"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

fn example_exists(name: &str, cargo_toml: &str) -> bool {
    Path::new(ROOT).join(format!("examples/{name}.rs")).exists()
        || cargo_toml.contains(&format!("[[example]]\nname = \"{name}\""))
}

/// What a command not run here names must exist; returns what was checked, or `None`.
fn check_reference(cmd: &str, ci: &str, tests: &mut Option<Vec<String>>) -> Option<String> {
    let cargo_toml = read("Cargo.toml");
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let flag = |name: &str| {
        words
            .iter()
            .position(|w| *w == name)
            .and_then(|i| words.get(i + 1))
            .copied()
    };
    if let Some(args) = veille_args(cmd) {
        let args = args.split(" | ").next().unwrap();
        let out = sh(&format!("'{BIN}' {args} --help"), Path::new(ROOT));
        assert!(
            out.status.success(),
            "`{cmd}` does not parse: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return Some("parses".into());
    }
    match words.as_slice() {
        ["cargo", "test"] => {
            assert!(
                ci.lines().any(|l| l.trim() == "cargo test"),
                ".ci/run no longer runs `cargo test`"
            );
            Some("in .ci/run".into())
        }
        ["cargo", "test", ..] => {
            assert_eq!(
                flag("--test"),
                Some("main"),
                "`{cmd}`: only --test main is checked"
            );
            let filter = words
                .iter()
                .skip_while(|w| **w != "main")
                .skip(1)
                .find(|w| !w.starts_with('-'))
                .unwrap_or_else(|| panic!("`{cmd}`: no test filter"));
            let names = tests.get_or_insert_with(test_names);
            assert!(
                names.iter().any(|n| n.contains(filter)),
                "`{cmd}`: no test of tests/main.rs matches {filter:?}"
            );
            Some(format!("selects tests ({filter})"))
        }
        ["cargo", "bench", ..] => {
            let name = flag("--bench").unwrap_or_else(|| panic!("`{cmd}`: no --bench"));
            assert!(
                Path::new(ROOT).join(format!("benches/{name}.rs")).exists(),
                "`{cmd}`: no benches/{name}.rs"
            );
            Some("bench exists".into())
        }
        ["cargo", "run" | "build", ..] if flag("--example").is_some() => {
            let name = flag("--example").unwrap();
            assert!(
                example_exists(name, &cargo_toml),
                "`{cmd}`: no example {name}"
            );
            Some("example exists".into())
        }
        ["python3", script, ..] if script.starts_with("bench/") => {
            assert!(
                Path::new(ROOT).join(script).exists(),
                "`{cmd}`: no {script}"
            );
            Some("script exists".into())
        }
        _ => None,
    }
}

/// First line of `text` with trailing spaces trimmed.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim_end()
}

#[test]
fn every_shell_block_is_run_checked_or_marked() {
    let ci = read(".ci/run");
    let mut tests = None;
    let mut ran = 0;
    let mut checked = 0;
    for file in DOCS {
        let dir = sandbox();
        let mut last_output: Option<(String, String)> = None;
        for b in blocks(file) {
            let at = format!("{}:{}", b.file, b.line);
            match (b.lang.as_str(), b.marker.as_deref()) {
                ("sh", Some("ci")) => {
                    for c in commands(&b.body) {
                        let (c, _) = split_comment(&c);
                        assert!(
                            ci.lines().any(|l| l.trim() == c),
                            "{at}: `{c}` is marked as run by .ci/run, which does not run it"
                        );
                        checked += 1;
                    }
                }
                ("sh", Some(m)) if m.starts_with("not run:") => {
                    assert!(
                        m.len() > "not run:".len() + 3,
                        "{at}: say why it is not run"
                    );
                    for c in commands(&b.body) {
                        let (c, _) = split_comment(&c);
                        if check_reference(c, &ci, &mut tests).is_some() {
                            checked += 1;
                        }
                    }
                }
                ("sh", Some(m)) => panic!("{at}: unknown marker <!-- {m} -->"),
                ("sh", None) => {
                    for c in commands(&b.body) {
                        let (bare, comment) = split_comment(&c);
                        let args = veille_args(bare).unwrap_or_else(|| {
                            panic!("{at}: `{bare}` is run by the tests but is not a veille command; mark the block <!-- not run: why --> or <!-- ci -->")
                        });
                        let want: i32 = comment
                            .split("exits ")
                            .nth(1)
                            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(0);
                        let out = sh(&format!("'{BIN}' {args}"), dir.path());
                        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                        assert_eq!(
                            out.status.code(),
                            Some(want),
                            "{at}: `{bare}`\nstdout: {stdout}\nstderr: {}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                        last_output = Some((bare.to_string(), stdout));
                        ran += 1;
                    }
                }
                ("text", Some("output")) => {
                    let (cmd, stdout) = last_output
                        .take()
                        .unwrap_or_else(|| panic!("{at}: an output block after no command run"));
                    assert_eq!(
                        first_line(&stdout),
                        first_line(&b.body),
                        "{at}: the output shown is not what `{cmd}` prints now"
                    );
                    checked += 1;
                }
                _ => {}
            }
        }
    }
    eprintln!(
        "documentation: {ran} commands run, {checked} checked against .ci/run, the code or their output"
    );
    assert!(ran > 10 && checked > 10, "{ran} run, {checked} checked");
}

#[test]
fn every_toml_example_parses() {
    let mut parsed = 0;
    for file in DOCS {
        for b in blocks(file).into_iter().filter(|b| b.lang == "toml") {
            let at = format!("{}:{}", b.file, b.line);
            if file == "docs/rules.md" {
                veille::pipeline::classify::rules::parse_topic(&b.body, Path::new("topics/t.toml"))
                    .unwrap_or_else(|e| panic!("{at}: not a valid topic rule file: {e}"));
            } else {
                let dir = sandbox();
                let path: PathBuf = dir.path().join("config/example.toml");
                veille::config::Config::from_str(&b.body, &path)
                    .unwrap_or_else(|e| panic!("{at}: not a valid configuration: {e}"));
            }
            parsed += 1;
        }
    }
    assert!(parsed >= 10, "only {parsed} examples");
}

#[test]
fn readme_is_short_and_links_every_page() {
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 150,
        "README.md has {lines} lines; keep it to 150 and move depth to docs/"
    );
    for page in &DOCS[1..] {
        assert!(
            readme.contains(&format!("]({page})")),
            "README.md does not link {page}"
        );
    }
}

/// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(doc: &str) -> Vec<String> {
    let mut in_fence = false;
    doc.lines()
        .filter(|l| {
            if l.starts_with("```") {
                in_fence = !in_fence;
            }
            !in_fence && l.starts_with('#')
        })
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut links = 0;
    for file in DOCS {
        let doc = read(file);
        let dir = Path::new(file).parent().unwrap();
        for part in doc.split("](").skip(1) {
            let target = &part[..part.find(')').unwrap_or(0)];
            if target.starts_with("http") || target.is_empty() {
                continue;
            }
            let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
            let linked = if path.is_empty() {
                file.to_string()
            } else {
                dir.join(path).to_string_lossy().into_owned()
            };
            let full = Path::new(ROOT).join(&linked);
            assert!(full.exists(), "{file}: link to {target}: no {linked}");
            if !fragment.is_empty() {
                let known = anchors(&std::fs::read_to_string(&full).unwrap());
                assert!(
                    known.iter().any(|a| a == fragment),
                    "{file}: link to {target}: {linked} has no heading #{fragment}"
                );
            }
            links += 1;
        }
    }
    assert!(links > 20, "{links} links");
}

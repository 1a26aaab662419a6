//! The `veille` binary end to end: check, poll, feeds, items --json.

use std::process::Output;

use super::poll::write_config;
use super::server::TestServer;

/// The binary under test: the one cargo built, or `VEILLE_TEST_BIN` (to check that a
/// regression test fails on an older build).
pub fn bin() -> String {
    std::env::var("VEILLE_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_veille").into())
}

/// Runs the built `veille` binary with a clean environment.
pub async fn veille(args: &[&str]) -> Output {
    tokio::process::Command::new(bin())
        .args(args)
        .env_remove("VEILLE_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .output()
        .await
        .unwrap()
}

/// [`veille`] with `dir` as the working directory.
pub async fn veille_in(dir: &std::path::Path, args: &[&str]) -> Output {
    tokio::process::Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("VEILLE_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .output()
        .await
        .unwrap()
}

/// Lossy text of a process output.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn poll_then_items_json_round_trip() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &server,
        &[
            ("rss2", "/feeds/rss2.xml"),
            ("json", "/feeds/feed.json"),
            ("broken", "/feeds/malformed.xml"),
        ],
    );
    let config = config.to_str().unwrap();

    let out = veille(&["--config", config, "poll", "--all"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .starts_with("poll: 3 feeds: 2 ok (0 not modified), 1 failed; 5 new items, 0 updated"),
        "{stdout}"
    );
    assert!(stdout.contains("broken: invalid feed"), "{stdout}");

    let out = veille(&["--config", config, "items", "--json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 5);
    for v in &lines {
        for key in ["url", "title", "feed", "published", "language", "topics"] {
            assert!(v.get(key).is_some(), "missing {key} in {v}");
        }
        assert!(v["topics"].is_array());
    }
    let out = veille(&[
        "--config",
        config,
        "items",
        "--json",
        "--feed",
        "json",
        "--since",
        "2023-10-04",
    ])
    .await;
    let stdout = text(&out.stdout);
    let only: Vec<&str> = stdout.lines().collect();
    assert_eq!(only.len(), 1, "{only:?}");
    assert!(only[0].contains("Space cooperation talks"));

    let out = veille(&["--config", config, "feeds"]).await;
    let table = text(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("broken") && l.contains("erroring")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("rss2") && l.contains(" ok ")),
        "{table}"
    );

    let out = veille(&["--config", config, "items", "--feed", "nope"]).await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no feed named \"nope\""));
}

#[tokio::test]
async fn check_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/rss\"\nevry = \"30m\"\n",
    )
    .unwrap();
    let out = veille(&["--config", bad.to_str().unwrap(), "check"]).await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.toml:4:1: key `evry`: unknown field `evry`"),
        "{err}"
    );

    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/rss\"\n",
    )
    .unwrap();
    let out = veille(&["--config", good.to_str().unwrap(), "check"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("ok (1 feed, 0 watch lists"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn the_shipped_default_config_passes_check() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/veille.toml");
    let out = veille(&["--config", path, "check"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
}

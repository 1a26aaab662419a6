//! Issue 16: what a new operator trips over, each pinned by a regression test through the real
//! binary (loopback feeds, a real SMTP server, real SQLite files): hidden reasons, UTC times,
//! paths above the config's folder, untruthful footers, silent commands.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cli::{text, veille, veille_in};
use super::server::TestServer;
use super::smtp::{Mode, SmtpSink};

/// A configuration in `dir`: `[fetch]` for loopback, the given feeds (name, path, extra keys),
/// then `rest` (mail, watch lists).
fn config(
    dir: &Path,
    server: &TestServer,
    private: bool,
    feeds: &[(&str, &str, &str)],
    rest: &str,
) -> PathBuf {
    let mut toml = format!(
        "[storage]\ndatabase = \"veille.db\"\n[fetch]\ntimeout = \"5s\"\nconnect_timeout = \"2s\"\nper_host_delay = \"0s\"\nallow_private_networks = {private}\n"
    );
    for (name, path, extra) in feeds {
        toml.push_str(&format!(
            "[[feeds]]\nname = \"{name}\"\nurl = \"{}\"\nevery = \"30m\"\n{extra}",
            server.url(path)
        ));
    }
    toml.push_str(rest);
    let path = dir.join("veille.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// A watch list on both topics, Brussels time, mailing even when nothing is new.
const WATCHLIST: &str = "[[watchlists]]\nname = \"w\"\ntopics = [\"eu-nato-cyber\", \"eu-us-cyber\"]\nrecipients = [\"analyst@example.org\"]\nschedule = \"0 8 * * 1-5\"\ntimezone = \"Europe/Brussels\"\nsend_empty = true\n";

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Points 2, 8 and 12: why article pages gave no text is shown by `poll` (and its log) and
/// `feeds`, stays true after a 304, and `refetch` fetches them again once the cause is fixed;
/// `items --show` then tells everything about one item.
#[tokio::test(flavor = "multi_thread")]
async fn blocked_article_pages_are_explained_and_refetched() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let feeds = [("press", "/feeds/short-summaries.xml", "language = \"en\"\n")];
    let path = config(dir.path(), &server, false, &feeds, "");
    let cfg = path.to_str().unwrap();

    let out = veille(&["-v", "--config", cfg, "poll", "--all"]).await;
    let stdout = ok(&out);
    let log = text(&out.stderr);
    assert!(
        stdout.contains(
            "press: 3 of 3 article pages gave no text: blocked ×3 (e.g. http://127.0.0.1:"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("set [fetch] allow_private_networks = true to allow"),
        "{stdout}"
    );
    assert!(stdout.contains("`veille refetch`"), "{stdout}");
    assert!(
        log.contains("reasons=") && log.contains("blocked ×3"),
        "the log names the reasons too: {log}"
    );
    assert!(!server.seen("/feeds/short-summaries.xml").is_empty());
    assert!(
        server.seen("/pages/council-fisheries-en.html").is_empty(),
        "blocked before any request"
    );

    // A second poll is a 304: the note keeps its time instead of claiming "(last refresh)".
    ok(&veille(&["--config", cfg, "poll", "--all"]).await);
    let table = ok(&veille(&["--config", cfg, "feeds"]).await);
    let row = table.lines().find(|l| l.starts_with("press")).unwrap();
    assert!(!row.contains("(last refresh)"), "{row}");
    assert!(
        row.contains("3 of 3 article pages fetched 20")
            && row.contains("UTC gave no text: blocked ×3"),
        "{row}"
    );
    assert!(table.contains("veille refetch --feed NAME"), "{table}");
    let json = ok(&veille(&["--config", cfg, "feeds", "--json"]).await);
    let v: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(v["article_report"]["failed"][0]["kind"], "blocked", "{v}");

    // The cause is fixed: refetch gets what the pages give now.
    let path = config(dir.path(), &server, true, &feeds, "");
    let cfg = path.to_str().unwrap();
    let out = ok(&veille(&["--config", cfg, "refetch", "--feed", "press"]).await);
    assert!(
        out.starts_with("refetch: 3 items: 1 now with their article text, 2 still without"),
        "{out}"
    );
    assert_eq!(server.seen("/pages/council-fisheries-en.html").len(), 1);
    let row = ok(&veille(&["--config", cfg, "feeds"]).await);
    let row = row
        .lines()
        .find(|l| l.starts_with("press"))
        .unwrap()
        .to_string();
    assert!(
        row.contains("2 of 3 article pages fetched")
            && row.contains("consent_wall ×1")
            && row.contains("HTTP 404 ×1"),
        "{row}"
    );
    assert!(!row.contains("blocked"), "{row}");
    let again = ok(&veille(&["--config", cfg, "refetch", "--feed", "press"]).await);
    assert!(again.starts_with("refetch: 2 items: 0 now"), "{again}");

    // Point 12: one item, everything about it.
    let items = ok(&veille(&["--config", cfg, "items", "--json"]).await);
    let fisheries = items
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["title"].as_str().unwrap().starts_with("Fisheries"))
        .unwrap();
    let id = fisheries["id"].to_string();
    let shown = ok(&veille(&["--config", cfg, "items", "--show", &id]).await);
    for expected in [
        &format!("#{id} Fisheries: Council agrees catch limits with Norway and the UK"),
        "feed       press",
        "language   en: ",
        "article    extracted from the page",
        "topics     stored when classified · with the current rules",
        "eu-nato-cyber",
        "eu-us-cyber",
        "digests    none has carried it",
        "text\n  The Council today reached an agreement with Norway and the United Kingdom",
    ] {
        assert!(shown.contains(expected), "missing {expected:?}:\n{shown}");
    }
    let json = ok(&veille(&["--config", cfg, "items", "--show", &id, "--json"]).await);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["language"]["code"], "en", "{v}");
    assert!(v["language"]["source"].is_string(), "{v}");
    assert_eq!(v["topics"].as_array().unwrap().len(), 2, "{v}");
    assert!(v["topics"][0]["now"]["score"].is_number(), "{v}");
    let out = veille(&["--config", cfg, "items", "--show", "9999"]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no item 9999"),
        "{}",
        text(&out.stderr)
    );
}

/// Point 7: the digest footer said "All feeds are healthy." while a feed had failed without
/// ever succeeding and every article page of another had failed.
#[tokio::test(flavor = "multi_thread")]
async fn the_digest_footer_tells_the_truth() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let feeds = [
        ("down", "/status/500", ""),
        ("press", "/feeds/short-summaries.xml", ""),
    ];
    let path = config(dir.path(), &server, false, &feeds, WATCHLIST);
    let cfg = path.to_str().unwrap();
    ok(&veille(&["--config", cfg, "poll", "--all"]).await);
    let preview = ok(&veille(&["--config", cfg, "digest", "--watchlist", "w", "--preview"]).await);
    assert!(!preview.contains("All feeds are healthy"), "{preview}");
    assert!(
        preview
            .contains("down: 1 consecutive error, never read successfully, last: HTTP status 500"),
        "{preview}"
    );
    assert!(
        preview.contains("press: 3 of 3 pages fetched")
            && preview.contains("gave no text: blocked ×3"),
        "{preview}"
    );
}

/// Point 3: `veille digest` showed the next fire time in UTC beside the watch list's zone.
#[tokio::test(flavor = "multi_thread")]
async fn digest_status_shows_times_in_the_watch_list_zone() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &server,
        true,
        &[("rss2", "/feeds/rss2.xml", "")],
        &format!("[mail]\noutbox = \"out\"\n{WATCHLIST}"),
    );
    let cfg = path.to_str().unwrap();
    ok(&veille(&["--config", cfg, "digest", "--send"]).await);
    let status = ok(&veille(&["--config", cfg, "digest"]).await);
    let line = status.lines().next().unwrap();
    assert!(
        line.starts_with("w: 0 8 * * 1-5 (Europe/Brussels), next 20"),
        "{line}"
    );
    assert!(
        line.contains(" 08:00 CET,") || line.contains(" 08:00 CEST,"),
        "08:00 Brussels time, named: {line}"
    );
}

/// Point 4: a configuration in `ob/` without `[storage]` or `[mail]` wrote its database and
/// mail to a `data/` outside `ob/`, and "sent:" did not say where.
#[tokio::test(flavor = "multi_thread")]
async fn a_configs_files_stay_in_its_folder_and_every_path_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let ob = dir.path().join("ob");
    std::fs::create_dir(&ob).unwrap();
    let path = ob.join("veille.toml");
    std::fs::write(&path, WATCHLIST).unwrap();
    let cfg = path.to_str().unwrap();
    let check = ok(&veille(&["--config", cfg, "check"]).await);
    let db = ob.join("data/veille.db");
    let outbox = ob.join("data/outbox");
    assert!(
        check.contains(&format!("database  {} (not created yet)", db.display())),
        "{check}"
    );
    assert!(
        check.contains(&format!("written as .eml files to {}", outbox.display())),
        "{check}"
    );
    let out = veille(&["--config", cfg, "digest", "--send", "--now"]).await;
    let sent = ok(&out);
    assert!(
        text(&out.stderr).contains(&format!("created the database {}", db.display())),
        "{}",
        text(&out.stderr)
    );
    let line = sent
        .lines()
        .find(|l| l.starts_with("sent: w digest 1"))
        .unwrap();
    let file = line
        .split("-> ")
        .nth(1)
        .expect("the sent line names the file");
    assert!(Path::new(file).starts_with(&outbox), "{line}");
    assert!(Path::new(file).exists(), "{line}");
    assert!(db.exists());
    assert!(
        !dir.path().join("data").exists(),
        "nothing written above ob/"
    );
}

/// Point 9: `check` named `config/veille.toml` when it used the embedded defaults, and the
/// read-only `feeds` and `items` created `./data/veille.db`.
#[tokio::test]
async fn reading_commands_name_the_embedded_defaults_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let check = ok(&veille_in(dir.path(), &["check"]).await);
    assert!(
        check.starts_with("embedded defaults (no config/veille.toml in "),
        "{check}"
    );
    assert!(!check.contains("config/veille.toml: ok"), "{check}");
    let feeds = ok(&veille_in(dir.path(), &["feeds"]).await);
    assert!(feeds.starts_with("no database yet at "), "{feeds}");
    assert!(
        feeds
            .lines()
            .any(|l| l.starts_with("cisa-news") && l.contains(" new ")),
        "{feeds}"
    );
    let out = veille_in(dir.path(), &["items"]).await;
    ok(&out);
    assert!(
        text(&out.stderr).contains("no items: no database yet"),
        "{}",
        text(&out.stderr)
    );
    ok(&veille_in(dir.path(), &["digest"]).await);
    ok(&veille_in(
        dir.path(),
        &["digest", "--watchlist", "cyber-cooperation", "--preview"],
    )
    .await);
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing was created in the working directory"
    );
}

/// Point 6: errors printed twice, and a bad selector showing the parser's internals.
#[tokio::test]
async fn errors_are_printed_once_and_in_words() {
    let out = veille(&["extract", "/nonexistent.html"]).await;
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("veille.toml");
    std::fs::write(
        &path,
        format!(
            "[mail]\ntransport = \"smtp\"\nsmtp_url = \"smtp://veille@127.0.0.1:9\"\npassword_env = \"VEILLE_TEST_UNSET_PASSWORD\"\n{WATCHLIST}"
        ),
    )
    .unwrap();
    let out = veille(&["--config", path.to_str().unwrap(), "digest", "--send"]).await;
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(
        err.matches("VEILLE_TEST_UNSET_PASSWORD is not set").count(),
        1,
        "{err}"
    );

    let page = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/pages/login-wall.html"
    );
    for selector in ["a >", "p:nosuch", "div,"] {
        let out = veille(&["extract", "--remove-selector", selector, page]).await;
        let err = text(&out.stderr);
        assert!(!out.status.success());
        assert!(!err.contains("report this to the developer"), "{err}");
        assert!(err.contains("expected a selector such as"), "{err}");
    }
}

/// Point 10: `digest --send` skipped a pending digest waiting for its retry without a word.
#[tokio::test(flavor = "multi_thread")]
async fn a_pending_digest_waiting_for_its_retry_is_named() {
    let smtp = SmtpSink::start(Mode::TempFailData).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("veille.toml");
    std::fs::write(
        &path,
        format!(
            "[storage]\ndatabase = \"veille.db\"\n[mail]\ntransport = \"smtp\"\nsmtp_url = \"smtp://127.0.0.1:{}\"\n{WATCHLIST}",
            smtp.port
        ),
    )
    .unwrap();
    let cfg = path.to_str().unwrap();
    let out = veille(&["--config", cfg, "digest", "--send", "--now"]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("failed: w digest 1"),
        "{}",
        text(&out.stdout)
    );
    let out = ok(&veille(&["--config", cfg, "digest", "--send"]).await);
    assert!(
        out.contains("pending: w digest 1 waits for its next attempt at 20"),
        "{out}"
    );
    assert!(out.contains("(1 attempt failed, last: "), "{out}");
    assert!(!out.contains("nothing due"), "{out}");
}

/// A configuration in `dir` with one feed that always fails (HTTP 500).
fn failing_config(dir: &Path, server: &TestServer) -> PathBuf {
    config(dir, server, true, &[("down", "/status/500", "")], "")
}

/// Point 11: `poll --all` exited 0 when every feed failed.
#[tokio::test(flavor = "multi_thread")]
async fn poll_exits_1_when_every_feed_failed() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = failing_config(dir.path(), &server);
    let out = veille(&["--config", path.to_str().unwrap(), "poll", "--all"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("down: HTTP status 500"),
        "{}",
        text(&out.stdout)
    );
}

/// Point 11: logs written to a file or a pipe carried ANSI colour codes.
#[tokio::test(flavor = "multi_thread")]
async fn logs_to_a_pipe_carry_no_colour_codes() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = failing_config(dir.path(), &server);
    let out = veille(&["-v", "--config", path.to_str().unwrap(), "poll", "--all"]).await;
    let log = text(&out.stderr);
    assert!(log.contains("feed failed"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log:?}");
}

/// Point 11: `poll` with nothing due did not say when the next feed is due.
#[tokio::test(flavor = "multi_thread")]
async fn poll_with_nothing_due_says_when_the_next_feed_is() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &server,
        true,
        &[("rss2", "/feeds/rss2.xml", "")],
        "",
    );
    let cfg = path.to_str().unwrap();
    ok(&veille(&["--config", cfg, "poll"]).await);
    let out = ok(&veille(&["--config", cfg, "poll"]).await);
    assert!(
        out.starts_with("poll: nothing due; the next feed, rss2, is due at 20")
            && out.contains(" UTC (`veille poll --all` polls every feed now)"),
        "{out}"
    );
}

/// Point 11: `items` on an empty database printed nothing.
#[tokio::test(flavor = "multi_thread")]
async fn items_on_an_empty_database_say_so() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = failing_config(dir.path(), &server);
    let cfg = path.to_str().unwrap();
    let _ = veille(&["--config", cfg, "poll", "--all"]).await;
    let out = ok(&veille(&["--config", cfg, "items"]).await);
    assert!(out.starts_with("no items stored yet in "), "{out}");
    let out = ok(&veille(&["--config", cfg, "items", "--since", "1d"]).await);
    assert!(
        out.starts_with("no stored item matches these filters"),
        "{out}"
    );
}

/// Point 11: `items --topic nosuchtopic` was silent while `--feed nosuchfeed` is an error.
#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_topic_is_an_error_like_an_unknown_feed() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &server,
        true,
        &[("rss2", "/feeds/rss2.xml", "")],
        "",
    );
    let cfg = path.to_str().unwrap();
    ok(&veille(&["--config", cfg, "poll", "--all"]).await);
    let out = veille(&["--config", cfg, "items", "--topic", "nosuchtopic"]).await;
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr)
            .contains("no topic named \"nosuchtopic\"; the topics are eu-nato-cyber, eu-us-cyber"),
        "{}",
        text(&out.stderr)
    );
    ok(&veille(&["--config", cfg, "items", "--topic", "eu-us-cyber"]).await);
}

/// Point 11: `feeds --json` had no `state`.
#[tokio::test(flavor = "multi_thread")]
async fn feeds_json_carries_the_state_of_the_table() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = failing_config(dir.path(), &server);
    let cfg = path.to_str().unwrap();
    let _ = veille(&["--config", cfg, "poll", "--all"]).await;
    let json = ok(&veille(&["--config", cfg, "feeds", "--json"]).await);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["state"], "erroring", "{v}");
}

/// Point 11: `check` stopped at the first mistake.
#[tokio::test]
async fn check_reports_every_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[feeds]]\nname = \"a\"\nurl = \"nope\"\n[[feeds]]\nname = \"b\"\nurl = \"https://x.eu/\"\nevery = \"1s\"\n",
    )
    .unwrap();
    let out = veille(&["--config", bad.to_str().unwrap(), "check"]).await;
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("bad.toml:3:7: key `feeds[0].url`") && err.contains("key `feeds[1].every`"),
        "{err}"
    );
    assert!(err.contains("2 errors: configuration invalid"), "{err}");
}

/// Point 11: "1 items", "1 watch lists", "1 feeds".
#[tokio::test(flavor = "multi_thread")]
async fn one_of_a_thing_is_singular() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &server,
        true,
        &[("rss091", "/feeds/rss091.xml", "")],
        &format!("[mail]\noutbox = \"out\"\n{WATCHLIST}"),
    );
    let cfg = path.to_str().unwrap();
    let check = ok(&veille(&["--config", cfg, "check"]).await);
    assert!(
        check.contains(": ok (1 feed, 1 watch list, 2 topics"),
        "{check}"
    );
    let poll = ok(&veille(&["--config", cfg, "poll", "--all"]).await);
    assert!(poll.starts_with("poll: 1 feed: 1 ok"), "{poll}");
    let status = ok(&veille(&["--config", cfg, "digest", "--send", "--now"]).await);
    assert!(
        status.contains("composed: w digest 1 (0 items)"),
        "{status}"
    );
    let status = ok(&veille(&["--config", cfg, "digest"]).await);
    assert!(
        status.contains(" w 0 items, sent, mail sent (attempts 1)"),
        "{status}"
    );
}

/// Point 11: the start-up log counted disabled feeds as polled ones.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn the_start_up_log_counts_enabled_feeds() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &server,
        true,
        &[
            ("rss2", "/feeds/rss2.xml", ""),
            ("off", "/feeds/atom.xml", "enabled = false\n"),
        ],
        "",
    );
    let child = tokio::process::Command::new(super::cli::bin())
        .args([
            "--log-format",
            "json",
            "--config",
            path.to_str().unwrap(),
            "run",
            "--tick",
            "100ms",
        ])
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap().to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while server.seen("/feeds/rss2.xml").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no poll");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let log = text(&out.stderr);
    let start: serde_json::Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message"] == "veille starting")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(start["feeds"], 1, "{start}");
    assert_eq!(start["disabled_feeds"], 1, "{start}");
}

/// Point 11: `config/watchlists/` was described in the README but not shipped.
#[test]
fn the_watchlists_directory_is_shipped_and_read() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/watchlists");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    let c = veille::config::Config::from_file(&dir.join("../veille.toml")).unwrap();
    assert!(c.watchlist("cyber-cooperation").is_some());
}

/// Points 2 and 11: `/health` shows why article pages gave no text, and `last_digest` counts
/// digests sent by `veille digest --send` on the same database (it said null).
#[tokio::test(flavor = "multi_thread")]
async fn health_shows_article_failures_and_digests_sent_by_the_cli() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &server,
        false,
        &[("press", "/feeds/short-summaries.xml", "")],
        &format!("[mail]\noutbox = \"out\"\n{WATCHLIST}"),
    );
    ok(&veille(&[
        "--config",
        path.to_str().unwrap(),
        "digest",
        "--send",
        "--now",
    ])
    .await);
    let config = veille::config::Config::from_file(&path).unwrap();
    let store = veille::store::Store::open(&config.storage.database).unwrap();
    // As `veille run` builds it: with its digest part (so `/health` has `mail`).
    let digests = veille::digest::Service::new(
        veille::store::Store::open(&config.storage.database).unwrap(),
        veille::digest::Digester::new(&config).unwrap(),
    );
    let svc = veille::service::service(
        veille::pipeline::Pipeline::new(&config, store).unwrap(),
        None,
        Some(digests),
    );
    svc.poll_once().await.unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(None);
    let (addr, http) = veille::service::http::bind(
        "127.0.0.1:0".parse().unwrap(),
        svc.clone(),
        None,
        veille::service::stopped(rx),
    )
    .await
    .unwrap();
    tokio::spawn(http);
    let health: serde_json::Value = serde_json::from_str(
        &reqwest::get(format!("http://{addr}/health"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(health["last_digest"].is_string(), "{health}");
    let failures = &health["article_failures"][0];
    assert_eq!(failures["feed"], "press", "{health}");
    assert_eq!(failures["failed"], 3, "{health}");
    assert_eq!(failures["reasons"][0]["kind"], "blocked", "{health}");
    assert!(
        failures["reasons"][0]["example"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{health}"
    );
    // The documented example (docs/operations.md) shows every field (it lacked some).
    let readme = include_str!("../../docs/operations.md");
    let start = readme
        .find("GET /health")
        .expect("docs/operations.md shows /health");
    let block = &readme[start..];
    let block = &block[block.find("```json\n").unwrap() + 8..];
    let example: serde_json::Value =
        serde_json::from_str(&block[..block.find("```").unwrap()]).unwrap();
    let keys = |v: &serde_json::Value| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    };
    // `reasons` is there only while `degraded`, as in the example; the rest always is.
    assert_eq!(
        example["status"], "degraded",
        "the example shows the reasons"
    );
    assert!(health.get("reasons").is_none(), "{health}");
    let mut live = keys(&health);
    live.insert("reasons".into());
    assert_eq!(keys(&example), live, "docs/operations.md /health example");
    for part in ["feeds", "storage", "mail"] {
        assert_eq!(
            keys(&example[part]),
            keys(&health[part]),
            "docs/operations.md /health example, {part}"
        );
    }
    let (shown, live) = (
        &example["article_failures"][0],
        &health["article_failures"][0],
    );
    assert_eq!(
        keys(shown),
        keys(live),
        "docs/operations.md /health example, article_failures"
    );
    assert_eq!(
        keys(&shown["reasons"][0]),
        keys(&live["reasons"][0]),
        "docs/operations.md /health example, article_failures reasons"
    );
}

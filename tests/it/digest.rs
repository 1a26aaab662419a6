//! Digests end to end on real parts: a SQLite file, the SMTP sink on loopback, the outbox
//! directory, the CLI. Items and matches are stored through the Store API with evidence JSON
//! in the classifier's shape.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use veille::config::Config;
use veille::digest::{Digester, Scope, StepReport};
use veille::model::ParsedItem;
use veille::store::{FetchRecord, NewItem, Store, StoredMatch};

use super::smtp::{Mode, SmtpSink};

const IT: &str = include_str!("../data/stories/000_it.txt");
const EN: &str = include_str!("../data/stories/001_en.txt");
const ES: &str = include_str!("../data/stories/002_es.txt");
const IT_US: &str = include_str!("../data/stories/003_it.txt");

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Monday 23 November 2026, 09:00 in Brussels.
fn monday() -> DateTime<Utc> {
    at("2026-11-23T08:00:00Z")
}

const FEEDS: &[&str] = &["ds-en", "ds-it", "ds-es", "broken"];

/// Writes a configuration in `dir` with four feeds, the `[mail]` table given and one watch list.
fn write_config(dir: &Path, mail: &str, schedule: &str) -> PathBuf {
    let mut toml =
        String::from("[storage]\ndatabase = \"veille.db\"\n[fetch]\nper_host_delay = \"0s\"\n");
    for f in FEEDS {
        toml.push_str(&format!(
            "[[feeds]]\nname = \"{f}\"\nurl = \"http://127.0.0.1:9/{f}.xml\"\n"
        ));
    }
    toml.push_str(mail);
    toml.push_str(&format!(
        "\n[[watchlists]]\nname = \"cyber-cooperation\"\ntopics = [\"eu-nato-cyber\", \"eu-us-cyber\"]\nmin_score = 0.5\nrecipients = [\"Анна Analyst <analyst@example.org>\"]\nschedule = \"{schedule}\"\ntimezone = \"Europe/Brussels\"\n"
    ));
    let path = dir.join("veille.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

fn evidence(terms: &[(&str, &str)]) -> String {
    serde_json::to_string(
        &terms
            .iter()
            .enumerate()
            .map(|(i, (c, m))| {
                serde_json::json!({"concept": c, "term": m, "matched": m, "offset": i * 10, "snippet": "…"})
            })
            .collect::<Vec<_>>(),
    )
    .unwrap()
}

fn item(
    guid: &str,
    title: &str,
    text: &str,
    lang: &str,
    url: &str,
    (topic, score): (&str, f64),
    ev: &[(&str, &str)],
) -> NewItem {
    NewItem {
        parsed: ParsedItem {
            guid: guid.into(),
            url: Some(url.into()),
            canonical_url: Some(url.into()),
            title: title.into(),
            text: text.into(),
            published: Some(at("2026-11-20T10:00:00Z")),
            ..ParsedItem::default()
        },
        language: Some(lang.into()),
        language_source: None,
        matches: vec![StoredMatch {
            topic: topic.into(),
            score,
            evidence_json: evidence(ev),
        }],
        article: None,
        links: None,
        hashes: None,
        prepared: None,
    }
}

fn feed_id(store: &Store, name: &str) -> i64 {
    store
        .feeds()
        .unwrap()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap()
        .id
}

/// Opens the configured store and fills it: the EU–NATO story in en/it/es (each URL unrelated,
/// so only names and numbers tie them), an EU–US story, an item below `min_score`, and a feed
/// failing four times in a row.
fn seed(config: &Config, now: DateTime<Utc>) -> Store {
    let mut store = Store::open(&config.storage.database).unwrap();
    store.sync_feeds(&config.feeds, now).unwrap();
    let en = feed_id(&store, "ds-en");
    let it = feed_id(&store, "ds-it");
    let es = feed_id(&store, "ds-es");
    store
        .store_items(
            en,
            &[
                item(
                    "en-1",
                    "EU and NATO hold first Structured Dialogue on Cyber",
                    EN,
                    "en",
                    "https://news.example/en/story-a-1001",
                    ("eu-nato-cyber", 0.9),
                    &[
                        ("nato", "NATO"),
                        ("cyber", "cyber defence"),
                        ("cyber", "cybersecurity"),
                    ],
                ),
                item(
                    "en-2",
                    "Weather in Brussels",
                    "Sunny.",
                    "en",
                    "https://news.example/en/weather-2002",
                    ("eu-nato-cyber", 0.2),
                    &[("nato", "NATO")],
                ),
            ],
            now,
        )
        .unwrap();
    store
        .store_items(
            it,
            &[
                item(
                    "it-1",
                    "UE e NATO: primo dialogo strutturato sulla cibersicurezza",
                    IT,
                    "it",
                    "https://notizie.example/articolo-77",
                    ("eu-nato-cyber", 0.8),
                    &[("nato", "NATO"), ("cyber", "sicurezza informatica")],
                ),
                item(
                    "it-2",
                    "Dialogo UE-USA sulla cibersicurezza",
                    IT_US,
                    "it",
                    "https://notizie.example/articolo-88",
                    ("eu-us-cyber", 0.7),
                    &[("us", "Stati Uniti"), ("cyber", "cibersicurezza")],
                ),
            ],
            now,
        )
        .unwrap();
    store
        .store_items(
            es,
            &[item(
                "es-1",
                "La UE y la OTAN celebran su primer Diálogo Estructurado",
                ES,
                "es",
                "https://noticias.example/nota-55",
                ("eu-nato-cyber", 0.85),
                &[("nato", "OTAN"), ("cyber", "ciberdefensa")],
            )],
            now,
        )
        .unwrap();
    let broken = feed_id(&store, "broken");
    for _ in 0..4 {
        store
            .record_fetch(
                broken,
                &FetchRecord {
                    fetched_at: now,
                    status: Some(503),
                    error: Some("HTTP status 503".into()),
                    next_check_at: now,
                    ..FetchRecord::default()
                },
            )
            .unwrap();
    }
    store
}

fn smtp_mail(sink: &SmtpSink) -> String {
    format!(
        "[mail]\ntransport = \"smtp\"\nfrom = \"Veille Überwachung <veille@example.org>\"\nsmtp_url = \"{}\"\n",
        sink.url()
    )
}

const FORCE: Scope<'static> = Scope {
    watchlist: None,
    force: true,
};
const DUE: Scope<'static> = Scope {
    watchlist: None,
    force: false,
};

fn stored_message_id(store: &Store) -> String {
    let d = store.digests(None).unwrap();
    assert_eq!(d.len(), 1, "{d:#?}");
    d[0].message_id.clone()
}

#[tokio::test]
async fn smtp_digest_is_multipart_grouped_explained_and_utf8_clean() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    let config =
        Config::from_file(&write_config(dir.path(), &smtp_mail(&sink), "0 8 * * 1-5")).unwrap();
    let now = monday();
    let mut store = seed(&config, now);
    let digester = Digester::new(&config).unwrap();

    let r = digester.step(&mut store, now, FORCE).await.unwrap();
    assert_eq!(r.composed.len(), 1, "{r:?}");
    assert_eq!(r.composed[0].2, 4, "four items above min_score: {r:?}");
    assert_eq!(r.sent.len(), 1, "{r:?}");
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "veille@example.org");
    assert_eq!(got[0].to, ["analyst@example.org"]);

    let raw = &got[0].data;
    // every header line is 7-bit: UTF-8 travels encoded
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(
        raw[..head_end].is_ascii(),
        "{}",
        String::from_utf8_lossy(&raw[..head_end])
    );
    let msg = MessageParser::default().parse(raw).unwrap();
    assert_eq!(
        msg.subject(),
        Some("[veille] cyber-cooperation — 4 new items, 23 Nov")
    );
    let ct = msg.root_part().content_type().unwrap();
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!((msg.text_body_count(), msg.html_body_count()), (1, 1));
    let mid = stored_message_id(&store);
    assert_eq!(format!("<{}>", msg.message_id().unwrap()), mid);
    assert_eq!(msg.date().unwrap().to_timestamp(), now.timestamp());
    // machine-made mail on a list of its own: filters and out-of-office replies behave
    let header = |name: &str| {
        msg.header_raw(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    assert_eq!(header("Auto-Submitted"), "auto-generated");
    assert_eq!(header("X-Auto-Response-Suppress"), "All");
    assert_eq!(
        header("List-Id"),
        "\"veille digest cyber-cooperation\" <cyber-cooperation.example.org>"
    );
    let to = msg.to().unwrap().first().unwrap();
    assert_eq!(
        (to.name(), to.address()),
        (Some("Анна Analyst"), Some("analyst@example.org"))
    );
    assert_eq!(
        msg.from().unwrap().first().unwrap().name(),
        Some("Veille Überwachung")
    );

    let text = msg.body_text(0).unwrap();
    // the three language versions are one entry, English first
    assert_eq!(
        text.matches("EU and NATO hold first Structured Dialogue on Cyber")
            .count(),
        1,
        "{text}"
    );
    assert!(text.contains("Languages: en, it, es"), "{text}");
    assert!(text.contains("- [es] La UE y la OTAN celebran su primer Diálogo Estructurado (ds-es, 2026-11-20) https://noticias.example/nota-55"), "{text}");
    assert!(text.contains("Why: nato: NATO, OTAN; cyber: cyber defence, cybersecurity, sicurezza informatica, ciberdefensa"), "{text}");
    assert!(text.contains("== eu-nato-cyber (1 story) =="), "{text}");
    assert!(text.contains("== eu-us-cyber (1 story) =="), "{text}");
    assert!(
        text.contains("Why: us: Stati Uniti; cyber: cibersicurezza"),
        "{text}"
    );
    assert!(!text.contains("Weather"), "below min_score: {text}");
    assert!(
        text.contains(
            "broken: 4 consecutive errors, never read successfully, last: HTTP status 503"
        ),
        "{text}"
    );

    let html = msg.body_html(0).unwrap();
    assert!(html.contains("Diálogo Estructurado"), "{html}");
    assert!(
        html.contains("<a href=\"https://news.example/en/story-a-1001\""),
        "{html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert!(html.contains("<b>nato</b>: NATO, OTAN"), "{html}");

    // Nothing new: the next run sends nothing more.
    let r = digester.step(&mut store, now, FORCE).await.unwrap();
    assert_eq!(r.skipped_empty, ["cyber-cooperation"], "{r:?}");
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn composed_then_crashed_before_sending_is_sent_once_by_the_next_run() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &smtp_mail(&sink), "0 8 * * 1-5");
    let config = Config::from_file(&path).unwrap();
    let now = monday();
    {
        let mut store = seed(&config, now);
        let digester = Digester::new(&config).unwrap();
        // step 1 only, then the process "dies": nothing was sent
        let r = digester.compose_due(&mut store, now, FORCE).unwrap();
        assert_eq!(r.composed.len(), 1);
    }
    assert!(sink.received().is_empty());

    // A new process: the pending digest goes out, as composed, exactly once.
    let config = Config::from_file(&path).unwrap();
    let mut store = Store::open(&config.storage.database).unwrap();
    let digester = Digester::new(&config).unwrap();
    let later = now + chrono::Duration::minutes(5);
    let r = digester.step(&mut store, later, DUE).await.unwrap();
    assert_eq!((r.composed.len(), r.sent.len()), (0, 1), "{r:?}");
    let got = sink.received();
    assert_eq!(got.len(), 1);
    let msg = MessageParser::default().parse(&got[0].data).unwrap();
    assert_eq!(
        format!("<{}>", msg.message_id().unwrap()),
        stored_message_id(&store)
    );
    assert_eq!(
        msg.date().unwrap().to_timestamp(),
        now.timestamp(),
        "the composed message, not a new one"
    );

    for minutes in [6, 60, 24 * 60] {
        let r = digester
            .step(&mut store, now + chrono::Duration::minutes(minutes), FORCE)
            .await
            .unwrap();
        assert!(r.sent.is_empty() && r.composed.is_empty(), "{r:?}");
    }
    assert_eq!(sink.received().len(), 1);
    assert_eq!(store.digests(None).unwrap()[0].status, "sent");
}

#[tokio::test]
async fn smtp_failures_are_kept_retried_with_backoff_then_sent_once() {
    let sink = SmtpSink::start(Mode::TempFailData).await;
    let dir = tempfile::tempdir().unwrap();
    let config =
        Config::from_file(&write_config(dir.path(), &smtp_mail(&sink), "0 8 * * 1-5")).unwrap();
    let now = monday();
    let mut store = seed(&config, now);
    let digester = Digester::new(&config).unwrap();

    let r = digester.step(&mut store, now, FORCE).await.unwrap();
    assert_eq!(
        (r.composed.len(), r.sent.len(), r.failed.len()),
        (1, 0, 1),
        "{r:?}"
    );
    let (_, _, err, next) = &r.failed[0];
    assert!(!err.permanent && err.message.contains("451"), "{err:?}");
    // The wait counts from the failed attempt (a few milliseconds after `now` here).
    let waited = |from: DateTime<Utc>, to: DateTime<Utc>, secs: i64| {
        let d = to - from;
        assert!(
            d >= chrono::Duration::seconds(secs) && d < chrono::Duration::seconds(secs + 1),
            "{from} → {to}: expected {secs} s"
        );
    };
    waited(now, *next, 60);
    let next = *next;
    assert_eq!(sink.data_attempts(), 1);

    // Before the backoff has passed nothing is tried; a 5xx refusal is recorded and kept too.
    let r = digester
        .step(&mut store, now + chrono::Duration::seconds(30), DUE)
        .await
        .unwrap();
    assert_eq!(r, StepReport::default());
    sink.set_mode(Mode::RejectRcpt);
    let r = digester.step(&mut store, next, DUE).await.unwrap();
    assert_eq!(r.failed.len(), 1, "{r:?}");
    assert!(r.failed[0].2.permanent, "{r:?}");
    waited(next, r.failed[0].3, 120); // doubled
    let next = r.failed[0].3;
    let row = &store.digests(None).unwrap()[0];
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 2));
    assert!(
        row.last_error.as_deref().unwrap().contains("550"),
        "{row:?}"
    );

    // The server recovers: the same message goes out once, and never again.
    sink.set_mode(Mode::Accept);
    let r = digester.step(&mut store, next, DUE).await.unwrap();
    assert_eq!(r.sent.len(), 1, "{r:?}");
    let r = digester
        .step(&mut store, now + chrono::Duration::hours(3), DUE)
        .await
        .unwrap();
    assert!(r.sent.is_empty() && r.failed.is_empty(), "{r:?}");
    let got = sink.received();
    assert_eq!(got.len(), 1);
    let msg = MessageParser::default().parse(&got[0].data).unwrap();
    assert_eq!(
        format!("<{}>", msg.message_id().unwrap()),
        stored_message_id(&store)
    );
    let row = &store.digests(None).unwrap()[0];
    assert_eq!(
        (row.status.as_str(), row.attempts, row.last_error.as_deref()),
        ("sent", 3, None)
    );
}

#[tokio::test]
async fn schedules_fire_on_time_in_brussels_and_missed_fires_coalesce() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    let config =
        Config::from_file(&write_config(dir.path(), &smtp_mail(&sink), "0 8 * * 1-5")).unwrap();
    // Sunday evening: first sight schedules Monday 08:00 CET = 07:00 UTC.
    let sunday = at("2026-11-22T20:00:00Z");
    let mut store = seed(&config, sunday);
    let digester = Digester::new(&config).unwrap();
    let r = digester.step(&mut store, sunday, DUE).await.unwrap();
    assert_eq!(r, StepReport::default());
    assert_eq!(
        store
            .watch_state("cyber-cooperation")
            .unwrap()
            .unwrap()
            .next_fire_at,
        at("2026-11-23T07:00:00Z")
    );
    let r = digester
        .step(&mut store, at("2026-11-23T06:59:59Z"), DUE)
        .await
        .unwrap();
    assert_eq!(r, StepReport::default());
    let r = digester
        .step(&mut store, at("2026-11-23T07:00:15Z"), DUE)
        .await
        .unwrap();
    assert_eq!((r.composed.len(), r.sent.len()), (1, 1), "{r:?}");
    assert_eq!(
        store
            .watch_state("cyber-cooperation")
            .unwrap()
            .unwrap()
            .next_fire_at,
        at("2026-11-24T07:00:00Z")
    );

    // The service is down Tuesday and Wednesday; a new item arrives; Thursday noon one digest
    // goes out (not three), and the next fire is Friday 08:00.
    let en = feed_id(&store, "ds-en");
    store
        .store_items(
            en,
            &[item(
                "en-9",
                "EU-US Cyber Dialogue 2026",
                "ENISA CISA 2026 11 24",
                "en",
                "https://news.example/en/eu-us-9009",
                ("eu-us-cyber", 0.95),
                &[("us", "US")],
            )],
            at("2026-11-24T09:00:00Z"),
        )
        .unwrap();
    let thursday = at("2026-11-26T11:00:00Z");
    let r = digester.step(&mut store, thursday, DUE).await.unwrap();
    assert_eq!((r.composed.len(), r.sent.len()), (1, 1), "{r:?}");
    assert_eq!(r.composed[0].2, 1, "only the new item: {r:?}");
    let r = digester
        .step(&mut store, thursday + chrono::Duration::minutes(1), DUE)
        .await
        .unwrap();
    assert_eq!(r, StepReport::default());
    assert_eq!(
        store
            .watch_state("cyber-cooperation")
            .unwrap()
            .unwrap()
            .next_fire_at,
        at("2026-11-27T07:00:00Z")
    );
    assert_eq!(sink.received().len(), 2);
    // Friday's fire has nothing new: no mail (send_empty is false), and the schedule moves on
    // to Monday.
    let r = digester
        .step(&mut store, at("2026-11-27T07:00:00Z"), DUE)
        .await
        .unwrap();
    assert_eq!(r.skipped_empty, ["cyber-cooperation"]);
    assert_eq!(
        store
            .watch_state("cyber-cooperation")
            .unwrap()
            .unwrap()
            .next_fire_at,
        at("2026-11-30T07:00:00Z")
    );
    assert_eq!(sink.received().len(), 2);
}

#[tokio::test]
async fn the_outbox_transport_writes_a_parseable_eml_named_after_its_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_file(&write_config(
        dir.path(),
        "[mail]\noutbox = \"out\"\n",
        "0 8 * * 1-5",
    ))
    .unwrap();
    let now = monday();
    let mut store = seed(&config, now);
    let digester = Digester::new(&config).unwrap();
    let r = digester.step(&mut store, now, FORCE).await.unwrap();
    assert_eq!(r.sent.len(), 1, "{r:?}");
    let files: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let raw = std::fs::read(&files[0]).unwrap();
    let msg = MessageParser::default().parse(&raw).unwrap();
    let mid = msg.message_id().unwrap().to_string();
    assert_eq!(format!("<{mid}>"), stored_message_id(&store));
    assert!(
        files[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(&mid.replace('@', "_"))
    );
    assert_eq!((msg.text_body_count(), msg.html_body_count()), (1, 1));
    assert!(msg.subject().unwrap().contains("4 new items"));
}

async fn veille(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_veille"))
        .args(args)
        .env_remove("VEILLE_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_preview_writes_text_and_html_then_send_now_fills_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), "[mail]\noutbox = \"out\"\n", "0 8 * * 1-5");
    let config = Config::from_file(&path).unwrap();
    drop(seed(&config, Utc::now()));
    let cfg = path.to_str().unwrap();
    let html = dir.path().join("preview.html");
    let out = veille(&[
        "--config",
        cfg,
        "digest",
        "--watchlist",
        "cyber-cooperation",
        "--preview",
        "--html",
        html.to_str().unwrap(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("[veille] cyber-cooperation — 4 new items"),
        "{stdout}"
    );
    assert!(stdout.contains("Languages: en, it, es"), "{stdout}");
    let h = std::fs::read_to_string(&html).unwrap();
    assert!(
        h.starts_with("<!DOCTYPE html>") && h.contains("Diálogo"),
        "{h}"
    );
    assert!(!dir.path().join("out").exists(), "preview sends nothing");

    let out = veille(&["--config", cfg, "digest", "--send"]).await;
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("nothing due"),
        "first sight only schedules"
    );
    let out = veille(&["--config", cfg, "digest", "--send", "--now"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("composed: cyber-cooperation digest 1 (4 items)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sent: cyber-cooperation digest 1 <veille.cyber-cooperation."),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        1
    );

    let out = veille(&[
        "--config",
        cfg,
        "digest",
        "--watchlist",
        "nope",
        "--preview",
    ])
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no watch list named \"nope\""));
}

#[tokio::test]
async fn the_sendmail_transport_pipes_the_message_to_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fake-sendmail");
    std::fs::write(
        &script,
        "#!/bin/sh\nd=$(dirname \"$0\")\nprintf '%s\\n' \"$@\" > \"$d/args\"\ncat > \"$d/message.eml\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mail = format!(
        "[mail]\ntransport = \"sendmail\"\nfrom = \"veille@example.org\"\nsendmail = \"{}\"\n",
        script.display()
    );
    let config = Config::from_file(&write_config(dir.path(), &mail, "0 8 * * 1-5")).unwrap();
    let now = monday();
    let mut store = seed(&config, now);
    let r = Digester::new(&config)
        .unwrap()
        .step(&mut store, now, FORCE)
        .await
        .unwrap();
    assert_eq!(r.sent.len(), 1, "{r:?}");
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    assert_eq!(
        args,
        "-i\n-f\nveille@example.org\n--\nanalyst@example.org\n"
    );
    let raw = std::fs::read(dir.path().join("message.eml")).unwrap();
    let msg = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        format!("<{}>", msg.message_id().unwrap()),
        stored_message_id(&store)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_loop_delivers_pending_digests() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    let config =
        Config::from_file(&write_config(dir.path(), &smtp_mail(&sink), "0 8 * * 1-5")).unwrap();
    let now = Utc::now();
    let mut store = seed(&config, now);
    // composed by an earlier process that stopped before sending
    let digester = Digester::new(&config).unwrap();
    assert_eq!(
        digester
            .compose_due(&mut store, now, FORCE)
            .unwrap()
            .composed
            .len(),
        1
    );
    drop(store);

    let pipeline =
        veille::pipeline::Pipeline::new(&config, Store::open(&config.storage.database).unwrap())
            .unwrap();
    let digests =
        veille::digest::Service::new(Store::open(&config.storage.database).unwrap(), digester);
    let svc = veille::service::service(pipeline, None, Some(digests));
    let (tx, rx) = tokio::sync::watch::channel(None);
    let db = config.storage.database.clone();
    let sent = async move {
        let watcher = Store::open(&db).unwrap();
        for _ in 0..400 {
            if watcher.digests(None).unwrap()[0].status == "sent" {
                tx.send(Some(veille::service::Signal::Stop)).unwrap();
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the service did not send the pending digest");
    };
    let (res, ()) = tokio::join!(
        veille::service::run(&svc, std::time::Duration::from_millis(50), rx),
        sent
    );
    res.unwrap();
    assert!(svc.last_digest().is_some());
    assert!(
        svc.metrics
            .encode()
            .contains("veille_digests_total{outcome=\"sent\"} 1")
    );
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_on_one_database_send_a_digest_once() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    let config =
        Config::from_file(&write_config(dir.path(), &smtp_mail(&sink), "0 8 * * 1-5")).unwrap();
    let now = monday();
    let mut store = seed(&config, now);
    Digester::new(&config)
        .unwrap()
        .compose_due(&mut store, now, FORCE)
        .unwrap();
    drop(store);
    // two senders with their own connections race for the same pending digest
    let run = |config: Config| async move {
        let mut store = Store::open(&config.storage.database).unwrap();
        let d = Digester::new(&config).unwrap();
        d.step(&mut store, now, DUE).await.unwrap().sent.len()
    };
    let (a, b) = tokio::join!(
        tokio::spawn(run(config.clone())),
        tokio::spawn(run(config.clone()))
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn the_smtp_password_comes_from_the_named_environment_variable() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    let var = "VEILLE_TEST_SMTP_PASSWORD_7F3A";
    let mail = format!(
        "[mail]\ntransport = \"smtp\"\nfrom = \"veille@example.org\"\nsmtp_url = \"smtp://digest-bot@127.0.0.1:{}\"\npassword_env = \"{var}\"\n",
        sink.port
    );
    let config = Config::from_file(&write_config(dir.path(), &mail, "0 8 * * 1-5")).unwrap();
    // unset: refused up front, naming the variable
    let e = Digester::new(&config)
        .err()
        .expect("missing password is an error");
    assert!(e.to_string().contains(var), "{e}");
    // SAFETY: the variable name is unique to this test; no other test reads or writes it.
    unsafe { std::env::set_var(var, "s3cret with spaces") };
    let digester = Digester::new(&config).unwrap();
    let now = monday();
    let mut store = seed(&config, now);
    let r = digester.step(&mut store, now, FORCE).await.unwrap();
    assert_eq!(r.sent.len(), 1, "{r:?}");
    assert_eq!(sink.logins(), ["digest-bot:s3cret with spaces"]);
    let raw = String::from_utf8_lossy(&sink.received()[0].data).into_owned();
    assert!(
        !raw.contains("s3cret"),
        "the password never enters the message"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn veille_run_delivers_a_digest_left_pending_by_an_earlier_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), "[mail]\noutbox = \"out\"\n", "0 8 * * 1-5");
    let config = Config::from_file(&path).unwrap();
    let now = Utc::now();
    let mut store = seed(&config, now);
    Digester::new(&config)
        .unwrap()
        .compose_due(&mut store, now, FORCE)
        .unwrap();
    drop(store);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_veille"))
        .args(["--config", path.to_str().unwrap(), "run", "--tick", "100ms"])
        .env_remove("VEILLE_CONFIG")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let out = dir.path().join("out");
    let mut sent = false;
    for _ in 0..200 {
        let watcher = Store::open(&config.storage.database).unwrap();
        if watcher.digests(None).unwrap()[0].status == "sent" {
            sent = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().await.unwrap();
    assert!(sent, "veille run did not deliver the pending digest");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}

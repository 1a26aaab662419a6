//! Article extraction on hand-written EU-style pages (tests/data/pages, see its README) and,
//! when present, on the shared 181-page benchmark.

use std::path::{Path, PathBuf};
use veille::pipeline::charset::decode_html;
use veille::pipeline::extract::{ExtractError, Extractor, Options, Status};

fn page_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pages")
        .join(name)
}

fn load(name: &str) -> String {
    let bytes = std::fs::read(page_path(name)).unwrap();
    decode_html(&bytes, None).0
}

fn extract(name: &str) -> veille::pipeline::extract::Article {
    Extractor::new(&Options::default())
        .unwrap()
        .extract(&load(name), None)
}

/// One fixture: the article's first and last sentences, and text from the page furniture
/// that must not leak into the article.
struct Case {
    file: &'static str,
    first: &'static str,
    last: &'static str,
    leaks: &'static [&'static str],
    language: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        file: "council-fisheries-en.html",
        first: "The Council today reached an agreement with Norway and the United Kingdom",
        last: "until consultations are concluded.",
        leaks: &[
            "cookies",
            "EU and NATO step up",
            "cyber",
            "Rue de la Loi",
            "Share on",
            "Press releases",
            "Meetings",
        ],
        language: Some("en"),
    },
    Case {
        file: "eeas-sahel-fr.html",
        first: "L'Union européenne est profondément préoccupée",
        last: "en faveur de la paix et du développement.",
        leaks: &[
            "cookies",
            "OTAN",
            "Cyber",
            "Partager",
            "Accueil",
            "Service européen",
        ],
        language: Some("fr-fr"),
    },
    Case {
        file: "nato-exercise-de.html",
        first: "Mehr als 1.200 Einsatzkräfte aus vierzehn Bündnisstaaten",
        last: "im Frühjahr 2027 im Baltikum stattfinden soll.",
        leaks: &[
            "Cookies",
            "Cyber",
            "Schlagwörter",
            "Nachrichten",
            "Brüssel",
            "21. Sep.",
        ],
        language: Some("de"),
    },
    Case {
        file: "commission-agriculture-it.html",
        first: "La Commissione europea ha presentato oggi un pacchetto di misure",
        last: "raggiungere un accordo entro la fine dell'anno.",
        leaks: &[
            "cookie",
            "NATO",
            "ciberse",
            "Portavoce",
            "© Unione",
            "Sala stampa",
        ],
        language: Some("it"),
    },
    Case {
        file: "digital-strategy-broadband-pl.html",
        first: "Komisja Europejska przyjęła dziś nowe wytyczne",
        last: "będzie co roku publikować sprawozdanie z postępów.",
        leaks: &["NATO", "Cyber", "Najnowsze", "Kontakt", "Polityka"],
        language: Some("pl"),
    },
    Case {
        file: "generic-divs-en.html",
        first: "National coastguards can now request near-real-time satellite images",
        last: "connect their control centres to the service.",
        leaks: &["NATO", "cyber", "Cyber", "Legal notice", "Home"],
        language: None,
    },
    Case {
        file: "latin1-fisheries-de.html",
        first: "Die Fischereibehörden der Ostseeanrainer haben vereinbart",
        last: "wird danach gemeinsam überprüft.",
        leaks: &[
            "NATO",
            "Cyber",
            "Weitere Meldungen",
            "Landesamt",
            "Startseite",
        ],
        language: Some("de"),
    },
    // Issue 16: the "Related news" heading went, its three EU–NATO cyber headlines stayed and
    // made a fisheries page match eu-nato-cyber.
    Case {
        file: "commission-fisheries-related-en.html",
        first: "The European Commission today launched a support scheme",
        last: "the Mediterranean and the Baltic.",
        leaks: &[
            "Related news",
            "NATO",
            "cyber",
            "undersea cables",
            "1 December 2026",
            "Contacts",
            "Legal notice",
        ],
        language: Some("en"),
    },
    // Issue 14 (left over): the key facts above a European Parliament press release are
    // article content.
    Case {
        file: "europarl-key-facts-en.html",
        first: "Member States to map every coastal wetland larger than five hectares by 2030",
        last: "hopes to conclude before the summer.",
        leaks: &[
            "Press room",
            "26-11-2026",
            "Contacts",
            "Further information",
            "Legislative train",
            "Privacy policy",
        ],
        language: Some("en"),
    },
];

#[test]
fn articles_keep_first_and_last_sentences() {
    for case in CASES {
        let article = extract(case.file);
        let text = &article.text;
        assert_eq!(article.status, Status::Ok, "{}: {text}", case.file);
        assert!(
            text.starts_with(case.first),
            "{}: starts with {:?}:\n{text}",
            case.file,
            case.first
        );
        assert!(
            text.ends_with(case.last),
            "{}: ends with {:?}:\n{text}",
            case.file,
            case.last
        );
    }
}

#[test]
fn no_sidebar_footer_or_banner_text_leaks() {
    for case in CASES {
        let text = extract(case.file).text;
        for leak in case.leaks {
            assert!(
                !text.contains(leak),
                "{}: leaked {leak:?}:\n{text}",
                case.file
            );
        }
    }
}

/// Regression (issue 16, point 1): extraction dropped the "Related news" heading line but kept
/// the headlines after it, so the classifier could no longer tell where the article ended.
#[test]
fn related_news_heading_and_its_headlines_are_dropped_whole() {
    let article = extract("commission-fisheries-related-en.html");
    assert_eq!(article.status, Status::Ok, "{}", article.text);
    assert_eq!(article.text.lines().count(), 1, "{}", article.text);
    for gone in [
        "Related news",
        "EU and NATO step up",
        "first joint cyber",
        "task force",
    ] {
        assert!(
            !article.text.contains(gone),
            "kept {gone:?}:\n{}",
            article.text
        );
    }
}

/// Regression (issue 14, left over): the box of key facts above a European Parliament press
/// release (a link-free list beside the body, too short to be voted for) was dropped.
#[test]
fn europarl_key_facts_box_is_kept_above_the_body() {
    let article = extract("europarl-key-facts-en.html");
    let lines: Vec<&str> = article.text.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "Member States to map every coastal wetland larger than five hectares by 2030",
            "Drainage of protected salt marshes banned except for flood defence works",
            "Restoration plans to cover at least a fifth of degraded sites within ten years",
            "Parliament on Wednesday adopted its position on a law that obliges Member States to map, protect and restore the salt marshes, lagoons and estuaries along their coasts.",
        ],
        "{}",
        article.text
    );
    // The section headings between the parts of the body stay too.
    assert!(lines.contains(&"Next steps"), "{}", article.text);
    assert_eq!(
        article.title.as_deref(),
        Some("Plenary backs new rules to protect coastal wetlands")
    );
}

#[test]
fn paragraphs_are_lines_and_headline_is_left_out() {
    let article = extract("council-fisheries-en.html");
    let lines: Vec<&str> = article.text.lines().collect();
    assert_eq!(lines.len(), 7, "{}", article.text);
    assert_eq!(lines[2], "Protecting vulnerable stocks");
    assert!(!article.text.contains("Council secures agreement"));
    assert_eq!(
        article.title.as_deref(),
        Some(
            "Fishing opportunities for 2027 in the Atlantic and North Sea: Council secures agreement"
        )
    );
}

#[test]
fn declared_language() {
    for case in CASES {
        let article = extract(case.file);
        assert_eq!(article.language.as_deref(), case.language, "{}", case.file);
    }
    // The HTTP header is the last resort.
    let extractor = Extractor::new(&Options::default()).unwrap();
    let html = load("generic-divs-en.html");
    let article = extractor.extract_with_language(&html, None, Some("en-IE"));
    assert_eq!(article.language.as_deref(), Some("en-ie"));
    let html = load("nato-exercise-de.html");
    let article = extractor.extract_with_language(&html, None, Some("en"));
    assert_eq!(article.language.as_deref(), Some("de"));
}

#[test]
fn published_dates_from_meta_and_json_ld() {
    let date = |file| extract(file).published.map(|d| d.to_rfc3339());
    assert_eq!(
        date("council-fisheries-en.html").as_deref(),
        Some("2026-12-12T17:45:00+00:00")
    );
    assert_eq!(
        date("nato-exercise-de.html").as_deref(),
        Some("2026-09-21T09:00:00+00:00")
    );
    assert_eq!(
        date("commission-agriculture-it.html").as_deref(),
        Some("2026-05-14T10:00:00+00:00")
    );
    assert_eq!(
        date("eeas-sahel-fr.html").as_deref(),
        Some("2026-10-03T00:00:00+00:00")
    );
    assert_eq!(date("generic-divs-en.html"), None);
}

#[test]
fn latin1_page_is_decoded_from_its_meta_declaration() {
    let bytes = std::fs::read(page_path("latin1-fisheries-de.html")).unwrap();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "fixture must not be UTF-8"
    );
    let (html, encoding) = decode_html(&bytes, None);
    assert_eq!(encoding, encoding_rs::WINDOWS_1252);
    assert!(html.contains("Fischereibehörden"));
    // Without the declaration, detection still finds it.
    let without = remove(&bytes, b"; charset=iso-8859-1");
    let (html, encoding) = decode_html(&without, None);
    assert_eq!(encoding, encoding_rs::WINDOWS_1252);
    assert!(html.contains("Überschreitungen"));
    // A wrong HTTP header wins over the page, as in browsers.
    let (html, encoding) = decode_html(&bytes, Some("text/html; charset=utf-8"));
    assert_eq!(encoding, encoding_rs::UTF_8);
    assert!(html.contains('\u{FFFD}'));
}

fn remove(haystack: &[u8], needle: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present");
    [&haystack[..at], &haystack[at + needle.len()..]].concat()
}

#[test]
fn walls_and_empty_pages_have_failure_statuses() {
    let consent = extract("consent-wall.html");
    assert_eq!(consent.status, Status::ConsentWall, "{}", consent.text);
    let login = extract("login-wall.html");
    assert_eq!(login.status, Status::LoginWall, "{}", login.text);
    let extractor = Extractor::new(&Options::default()).unwrap();
    assert_eq!(extractor.extract("", None).status, Status::Empty);
    assert_eq!(
        extractor
            .extract(
                "<html><body><nav><a href=/>Home</a></nav></body></html>",
                None
            )
            .status,
        Status::Empty
    );
    let short = extractor.extract(
        "<html><body><p>Statement to follow.</p></body></html>",
        None,
    );
    assert_eq!(short.status, Status::TooShort);
    assert_eq!(short.text, "Statement to follow.");
}

#[test]
fn status_serializes_in_snake_case() {
    assert_eq!(
        serde_json::to_string(&Status::ConsentWall).unwrap(),
        "\"consent_wall\""
    );
    assert_eq!(
        serde_json::to_string(&Status::TooShort).unwrap(),
        "\"too_short\""
    );
}

#[test]
fn content_selector_overrides_the_scorer() {
    let opts = Options {
        content_selector: Some(".related-news".into()),
        remove_selectors: vec![".related-news h2".into()],
    };
    let article = Extractor::new(&opts)
        .unwrap()
        .extract(&load("nato-exercise-de.html"), None);
    assert!(
        article.text.starts_with("NATO und EU vertiefen"),
        "{}",
        article.text
    );
    assert!(!article.text.contains("Verwandte Nachrichten"));
    assert!(!article.text.contains("Einsatzkräfte"));
    // A selector that matches nothing falls back to the generic extractor.
    let opts = Options {
        content_selector: Some("#no-such-id".into()),
        remove_selectors: vec![],
    };
    let article = Extractor::new(&opts)
        .unwrap()
        .extract(&load("nato-exercise-de.html"), None);
    assert!(article.text.starts_with("Mehr als 1.200"));
}

#[test]
fn remove_selectors_drop_parts_of_the_article() {
    let opts = Options {
        content_selector: None,
        remove_selectors: vec![".press-release-body h2".into(), "p:last-child".into()],
    };
    let article = Extractor::new(&opts)
        .unwrap()
        .extract(&load("council-fisheries-en.html"), None);
    assert!(!article.text.contains("Protecting vulnerable stocks"));
    assert!(!article.text.contains("until consultations are concluded"));
    assert!(
        article
            .text
            .starts_with("The Council today reached an agreement")
    );
}

#[test]
fn bad_selector_names_the_selector() {
    let opts = Options {
        content_selector: None,
        remove_selectors: vec!["div[".into()],
    };
    let err = Extractor::new(&opts)
        .err()
        .expect("bad selector is rejected");
    assert!(matches!(
        err,
        ExtractError::Selector {
            field: "remove_selectors",
            ..
        }
    ));
    let message = err.to_string();
    assert!(
        message.contains("remove_selectors") && message.contains("\"div[\""),
        "{message}"
    );
}

#[test]
fn json_output_has_the_documented_fields() {
    let article = extract("eeas-sahel-fr.html");
    let value = serde_json::to_value(&article).unwrap();
    for key in ["text", "title", "language", "status", "published"] {
        assert!(value.get(key).is_some(), "missing {key}");
    }
    assert_eq!(value["status"], "ok");
}

/// `eval-extract --predictions`: another extractor's texts are scored with the same metric;
/// a missing text is an empty prediction, not an error.
#[test]
fn predictions_are_scored_with_the_benchmark_metric() {
    let dir = tempfile::tempdir().unwrap();
    let truth = serde_json::json!({
        "a": {"url": "https://news.example/a", "articleBody": "The ministers met in Brussels on Monday to discuss cyber defence."},
        "b": {"url": "https://news.example/b", "articleBody": "Parliament approved the report by a large majority after a short debate."},
        "c": {"url": "https://news.example/c", "articleBody": "The agency published its annual threat landscape report this week."},
    });
    std::fs::write(dir.path().join("ground-truth.json"), truth.to_string()).unwrap();
    let texts = dir.path().join("texts");
    std::fs::create_dir(&texts).unwrap();
    std::fs::write(
        texts.join("a.txt"),
        "The ministers met in Brussels on Monday to discuss cyber defence.",
    )
    .unwrap();
    std::fs::write(
        texts.join("b.txt"),
        "Menu Home. Parliament approved the report by a large majority after a short debate.",
    )
    .unwrap();
    let results = veille::eval::extraction::score_predictions(dir.path(), &texts).unwrap();
    let by_id = |id: &str| results.iter().find(|r| r.id == id).unwrap().score;
    assert_eq!(results.len(), 3);
    assert_eq!(by_id("a").f1(), 1.0);
    assert_eq!(by_id("b").recall(), 1.0);
    assert!(
        by_id("b").precision() < 1.0,
        "the menu words are false positives"
    );
    assert_eq!(by_id("c").recall(), 0.0, "no text file: nothing recalled");
}

/// The shared benchmark (181 real pages) lives outside the repository; without it this
/// test only says so.
#[test]
fn benchmark_f1_floor() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/extraction-benchmark");
    if !dir.join("ground-truth.json").exists() {
        println!("skipped: ../shared/extraction-benchmark not found");
        return;
    }
    let results = veille::eval::extraction::evaluate(&dir, |_, _| {}).unwrap();
    let scores: Vec<_> = results.iter().map(|r| r.score).collect();
    let summary = veille::pipeline::extract::metric::summarize(&scores);
    assert_eq!(results.len(), 181);
    assert!(
        summary.f1 >= 0.96,
        "F1 {:.4} fell below the 0.96 floor",
        summary.f1
    );
}

// Regression tests, one per page shape that once went wrong on the benchmark; the HTML is
// reduced to the shape.

fn generic(html: &str) -> veille::pipeline::extract::Article {
    Extractor::new(&Options::default())
        .unwrap()
        .extract(html, None)
}

const SENTENCES: &[&str] = &[
    "The agency published its annual report on the state of coastal waters today.",
    "Nitrate levels fell in most regions, although two estuaries still exceed the limits.",
    "Inspectors visited more than four hundred sites, sampling water at different depths.",
    "The next report, due in spring, will add data on microplastics for the first time.",
];

#[test]
fn loose_text_beside_empty_divs_is_the_article() {
    let html = format!(
        "<body><div class=row><ul><li><a href=/a>2019</a></li><li><a href=/b>2018</a></li></ul></div>\
         <div class=col><p class=title>Report</p>{}<div class=br></div>{}<br><div class=br></div></div>\
         <div class=foot>Town hall, Main Street 1, phone 555-0100, open weekdays</div></body>",
        SENTENCES[0], SENTENCES[1]
    );
    let text = generic(&html).text;
    assert!(
        text.contains(SENTENCES[0]) && text.contains(SENTENCES[1]),
        "{text}"
    );
    assert!(!text.contains("Town hall"), "{text}");
}

#[test]
fn article_split_over_same_class_sections_is_joined() {
    let part = |s: &str| format!("<section class=body-part><p>{s} {s}</p><p>{s}</p></section>");
    let html = format!(
        "<body>{}<div class=promo><p>Subscribe to our magazine for weekly science news and more.</p></div>{}\
         <div class=promo><p>Download our app to read offline wherever you are today.</p></div>{}</body>",
        part(SENTENCES[0]),
        part(SENTENCES[1]),
        part(SENTENCES[2])
    );
    let text = generic(&html).text;
    for s in &SENTENCES[..3] {
        assert!(text.contains(s), "missing {s:?} in {text}");
    }
    assert!(
        !text.contains("Subscribe") && !text.contains("Download"),
        "{text}"
    );
}

#[test]
fn listing_of_articles_keeps_the_longest_article() {
    let teaser = |s: &str| {
        format!(
            "<article class=post><h2><a href=/x>Other story</a></h2><div><p>{s}</p></div></article>"
        )
    };
    let html = format!(
        "<body><div id=primary><article class=post><h1>Main</h1><div><p>{} {} {}</p><p>{}</p></div></article>\
         {}{}{}</div></body>",
        SENTENCES[0],
        SENTENCES[1],
        SENTENCES[2],
        SENTENCES[3],
        teaser(
            "A teaser about the regional budget, with a long sentence, and commas, and more words."
        ),
        teaser(
            "A teaser about road works on the ring road, with detours, closures, and more words."
        ),
        teaser(
            "A teaser about the football club, with results, transfers, injuries, and more words."
        )
    );
    let text = generic(&html).text;
    assert!(
        text.starts_with(SENTENCES[0]) && text.ends_with(SENTENCES[3]),
        "{text}"
    );
    assert!(!text.contains("teaser"), "{text}");
}

#[test]
fn list_of_headlines_with_cut_teasers_is_dropped() {
    let item = |h: &str| {
        format!(
            "<li><a href=/n>{h}</a> <span>The minister said on Tuesday that the plan would be ready before the summer break and...</span></li>"
        )
    };
    let html = format!(
        "<body><div class=main><ul>{}{}{}</ul><p>{}</p><p>{}</p><p>{}</p></div></body>",
        item("Budget talks resume"),
        item("Rail strike called off"),
        item("New port director named"),
        SENTENCES[0],
        SENTENCES[1],
        SENTENCES[2]
    );
    let text = generic(&html).text;
    assert!(text.starts_with(SENTENCES[0]), "{text}");
    assert!(
        !text.contains("Budget talks") && !text.contains("before the summer"),
        "{text}"
    );
}

#[test]
fn list_inside_the_article_is_kept() {
    let html = format!(
        "<body><article><p>{}</p><ul><li>Cod quotas are cut by a tenth for the western stock.</li>\
         <li>Herring quotas stay at the level of <a href=/h>last year</a>.</li>\
         <li>Plaice quotas rise slightly after two good years.</li></ul><p>{}</p></article></body>",
        SENTENCES[0], SENTENCES[3]
    );
    let text = generic(&html).text;
    assert!(
        text.contains("Herring quotas stay at the level of last year."),
        "{text}"
    );
    assert_eq!(text.lines().count(), 5, "{text}");
}

#[test]
fn furniture_lines_and_wrapped_links_inside_the_article() {
    let html = format!(
        "<body><article><p>{} The report was <a href=/r><span>welcomed</span></a> by fishers.</p>\
         <div>Advertisement</div><p>{}</p><p>Read more</p></article></body>",
        SENTENCES[0], SENTENCES[1]
    );
    let text = generic(&html).text;
    assert!(
        text.contains("The report was welcomed by fishers."),
        "{text}"
    );
    assert!(
        !text.contains("Advertisement") && !text.contains("Read more"),
        "{text}"
    );
}

#[test]
fn json_ld_body_stands_in_when_markup_is_empty() {
    let body = SENTENCES.join("\\n");
    let html = format!(
        "<html><head><script type=\"application/ld+json\">{{\"@type\":\"NewsArticle\",\"articleBody\":\"{body}\"}}</script></head>\
         <body><div id=app>Loading…</div></body></html>"
    );
    let article = generic(&html);
    assert_eq!(article.text, SENTENCES.join("\n"));
    assert_eq!(article.status, Status::Ok);
}

#[test]
fn comments_never_replace_a_short_article() {
    let comments: String = (0..8)
        .map(|i| format!("<li class=comment><p>Comment {i}: I think the report is right about nitrates, but it misses the estuaries, sadly.</p></li>"))
        .collect();
    let html = format!(
        "<body><div class=entry-content><p>{}</p></div><div id=comments><ol>{comments}</ol></div></body>",
        SENTENCES[0]
    );
    let text = generic(&html).text;
    assert_eq!(text, SENTENCES[0]);
}

#[test]
fn extractor_can_be_shared_between_tasks() {
    fn shared<T: Send + Sync + 'static>(_: &T) {}
    let extractor = Extractor::new(&Options::default()).unwrap();
    shared(&extractor);
    let handle = std::thread::spawn(move || extractor.extract("<p>x</p>", None).status);
    assert_eq!(handle.join().unwrap(), Status::TooShort);
}

#[test]
fn deeply_nested_and_broken_markup_does_not_crash() {
    let deep = format!(
        "{}<p>{}</p>{}",
        "<div>".repeat(5_000),
        SENTENCES.join(" "),
        "</div>".repeat(5_000)
    );
    let article = generic(&deep);
    assert!(
        article.text.starts_with(SENTENCES[0]),
        "{}",
        &article.text[..article.text.len().min(200)]
    );
    for broken in [
        "<",
        "<html",
        "</p></p><p",
        "<body><table><td>cell",
        "\u{0}\u{feff}<p>x",
    ] {
        let _ = generic(broken);
    }
}

#[test]
fn caption_beside_an_image_is_left_out() {
    let html = format!(
        "<body><div class=story><p>{}</p><div align=center><div class=img><img src=a.jpg alt=x></div>\
         <span class=small>The research vessel in the port of Gdynia</span></div><p>{}</p></div></body>",
        SENTENCES[0], SENTENCES[1]
    );
    let text = generic(&html).text;
    assert_eq!(text, format!("{}\n{}", SENTENCES[0], SENTENCES[1]));
}

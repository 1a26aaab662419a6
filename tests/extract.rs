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

/// The shared benchmark (181 real pages) lives outside the repository; without it this
/// test only says so.
#[test]
fn benchmark_f1_floor() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/extraction-benchmark");
    if !dir.join("ground-truth.json").exists() {
        println!("skipped: ../shared/extraction-benchmark not found");
        return;
    }
    let results = veille::commands::eval_extract::evaluate(&dir).unwrap();
    let scores: Vec<_> = results.iter().map(|r| r.score).collect();
    let summary = veille::pipeline::extract::metric::summarize(&scores);
    assert_eq!(results.len(), 181);
    assert!(
        summary.f1 >= 0.96,
        "F1 {:.4} fell below the 0.96 floor",
        summary.f1
    );
}

//! The topic classifier: the dev corpus and the shared seeds scored against their labels, named
//! regressions for hard cases, classification on poll, reclassification after a rule edit,
//! rule-file errors, and a property test that no input makes it panic.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use veille::config::Config;
use veille::eval::corpus::{evaluate, load};
use veille::pipeline::Pipeline;
use veille::pipeline::classify::{Classifier, Evidence};
use veille::pipeline::reclassify::reclassify;
use veille::store::{ItemFilter, Store};

use super::server::TestServer;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn classifier() -> Classifier {
    Classifier::load(&repo().join("config/topics")).unwrap()
}

/// The topics `text` (first line = title) matches.
fn topics(text: &str) -> Vec<String> {
    classifier()
        .classify(text, None)
        .into_iter()
        .filter(|r| r.matched)
        .map(|r| r.id)
        .collect()
}

/// Floors per labelled corpus: (directory, documents, lowest F1 per topic, lowest precision per
/// topic). `corpus`, `holdout`, `probes` and `train` are what the rules and the `[model]` weights
/// were tuned and fitted on (their 10-fold cross-validated figures are in the README); `blind`
/// was written apart from the rules, committed before they were reworked and is never tuned on:
/// its floor is the figure it reached minus 0.02, so a rule edit that loses generality fails here.
const FLOORS: [(&str, usize, f64, f64); 5] = [
    ("corpus", 180, 0.97, 0.95),
    ("holdout", 96, 0.97, 0.95),
    ("probes", 73, 0.97, 0.95),
    // The hardest tuning corpus: reached F1 0.968 (eu-nato-cyber) and 0.978 (eu-us-cyber).
    ("train", 384, 0.948, 0.97),
    // Reached F1 0.980 (eu-nato-cyber) and 0.990 (eu-us-cyber), precision 0.990 for both.
    ("blind", 336, 0.96, 0.98),
];

#[test]
fn every_labelled_corpus_stays_above_its_floor() {
    let classifier = classifier();
    let mut failures = Vec::new();
    for (dir, count, min_f1, min_precision) in FLOORS {
        let docs = load(&repo().join("tests/data").join(dir)).unwrap();
        assert_eq!(docs.len(), count, "{dir}");
        let report = evaluate(&classifier, &docs);
        for t in &report.topics {
            println!(
                "{dir} {}: P {:.3} R {:.3} F1 {:.3}",
                t.topic, t.precision, t.recall, t.f1
            );
            if t.f1 < min_f1 || t.precision < min_precision {
                let errors: Vec<String> = report
                    .errors
                    .iter()
                    .map(|e| format!("{} expected {:?} got {:?}", e.id, e.expected, e.predicted))
                    .collect();
                failures.push(format!(
                    "{dir} {}: F1 {:.3} (floor {min_f1}), precision {:.3} (floor \
                     {min_precision}); errors: {errors:?}",
                    t.topic, t.f1, t.precision
                ));
            }
        }
        assert_eq!(report.topics.len(), 2);
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Every language of the corpora written apart from the rules is read right from the text alone.
#[test]
fn every_language_of_the_hold_out_and_blind_corpora_is_detected() {
    for dir in ["holdout", "blind"] {
        let docs = load(&repo().join("tests/data").join(dir)).unwrap();
        let report = evaluate(&classifier(), &docs);
        assert_eq!(report.languages.len(), 24, "{:?}", report.languages.keys());
        assert!(
            report.language_misses.is_empty(),
            "{dir}: {:?}",
            report.language_misses
        );
    }
}

/// Every document gets exactly its labelled topics.
fn assert_all_correct(docs: &[veille::eval::corpus::LabelledDoc]) {
    let report = evaluate(&classifier(), docs);
    let errors: Vec<_> = report
        .errors
        .iter()
        .map(|e| (&e.id, &e.expected, &e.predicted))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn shared_seeds_are_all_classified_correctly() {
    let seeds = repo().join("../shared/seeds");
    if !seeds.join("labels.tsv").exists() {
        println!("skipped: {} not found", seeds.display());
        return;
    }
    let docs = load(&seeds).unwrap();
    assert_eq!(docs.len(), 5);
    assert_all_correct(&docs);
}

#[test]
fn english_us_pronoun_is_not_the_united_states() {
    let text = "EU Cybersecurity Month: join us\n\
        ENISA and the European Commission invite businesses to join us for a month of cyber \
        awareness. Let us work together on cybersecurity; tell us what works, help us reach \
        people and contact us for materials. The EU cooperates with all of us on cyber hygiene.\n\
        JOIN US · CONTACT US";
    assert!(!topics(text).contains(&"eu-us-cyber".to_string()));
}

#[test]
fn case_sensitive_us_matches_the_acronym_not_the_pronoun() {
    let acronym = "EU and US step up cooperation on cybersecurity\n\
        The EU and the US agreed today to cooperate on cybersecurity and counter ransomware.";
    assert_eq!(topics(acronym), ["eu-us-cyber"]);
    let pronoun = "EU and us step up cooperation on cybersecurity\n\
        The EU and us agreed today to cooperate on cybersecurity and counter ransomware.";
    assert!(topics(pronoun).is_empty(), "{:?}", topics(pronoun));
}

#[test]
fn member_state_with_nato_is_not_eu_nato() {
    let text = "Estonia and NATO sign cyber defence memorandum\n\
        Tallinn – The Estonian Ministry of Defence and the NATO Communications and Information \
        Agency signed a memorandum on cyber range training. As an EU member state, Estonia also \
        applies the NIS2 directive. The agreement covers joint cyber exercises at the national \
        cyber range. Estonian experts will train NATO staff on incident response.";
    assert!(topics(text).is_empty(), "{:?}", topics(text));
}

#[test]
fn eu_japan_cyber_dialogue_is_not_eu_us() {
    let text = "EU and Japan hold fourth cyber dialogue in Tokyo\n\
        The European Union and Japan held their fourth cyber dialogue on 12 March, discussing \
        ransomware, cyber capacity building and the security of 5G networks. Both sides agreed \
        to deepen cooperation between ENISA and Japan's NISC.\n\
        The EU also holds cyber dialogues with the United States, India and the United Kingdom.";
    assert!(topics(text).is_empty(), "{:?}", topics(text));
}

#[test]
fn passing_mention_in_boilerplate_does_not_count() {
    let text = "EU and US sign critical minerals partnership\n\
        The European Commission and the United States signed a partnership on critical minerals \
        supply chains, covering lithium, cobalt and rare earths.\n\
        The partnership includes joint investment screening and stockpiling.\n\
        Related news\n\
        - EU and US hold annual cyber dialogue\n\
        - EU and NATO step up cooperation on cyber defence\n\
        Contact us · Newsletter";
    assert!(topics(text).is_empty(), "{:?}", topics(text));
    // The same headlines in the article itself do count: they raise the score (though an item
    // on critical minerals with two cyber lines at its end is still not about cyber).
    let score = |t: &str| classifier().classify(t, None)[1].score;
    let kept = text.replace("Related news\n", "");
    assert!(
        score(&kept) > score(text),
        "{} vs {}",
        score(&kept),
        score(text)
    );
}

#[test]
fn one_passing_sentence_late_in_the_body_does_not_count() {
    let text = "EU and NATO discuss military mobility\n\
        The EU and NATO held their structured dialogue on military mobility in Riga.\n\
        Participants reviewed rail and port projects financed by the Connecting Europe Facility. \
        They agreed to simplify cross-border permits for troop movements. Fuel logistics and \
        port resilience were also on the agenda.\n\
        The dialogue will continue in autumn. Cyber protection of logistics systems was briefly \
        raised by the EU and NATO staff and will be discussed in other formats.";
    assert!(topics(text).is_empty(), "{:?}", topics(text));
}

#[test]
fn non_cyber_declaration_naming_cyber_once_is_not_a_match() {
    let text = "EU and NATO sign declaration on military mobility and defence industry\n\
        Brussels – The EU and NATO signed a new joint declaration on cooperation covering military \
        mobility, the defence industry, space and support to Ukraine. The declaration also \
        mentions cyber threats.";
    assert!(topics(text).is_empty(), "{:?}", topics(text));
}

#[test]
fn inflected_forms_match_in_the_lead() {
    // Polish: "Unią Europejską" (instrumental) and "Stanami Zjednoczonymi".
    let text = "Nowy etap współpracy\n\
        Komisja podpisała ze Stanami Zjednoczonymi i Unią Europejską wspólne porozumienie o \
        cyberbezpieczeństwie infrastruktury krytycznej.";
    assert_eq!(topics(text), ["eu-us-cyber"]);
}

/// Regression (issue 16, point 1): a fisheries page ending in a "Related news" list of three
/// EU–NATO cyber headlines matched eu-nato-cyber (0.938 with these rules) because extraction
/// kept the headlines. Classified as `veille classify` and a poll do: title + extracted text.
#[test]
fn a_related_news_list_does_not_make_a_fisheries_page_match() {
    let html = std::fs::read_to_string(
        repo().join("tests/data/pages/commission-fisheries-related-en.html"),
    )
    .unwrap();
    let article = veille::pipeline::extract::Extractor::new(&Default::default())
        .unwrap()
        .extract(&html, None);
    let title = article.title.clone().unwrap();
    let text = format!("{title}\n{}", article.text);
    assert_eq!(topics(&text), Vec::<String>::new(), "{text}");
    // The fixture still tests something: with its headlines the page would match.
    let headlines = "EU and NATO step up cooperation against cyber attacks on undersea cables\n\
        The European Union and NATO agreed to share information on cyber threats to undersea cables \
        and to coordinate their response to cyber attacks on critical infrastructure.";
    assert_eq!(
        topics(&format!("{text}\n{headlines}")),
        ["eu-nato-cyber"],
        "the control text no longer matches: the fixture needs new headlines"
    );
}

#[test]
fn evidence_names_concepts_fields_offsets_and_snippets() {
    let text = "EU and NATO agree on cyber cooperation\nBody text.";
    let results = classifier().classify(text, Some("en"));
    let nato = results.iter().find(|r| r.id == "eu-nato-cyber").unwrap();
    assert!(nato.matched && nato.score > 0.8, "{nato:?}");
    let e: &Evidence = nato.evidence.iter().find(|e| e.concept == "nato").unwrap();
    assert_eq!(
        (e.matched.as_str(), e.term.as_str(), e.offset),
        ("NATO", "=NATO", 7)
    );
    assert_eq!(e.field.as_str(), "title");
    assert!(e.snippet.contains("EU and NATO agree"), "{}", e.snippet);
    // The stored JSON reads back in the digest's shape.
    let stored = nato.to_stored();
    let concepts = veille::digest::evidence::concept_terms(&stored.evidence_json);
    assert!(
        concepts.iter().any(|c| c.concept == "cyber"),
        "{concepts:?}"
    );
}

/// A configuration in `dir` with one feed served by `server`, articles never fetched.
fn write_config(dir: &Path, server: &TestServer, feed: &str) -> PathBuf {
    let toml = format!(
        "[storage]\ndatabase = \"veille.db\"\n[fetch]\ntimeout = \"5s\"\nconnect_timeout = \"2s\"\n\
         [[feeds]]\nname = \"cyber\"\nurl = \"{}\"\nevery = \"30m\"\nfetch_article = \"never\"\n",
        server.url(feed)
    );
    let path = dir.join("veille.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

fn copy_rules(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in ["eu-nato-cyber.toml", "eu-us-cyber.toml"] {
        std::fs::copy(repo().join("config/topics").join(name), to.join(name)).unwrap();
    }
}

#[tokio::test]
async fn a_polled_item_is_stored_with_its_topics_and_evidence() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config =
        Config::from_file(&write_config(dir.path(), &server, "/feeds/cyber-news.xml")).unwrap();
    // No topics directory beside this configuration: the embedded rules apply.
    let p = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    assert!(p.classifier().source().is_none());
    let mut matches = Vec::new();
    p.poll(true, |r, _| matches.extend(r.matches.clone()))
        .await
        .unwrap();
    assert_eq!(matches, [("eu-us-cyber".to_string(), 1)]);
    let items = p.store().items(&ItemFilter::default()).unwrap();
    assert_eq!(items.len(), 2);
    let dialogue = items.iter().find(|i| i.title.contains("dialogue")).unwrap();
    assert_eq!(dialogue.topics, ["eu-us-cyber"]);
    let month = items.iter().find(|i| i.title.contains("Month")).unwrap();
    assert!(month.topics.is_empty(), "{:?}", month.topics);
    let stored = p.store().matches(dialogue.id).unwrap();
    assert!(stored[0].score >= 0.5);
    let evidence: Vec<Evidence> = serde_json::from_str(&stored[0].evidence_json).unwrap();
    for concept in ["eu", "us", "cyber"] {
        assert!(
            evidence.iter().any(|e| e.concept == concept),
            "{concept}: {evidence:#?}"
        );
    }
}

#[tokio::test]
async fn reclassify_reports_and_stores_what_a_rule_edit_changed() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("topics");
    copy_rules(&rules);
    let config =
        Config::from_file(&write_config(dir.path(), &server, "/feeds/cyber-news.xml")).unwrap();
    let p = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    assert_eq!(p.classifier().source(), Some(rules.as_path()));
    p.poll(true, |_, _| {}).await.unwrap();
    drop(p);

    // An analyst lowers the EU–US model's bias far below what any item's signals make up for
    // (a threshold of 1.0 would not do: scores are compared as shown, to three decimals, and a
    // clear match shows 1.000).
    let path = rules.join("eu-us-cyber.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let bias = text.lines().find(|l| l.starts_with("bias = ")).unwrap();
    std::fs::write(&path, text.replace(bias, "bias = -60.0")).unwrap();
    let classifier = Classifier::load(&rules).unwrap();
    let mut store = Store::open(&config.storage.database).unwrap();

    let dry = reclassify(&mut store, &classifier, true, |_, _| {}).unwrap();
    assert_eq!(dry.items, 2);
    assert_eq!(dry.topics["eu-us-cyber"].removed, 1);
    assert_eq!(dry.changed.len(), 1);
    assert_eq!(dry.changed[0].before, ["eu-us-cyber"]);
    assert!(dry.changed[0].after.is_empty());
    let still = store.items(&ItemFilter {
        topic: Some("eu-us-cyber".into()),
        ..ItemFilter::default()
    });
    assert_eq!(still.unwrap().len(), 1, "a dry run stores nothing");

    let done = reclassify(&mut store, &classifier, false, |_, _| {}).unwrap();
    assert_eq!(done.changed, dry.changed);
    let after = store.items(&ItemFilter {
        topic: Some("eu-us-cyber".into()),
        ..ItemFilter::default()
    });
    assert!(after.unwrap().is_empty());
    let again = reclassify(&mut store, &classifier, true, |_, _| {}).unwrap();
    assert!(again.changed.is_empty());
    assert_eq!(again.topics["eu-us-cyber"].removed, 0);
}

#[test]
fn a_bad_key_in_a_rule_file_names_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_rules(dir.path());
    let path = dir.path().join("eu-nato-cyber.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text.replacen(
        "role = \"required\"",
        "role = \"required\"\nrole_typo = 1",
        1,
    );
    std::fs::write(&path, &broken).unwrap();
    let line = broken
        .lines()
        .position(|l| l.starts_with("role_typo"))
        .unwrap()
        + 1;
    let err = Classifier::load(dir.path()).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:{line}:", path.display())),
        "{shown}"
    );
    assert!(shown.contains("role_typo"), "{shown}");

    // The pipeline refuses to start on it, naming the file.
    let config_path = dir.path().join("veille.toml");
    std::fs::write(
        &config_path,
        "[storage]\ndatabase = \"v.db\"\n[classifier]\ntopics = \".\"\n",
    )
    .unwrap();
    let config = Config::from_file(&config_path).unwrap();
    let store = Store::open_in_memory().unwrap();
    let e = Pipeline::new(&config, store).err().unwrap().to_string();
    assert!(e.contains("eu-nato-cyber.toml"), "{e}");
}

#[test]
fn shipped_rules_are_embedded_verbatim() {
    for (name, text) in veille::pipeline::classify::EMBEDDED_RULES {
        let on_disk = std::fs::read_to_string(repo().join("config/topics").join(name)).unwrap();
        assert_eq!(text, on_disk, "{name}: rebuild after editing the rules");
    }
    let embedded = Classifier::embedded().unwrap();
    assert_eq!(embedded.topic_ids(), ["eu-nato-cyber", "eu-us-cyber"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn classify_never_panics(text in "\\PC*", extra in prop::collection::vec(any::<char>(), 0..200)) {
        let c = embedded();
        let mixed: String = text.chars().chain(extra).collect();
        for t in [text.as_str(), mixed.as_str()] {
            for r in c.classify(t, None) {
                prop_assert!((0.0..=1.0).contains(&r.score));
                for e in &r.evidence {
                    prop_assert!(e.offset <= t.chars().count());
                }
            }
        }
    }

    #[test]
    fn classify_never_panics_on_rule_words(words in prop::collection::vec(
        prop::sample::select(vec!["EU", "NATO", "US", "cyber", "ΕΕ", "ΝΑΤΟ", "Ηνωμένες", "ß", "İ",
            "ﬁ", "\u{301}", "\n", "Related news\n", ". ", "-", "Evropské", "unie", "CERT-EU", "ł"]),
        0..60,
    )) {
        let t = words.join(" ");
        for r in embedded().classify(&t, Some("en")) {
            prop_assert!((0.0..=1.0).contains(&r.score));
        }
    }
}

fn embedded() -> &'static Classifier {
    static C: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
    C.get_or_init(|| Classifier::embedded().unwrap())
}

/// Regression (issue 13): `classify --json` printed `"language": null` unless `--language` was
/// given; it must give the language detected from the text, and `--language` must override it.
#[tokio::test]
async fn classify_json_gives_the_detected_language() {
    use super::cli::{text, veille};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("item.txt");
    std::fs::write(
        &path,
        "La Commissione presenta la strategia per il mercato unico\n\
         Bruxelles, 4 marzo – La Commissione europea ha presentato oggi una strategia per \
         rafforzare il mercato unico e ridurre gli oneri amministrativi per le piccole imprese.",
    )
    .unwrap();
    let path = path.to_str().unwrap();
    let out = veille(&["classify", "--json", path]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(line["language"], "it", "{line}");
    let out = veille(&["classify", "--json", "--language", "fr", path]).await;
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(line["language"], "fr", "{line}");
    let out = veille(&["classify", "--language", "xx", path]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--language xx"),
        "{}",
        text(&out.stderr)
    );
}

/// `veille fit` reports cross-validated figures and, with `--write`, puts the fitted weights
/// into the rule files (which then still load and classify).
#[tokio::test]
async fn fit_reports_cross_validated_figures_and_writes_the_model_table() {
    use super::cli::{text, veille};
    let dir = tempfile::tempdir().unwrap();
    let topics = dir.path().join("topics");
    std::fs::create_dir(&topics).unwrap();
    for name in ["eu-nato-cyber.toml", "eu-us-cyber.toml"] {
        std::fs::copy(repo().join("config/topics").join(name), topics.join(name)).unwrap();
    }
    let config = dir.path().join("veille.toml");
    std::fs::write(&config, "[classifier]\ntopics = \"topics\"\n").unwrap();
    let probes = repo().join("tests/data/probes");
    let args = [
        "--config",
        config.to_str().unwrap(),
        "fit",
        probes.to_str().unwrap(),
        "--folds",
        "3",
        "--write",
    ];
    let out = veille(&args).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("3-fold cross-validation"), "{stdout}");
    assert!(stdout.contains("macro-F1"), "{stdout}");
    let written = std::fs::read_to_string(topics.join("eu-us-cyber.toml")).unwrap();
    assert!(
        written.contains("# Fitted by `veille fit` on 73 labelled documents (probes)"),
        "{written}"
    );
    assert_eq!(written.matches("\n[model]\n").count(), 1);
    let fitted = Classifier::load(&topics).unwrap();
    let default = classifier();
    assert_ne!(
        fitted.topics()[1].model,
        default.topics()[1].model,
        "weights fitted on the probes alone differ from the shipped ones"
    );
    // Too few folds is an error that says so.
    let out = veille(&[
        "--config",
        config.to_str().unwrap(),
        "fit",
        probes.to_str().unwrap(),
        "--folds",
        "1",
    ])
    .await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("at least 2 folds"));
}

//! Topic classification: which topics an item is about, with a score in [0, 1] and the evidence
//! (matched terms per concept, with field, offset and snippet) that made it match.
//!
//! Rules are data (`config/topics/*.toml`, see [`rules`]). Every term starts a word, so one
//! trie of every searched form (a double-array trie, `yada`), walked from each word start of the
//! folded text ([`fold`]), finds every term of every topic; word ends, prefix terms and
//! case-sensitive terms are checked on each hit.
//! The text is split into title, lead and body sentences ([`segment`]); where the concepts occur
//! gives a topic's signals ([`features`]: all of them in the title, the head, one sentence, a
//! window; the two sides side by side; passing mentions; other parties and subjects), and a
//! logistic model whose weights are data ([`model`], the rule file's `[model]` table) turns them
//! into the score, shown to three decimals and compared as shown with the topic's threshold.

pub mod features;
pub mod fold;
pub mod model;
pub mod rules;
pub mod segment;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Serialize;
use yada::DoubleArray;
use yada::builder::DoubleArrayBuilder;

use crate::config::ConfigError;
use crate::store::StoredMatch;
use features::{Features, Mention};
use fold::{Folded, fold, is_word};
use model::Contribution;
use rules::{Role, Topic};
use segment::{Field, Sentence};

/// The rule files shipped with veille, used when the topics directory does not exist.
pub const EMBEDDED_RULES: [(&str, &str); 2] = [
    (
        "eu-nato-cyber.toml",
        include_str!("../../../config/topics/eu-nato-cyber.toml"),
    ),
    (
        "eu-us-cyber.toml",
        include_str!("../../../config/topics/eu-us-cyber.toml"),
    ),
];

/// Evidence entries kept per topic.
const MAX_EVIDENCE: usize = 24;
/// Characters of context on each side of a snippet.
const SNIPPET_CONTEXT: usize = 60;
/// Longest line (in chars) that a boilerplate marker may start.
const MAX_FURNITURE_LINE: usize = 100;

/// One matched term, as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Evidence {
    pub concept: String,
    /// The text as it reads in the item.
    pub matched: String,
    /// The rule term (as written in the rule file).
    pub term: String,
    pub field: Field,
    /// Character offset in the item text (title first, then a newline, then the body).
    pub offset: usize,
    pub snippet: String,
}

/// One topic's verdict on an item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicResult {
    pub id: String,
    pub score: f64,
    pub matched: bool,
    pub evidence: Vec<Evidence>,
    /// The signals that made the score, largest part first.
    pub reasons: Vec<Contribution>,
    /// Every signal's value (for fitting the model).
    #[serde(skip)]
    pub features: Features,
}

impl TopicResult {
    /// As the store keeps it.
    pub fn to_stored(&self) -> StoredMatch {
        StoredMatch {
            topic: self.id.clone(),
            score: self.score,
            evidence_json: evidence_json(|each| self.evidence.iter().for_each(|e| each(e.view()))),
        }
    }
}

impl Evidence {
    fn view(&self) -> EvidenceRef<'_> {
        EvidenceRef {
            concept: &self.concept,
            matched: &self.matched,
            term: &self.term,
            field: self.field,
            offset: self.offset,
            snippet: &self.snippet,
        }
    }
}

/// One piece of evidence, borrowed from the rules and the text (the poll writes it to JSON
/// without making an [`Evidence`] first).
struct EvidenceRef<'a> {
    concept: &'a str,
    matched: &'a str,
    term: &'a str,
    field: Field,
    offset: usize,
    snippet: &'a str,
}

impl EvidenceRef<'_> {
    fn to_owned(&self) -> Evidence {
        Evidence {
            concept: self.concept.to_string(),
            matched: self.matched.to_string(),
            term: self.term.to_string(),
            field: self.field,
            offset: self.offset,
            snippet: self.snippet.to_string(),
        }
    }

    /// Appends this entry as a JSON object, fields in [`Evidence`]'s order.
    fn write_json(&self, out: &mut String) {
        out.push_str("{\"concept\":");
        json_string(out, self.concept);
        out.push_str(",\"matched\":");
        json_string(out, self.matched);
        out.push_str(",\"term\":");
        json_string(out, self.term);
        out.push_str(",\"field\":\"");
        out.push_str(self.field.as_str());
        out.push_str("\",\"offset\":");
        let _ = write!(out, "{}", self.offset);
        out.push_str(",\"snippet\":");
        json_string(out, self.snippet);
        out.push('}');
    }
}

/// Evidence as JSON, byte for byte as `serde_json::to_string` writes a list of [`Evidence`] (a
/// test holds the two together), but copying each string whole when it needs no escape, as
/// nearly all do, rather than byte by byte: on the poll's path serde's escaping loop was a
/// tenth of classification. `visit` hands every entry, in order, to the function it is given.
fn evidence_json(visit: impl FnOnce(&mut dyn FnMut(EvidenceRef<'_>))) -> String {
    let mut out = String::with_capacity(1024);
    out.push('[');
    visit(&mut |e| {
        if out.len() > 1 {
            out.push(',');
        }
        e.write_json(&mut out);
    });
    out.push(']');
    out
}

/// `s` as a JSON string: quoted as is when no byte needs an escape (a control char, `"` or `\`;
/// the test is written without an early exit so that it runs over many bytes at once), else as
/// serde_json escapes it.
fn json_string(out: &mut String, s: &str) {
    let escape = s.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if escape {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    } else {
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

/// Which term of which concept of which topic a search pattern stands for.
#[derive(Debug, Clone, Copy)]
struct TermRef {
    topic: u16,
    concept: u16,
    term: u32,
    /// Terms of one pattern with the same form (prefix, following words, exact case) share a
    /// variant number: where one matches, they all do.
    variant: u16,
}

/// Variants of a pattern whose outcome [`Classifier::place`] remembers (others are computed
/// for each term).
const CACHED_VARIANTS: usize = 16;

/// A term found in the text.
#[derive(Debug, Clone, Copy)]
struct Hit {
    concept: usize,
    term: usize,
    /// Original byte range.
    start: usize,
    end: usize,
    sentence: usize,
    word: usize,
}

/// Compiled rules of every topic and the trie that finds their terms.
pub struct Classifier {
    topics: Vec<Topic>,
    /// Every searched form (its value: the pattern id), walked from each word start (every term
    /// starts a word). Built on the first classification: building it takes about 0.2 s, which
    /// a command that classifies nothing (a poll of unchanged feeds, `veille check`) does not
    /// pay. Empty when the rules have no term (or the build failed, which is logged).
    trie: OnceLock<Option<DoubleArray<Vec<u8>>>>,
    /// Pattern id → the terms it stands for.
    refs: Vec<Vec<TermRef>>,
    /// Where the rules came from (a directory, or `None` for the embedded ones).
    source: Option<PathBuf>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("topics", &self.topic_ids())
            .field("source", &self.source)
            .finish()
    }
}

impl Classifier {
    /// Rules from `dir`, or the embedded ones when `dir` does not exist.
    pub fn load(dir: &Path) -> Result<Classifier, ConfigError> {
        if dir.exists() {
            let mut c = Classifier::new(rules::load_dir(dir)?)?;
            c.source = Some(dir.to_path_buf());
            Ok(c)
        } else {
            Classifier::embedded()
        }
    }

    /// The rules shipped in the binary.
    pub fn embedded() -> Result<Classifier, ConfigError> {
        let topics = EMBEDDED_RULES
            .iter()
            .map(|(name, text)| {
                rules::parse_topic(text, &Path::new("(embedded)/config/topics").join(name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Classifier::new(topics)
    }

    /// Builds the trie of every term of `topics`.
    pub fn new(topics: Vec<Topic>) -> Result<Classifier, ConfigError> {
        let mut patterns: Vec<String> = Vec::new();
        let mut refs: Vec<Vec<TermRef>> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        // Per pattern, the distinct forms of its terms.
        type Form<'a> = (bool, &'a [(String, bool)], &'a Option<String>);
        let mut forms: Vec<Vec<Form>> = Vec::new();
        for (ti, t) in topics.iter().enumerate() {
            for (ci, c) in t.concepts.iter().enumerate() {
                for (xi, term) in c.terms.iter().enumerate() {
                    let id = *index.entry(term.folded.clone()).or_insert_with(|| {
                        patterns.push(term.folded.clone());
                        refs.push(Vec::new());
                        forms.push(Vec::new());
                        patterns.len() - 1
                    });
                    let form: Form = (term.prefix, &term.rest, &term.exact_case);
                    let variant = match forms[id].iter().position(|f| *f == form) {
                        Some(v) => v,
                        None => {
                            forms[id].push(form);
                            forms[id].len() - 1
                        }
                    };
                    refs[id].push(TermRef {
                        topic: ti as u16,
                        concept: ci as u16,
                        term: xi as u32,
                        variant: variant.min(u16::MAX as usize) as u16,
                    });
                }
            }
        }
        Ok(Classifier {
            topics,
            trie: OnceLock::new(),
            refs,
            source: None,
        })
    }

    /// Topic ids, in rule-file order.
    pub fn topic_ids(&self) -> Vec<&str> {
        self.topics.iter().map(|t| t.id.as_str()).collect()
    }

    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// The rules directory, or `None` for the embedded rules.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// Classifies an item given as title and body.
    pub fn classify_item(
        &self,
        title: &str,
        body: &str,
        language: Option<&str>,
    ) -> Vec<TopicResult> {
        self.classify(&item_text(title, body), language)
    }

    /// The topics an item (title and body) matches, as the store keeps them (the poll's path:
    /// evidence is gathered for the matching topics only).
    pub fn matches(&self, title: &str, body: &str, _language: Option<&str>) -> Vec<StoredMatch> {
        let text = item_text(title, body);
        let (sentences, hits) = self.hits(&text);
        self.topics
            .iter()
            .zip(&hits)
            .filter_map(|(topic, hits)| {
                let scored = score_topic(topic, hits, &text, &sentences, false);
                scored.matched.then(|| StoredMatch {
                    topic: topic.id.clone(),
                    score: scored.score,
                    evidence_json: evidence_json(|each| {
                        each_evidence(topic, &scored.chosen, &text, &sentences, each)
                    }),
                })
            })
            .collect()
    }

    /// Every topic's score and evidence for `text` (first line = title). `language` (ISO 639-1)
    /// is informative: the terms of all languages are matched, since items mix languages
    /// (English agency names in a Greek text) and a detected language can be wrong.
    pub fn classify(&self, text: &str, _language: Option<&str>) -> Vec<TopicResult> {
        self.run(text)
    }

    /// Every topic's score, evidence and reasons.
    fn run(&self, text: &str) -> Vec<TopicResult> {
        let (sentences, hits) = self.hits(text);
        self.topics
            .iter()
            .zip(&hits)
            .map(|(topic, hits)| {
                let scored = score_topic(topic, hits, text, &sentences, true);
                let mut evidence = Vec::with_capacity(scored.chosen.len());
                each_evidence(topic, &scored.chosen, text, &sentences, |e| {
                    evidence.push(e.to_owned())
                });
                TopicResult {
                    id: topic.id.clone(),
                    score: scored.score,
                    matched: scored.matched,
                    evidence,
                    reasons: topic.model.explain(&scored.features),
                    features: scored.features,
                }
            })
            .collect()
    }

    /// The sentences of `text` and every term hit, per topic.
    fn hits(&self, text: &str) -> (Vec<Sentence>, Vec<Vec<Hit>>) {
        let sentences = segment::sentences(text);
        let folded = fold(text);
        let hits = self.find(text, &folded, &sentences);
        (sentences, hits)
    }

    /// Every term hit of every topic, per topic, in text order.
    fn find(&self, text: &str, folded: &Folded, sentences: &[Sentence]) -> Vec<Vec<Hit>> {
        let mut per_topic: Vec<Vec<Hit>> = vec![Vec::new(); self.topics.len()];
        let bytes = folded.text.as_bytes();
        let Some(trie) = self.trie() else {
            return per_topic;
        };
        // A view of the trie's bytes held here: read through the `OnceLock`, the walk would load
        // their address again at every step.
        let trie = DoubleArray::new(trie.0.as_slice());
        // Every term starts with a letter or digit and must not continue a word, so a term
        // starts exactly where a word does.
        for (wi, &w) in folded.words.iter().enumerate() {
            let s = w as usize;
            for (pattern, e) in forms_at(&trie, bytes, s) {
                self.place(text, folded, sentences, pattern, (wi, s, e), &mut per_topic);
            }
        }
        per_topic
    }

    /// The trie of every searched form, built on first use.
    fn trie(&self) -> Option<&DoubleArray<Vec<u8>>> {
        self.trie
            .get_or_init(|| self.searched_forms_trie())
            .as_ref()
    }

    /// Builds the trie of every searched form (once, out of the hot path).
    #[cold]
    #[inline(never)]
    fn searched_forms_trie(&self) -> Option<DoubleArray<Vec<u8>>> {
        let forms: Vec<&str> = (0..self.refs.len()).map(|id| self.form(id)).collect();
        let trie = build_trie(&forms);
        if trie.is_none() && !forms.is_empty() {
            tracing::error!(
                forms = forms.len(),
                "cannot build the trie of the searched forms: no term will match"
            );
        }
        trie
    }

    /// The searched form (folded) of pattern `id`: that of its first term.
    fn form(&self, id: usize) -> &str {
        let r = self.refs[id][0];
        &self.topics[r.topic as usize].concepts[r.concept as usize].terms[r.term as usize].folded
    }

    /// The hits of pattern `pattern`, found at folded `s..e` (word `wi`).
    fn place(
        &self,
        text: &str,
        folded: &Folded,
        sentences: &[Sentence],
        pattern: usize,
        (wi, s, e): (usize, usize, usize),
        per_topic: &mut [Vec<Hit>],
    ) {
        let f = folded.text.as_str();
        // Where the hits start in the original and their sentence, found once for all terms.
        let mut start: Option<(usize, usize)> = None;
        // Per cached variant (bit v of `tried`): the folded end where its terms match, if any.
        let mut tried = 0u32;
        let mut ends = [None; CACHED_VARIANTS];
        // The last folded end turned into an original one.
        let mut last: Option<(usize, usize)> = None;
        for r in &self.refs[pattern] {
            let v = r.variant as usize;
            let end = if v < CACHED_VARIANTS && tried & (1 << v) != 0 {
                ends[v]
            } else {
                let term = &self.topics[r.topic as usize].concepts[r.concept as usize].terms
                    [r.term as usize];
                let end = term_end(f, e, term).filter(|_| {
                    term.exact_case.as_ref().is_none_or(|exact| {
                        let (hs, he) = folded.original_range(text, s, e);
                        &text[hs..he] == exact
                    })
                });
                if v < CACHED_VARIANTS {
                    tried |= 1 << v;
                    ends[v] = end;
                }
                end
            };
            let Some(end) = end else {
                continue;
            };
            let (os, sentence) = *start.get_or_insert_with(|| {
                let os = folded.origin(text, s);
                let sentence = sentences
                    .partition_point(|x| x.start <= os)
                    .saturating_sub(1);
                (os, sentence)
            });
            let oe = match last {
                Some((folded_end, oe)) if folded_end == end => oe,
                _ => {
                    let oe = if end > s {
                        folded.original_end(text, end)
                    } else {
                        os
                    };
                    last = Some((end, oe));
                    oe
                }
            };
            per_topic[r.topic as usize].push(Hit {
                concept: r.concept as usize,
                term: r.term as usize,
                start: os,
                end: oe,
                sentence,
                word: wi,
            });
        }
    }
}

/// The searched forms of `trie` that the folded text `bytes` holds at `s`, shortest first: their
/// pattern ids and where they end.
fn forms_at<'a>(
    trie: &'a DoubleArray<&[u8]>,
    bytes: &'a [u8],
    s: usize,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    trie.common_prefix_search(&bytes[s..])
        .map(move |(pattern, len)| (pattern as usize, s + len))
}

/// The double-array trie of `forms` (none contains NUL): form `i` is a key with value `i`.
/// `None` without forms, or if the builder fails.
fn build_trie(forms: &[&str]) -> Option<DoubleArray<Vec<u8>>> {
    if forms.is_empty() {
        return None;
    }
    let mut keys: Vec<(&[u8], u32)> = forms
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_bytes(), i as u32))
        .collect();
    keys.sort_unstable();
    DoubleArrayBuilder::build(&keys).map(DoubleArray::new)
}

/// An item's text: its title on one line, then its body.
fn item_text(title: &str, body: &str) -> String {
    let mut text = String::with_capacity(title.len() + 1 + body.len());
    if title.contains('\n') {
        text.push_str(&title.replace('\n', " "));
    } else {
        text.push_str(title);
    }
    text.push('\n');
    text.push_str(body);
    text
}

/// Where a term whose searched form ends at folded offset `e` ends, after its prefix word runs
/// on and its remaining words follow; `None` when it does not match there.
fn term_end(f: &str, e: usize, term: &rules::Term) -> Option<usize> {
    let bytes = f.as_bytes();
    let mut end = if term.prefix {
        word_end(f, e)
    } else if word_after(f, e) {
        return None;
    } else {
        e
    };
    for (word, prefix) in &term.rest {
        // One to three separators (space, hyphen, apostrophe) between words.
        let gap = bytes[end..]
            .iter()
            .take(4)
            .position(|b| !matches!(b, b' ' | b'-' | b'\''))?;
        if gap == 0 || !f[end + gap..].starts_with(word.as_str()) {
            return None;
        }
        end += gap + word.len();
        if *prefix {
            end = word_end(f, end);
        } else if word_after(f, end) {
            return None;
        }
    }
    Some(end)
}

/// Where the run of letters and digits at folded offset `at` ends.
fn word_end(f: &str, mut at: usize) -> usize {
    let bytes = f.as_bytes();
    while let Some(&b) = bytes.get(at) {
        if b.is_ascii() {
            if !b.is_ascii_alphanumeric() {
                break;
            }
            at += 1;
        } else {
            match f[at..].chars().next() {
                Some(c) if is_word(c) => at += c.len_utf8(),
                _ => break,
            }
        }
    }
    at
}

/// Whether a letter or digit follows folded offset `at`.
fn word_after(f: &str, at: usize) -> bool {
    match f.as_bytes().get(at) {
        None => false,
        Some(b) if b.is_ascii() => b.is_ascii_alphanumeric(),
        Some(_) => f[at..].chars().next().is_some_and(is_word),
    }
}

/// A topic's verdict before its evidence is written out.
struct Scored {
    score: f64,
    matched: bool,
    features: Features,
    /// The hits to show as evidence, in text order.
    chosen: Vec<Hit>,
}

fn score_topic(
    topic: &Topic,
    hits: &[Hit],
    text: &str,
    sentences: &[Sentence],
    all_evidence: bool,
) -> Scored {
    let role = |h: &Hit| topic.concepts[h.concept].role;
    // Page furniture: from the first line that starts with a boilerplate marker (after the
    // title), the text is ignored.
    let cut = hits
        .iter()
        .filter(|h| role(h) == Role::Boilerplate)
        .filter(|h| {
            sentences
                .get(h.sentence)
                .is_some_and(|s| s.field != Field::Title)
        })
        .filter(|h| starts_line(text, h.start) && short_line(text, h.start))
        .map(|h| line_start(text, h.start))
        .min()
        .unwrap_or(text.len());
    let masks: Vec<(usize, usize)> = hits
        .iter()
        .filter(|h| role(h) == Role::Mask)
        .map(|h| (h.start, h.end))
        .collect();
    let mut live: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.start < cut)
        .filter(|h| !matches!(role(h), Role::Mask | Role::Boilerplate))
        .filter(|h| !masks.iter().any(|&(s, e)| h.start < e && s < h.end))
        .collect();
    live.sort_by_key(|h| (h.sentence, h.start));
    // Sentences after the cut are not part of the item.
    let kept = sentences.partition_point(|s| s.start < cut);
    let mentions: Vec<Mention> = live
        .iter()
        .map(|h| Mention {
            concept: h.concept,
            sentence: h.sentence,
            word: h.word,
        })
        .collect();
    let features = features::features(topic, &mentions, &sentences[..kept]);
    let score = model::round3(topic.model.score(&features));
    let matched = score >= topic.threshold;

    // Evidence: the hits of the strongest spans (head, best window, best sentence), in text
    // order.
    let mut chosen: Vec<&Hit> = Vec::new();
    let spans = if matched || all_evidence {
        features.spans.as_slice()
    } else {
        &[]
    };
    for &(first, last) in spans {
        let from = live.partition_point(|h| h.sentence < first);
        let to = live.partition_point(|h| h.sentence <= last);
        for h in &live[from..to] {
            if !chosen
                .iter()
                .any(|c| c.start == h.start && c.concept == h.concept)
            {
                chosen.push(h);
            }
        }
        if chosen.len() >= MAX_EVIDENCE {
            break;
        }
    }
    chosen.truncate(MAX_EVIDENCE);
    chosen.sort_by_key(|h| (h.start, h.concept));
    Scored {
        score,
        matched,
        features,
        chosen: chosen.into_iter().copied().collect(),
    }
}

/// Calls `each` with the evidence of every chosen hit, in order.
fn each_evidence(
    topic: &Topic,
    chosen: &[Hit],
    text: &str,
    sentences: &[Sentence],
    mut each: impl FnMut(EvidenceRef<'_>),
) {
    // Character offsets, counted once along the text rather than from the start for each hit.
    let (mut at_byte, mut at_char) = (0, 0);
    let mut snippet = String::new();
    for h in chosen {
        at_char += text[at_byte..h.start].chars().count();
        at_byte = h.start;
        snippet.clear();
        write_snippet(&mut snippet, h, text);
        let concept = &topic.concepts[h.concept];
        each(EvidenceRef {
            concept: &concept.name,
            matched: &text[h.start..h.end],
            term: &concept.terms[h.term].written,
            field: sentences.get(h.sentence).map_or(Field::Body, |s| s.field),
            offset: at_char,
            snippet: &snippet,
        });
    }
}

/// Whether the line holding `at` is short, like a heading or a row of links.
fn short_line(text: &str, at: usize) -> bool {
    let start = line_start(text, at);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    text[start..end].chars().count() <= MAX_FURNITURE_LINE
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Whether only spaces and bullet marks precede `at` on its line.
fn starts_line(text: &str, at: usize) -> bool {
    text[line_start(text, at)..at].chars().all(|c| {
        c.is_whitespace() || matches!(c, '-' | '•' | '*' | '·' | '|' | '>' | '#' | '–' | '—' | '»')
    })
}

/// Appends the context of `h`: up to [`SNIPPET_CONTEXT`] chars on each side, white space runs
/// made one space, trimmed, `…` where the text goes on.
fn write_snippet(snippet: &mut String, h: &Hit, text: &str) {
    // SNIPPET_CONTEXT chars before and after, counted as bytes where the text is ASCII.
    let from = match h.start.checked_sub(SNIPPET_CONTEXT) {
        Some(from) if text.as_bytes()[from..h.start].is_ascii() => from,
        _ => chars_before(text, h.start, SNIPPET_CONTEXT),
    };
    let to = match text.as_bytes().get(h.end..=h.end + SNIPPET_CONTEXT) {
        Some(after) if after.is_ascii() => h.end + SNIPPET_CONTEXT,
        _ => chars_after(text, h.end, SNIPPET_CONTEXT),
    };
    // The context with its runs of white space made one space, trimmed.
    if from > 0 {
        snippet.push('…');
    }
    let context = &text[from..to];
    let bytes = context.as_bytes();
    // Written a chunk at a time: a chunk runs up to the next white space that is not one plain
    // space between two words (a line break, a run, an unusual space, either end).
    let (mut i, mut chunk, mut started) = (0, 0, false);
    while i < bytes.len() {
        let Some(k) = bytes[i..]
            .iter()
            .position(|&b| SPACE_LEADS[b as usize] != 0)
        else {
            break;
        };
        i += k;
        if bytes[i] == b' '
            && i > chunk
            && bytes
                .get(i + 1)
                .is_some_and(|&b| SPACE_LEADS[b as usize] == 0)
        {
            // One plain space between two words: part of the chunk.
            i += 2;
            continue;
        }
        let Some(width) = space_at(context, i) else {
            i += 1;
            continue;
        };
        let run = i;
        i += width;
        while let Some(width) = (i < bytes.len()).then(|| space_at(context, i)).flatten() {
            i += width;
        }
        let plain = run > chunk && i < bytes.len() && i - run == 1 && bytes[run] == b' ';
        if !plain {
            if run > chunk {
                if started {
                    snippet.push(' ');
                }
                snippet.push_str(&context[chunk..run]);
                started = true;
            }
            chunk = i;
        }
    }
    if chunk < bytes.len() {
        if started {
            snippet.push(' ');
        }
        snippet.push_str(&context[chunk..]);
    }
    if to < text.len() {
        snippet.push('…');
    }
}

/// Bytes that may start a white space char: 1 for ASCII white space, 2 for the four lead bytes
/// of every white space char outside ASCII (U+0085, U+00A0, U+1680, U+2000…U+3000); a
/// continuation byte is never white space.
const SPACE_LEADS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b' ' as usize] = 1;
    let mut b = b'\t';
    while b <= b'\r' {
        t[b as usize] = 1;
        b += 1;
    }
    t[0xC2] = 2;
    t[0xE1] = 2;
    t[0xE2] = 2;
    t[0xE3] = 2;
    t
};

/// The width of the white space char at byte `i` of `text`, if one starts there (`i` is a char
/// boundary or a continuation byte).
#[inline(always)]
fn space_at(text: &str, i: usize) -> Option<usize> {
    match SPACE_LEADS[text.as_bytes()[i] as usize] {
        0 => None,
        1 => Some(1),
        _ => text[i..]
            .chars()
            .next()
            .filter(|c| c.is_whitespace())
            .map(char::len_utf8),
    }
}

/// The byte offset of the `n`th char before byte `at` of `text` (0 if there are fewer).
fn chars_before(text: &str, at: usize, n: usize) -> usize {
    let mut count = 0;
    for (i, &b) in text.as_bytes()[..at].iter().enumerate().rev() {
        // Every byte but a continuation byte starts a char.
        if (b as i8) >= -0x40 {
            count += 1;
            if count == n {
                return i;
            }
        }
    }
    0
}

/// The byte offset of the char `n` chars after byte `at` of `text` (its end if there are fewer).
fn chars_after(text: &str, at: usize, n: usize) -> usize {
    let mut count = 0;
    for (i, &b) in text.as_bytes()[at..].iter().enumerate() {
        if (b as i8) >= -0x40 {
            if count == n {
                return at + i;
            }
            count += 1;
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier(concepts: &str) -> Classifier {
        let text = format!("threshold = 0.5\n{concepts}");
        let topic = rules::parse_topic(&text, Path::new("t.toml")).unwrap();
        Classifier::new(vec![topic]).unwrap()
    }

    fn matched(c: &Classifier, text: &str) -> Vec<String> {
        let r = c.classify(text, None).remove(0);
        r.evidence.into_iter().map(|e| e.matched).collect()
    }

    #[test]
    fn words_stars_and_case() {
        let c = classifier(
            "[concepts.a]\nrole = \"required\"\nterms.any = [\"=US\", \"evropsk* uni*\", \"kyber*\"]\n",
        );
        assert_eq!(
            matched(&c, "US, us a Evropskou unií o kybernetické bezpečnosti"),
            ["US", "Evropskou unií", "kybernetické"]
        );
        // Whole words only: no `US` inside `USB`, no `evropsk* uni*` across other words.
        assert!(matched(&c, "USB evropsk a unie").is_empty());
    }

    /// Regression (issue 13, the trie that replaced the Aho-Corasick automaton): at every word
    /// start of the dev corpus (24 languages), the trie gives exactly the shipped rules' searched
    /// forms that the folded text starts with there, shortest first.
    #[test]
    fn the_trie_finds_every_searched_form_at_every_word_start() {
        let c =
            Classifier::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/topics")).unwrap();
        let forms: Vec<&str> = (0..c.refs.len()).map(|id| c.form(id)).collect();
        let mut by_first: std::collections::HashMap<u8, Vec<(usize, &str)>> = Default::default();
        for (id, f) in forms.iter().enumerate() {
            by_first.entry(f.as_bytes()[0]).or_default().push((id, f));
        }
        let trie = DoubleArray::new(c.trie().expect("the shipped rules have terms").0.as_slice());
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/docs");
        let (mut starts, mut found) = (0, 0);
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let folded = fold(&text);
            let bytes = folded.text.as_bytes();
            for &w in &folded.words {
                let s = w as usize;
                let mut want: Vec<(usize, usize)> = by_first
                    .get(&bytes[s])
                    .into_iter()
                    .flatten()
                    .filter(|(_, f)| bytes[s..].starts_with(f.as_bytes()))
                    .map(|&(id, f)| (id, s + f.len()))
                    .collect();
                want.sort_by_key(|&(_, e)| e);
                assert_eq!(
                    forms_at(&trie, bytes, s).collect::<Vec<_>>(),
                    want,
                    "at {s} of {text:.60}"
                );
                starts += 1;
                found += want.len();
            }
        }
        assert!(
            starts > 20_000 && found > 5_000,
            "{starts} word starts, {found} forms"
        );
    }

    /// Regression (issue 13): the trie is built on the first classification, so that a
    /// command that classifies nothing (a poll of unchanged feeds) does not pay its build.
    #[test]
    fn the_trie_is_built_on_the_first_classification_only() {
        let c =
            Classifier::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/topics")).unwrap();
        assert!(c.trie.get().is_none(), "built when the rules loaded");
        assert!(c.matches("EU and NATO", "Cyber defence.", None).len() <= 2);
        assert!(c.trie.get().is_some_and(Option::is_some));
    }

    #[test]
    fn a_term_with_a_nul_character_is_refused_by_name() {
        let err = rules::parse_topic(
            "threshold = 0.5\n[concepts.a]\nrole = \"required\"\nterms.any = [\"cyber\\u0000x\"]\n",
            Path::new("t.toml"),
        )
        .expect_err("a NUL term is refused where the rules are read");
        assert!(err.message.contains("NUL"), "{}", err.message);
        assert!(err.message.contains("cyber"), "{}", err.message);
        assert_eq!(
            err.line,
            Some(4),
            "the error names the term's line: {err:?}"
        );
    }

    #[test]
    fn a_term_ends_after_one_to_three_separators_and_its_next_word() {
        let c = classifier(
            "[concepts.a]\nrole = \"required\"\nterms.any = [\"cyber* defen*\", \"eu nato\"]\n",
        );
        assert_eq!(
            matched(&c, "Cyber - defence; cybersecurity--'defensa; EU nato"),
            ["Cyber - defence", "cybersecurity--'defensa", "EU nato"]
        );
        // Four separators, or the text ending after them, is no match; nor a word run on.
        assert!(matched(&c, "cyber - -defence, eu natoX, cyber -").is_empty());
        assert!(matched(&c, "cyber ").is_empty());
    }

    #[test]
    fn stored_evidence_is_the_json_serde_writes() {
        let field = |i: usize| [Field::Title, Field::Lead, Field::Body][i % 3];
        let strings = [
            "plain text",
            "",
            "a \"quoted\" word",
            "back\\slash",
            "tab\tnew\nline\r\u{1}\u{1f}",
            "del \u{7f} and é, Ω, 😀",
            "…snippet with the EU–US line…",
        ];
        let evidence: Vec<Evidence> = (0..strings.len() * 3)
            .map(|i| Evidence {
                concept: strings[i % strings.len()].to_string(),
                matched: strings[(i + 1) % strings.len()].to_string(),
                term: strings[(i + 2) % strings.len()].to_string(),
                field: field(i),
                offset: i * 1237,
                snippet: strings[(i + 3) % strings.len()].to_string(),
            })
            .collect();
        for n in 0..=evidence.len() {
            assert_eq!(
                evidence_json(|each| evidence[..n].iter().for_each(|e| each(e.view()))),
                serde_json::to_string(&evidence[..n]).unwrap()
            );
        }
        // And on real evidence: every topic of every item of the dev corpus.
        let c =
            Classifier::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/topics")).unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/docs");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for r in c.classify(&text, None) {
                assert_eq!(
                    r.to_stored().evidence_json,
                    serde_json::to_string(&r.evidence).unwrap()
                );
                checked += r.evidence.len();
            }
        }
        assert!(checked > 1000, "only {checked} evidence entries compared");
    }

    #[test]
    fn snippets_make_every_unicode_space_one_space() {
        let hit = Hit {
            concept: 0,
            term: 0,
            start: 0,
            end: 1,
            sentence: 0,
            word: 0,
        };
        for u in (0x80..0x3100).chain([0xFEFF, 0x1F600]) {
            let Some(c) = char::from_u32(u) else { continue };
            let mut snippet = String::new();
            write_snippet(&mut snippet, &hit, &format!("a{c}{c}b"));
            let expected = if c.is_whitespace() {
                "a b".to_string()
            } else {
                format!("a{c}{c}b")
            };
            assert_eq!(snippet, expected, "U+{u:04X}");
        }
    }

    /// A snippet the plain way: the chars around the hit, split on white space and joined.
    fn snippet_one_by_one(h: &Hit, text: &str) -> String {
        let before: Vec<usize> = text[..h.start].char_indices().map(|(i, _)| i).collect();
        let from = before
            .len()
            .checked_sub(SNIPPET_CONTEXT)
            .map_or(0, |k| before[k]);
        let to = text[h.end..]
            .char_indices()
            .nth(SNIPPET_CONTEXT)
            .map_or(text.len(), |(i, _)| h.end + i);
        let words: Vec<&str> = text[from..to].split_whitespace().collect();
        let (open, close) = (
            if from > 0 { "…" } else { "" },
            if to < text.len() { "…" } else { "" },
        );
        format!("{open}{}{close}", words.join(" "))
    }

    #[test]
    fn snippets_are_the_context_with_white_space_runs_made_one_space() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/docs");
        let mut texts: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        texts.push(" \u{a0}lead  and\t\ttrail \n\u{3000}x\u{2003} y\u{85}z ".repeat(9));
        texts.push("é ".repeat(100));
        let mut checked = 0;
        for text in &texts {
            let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            for w in starts.windows(2).step_by(7) {
                let hit = Hit {
                    concept: 0,
                    term: 0,
                    start: w[0],
                    end: w[1],
                    sentence: 0,
                    word: 0,
                };
                let mut snippet = String::new();
                write_snippet(&mut snippet, &hit, text);
                assert_eq!(snippet, snippet_one_by_one(&hit, text), "at {}", w[0]);
                checked += 1;
            }
        }
        assert!(checked > 20_000, "{checked}");
    }

    #[test]
    fn furniture_cuts_only_from_a_short_line_start() {
        let c = classifier(
            "[concepts.a]\nrole = \"required\"\nterms.any = [\"nato\"]\n\
             [concepts.f]\nrole = \"boilerplate\"\nterms.en = [\"related news\"]\n",
        );
        let kept = "Title\nRelated news of the week says much about NATO and about many other things, in a sentence far longer than any heading.";
        assert_eq!(matched(&c, kept), ["NATO"]);
        let cut = "Title\nBody.\nRelated news\n- NATO meets";
        assert!(matched(&c, cut).is_empty());
    }
}

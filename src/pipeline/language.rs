//! Language detection: which language an item is written in, in ISO 639-1, from its text
//! (whatlang restricted to the EU languages it knows, plus a small detector for Irish and
//! Maltese) weighed against what the item, its page, its URL, its feed and the configuration
//! declare.
//!
//! Order of trust: a confident reading of the text wins; short or ambiguous text defers to the
//! hints (item > page > URL > configured > feed); a hint that agrees with the text wins over one
//! that does not; a hint written in another script than the text is ignored; within families of
//! close languages (cs/sk, hr/sl/sr/bs, da/sv/nb, es/pt/gl, bg/ru/uk/mk) distinctive letters
//! decide, else the hint does.
//!
//! Most items declare their language and are written in it: when the start of the text holds
//! enough of a declared language's common function words, with a clear margin over every other
//! language of its script, that declaration is taken without a statistical reading (the
//! shortcut; `tests/it/language.rs` checks that it answers as the full reading does, or right).

mod words;

use std::sync::LazyLock;

use whatlang::{Detector, Lang};

/// The 24 official languages of the European Union, ISO 639-1.
pub const EU_LANGUAGES: [&str; 24] = [
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt", "lv",
    "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
];

/// The text looked at: the title and the start of the body, cut at this many bytes (a few
/// sentences). Language does not change half-way through a press item, trailing boilerplate is
/// left out, and detection costs the same for a long item as for a short one.
const SAMPLE_BYTES: usize = 1000;
/// Bytes read first when a language is declared: a text whose start already agrees with the best
/// declaration confidently needs no more (most feed items; a third of the work).
const QUICK_BYTES: usize = 300;

/// What is declared about an item's language, each as found (`en-GB`, `EN`, `eng`, a URL).
#[derive(Debug, Clone, Copy, Default)]
pub struct Hints<'a> {
    /// The item's own declaration (`xml:lang`, `dc:language`).
    pub item: Option<&'a str>,
    /// The article page's `<html lang>`, `og:locale` or `Content-Language`.
    pub page: Option<&'a str>,
    /// The feed's `<language>`.
    pub feed: Option<&'a str>,
    /// The language configured for the feed.
    pub configured: Option<&'a str>,
    /// The item's link, for `/it/`, `?language=fr`, `_fr.html`.
    pub url: Option<&'a str>,
}

/// Where the decided language came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The text itself (possibly confirmed by hints).
    Text,
    Item,
    Page,
    Feed,
    Configured,
    Url,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Text => "text",
            Source::Item => "item",
            Source::Page => "page",
            Source::Feed => "feed",
            Source::Configured => "configured",
            Source::Url => "url",
        }
    }

    /// How far a hint from this source is trusted on its own.
    fn trust(self) -> f64 {
        match self {
            Source::Text => 1.0,
            Source::Item => 0.9,
            Source::Page => 0.85,
            Source::Url => 0.8,
            Source::Configured => 0.75,
            Source::Feed => 0.7,
        }
    }
}

/// A decided language.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detected {
    /// ISO 639-1 code.
    pub code: &'static str,
    /// 0.0–1.0.
    pub confidence: f64,
    pub source: Source,
}

/// The language of an item with `title` and `body`, given what is declared about it. `None`
/// when neither the text nor any hint says anything.
pub fn detect(title: &str, body: &str, hints: &Hints) -> Option<Detected> {
    let declared = declared(hints);
    confirmed_by_words(title, body, &declared).or_else(|| read(title, body, &declared))
}

/// What [`detect`] answers without its shortcut: the text read statistically, always.
pub fn detect_without_shortcut(title: &str, body: &str, hints: &Hints) -> Option<Detected> {
    read(title, body, &declared(hints))
}

/// [`detect`]'s shortcut alone: a declared language its function words confirm, or `None` when
/// the evidence is not conclusive (then `detect` reads the text statistically).
pub fn shortcut(title: &str, body: &str, hints: &Hints) -> Option<Detected> {
    confirmed_by_words(title, body, &declared(hints))
}

/// Words the start of the text must have for its function words to decide.
const SHORTCUT_WORDS: usize = 20;

/// The declared language the function words of the text's sample confirm: at least one word in
/// eight is one of its function words, it leads every other Latin-script EU language by a
/// quarter and three words, the text is in Latin script, and within a family of close languages
/// the distinctive letters do not name the sibling. Irish and Maltese are left to their own
/// reader. (Thresholds chosen on the tuning corpora, never on the blind one.)
fn confirmed_by_words(
    title: &str,
    body: &str,
    declared: &[(&'static str, Source)],
) -> Option<Detected> {
    if declared.is_empty() {
        return None;
    }
    let sample = sample(title, body, SAMPLE_BYTES);
    let (hits, count) = words::count(&sample);
    if count < SHORTCUT_WORDS {
        return None;
    }
    let (lead, &best) = hits.iter().enumerate().max_by_key(|&(_, h)| *h)?;
    let runner_up = hits
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != lead)
        .map(|(_, h)| *h)
        .max()
        .unwrap_or(0);
    let (best, runner_up) = (usize::from(best), usize::from(runner_up));
    let code = words::LANGUAGES[lead];
    let &(_, source) = declared.iter().find(|(c, _)| *c == code)?;
    if matches!(code, "ga" | "mt") || best * 8 < count || best * 4 < runner_up * 5 + 12 {
        return None;
    }
    let stats = Stats::of(&sample);
    if stats.script() != Script::Latin {
        return None;
    }
    if let Some(other) = sibling(code)
        && letters_vote(&stats, code, other) == Some(other)
    {
        return None;
    }
    let margin = (best - runner_up) as f64 / best as f64;
    Some(confirmed(code, margin, source))
}

/// The full reading: the text's start, then its sample, read statistically and weighed against
/// the declarations.
fn read(title: &str, body: &str, declared: &[(&'static str, Source)]) -> Option<Detected> {
    if let Some(agreed) = quick_agreement(title, body, declared) {
        return Some(agreed);
    }
    let sample = sample(title, body, SAMPLE_BYTES);
    let stats = Stats::of(&sample);
    let text = read_text(&sample, &stats);

    let Some(text) = text else {
        return declared.first().map(|&(code, source)| Detected {
            code,
            confidence: source.trust(),
            source,
        });
    };
    let from_text = |confidence: f64| Detected {
        code: text.code,
        confidence,
        source: Source::Text,
    };
    let Some(&(hint, source)) = declared.first() else {
        return Some(from_text(text.confidence));
    };
    // A hint that agrees with the text wins over those that do not.
    if let Some(&(_, agreeing)) = declared.iter().find(|(c, _)| *c == text.code) {
        return Some(confirmed(text.code, text.confidence, agreeing));
    }
    let from_hint = Detected {
        code: hint,
        confidence: source.trust() * (1.0 - text.confidence / 2.0),
        source,
    };
    // A hint in another script than the text cannot be right.
    if script_of(hint).is_some_and(|s| s != stats.script()) && stats.letters >= 8 {
        return Some(from_text(text.confidence));
    }
    // Some Irish or Maltese in the text backs a hint naming that language.
    if matches!(hint, "ga" | "mt") && text.minority.is_some_and(|(c, w)| c == hint && w >= 1.5) {
        return Some(from_hint);
    }
    if same_family(text.code, hint) {
        return Some(match letters_vote(&stats, text.code, hint) {
            Some(code) if code == text.code => from_text(text.confidence),
            _ => from_hint,
        });
    }
    Some(if text.trusted(&sample, stats.letters, hint) {
        from_text(text.confidence)
    } else {
        from_hint
    })
}

/// The language of a stored item (for reclassification): its text, its link and its feed's
/// language. The stored language is not used as a hint, so a past mistake is not kept.
pub fn detect_stored(item: &crate::store::StoredText) -> Option<Detected> {
    let hints = Hints {
        feed: item.feed_language.as_deref(),
        url: item.url.as_deref(),
        ..Hints::default()
    };
    detect(&item.title, &item.body, &hints)
}

/// The ISO 639-1 code of a language tag or name as found in feeds and pages: `en-GB` → `en`,
/// `EN` → `en`, `eng` → `en`, `el_GR` → `el`, `Deutsch` → `de`. Also the common mistakes
/// `gr`, `cz` and `dk` (country codes that name no language). `None` when unknown.
pub fn normalize(tag: &str) -> Option<&'static str> {
    let tag = tag.trim().to_lowercase();
    let primary = tag.split(['-', '_', '.', ' ', ';', ',']).next()?;
    if let Some(l) = LANGUAGES.iter().find(|l| l.code == primary) {
        return Some(l.code);
    }
    LANGUAGES
        .iter()
        .find(|l| l.aliases.contains(&primary) || l.aliases.contains(&tag.as_str()))
        .map(|l| l.code)
}

/// The language a URL names: a path segment (`/it/`, `/EN/`, `/fr-be/`), a query parameter
/// (`lang`, `language`, `locale`, `hl`, `lng`) or a file-name suffix (`_fr.html`, `.de.htm`,
/// `-pl.pdf`). Only the 24 EU languages count (`/uk/` is more often a country than Ukrainian).
pub fn url_language(url: &str) -> Option<&'static str> {
    let url = url::Url::parse(url).ok()?;
    let eu = |s: &str| normalize(s).filter(|c| EU_LANGUAGES.contains(c));
    let locale = |s: &str| {
        let s = s.to_ascii_lowercase();
        let b = s.as_bytes();
        let ok = b.len() == 2 || (b.len() == 5 && matches!(b[2], b'-' | b'_'));
        if ok
            && b.iter()
                .all(|c| c.is_ascii_alphabetic() || matches!(c, b'-' | b'_'))
        {
            eu(&s)
        } else {
            None
        }
    };
    for (key, value) in url.query_pairs() {
        if matches!(
            key.to_ascii_lowercase().as_str(),
            "lang" | "language" | "locale" | "hl" | "lng"
        ) && let Some(code) = locale(&value)
        {
            return Some(code);
        }
    }
    let segments: Vec<&str> = url.path_segments()?.collect();
    if let Some(code) = segments.iter().find_map(|s| locale(s)) {
        return Some(code);
    }
    let file = segments.last()?;
    let (stem, ext) = file.rsplit_once('.')?;
    if !matches!(
        ext.to_ascii_lowercase().as_str(),
        "html" | "htm" | "php" | "asp" | "aspx" | "pdf" | "xml"
    ) {
        return None;
    }
    let cut = stem.rfind(['_', '.', '-'])?;
    locale(&stem[cut + 1..])
}

/// The declared languages in order of trust, normalised and without repeats.
fn declared(hints: &Hints) -> Vec<(&'static str, Source)> {
    let found = [
        (hints.item.and_then(normalize), Source::Item),
        (hints.page.and_then(normalize), Source::Page),
        (hints.url.and_then(url_language), Source::Url),
        (hints.configured.and_then(normalize), Source::Configured),
        (hints.feed.and_then(normalize), Source::Feed),
    ];
    let mut out: Vec<(&'static str, Source)> = Vec::with_capacity(5);
    for (code, source) in found {
        if let Some(code) = code
            && !out.iter().any(|(c, _)| *c == code)
        {
            out.push((code, source));
        }
    }
    out
}

/// The title and the start of the body, cut on a character boundary.
/// The start of the text agreeing confidently with the most trusted declaration, if it does:
/// the answer the whole sample would give too (a hint that agrees with the text wins).
fn quick_agreement(
    title: &str,
    body: &str,
    declared: &[(&'static str, Source)],
) -> Option<Detected> {
    let &(hint, source) = declared.first()?;
    let sample = sample(title, body, QUICK_BYTES);
    let stats = Stats::of(&sample);
    if stats.letters < 120 {
        return None;
    }
    let text = read_text(&sample, &stats)?;
    (text.code == hint && text.confidence >= 0.5)
        .then(|| confirmed(text.code, text.confidence, source))
}

/// The text's language `code`, read with `confidence` and confirmed by a declaration from
/// `source`: both must be wrong for the answer to be.
fn confirmed(code: &'static str, confidence: f64, source: Source) -> Detected {
    Detected {
        code,
        confidence: 1.0 - (1.0 - confidence) * (1.0 - source.trust()),
        source: Source::Text,
    }
}

fn sample(title: &str, body: &str, limit: usize) -> String {
    let mut s = String::with_capacity(limit.min(title.len() + body.len()) + 2);
    s.push_str(title);
    let body = body.trim_start();
    if !body.is_empty() && !body.starts_with(title.trim()) {
        s.push_str(".\n");
        s.push_str(body);
    } else if !body.is_empty() {
        s.clear();
        s.push_str(body);
    }
    if s.len() > limit {
        let mut cut = limit;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// What the text alone says.
#[derive(Debug, Clone, Copy)]
struct TextGuess {
    code: &'static str,
    /// whatlang's confidence, or the Irish/Maltese detector's.
    confidence: f64,
    /// Irish or Maltese evidence, strong or not: the language and its weight.
    minority: Option<(&'static str, f64)>,
}

impl TextGuess {
    /// Whether the text is long and clear enough to overrule a declared language `hint`.
    fn trusted(&self, sample: &str, letters: usize, hint: &str) -> bool {
        // Irish or Maltese read from the text: trusted in a body, or when dense in a title.
        if let Some((code, weight)) = self.minority
            && code == self.code
        {
            return letters >= 150 || (weight >= 4.0 && self.confidence >= 0.75);
        }
        // whatlang's confidence is the margin over the runner-up, often a sibling language;
        // what matters here is the margin over the declared language.
        let margin = versus(sample, self.code, hint).unwrap_or(self.confidence);
        (letters >= 150 && margin >= 0.5)
            || (letters >= 60 && margin >= 0.999 && self.confidence >= 0.5)
    }
}

/// whatlang's confidence in `a` over `b` (0 when it prefers `b`), if it knows both.
fn versus(sample: &str, a: &str, b: &str) -> Option<f64> {
    let id = |code: &str| LANGUAGES.iter().find(|l| l.code == code)?.whatlang;
    let (la, lb) = (id(a)?, id(b)?);
    let info = Detector::with_allowlist(vec![la, lb]).detect(sample)?;
    Some(if info.lang() == la {
        info.confidence()
    } else {
        0.0
    })
}

static DETECTOR: LazyLock<Detector> = LazyLock::new(|| {
    Detector::with_allowlist(
        LANGUAGES
            .iter()
            .filter(|l| EU_LANGUAGES.contains(&l.code))
            .filter_map(|l| l.whatlang)
            .collect(),
    )
});

/// Cyrillic languages whatlang knows, for text with letters Bulgarian does not use.
static CYRILLIC: LazyLock<Detector> = LazyLock::new(|| {
    Detector::with_allowlist(vec![Lang::Rus, Lang::Ukr, Lang::Bel, Lang::Mkd, Lang::Srp])
});

fn read_text(sample: &str, stats: &Stats) -> Option<TextGuess> {
    if stats.letters == 0 {
        return None;
    }
    let minority = minority(sample);
    if let Some((code, weight, ratio)) = minority
        && weight >= 3.0
        && ratio >= 0.12
    {
        return Some(TextGuess {
            code,
            confidence: (ratio * 3.0).min(1.0),
            minority: Some((code, weight)),
        });
    }
    let minority = minority.map(|(c, w, _)| (c, w));
    // Greek and Bulgarian are the only EU languages of their scripts: no need to ask whatlang.
    let by_script = |code| {
        Some(TextGuess {
            code,
            confidence: 1.0,
            minority,
        })
    };
    let info = match stats.script() {
        Script::Greek => return by_script("el"),
        Script::Cyrillic if stats.not_bulgarian() => CYRILLIC.detect(sample),
        Script::Cyrillic => return by_script("bg"),
        _ => DETECTOR.detect(sample),
    }?;
    let code = LANGUAGES
        .iter()
        .find(|l| l.whatlang == Some(info.lang()))?
        .code;
    let code = correct(stats, code);
    Some(TextGuess {
        code,
        confidence: info.confidence(),
        minority,
    })
}

/// Fixes whatlang's pick within a family when the text's letters clearly say otherwise.
fn correct(stats: &Stats, code: &'static str) -> &'static str {
    let Some(sibling) = sibling(code) else {
        return code;
    };
    match letters_vote(stats, code, sibling) {
        Some(c) => c,
        None => code,
    }
}

/// The EU language whatlang most confuses with `code`, told apart by their letters.
fn sibling(code: &str) -> Option<&'static str> {
    Some(match code {
        "cs" => "sk",
        "sk" => "cs",
        "hr" => "sl",
        "sl" => "hr",
        "da" => "sv",
        "sv" => "da",
        "es" => "pt",
        "pt" => "es",
        "lv" => "lt",
        "lt" => "lv",
        "et" => "fi",
        "fi" => "et",
        _ => return None,
    })
}

/// Which of two close languages the distinctive letters of the text favour, if clearly one.
/// Slovene and Finnish have no letters of their own: a long text with none of their sibling's
/// letters (Croatian ć đ, Estonian õ ü) counts for them.
fn letters_vote(stats: &Stats, a: &'static str, b: &'static str) -> Option<&'static str> {
    let (sa, sb) = (stats.marks(a)?, stats.marks(b)?);
    let clear = |x: usize, y: usize| x >= 2 && y * 10 <= x;
    let plain = |code: &str| matches!(code, "sl" | "fi");
    if clear(sa, sb) {
        Some(a)
    } else if clear(sb, sa) {
        Some(b)
    } else if sa + sb == 0 && stats.letters >= 300 && plain(a) != plain(b) {
        Some(if plain(a) { a } else { b })
    } else {
        None
    }
}

/// Pairs of languages whatlang (or a careless declaration) confuses.
fn same_family(a: &str, b: &str) -> bool {
    const FAMILIES: &[&[&str]] = &[
        &["cs", "sk"],
        &["hr", "sl", "sr", "bs"],
        &["da", "sv", "nb", "nn", "no"],
        &["es", "pt", "gl", "ca"],
        &["bg", "mk", "ru", "uk", "be", "sr"],
        &["lv", "lt"],
        &["et", "fi"],
    ];
    FAMILIES.iter().any(|f| f.contains(&a) && f.contains(&b))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Greek,
    Other,
}

fn script_of(code: &str) -> Option<Script> {
    match code {
        "bg" | "ru" | "uk" | "mk" | "be" => Some(Script::Cyrillic),
        "el" => Some(Script::Greek),
        "sr" => None,
        "ar" | "zh" | "ja" | "ko" | "he" | "fa" | "hi" | "ka" | "hy" => Some(Script::Other),
        _ if LANGUAGES.iter().any(|l| l.code == code) => Some(Script::Latin),
        _ => None,
    }
}

/// Letter counts gathered in one pass over the sample.
#[derive(Debug, Default)]
struct Stats {
    letters: usize,
    latin: usize,
    cyrillic: usize,
    greek: usize,
    /// Letters distinctive of one language of a family, by language.
    marks: [usize; MARKS.len()],
}

/// Distinctive letters: (language, letters). A language listed here is judged by them within
/// its family.
const MARKS: [(&str, &str); 14] = [
    ("cs", "ěřů"),
    ("sk", "äôľĺŕ"),
    ("hr", "ćđ"),
    ("sl", ""),
    ("da", "æø"),
    ("sv", "äö"),
    ("es", "ñ¿¡"),
    ("pt", "ãõç"),
    ("lv", "āēīūķļņģ"),
    ("lt", "ąęėįų"),
    ("et", "õü"),
    ("fi", ""),
    ("bg", "ъ"),
    ("ru", "ыэё"),
];

/// Cyrillic letters Bulgarian does not use (Russian, Ukrainian, Belarusian, Macedonian, Serbian).
const NOT_BULGARIAN: &str = "ыэёіїєґўѓќѕђћјљњџ";

/// Every letter of [`MARKS`] and [`NOT_BULGARIAN`], sorted, with one bit per `MARKS` entry that
/// lists it and bit [`NOT_BULGARIAN_BIT`] for the latter: one binary search per non-ASCII letter
/// instead of a substring search of every list.
static MARK_BITS: LazyLock<Vec<(char, u16)>> = LazyLock::new(|| {
    let mut bits: Vec<(char, u16)> = Vec::new();
    let lists = MARKS
        .iter()
        .enumerate()
        .map(|(i, (_, letters))| (i, *letters))
        .chain([(NOT_BULGARIAN_BIT, NOT_BULGARIAN)]);
    for (i, letters) in lists {
        for ch in letters.chars() {
            match bits.iter_mut().find(|(c, _)| *c == ch) {
                Some((_, b)) => *b |= 1 << i,
                None => bits.push((ch, 1 << i)),
            }
        }
    }
    bits.sort_unstable();
    bits
});

/// The bit of [`MARK_BITS`] that stands for [`NOT_BULGARIAN`].
const NOT_BULGARIAN_BIT: usize = MARKS.len();

impl Stats {
    fn of(text: &str) -> Stats {
        let mut s = Stats::default();
        let mut not_bg = 0usize;
        let table = MARK_BITS.as_slice();
        for ch in text.chars() {
            if !ch.is_alphabetic() {
                continue;
            }
            s.letters += 1;
            match ch {
                'a'..='z' | 'A'..='Z' | '\u{c0}'..='\u{24f}' => s.latin += 1,
                '\u{370}'..='\u{3ff}' | '\u{1f00}'..='\u{1fff}' => s.greek += 1,
                '\u{400}'..='\u{4ff}' => s.cyrillic += 1,
                _ => {}
            }
            if ch.is_ascii() {
                continue;
            }
            let lower = ch.to_lowercase().next().unwrap_or(ch);
            let Ok(at) = table.binary_search_by_key(&lower, |&(c, _)| c) else {
                continue;
            };
            let mut bits = table[at].1;
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                match s.marks.get_mut(i) {
                    Some(n) => *n += 1,
                    None => not_bg += 1,
                }
            }
        }
        // Reuse the Russian slot for every non-Bulgarian Cyrillic letter.
        s.marks[MARKS.len() - 1] = not_bg;
        s
    }

    fn script(&self) -> Script {
        let top = self.latin.max(self.cyrillic).max(self.greek);
        if top * 2 < self.letters {
            Script::Other
        } else if top == self.latin {
            Script::Latin
        } else if top == self.cyrillic {
            Script::Cyrillic
        } else {
            Script::Greek
        }
    }

    fn not_bulgarian(&self) -> bool {
        let n = self.marks[MARKS.len() - 1];
        n >= 2 && n * 100 >= self.cyrillic
    }

    fn marks(&self, code: &str) -> Option<usize> {
        let code = match code {
            "uk" | "be" | "mk" | "sr" => "ru",
            "nb" | "nn" | "no" => "da",
            "gl" | "ca" => return None,
            c => c,
        };
        MARKS
            .iter()
            .position(|(c, _)| *c == code)
            .map(|i| self.marks[i])
    }
}

/// Irish or Maltese evidence in the text: the likelier of the two with its weight and its
/// weight per word. whatlang knows neither language.
fn minority(text: &str) -> Option<(&'static str, f64, f64)> {
    let (mut words, mut ga, mut mt) = (0usize, 0.0f64, 0.0f64);
    for word in text
        .split(|c: char| !(c.is_alphanumeric() || matches!(c, '\'' | '’' | '-')))
        .map(|w| w.trim_matches('-'))
        .filter(|w| w.chars().any(char::is_alphabetic))
    {
        words += 1;
        ga += irish(word);
        mt += maltese(word);
    }
    if words == 0 || (ga < 1.0 && mt < 1.0) {
        return None;
    }
    let (code, weight) = if ga >= mt { ("ga", ga) } else { ("mt", mt) };
    Some((code, weight, weight / words as f64))
}

/// How Irish a word is: distinctive function words, initial mutations (`bhf`, `gc`, `tAontas`,
/// `n-áirítear`), and a little for words Irish shares with other languages (`an`, `na`, `ar`).
fn irish(word: &str) -> f64 {
    const WORDS: &[&str] = &[
        "agus",
        "bhí",
        "atá",
        "seo",
        "leis",
        "chun",
        "faoi",
        "freisin",
        "inniu",
        "idir",
        "gur",
        "níos",
        "aontas",
        "aontais",
        "eorpach",
        "eorpaigh",
        "eorpacha",
        "ón",
        "siad",
        "lena",
        "níl",
        "beidh",
        "féin",
        "acu",
        "orthu",
        "maidir",
        "thar",
        "chomh",
        "ní",
        "nó",
        "leo",
        "dúirt",
        "bhfuil",
        "gcomhair",
        "aige",
        "aici",
        "uair",
        "ionas",
        "tá",
        "rialtas",
        "stáit",
        "aontaithe",
        "coimisiún",
        "comhairle",
    ];
    const SHARED: &[&str] = &[
        "an", "na", "ar", "ag", "go", "le", "do", "sa", "is", "den", "don", "sin", "ach", "mar",
    ];
    let lower = word.to_lowercase();
    let mut chars = word.chars();
    let (first, second) = (chars.next(), chars.next());
    if WORDS.contains(&lower.as_str()) {
        return 1.0;
    }
    if SHARED.contains(&lower.as_str()) {
        return 0.35;
    }
    // Prefixed capitals: tAontas, hÉireann, nGaeilge, gCoimisiún, bPoblacht, mBéal, dTuaisceart.
    if let (Some(f), Some(s)) = (first, second)
        && f.is_lowercase()
        && s.is_uppercase()
    {
        let vowel = "AEIOUÁÉÍÓÚ".contains(s);
        let eclipsed = matches!(
            (f, s),
            ('g', 'C') | ('b', 'P') | ('d', 'T') | ('m', 'B') | ('n', 'D' | 'G')
        );
        if (matches!(f, 't' | 'n' | 'h') && vowel) || eclipsed {
            return 1.5;
        }
    }
    if lower.starts_with("bhf") && lower.len() > 4 {
        return 1.0;
    }
    let b = lower.as_bytes();
    if b.len() > 3
        && matches!(&b[..2], b"gc" | b"bp" | b"dt" | b"mb" | b"nd")
        && !lower.starts_with("mbps")
    {
        return 1.0;
    }
    if b.len() > 3
        && matches!(b[0], b'n' | b't' | b'h')
        && b[1] == b'-'
        && lower[2..].starts_with(['a', 'e', 'i', 'o', 'u', 'á', 'é', 'í', 'ó', 'ú'])
    {
        return 1.0;
    }
    0.0
}

/// How Maltese a word is: the letters ċ ġ ħ, the hyphenated article (`il-`, `l-`, `tal-`,
/// `fil-`, assimilated `it-`, `iż-`, `ċ-`) and distinctive function words.
fn maltese(word: &str) -> f64 {
    const WORDS: &[&str] = &[
        "għal",
        "huwa",
        "hija",
        "ta'",
        "ta’",
        "dwar",
        "bejn",
        "minn",
        "fuq",
        "biex",
        "ukoll",
        "wkoll",
        "kif",
        "dawn",
        "kien",
        "kienet",
        "qed",
        "jew",
        "iżda",
        "għandu",
        "għandha",
        "għandhom",
        "tagħhom",
        "tagħna",
        "tiegħu",
        "tagħha",
        "ma'",
        "ma’",
        "lil",
        "lejn",
        "fejn",
        "aktar",
        "unjoni",
        "ewropea",
        "ewropew",
        "kummissjoni",
        "uniti",
        "ħafna",
        "sabiex",
        "flimkien",
        "permezz",
        "skont",
        "li",
        "u",
    ];
    const ARTICLES: &[&str] = &[
        "il", "l", "ir", "is", "it", "ix", "id", "in", "iċ", "iż", "iz", "tal", "tad", "tat",
        "tas", "tar", "tax", "taż", "taċ", "tan", "fil", "fit", "fis", "fid", "fir", "fix", "fl",
        "mill", "mit", "mis", "mid", "mir", "min", "bil", "bit", "bis", "bl", "lill", "lit", "lis",
        "għall", "għat", "għas", "għad", "għar", "għan", "għaċ", "għaż", "sal", "mal", "mat",
        "bħall", "dal", "dil", "tul", "bħal", "ż", "ċ", "x", "d", "t", "s", "r", "n",
    ];
    let lower = word.to_lowercase();
    let mut weight: f64 = 0.0;
    if lower.contains(['ċ', 'ġ', 'ħ']) {
        weight += 1.0;
    }
    if let Some((article, rest)) = lower.split_once('-')
        && ARTICLES.contains(&article)
        && rest.chars().next().is_some_and(char::is_alphabetic)
    {
        weight += 1.0;
    } else if WORDS.contains(&lower.as_str()) {
        // `li` and `u` are frequent but shared (Italian, Slavic): half weight.
        weight += if matches!(lower.as_str(), "li" | "u") {
            0.4
        } else {
            1.0
        };
    }
    weight.min(1.5)
}

/// A language veille can name: its ISO 639-1 code, other names for it, its whatlang id.
struct Language {
    code: &'static str,
    aliases: &'static [&'static str],
    whatlang: Option<Lang>,
}

const fn lang(code: &'static str, aliases: &'static [&'static str], w: Option<Lang>) -> Language {
    Language {
        code,
        aliases,
        whatlang: w,
    }
}

/// The 24 EU languages, then the neighbours a declaration or a Cyrillic text may name.
static LANGUAGES: &[Language] = &[
    lang("bg", &["bul", "bulgarian", "български"], Some(Lang::Bul)),
    lang(
        "cs",
        &["ces", "cze", "czech", "čeština", "cz"],
        Some(Lang::Ces),
    ),
    lang("da", &["dan", "danish", "dansk", "dk"], Some(Lang::Dan)),
    lang("de", &["deu", "ger", "german", "deutsch"], Some(Lang::Deu)),
    lang(
        "el",
        &["ell", "gre", "greek", "ελληνικά", "gr"],
        Some(Lang::Ell),
    ),
    lang("en", &["eng", "english"], Some(Lang::Eng)),
    lang(
        "es",
        &["spa", "spanish", "español", "castellano"],
        Some(Lang::Spa),
    ),
    lang("et", &["est", "estonian", "eesti"], Some(Lang::Est)),
    lang("fi", &["fin", "finnish", "suomi"], Some(Lang::Fin)),
    lang("fr", &["fra", "fre", "french", "français"], Some(Lang::Fra)),
    lang("ga", &["gle", "irish", "gaeilge"], None),
    lang("hr", &["hrv", "croatian", "hrvatski"], Some(Lang::Hrv)),
    lang("hu", &["hun", "hungarian", "magyar"], Some(Lang::Hun)),
    lang("it", &["ita", "italian", "italiano"], Some(Lang::Ita)),
    lang("lt", &["lit", "lithuanian", "lietuvių"], Some(Lang::Lit)),
    lang("lv", &["lav", "latvian", "latviešu"], Some(Lang::Lav)),
    lang("mt", &["mlt", "maltese", "malti"], None),
    lang(
        "nl",
        &["nld", "dut", "dutch", "nederlands"],
        Some(Lang::Nld),
    ),
    lang("pl", &["pol", "polish", "polski"], Some(Lang::Pol)),
    lang("pt", &["por", "portuguese", "português"], Some(Lang::Por)),
    lang(
        "ro",
        &["ron", "rum", "romanian", "română", "mo", "mol"],
        Some(Lang::Ron),
    ),
    lang(
        "sk",
        &["slk", "slo", "slovak", "slovenčina"],
        Some(Lang::Slk),
    ),
    lang(
        "sl",
        &["slv", "slovenian", "slovene", "slovenščina"],
        Some(Lang::Slv),
    ),
    lang("sv", &["swe", "swedish", "svenska"], Some(Lang::Swe)),
    lang("ru", &["rus", "russian", "русский"], Some(Lang::Rus)),
    lang("uk", &["ukr", "ukrainian", "українська"], Some(Lang::Ukr)),
    lang("be", &["bel", "belarusian"], Some(Lang::Bel)),
    lang("mk", &["mkd", "mac", "macedonian"], Some(Lang::Mkd)),
    lang("sr", &["srp", "serbian"], Some(Lang::Srp)),
    lang("bs", &["bos", "bosnian"], None),
    lang("no", &["nor", "norwegian"], None),
    lang("nb", &["nob"], None),
    lang("nn", &["nno"], None),
    lang("is", &["isl", "ice", "icelandic"], None),
    lang("gl", &["glg", "galician"], None),
    lang("ca", &["cat", "catalan"], None),
    lang("tr", &["tur", "turkish"], None),
    lang("sq", &["sqi", "alb", "albanian"], None),
    lang("ar", &["ara", "arabic"], None),
    lang("zh", &["zho", "chi", "chinese"], None),
    lang("ja", &["jpn", "japanese"], None),
    lang("ko", &["kor", "korean"], None),
    lang("he", &["heb", "hebrew", "iw"], None),
    lang("fa", &["fas", "per", "persian"], None),
    lang("hi", &["hin", "hindi"], None),
    lang("ka", &["kat", "geo", "georgian"], None),
    lang("hy", &["hye", "arm", "armenian"], None),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// `Stats::of` as it was written before [`MARK_BITS`]: a substring search of every list.
    fn stats_by_lists(text: &str) -> Stats {
        let mut s = Stats::default();
        let mut not_bg = 0usize;
        for ch in text.chars().filter(|c| c.is_alphabetic()) {
            s.letters += 1;
            match ch {
                'a'..='z' | 'A'..='Z' | '\u{c0}'..='\u{24f}' => s.latin += 1,
                '\u{370}'..='\u{3ff}' | '\u{1f00}'..='\u{1fff}' => s.greek += 1,
                '\u{400}'..='\u{4ff}' => {
                    s.cyrillic += 1;
                    if NOT_BULGARIAN.contains(ch.to_lowercase().next().unwrap_or(ch)) {
                        not_bg += 1;
                    }
                }
                _ => {}
            }
            let lower = ch.to_lowercase().next().unwrap_or(ch);
            for (i, (_, letters)) in MARKS.iter().enumerate() {
                if !ch.is_ascii() && letters.contains(lower) {
                    s.marks[i] += 1;
                }
            }
        }
        s.marks[MARKS.len() - 1] = not_bg;
        s
    }

    #[test]
    fn the_mark_table_counts_every_letter_as_the_letter_lists_do() {
        // Every character up to U+2FFF, upper and lower case, one at a time and all together.
        let all: String = (0..0x3000u32).filter_map(char::from_u32).collect();
        for text in all.chars().map(String::from).chain([all.clone()]) {
            let (fast, slow) = (Stats::of(&text), stats_by_lists(&text));
            assert_eq!(
                (
                    fast.letters,
                    fast.latin,
                    fast.cyrillic,
                    fast.greek,
                    fast.marks
                ),
                (
                    slow.letters,
                    slow.latin,
                    slow.cyrillic,
                    slow.greek,
                    slow.marks
                ),
                "{text:?}"
            );
        }
        // Czech letters in either case; non-Bulgarian Cyrillic counted in the Russian slot.
        assert_eq!(Stats::of("ěřů ĚŘŮ").marks[0], 6);
        assert_eq!(Stats::of("ыэё ЫЭЁ і").marks[MARKS.len() - 1], 7);
    }

    fn code(title: &str, body: &str, hints: &Hints) -> Option<(&'static str, Source)> {
        detect(title, body, hints).map(|d| (d.code, d.source))
    }

    const GERMAN: &str = "Die Europäische Kommission hat heute neue Leitlinien für die Meldung schwerer \
        Sicherheitsvorfälle veröffentlicht. Betreiber wesentlicher Dienste müssen künftig innerhalb \
        von vierundzwanzig Stunden eine erste Warnung an die zuständige Behörde übermitteln und \
        binnen eines Monats einen Abschlussbericht vorlegen.";

    #[test]
    fn declared_tags_are_normalised_to_iso_639_1() {
        for (tag, want) in [
            ("en-GB", Some("en")),
            ("EN", Some("en")),
            ("eng", Some("en")),
            ("el-GR", Some("el")),
            ("el_GR", Some("el")),
            (" fr-be ", Some("fr")),
            ("ger", Some("de")),
            ("Deutsch", Some("de")),
            ("gle", Some("ga")),
            ("mlt", Some("mt")),
            ("pt-BR", Some("pt")),
            ("cz", Some("cs")),
            ("gr", Some("el")),
            ("nb-NO", Some("nb")),
            ("ru", Some("ru")),
            ("", None),
            ("xx", None),
            ("klingon", None),
        ] {
            assert_eq!(normalize(tag), want, "{tag:?}");
        }
    }

    #[test]
    fn urls_name_their_language_by_segment_query_or_file_suffix() {
        for (url, want) in [
            (
                "https://ec.europa.eu/commission/presscorner/detail/it/ip_25_1",
                Some("it"),
            ),
            ("https://www.consilium.europa.eu/EN/press/", Some("en")),
            ("https://example.eu/fr-be/actualites/x", Some("fr")),
            ("https://example.eu/news?id=4&language=pl", Some("pl")),
            ("https://example.eu/news?lang=de_AT", Some("de")),
            ("https://example.eu/docs/report_fr.html", Some("fr")),
            ("https://example.eu/docs/report.sv.htm", Some("sv")),
            ("https://example.eu/docs/report-lv.pdf", Some("lv")),
            // Country or topic, not a language; unknown suffixes; no language at all.
            ("https://gov.example/uk/news/x", None),
            ("https://example.eu/us/cyber", None),
            ("https://example.eu/docs/press-release.html", None),
            ("https://example.eu/news/cyber-dialogue", None),
            ("not a url", None),
        ] {
            assert_eq!(url_language(url), want, "{url}");
        }
    }

    #[test]
    fn a_confident_text_overrules_the_feed_and_agrees_with_the_right_hint() {
        let feed_en = Hints {
            feed: Some("en"),
            ..Hints::default()
        };
        assert_eq!(code("", GERMAN, &feed_en), Some(("de", Source::Text)));
        // A wrong page declaration loses to the text and a right URL.
        let hints = Hints {
            page: Some("en"),
            url: Some("https://example.eu/de/presse/x"),
            ..Hints::default()
        };
        let d = detect("", GERMAN, &hints).unwrap();
        assert_eq!((d.code, d.source), ("de", Source::Text));
        assert!(d.confidence > 0.9, "{d:?}");
    }

    #[test]
    fn short_or_ambiguous_text_defers_to_the_hints_in_order_of_trust() {
        // Acronyms and names: no language to read.
        let title = "EU–US TTC: ENISA and CISA";
        let all = Hints {
            item: Some("fr"),
            page: Some("de"),
            url: Some("https://example.eu/it/x"),
            configured: Some("es"),
            feed: Some("pt"),
        };
        assert_eq!(code(title, "", &all), Some(("fr", Source::Item)));
        let no_item = Hints { item: None, ..all };
        assert_eq!(code(title, "", &no_item), Some(("de", Source::Page)));
        let url_first = Hints {
            page: None,
            ..no_item
        };
        assert_eq!(code(title, "", &url_first), Some(("it", Source::Url)));
        let configured = Hints {
            url: None,
            ..url_first
        };
        assert_eq!(
            code(title, "", &configured),
            Some(("es", Source::Configured))
        );
        let feed = Hints {
            configured: None,
            ..configured
        };
        assert_eq!(code(title, "", &feed), Some(("pt", Source::Feed)));
        // No text and no hint: nothing to say.
        assert_eq!(code("", "", &Hints::default()), None);
        assert_eq!(code("2026 – 14", "", &Hints::default()), None);
    }

    #[test]
    fn a_hint_in_another_script_is_ignored() {
        let hints = Hints {
            feed: Some("en"),
            ..Hints::default()
        };
        let d = code("Споразумение между ЕС и НАТО за киберсигурност", "", &hints);
        assert_eq!(d, Some(("bg", Source::Text)));
        let d = code("Συνεργασία ΕΕ και ΝΑΤΟ στην κυβερνοασφάλεια", "", &hints);
        assert_eq!(d, Some(("el", Source::Text)));
    }

    #[test]
    fn close_languages_are_told_apart_by_their_letters_else_by_the_hint() {
        let czech = "Evropská unie a NATO posílí spolupráci při řešení kybernetických hrozeb. \
            Zástupci obou organizací se dohodli na pravidelném sdílení informací a na společném \
            cvičení v příštím roce.";
        let slovak = "Európska únia a NATO posilnia spoluprácu v oblasti kybernetickej bezpečnosti. \
            Zástupcovia oboch organizácií sa dohodli, že si budú pravidelne vymieňať informácie, \
            aby ľudia v oboch inštitúciách mohli účinnejším spôsobom a ľahšie čeliť útokom.";
        let wrong = |code: &'static str| Hints {
            feed: Some(code),
            ..Hints::default()
        };
        assert_eq!(code("", czech, &wrong("sk")).unwrap().0, "cs");
        assert_eq!(code("", slovak, &wrong("cs")).unwrap().0, "sk");
        // Norwegian declared, Danish-looking text: no letter decides, the declaration does.
        let danish = "Regeringen har i dag fremlagt en ny strategi for cybersikkerhed, som skal \
            styrke samarbejdet mellem myndighederne og de private virksomheder i hele landet.";
        assert_eq!(code("", danish, &wrong("nb")), Some(("nb", Source::Feed)));
        // Russian text: not taken for Bulgarian.
        let russian = "Европейский союз и НАТО договорились расширить сотрудничество в области \
            кибербезопасности. Представители обеих организаций отметили, что угрозы стали \
            сложнее и что ответы должны быть общими.";
        assert_eq!(code("", russian, &Hints::default()).unwrap().0, "ru");
        let bulgarian = "Европейският съюз и НАТО се договориха да разширят сътрудничеството в \
            областта на киберсигурността и да обменят информация за заплахите.";
        assert_eq!(code("", bulgarian, &wrong("ru")).unwrap().0, "bg");
    }

    #[test]
    fn irish_and_maltese_are_read_from_strong_evidence_only() {
        let irish = "Tháinig an tAontas Eorpach agus ECAT le chéile inniu chun plé a dhéanamh ar \
            chibearshlándáil agus ar na bagairtí is déanaí.";
        let maltese = "L-Unjoni Ewropea u n-NATO qablu li jsaħħu l-kooperazzjoni tagħhom dwar \
            iċ-ċibersigurtà u l-ġlieda kontra t-theddid ibridu.";
        let none = Hints::default();
        assert_eq!(code("", irish, &none), Some(("ga", Source::Text)));
        assert_eq!(code("", maltese, &none), Some(("mt", Source::Text)));
        let feed_en = Hints {
            feed: Some("en"),
            ..Hints::default()
        };
        assert_eq!(code("", irish, &feed_en).unwrap().0, "ga");
        assert_eq!(code("", maltese, &feed_en).unwrap().0, "mt");
        // English with Maltese and Irish names and a quoted phrase stays English.
        let english = "Commissioner Ġużeppi Ħabib met Seán Ó Briain in Valletta on Monday to \
            discuss the new cyber crisis blueprint. The meeting, held at the Auberge de Castille, \
            also covered the Aontas Eorpach translation programme and the roll-out of the \
            European Cybersecurity Alert System across the member states.";
        assert_eq!(code("", english, &none), Some(("en", Source::Text)));
        let feed_mt = Hints {
            feed: Some("mt"),
            ..Hints::default()
        };
        assert_eq!(code("", english, &feed_mt).unwrap().0, "en");
        // A short Maltese title with a little evidence keeps a Maltese declaration.
        assert_eq!(
            code("Il-Kunsill jadotta r-regoli", "", &feed_mt),
            Some(("mt", Source::Feed))
        );
    }

    #[test]
    fn a_declared_language_its_function_words_confirm_needs_no_statistical_reading() {
        let declared = |code: &'static str| Hints {
            configured: Some(code),
            ..Hints::default()
        };
        let quick = shortcut("", GERMAN, &declared("de")).unwrap();
        assert_eq!((quick.code, quick.source), ("de", Source::Text));
        assert!(quick.confidence > 0.9, "{quick:?}");
        // Declared otherwise, the German text is read in full (and found German).
        assert_eq!(shortcut("", GERMAN, &declared("nl")), None);
        assert_eq!(
            code("", GERMAN, &declared("nl")),
            Some(("de", Source::Text))
        );
        // A later declaration the words confirm is taken, as the full reading would.
        let both = Hints {
            item: Some("nl"),
            feed: Some("de"),
            ..Hints::default()
        };
        assert_eq!(shortcut("", GERMAN, &both).map(|d| d.code), Some("de"));
        assert_eq!(
            detect_without_shortcut("", GERMAN, &both).map(|d| d.code),
            Some("de")
        );
        // Too few words, or Irish and Maltese: the full reading decides.
        assert_eq!(
            shortcut("Die Kommission und der Rat", "", &declared("de")),
            None
        );
        let maltese = "L-Unjoni Ewropea u n-NATO qablu li jsaħħu l-kooperazzjoni tagħhom dwar \
            iċ-ċibersigurtà u l-ġlieda kontra t-theddid ibridu, u li jaqsmu aktar informazzjoni \
            dwar it-theddid fil-qasam.";
        assert_eq!(shortcut("", maltese, &declared("mt")), None);
    }

    #[test]
    fn only_the_start_of_a_long_body_is_read() {
        let body = format!(
            "{GERMAN} {}",
            "The rest is English boilerplate. ".repeat(500)
        );
        assert_eq!(code("", &body, &Hints::default()).unwrap().0, "de");
        let s = sample("Titel", &"é".repeat(5000), SAMPLE_BYTES);
        assert!(s.len() <= SAMPLE_BYTES && s.starts_with("Titel"));
    }
}

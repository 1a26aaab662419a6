//! Common function words of the Latin-script EU languages, counted over a text: the cheap
//! evidence that confirms a declared language without a full statistical reading (see
//! `language::shortcut`).
//!
//! The lists are the most frequent short words of each language (articles, conjunctions,
//! prepositions, auxiliaries) from general knowledge of the languages, not fitted on any corpus.
//! A word in several lists counts for each of them; only the margin of one language over all the
//! others decides anything.

use std::collections::HashMap;
use std::sync::LazyLock;

use foldhash::fast::FixedState;

/// (language, its common function words, lowercase).
const LISTS: [(&str, &[&str]); 22] = [
    (
        "cs",
        &[
            "a", "v", "ve", "na", "se", "je", "že", "z", "s", "do", "o", "k", "pro", "i", "jako",
            "ale", "od", "po", "jsou", "byl", "byla", "bylo", "který", "která", "které", "také",
            "při", "podle", "až", "jejich", "již", "či", "nebo", "jak", "tak",
        ],
    ),
    (
        "da",
        &[
            "og", "i", "at", "det", "en", "den", "til", "er", "som", "på", "de", "med", "af",
            "for", "har", "ikke", "der", "var", "et", "fra", "vil", "om", "blev", "deres", "efter",
            "også", "skal", "kan", "mellem", "være", "eller", "sig", "bliver",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "und", "in", "den", "von", "zu", "mit", "ist", "des", "sich",
            "auf", "für", "nicht", "im", "dem", "eine", "ein", "als", "auch", "es", "an", "werden",
            "aus", "hat", "dass", "sie", "nach", "bei", "um", "am", "sind", "wird", "zur", "zum",
            "über", "einer", "einen", "haben", "wurde", "oder",
        ],
    ),
    (
        "en",
        &[
            "the", "of", "and", "to", "in", "is", "that", "for", "on", "with", "as", "by", "it",
            "was", "are", "be", "this", "from", "at", "which", "has", "have", "will", "its", "an",
            "their", "were", "been", "not", "or", "would", "also", "between",
        ],
    ),
    (
        "es",
        &[
            "el", "la", "los", "las", "de", "del", "y", "en", "que", "a", "un", "una", "por",
            "con", "para", "es", "se", "al", "su", "sus", "lo", "como", "más", "ha", "han", "fue",
            "este", "esta", "entre", "sobre", "también", "o", "ser",
        ],
    ),
    (
        "et",
        &[
            "ja", "on", "ei", "et", "see", "oli", "mis", "kes", "ka", "aga", "kui", "või", "ning",
            "nii", "seda", "mida", "selle", "oma", "kõik", "ta", "nad", "veel", "pärast", "vahel",
            "ole", "juba", "mille", "samuti", "poolt", "tuleb", "kuid",
        ],
    ),
    (
        "fi",
        &[
            "ja",
            "on",
            "ei",
            "että",
            "se",
            "oli",
            "ovat",
            "joka",
            "mukaan",
            "myös",
            "kanssa",
            "sekä",
            "tai",
            "hän",
            "kun",
            "mutta",
            "jo",
            "ole",
            "voi",
            "sen",
            "niin",
            "jotka",
            "tämä",
            "välillä",
            "kuin",
            "jonka",
            "olla",
            "tässä",
        ],
    ),
    (
        "fr",
        &[
            "le", "la", "les", "de", "des", "et", "à", "en", "du", "un", "une", "est", "pour",
            "que", "qui", "dans", "par", "sur", "au", "aux", "pas", "avec", "ce", "il", "sont",
            "ont", "été", "cette", "ses", "leur", "entre", "plus", "ou", "l", "d",
        ],
    ),
    (
        "ga",
        &[
            "agus", "an", "na", "ar", "is", "go", "le", "do", "i", "ag", "sa", "a", "ach", "mar",
            "atá", "bhí", "leis", "chun", "faoi", "níos", "seo", "ón", "idir", "freisin", "ní",
            "nó", "tá", "beidh", "don", "den",
        ],
    ),
    (
        "hr",
        &[
            "i", "u", "je", "na", "se", "da", "za", "od", "s", "su", "a", "o", "iz", "ne", "koji",
            "koja", "koje", "te", "kao", "do", "bi", "će", "što", "ili", "također", "između",
            "prema", "nakon", "sa", "biti", "bila", "bio",
        ],
    ),
    (
        "hu",
        &[
            "a", "az", "és", "hogy", "nem", "is", "egy", "meg", "van", "volt", "csak", "már",
            "mint", "ez", "azt", "vagy", "el", "kell", "között", "után", "szerint", "pedig",
            "amely", "valamint", "még", "ki", "fel", "amelyek", "ezt", "lesz",
        ],
    ),
    (
        "it",
        &[
            "il", "lo", "la", "i", "gli", "le", "di", "del", "della", "dei", "delle", "e", "è",
            "in", "che", "un", "una", "per", "con", "da", "non", "al", "alla", "sono", "nel",
            "nella", "si", "ha", "anche", "sul", "tra", "l", "dell", "degli",
        ],
    ),
    (
        "lt",
        &[
            "ir", "kad", "yra", "į", "su", "iš", "bet", "tai", "o", "kaip", "jo", "ar", "per",
            "dėl", "buvo", "nuo", "už", "taip", "pat", "apie", "tarp", "kurie", "kuris", "kuri",
            "po", "bei", "jų", "savo", "ne", "bus", "šios",
        ],
    ),
    (
        "lv",
        &[
            "un", "ir", "ka", "ar", "par", "no", "uz", "kas", "bet", "arī", "to", "tā", "kā",
            "lai", "pēc", "kuru", "starp", "vai", "tas", "bija", "savu", "pie", "ne", "jau", "šo",
            "tiek", "kuri", "kura", "tika", "būs",
        ],
    ),
    (
        "mt",
        &[
            "il", "li", "u", "ta", "fil", "għal", "huwa", "hija", "dwar", "bejn", "minn", "fuq",
            "biex", "ukoll", "kif", "dawn", "kien", "kienet", "qed", "jew", "iżda", "lil", "fejn",
            "aktar", "ma", "tal", "mill", "l", "sabiex", "skont",
        ],
    ),
    (
        "nl",
        &[
            "de", "het", "een", "en", "van", "in", "is", "dat", "op", "te", "met", "voor", "zijn",
            "niet", "aan", "door", "worden", "wordt", "die", "ook", "bij", "om", "naar", "heeft",
            "uit", "over", "als", "hun", "deze", "tussen", "werd",
        ],
    ),
    (
        "pl",
        &[
            "i", "w", "na", "z", "się", "do", "nie", "że", "to", "jest", "o", "a", "od", "przez",
            "dla", "po", "jak", "ale", "za", "oraz", "są", "jego", "ich", "który", "która",
            "które", "także", "między", "tym", "we", "ze", "był", "została",
        ],
    ),
    (
        "pt",
        &[
            "o", "a", "os", "as", "de", "do", "da", "dos", "das", "e", "em", "no", "na", "nos",
            "nas", "que", "um", "uma", "para", "com", "por", "é", "ao", "se", "foi", "pela",
            "pelo", "são", "também", "entre", "sobre", "mais", "à",
        ],
    ),
    (
        "ro",
        &[
            "și", "şi", "de", "la", "în", "a", "cu", "pe", "din", "care", "nu", "o", "un", "să",
            "se", "mai", "au", "ca", "este", "al", "pentru", "sunt", "fost", "dintre", "sau",
            "lui", "acest", "această", "între", "după", "prin", "fi",
        ],
    ),
    (
        "sk",
        &[
            "a", "v", "vo", "na", "sa", "je", "že", "z", "s", "do", "o", "k", "pre", "i", "ako",
            "ale", "od", "po", "sú", "bol", "bola", "bolo", "ktorý", "ktorá", "ktoré", "tiež",
            "pri", "podľa", "až", "ich", "už", "či", "alebo", "tak",
        ],
    ),
    (
        "sl",
        &[
            "in", "je", "v", "na", "se", "da", "za", "od", "s", "so", "z", "pa", "ki", "tudi",
            "ne", "kot", "po", "do", "bi", "bo", "ali", "med", "pri", "iz", "še", "ter", "lahko",
            "sta", "bila", "bil", "kar",
        ],
    ),
    (
        "sv",
        &[
            "och", "i", "att", "det", "som", "en", "på", "är", "av", "för", "med", "till", "den",
            "har", "de", "inte", "om", "ett", "var", "från", "vid", "kan", "ska", "också", "efter",
            "deras", "mellan", "eller", "sig", "blir", "enligt",
        ],
    ),
];

/// The languages of [`LISTS`], in order: bit `i` of a word's mask is `LANGUAGES[i]`.
pub const LANGUAGES: [&str; LISTS.len()] = {
    let mut out = [""; LISTS.len()];
    let mut i = 0;
    while i < LISTS.len() {
        out[i] = LISTS[i].0;
        i += 1;
    }
    out
};

/// Every listed word with the languages it belongs to, as a bit mask. Hashed with `foldhash`'s
/// fixed seed: every word of every sample is looked up, and the keys are fixed (a text cannot add
/// any), so SipHash's defence against chosen keys buys nothing here.
static MASKS: LazyLock<HashMap<&'static str, u32, FixedState>> = LazyLock::new(|| {
    let mut masks = HashMap::with_hasher(FixedState::default());
    for (i, (_, words)) in LISTS.iter().enumerate() {
        for word in *words {
            *masks.entry(*word).or_insert(0) |= 1 << i;
        }
    }
    masks
});

/// Function words of `text` per language of [`LANGUAGES`], and the number of words read.
/// Words are runs of letters (so `l'Union` is `l` and `union`, `il-Kunsill` is `il` and
/// `kunsill`).
pub fn count(text: &str) -> ([u16; LISTS.len()], usize) {
    let mut hits = [0u16; LISTS.len()];
    let mut words = 0usize;
    let mut lower = String::new();
    for word in text.split(|c: char| !c.is_alphabetic()) {
        if word.is_empty() {
            continue;
        }
        words += 1;
        // Function words are short: a long word is counted, not looked up.
        if word.len() > 12 {
            continue;
        }
        let key = if word.bytes().all(|b| b.is_ascii_lowercase()) {
            word
        } else {
            lower.clear();
            lower.extend(word.chars().flat_map(char::to_lowercase));
            lower.as_str()
        };
        if let Some(&mask) = MASKS.get(key) {
            for (i, hit) in hits.iter_mut().enumerate() {
                *hit += ((mask >> i) & 1) as u16;
            }
        }
    }
    (hits, words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_is_lowercase_and_every_language_distinct() {
        for (code, words) in LISTS {
            for w in words {
                assert_eq!(w.to_lowercase(), *w, "{code}: {w}");
                assert!(w.len() <= 12, "{code}: {w}");
            }
            assert_eq!(LANGUAGES.iter().filter(|c| **c == code).count(), 1);
            let mut sorted = words.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), words.len(), "{code}: a word listed twice");
        }
    }

    #[test]
    fn words_are_counted_per_language_case_blind() {
        let (hits, words) = count("Die Kommission und der Rat: DIE Leitlinien für l'Union");
        let at = |code: &str| hits[LANGUAGES.iter().position(|c| *c == code).unwrap()];
        assert_eq!(words, 10);
        // die, und, der, die, für (de); l (fr, it, mt).
        assert_eq!(at("de"), 5);
        assert_eq!(at("fr"), 1);
        assert_eq!(at("en"), 0);
    }
}

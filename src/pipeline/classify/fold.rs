//! Text normalisation for matching: lower-case, strip diacritics and unify punctuation, keeping
//! a map from every folded byte back to the original text so evidence can quote the original.
//!
//! `Ŝtáty`, `STATY` and `staty` fold alike; Greek tonos and final sigma, Polish `ł`, German `ß`
//! (→ `ss`), Maltese `ħ`/`ċ`/`ġ`/`ż` and Croatian `đ` fold to plain letters. Typographic
//! apostrophes fold to `'`, dashes to `-`, unusual spaces to ` `.

use std::sync::OnceLock;

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Folded text and where each of its bytes came from.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    pub text: String,
    /// `map[i]` = byte offset in the original of the char that produced folded byte `i`;
    /// one extra entry at the end holds the original's length.
    pub map: Vec<u32>,
    /// Folded byte offsets where words (runs of letters and digits) start.
    pub words: Vec<u32>,
}

impl Folded {
    /// The byte range of `original` (the text this was folded from) that the folded range
    /// `start..end` came from, widened to whole chars.
    pub fn original_range(&self, original: &str, start: usize, end: usize) -> (usize, usize) {
        let s = self.map[start] as usize;
        if end <= start {
            return (s, s);
        }
        let last = self.map[end - 1] as usize;
        let width = original[last..].chars().next().map_or(0, char::len_utf8);
        (s, last + width)
    }
}

/// Chars below this are folded through a precomputed table (Latin, Greek, Cyrillic).
const TABLE_END: u32 = 0x0530;

/// The General Punctuation block (typographic quotes, dashes, spaces) and the currency signs
/// after it are folded through a second table.
const PUNCTUATION_START: usize = 0x2000;
const PUNCTUATION_END: usize = 0x20D0;

/// Up to three folded chars per original char (`ß` → `ss`), zero-padded.
type Entry = [char; 3];

fn table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..TABLE_END)
            .map(|u| entry(char::from_u32(u).unwrap_or('\0')))
            .collect()
    })
}

fn punctuation_table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (PUNCTUATION_START..PUNCTUATION_END)
            .map(|u| entry(char::from_u32(u as u32).unwrap_or('\0')))
            .collect()
    })
}

/// `c` folded, as a table entry.
fn entry(c: char) -> Entry {
    let mut e = ['\0'; 3];
    for (i, f) in fold_char_slow(c).into_iter().take(3).enumerate() {
        e[i] = f;
    }
    e
}

/// Folds one char the slow way: special cases, then lower-case and canonical decomposition
/// without combining marks.
fn fold_char_slow(c: char) -> Vec<char> {
    match c {
        'ß' | 'ẞ' => return vec!['s', 's'],
        'ł' | 'Ł' => return vec!['l'],
        'đ' | 'Đ' => return vec!['d'],
        'ħ' | 'Ħ' => return vec!['h'],
        'ø' | 'Ø' => return vec!['o'],
        'æ' | 'Æ' => return vec!['a', 'e'],
        'œ' | 'Œ' => return vec!['o', 'e'],
        'ı' => return vec!['i'],
        'ς' => return vec!['σ'],
        'þ' | 'Þ' => return vec!['t', 'h'],
        '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' | '`' | '´' => {
            return vec!['\''];
        }
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{00AD}' => return vec!['-'],
        '\u{00A0}' | '\u{2000}'..='\u{200B}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
            return vec![' '];
        }
        _ => {}
    }
    let mut out = Vec::with_capacity(2);
    for l in c.to_lowercase() {
        decompose_canonical(l, |d| {
            if !is_combining_mark(d) {
                out.push(d)
            }
        });
    }
    if out.is_empty() {
        // A lone combining mark folds to nothing.
        return out;
    }
    out
}

/// Folds `text`.
pub fn fold(text: &str) -> Folded {
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(text.len() + 8);
    let mut map: Vec<u32> = Vec::with_capacity(text.len() + 9);
    let mut words: Vec<u32> = Vec::with_capacity(text.len() / 5);
    let mut in_word = false;
    let table = table();
    let punctuation = punctuation_table();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let at = i as u32;
        if b.is_ascii() {
            i += 1;
            let w = b.is_ascii_alphanumeric();
            if w && !in_word {
                words.push(out.len() as u32);
            }
            in_word = w;
            if b.is_ascii_whitespace() {
                // Runs of spaces and line breaks fold to one space, so multi-word terms match
                // across them.
                if out.last() != Some(&b' ') {
                    out.push(b' ');
                    map.push(at);
                }
                continue;
            }
            out.push(b.to_ascii_lowercase());
            map.push(at);
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
        let mut push = |f: char| {
            if f == ' ' && out.last() == Some(&b' ') {
                return;
            }
            let w = is_word(f);
            if w && !in_word {
                words.push(out.len() as u32);
            }
            in_word = w;
            let mut buf = [0u8; 4];
            out.extend_from_slice(f.encode_utf8(&mut buf).as_bytes());
            for _ in 0..f.len_utf8() {
                map.push(at);
            }
        };
        let u = c as usize;
        let entry = if u < TABLE_END as usize {
            Some(&table[u])
        } else {
            u.checked_sub(PUNCTUATION_START)
                .and_then(|k| punctuation.get(k))
        };
        match entry {
            Some(entry) => {
                for &f in entry.iter().take_while(|f| **f != '\0') {
                    push(f);
                }
            }
            None => {
                for f in fold_char_slow(c) {
                    push(f);
                }
            }
        }
    }
    map.push(text.len() as u32);
    Folded {
        // Only whole chars were written.
        text: String::from_utf8(out).unwrap_or_default(),
        map,
        words,
    }
}

/// Folds a short string (a rule term) without keeping the map.
pub fn fold_str(text: &str) -> String {
    fold(text).text
}

/// Whether `c` is part of a word (letters and digits of any script).
pub fn is_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    let u = c as usize;
    if u < WORD_TABLE_END {
        // Latin, Greek, Cyrillic and the scripts up to Samaritan, from a table.
        return word_table()[u / 64] >> (u % 64) & 1 == 1;
    }
    c.is_alphanumeric()
}

/// Chars below this are looked up in [`word_table`].
const WORD_TABLE_END: usize = 0x0800;

/// Bit `u` set when char `u` is alphanumeric, for `u` below [`WORD_TABLE_END`].
fn word_table() -> &'static [u64; WORD_TABLE_END / 64] {
    static TABLE: OnceLock<[u64; WORD_TABLE_END / 64]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut bits = [0u64; WORD_TABLE_END / 64];
        for u in 0..WORD_TABLE_END {
            if char::from_u32(u as u32).is_some_and(char::is_alphanumeric) {
                bits[u / 64] |= 1 << (u % 64);
            }
        }
        bits
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_diacritics_of_eu_languages() {
        assert_eq!(fold_str("Kyberbezpečnost"), "kyberbezpecnost");
        assert_eq!(fold_str("ΚΥΒΕΡΝΟΑΣΦΆΛΕΙΑ ΝΑΤΟ"), "κυβερνοασφαλεια νατο");
        assert_eq!(fold_str("Ηνωμένες Πολιτείες"), "ηνωμενεσ πολιτειεσ");
        assert_eq!(fold_str("Współpraca Łączność"), "wspolpraca lacznosc");
        assert_eq!(fold_str("Straße"), "strasse");
        assert_eq!(
            fold_str("Ċibersigurtà Ħidma Ġenerali Żmien"),
            "cibersigurta hidma generali zmien"
        );
        assert_eq!(fold_str("cibearshlándáil"), "cibearshlandail");
        assert_eq!(
            fold_str("Európai Unió, Ühendriigid, Sąjunga"),
            "europai unio, uhendriigid, sajunga"
        );
        assert_eq!(fold_str("Съединените щати"), "съединените щати");
        assert_eq!(fold_str("dell’UE – NATO"), "dell'ue - nato");
        assert_eq!(fold_str("European\n  Union\u{a0} x"), "european union x");
    }

    #[test]
    fn the_tables_fold_as_the_slow_way() {
        for u in (0x80..TABLE_END as usize).chain(PUNCTUATION_START..PUNCTUATION_END) {
            if let Some(c) = char::from_u32(u as u32) {
                let slow: String = fold_char_slow(c).into_iter().collect();
                // What a char folds to between two letters (a space run is kept as one).
                let expected = format!("a{slow}b");
                assert_eq!(fold_str(&format!("a{c}b")), expected, "U+{u:04X}");
            }
        }
    }

    #[test]
    fn word_chars_match_unicode_alphanumerics() {
        for u in 0..0x3000u32 {
            if let Some(c) = char::from_u32(u) {
                assert_eq!(is_word(c), c.is_alphanumeric(), "U+{u:04X}");
            }
        }
    }

    /// The fold, one char at a time, the plain way.
    fn fold_one_by_one(text: &str) -> (String, Vec<u32>, Vec<u32>) {
        let (mut out, mut map, mut words) = (String::new(), Vec::new(), Vec::new());
        for (i, c) in text.char_indices() {
            let folded = match c {
                c if c.is_ascii_whitespace() => vec![' '],
                c if c.is_ascii() => vec![c.to_ascii_lowercase()],
                c => fold_char_slow(c),
            };
            for f in folded {
                if f == ' ' && out.ends_with(' ') {
                    continue;
                }
                if is_word(f) && !out.chars().next_back().is_some_and(is_word) {
                    words.push(out.len() as u32);
                }
                out.push(f);
                map.extend(std::iter::repeat_n(i as u32, f.len_utf8()));
            }
        }
        map.push(text.len() as u32);
        (out, map, words)
    }

    #[test]
    fn folds_as_one_char_at_a_time_even_where_the_text_grows() {
        // Hangul syllables fold to three jamo (3 bytes → 9): the buffers must grow as they go.
        let korean: String = (0xAC00..0xAC00 + 3000).filter_map(char::from_u32).collect();
        let mixed = "Straße İstanbul ﬃ ΐ \u{1F82} a\u{a0}\u{2003} b  \n\t c’s EU–US «x» ";
        for text in [
            korean.clone(),
            format!("{mixed}{korean}{mixed}"),
            mixed.repeat(200),
            format!("{}{korean}", "ascii only, then ".repeat(300)),
            String::new(),
        ] {
            let f = fold(&text);
            let (out, map, words) = fold_one_by_one(&text);
            assert_eq!(f.text, out);
            assert_eq!(f.map, map);
            assert_eq!(f.words, words);
        }
    }

    #[test]
    fn map_points_back_to_the_original() {
        let text = "Straße Σύνοδος ŁÓDŹ";
        let f = fold(text);
        assert_eq!(f.map.len(), f.text.len() + 1);
        let pos = f.text.find("συνοδοσ").unwrap();
        let (s, e) = f.original_range(text, pos, pos + "συνοδοσ".len());
        assert_eq!(&text[s..e], "Σύνοδος");
        let pos = f.text.find("lodz").unwrap();
        let (s, e) = f.original_range(text, pos, pos + 4);
        assert_eq!(&text[s..e], "ŁÓDŹ");
        let pos = f.text.find("ss").unwrap();
        let (s, e) = f.original_range(text, pos, pos + 2);
        assert_eq!(&text[s..e], "ß");
    }
}

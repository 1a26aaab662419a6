//! Text normalisation for matching: lower-case, strip diacritics and unify punctuation, keeping
//! where every folded byte came from so evidence can quote the original.
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
    /// Folded byte offsets where words (runs of letters and digits) start.
    pub words: Vec<u32>,
    /// Where the folded text came from, run by run, in order (the first at folded byte 0): most
    /// chars fold to as many bytes as they had (ASCII, most Greek and Cyrillic), so one anchor
    /// serves a whole run of them rather than one offset per byte.
    anchors: Vec<Anchor>,
    /// `blocks[k]`: the anchor that covers folded byte `k * BLOCK`, where the search starts.
    blocks: Vec<u32>,
    /// The original's length in bytes.
    original_len: usize,
}

/// Folded bytes per entry of [`Folded::blocks`].
const BLOCK: usize = 64;

/// From folded byte `folded` on, folded byte `folded + k` came from the char that holds original
/// byte `original + k` (a run of chars each folded to as many bytes), or, when `fixed`, every
/// byte up to the next anchor came from the one char at `original` (a char folded to a different
/// length, as `ß` → `ss` or `é` → `e`).
#[derive(Debug, Clone, Copy)]
struct Anchor {
    folded: u32,
    original: u32,
    fixed: bool,
}

impl Folded {
    /// The byte offset in `original` (the text this was folded from) of the char that produced
    /// folded byte `i`; the original's length for `i` at or past the end.
    pub fn origin(&self, original: &str, i: usize) -> usize {
        if i >= self.text.len() {
            return self.original_len;
        }
        let mut k = self.blocks.get(i / BLOCK).map_or(0, |&k| k as usize);
        while self
            .anchors
            .get(k + 1)
            .is_some_and(|a| a.folded as usize <= i)
        {
            k += 1;
        }
        let Some(a) = self.anchors.get(k) else {
            return 0;
        };
        let mut o = a.original as usize;
        if !a.fixed {
            o += i - a.folded as usize;
        }
        // Within a char of the run: back to its first byte.
        while o > 0 && !original.is_char_boundary(o) {
            o -= 1;
        }
        o
    }

    /// The byte range of `original` (the text this was folded from) that the folded range
    /// `start..end` came from, widened to whole chars.
    pub fn original_range(&self, original: &str, start: usize, end: usize) -> (usize, usize) {
        let s = self.origin(original, start);
        if end <= start {
            return (s, s);
        }
        (s, self.original_end(original, end))
    }

    /// Where in `original` the folded range ending at `end` (after its start) ends: after the
    /// char that produced folded byte `end - 1`.
    pub fn original_end(&self, original: &str, end: usize) -> usize {
        let last = self.origin(original, end - 1);
        last + original[last..].chars().next().map_or(0, char::len_utf8)
    }
}

/// Chars below this are folded through a precomputed table (Latin, Greek, Cyrillic).
const TABLE_END: u32 = 0x0530;

/// The General Punctuation block (typographic quotes, dashes, spaces) and the currency signs
/// after it are folded through a second table.
const PUNCTUATION_START: usize = 0x2000;
const PUNCTUATION_END: usize = 0x20D0;

/// What a char of the tables folds to, ready to copy: its UTF-8 bytes and what they are.
#[derive(Debug, Clone, Copy)]
struct Entry {
    bytes: [u8; 12],
    len: u8,
    kind: Kind,
}

/// The kind of an [`Entry`]'s folded chars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Nothing (a lone combining mark).
    Empty,
    /// Letters and digits only.
    Word,
    /// One space.
    Space,
    /// Neither letters, digits nor spaces.
    Other,
    /// Anything else: folded char by char.
    Mixed,
}

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
    let folded = fold_char_slow(c);
    let mut e = Entry {
        bytes: [0; 12],
        len: 0,
        kind: Kind::Mixed,
    };
    let s: String = folded.iter().collect();
    if s.len() > e.bytes.len() {
        return e;
    }
    e.bytes[..s.len()].copy_from_slice(s.as_bytes());
    e.len = s.len() as u8;
    e.kind = if folded.is_empty() {
        Kind::Empty
    } else if folded.iter().all(|&f| is_word(f)) {
        Kind::Word
    } else if s == " " {
        Kind::Space
    } else if folded.iter().all(|&f| !is_word(f) && f != ' ') {
        Kind::Other
    } else {
        Kind::Mixed
    };
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
    out
}

/// Every ASCII byte folded (lower case, white space as a space) and what it is for folding:
/// [`WORD`], [`SPACE`] or neither.
const ASCII: [(u8, u8); 128] = {
    let mut t = [(0u8, 0u8); 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphanumeric() {
            (c.to_ascii_lowercase(), WORD)
        } else if c.is_ascii_whitespace() {
            (b' ', SPACE)
        } else {
            (c, 0)
        };
        b += 1;
    }
    t
};
const WORD: u8 = 1;
const SPACE: u8 = 2;

/// The folded text as it is written: its bytes, word starts and anchors.
struct Writer {
    out: Vec<u8>,
    words: Vec<u32>,
    anchors: Vec<Anchor>,
    in_word: bool,
    /// Whether the last byte written is a space.
    space: bool,
    /// Whether a char folding to as many bytes as it had may continue the last anchor's run.
    linear: bool,
}

impl Writer {
    /// Notes that the `len` bytes written from folded byte `folded` on came from the char at
    /// original byte `at`, `width` bytes long.
    #[inline]
    fn anchor(&mut self, folded: usize, at: usize, len: usize, width: usize) {
        if len == width {
            if !self.linear {
                self.anchors.push(Anchor {
                    folded: folded as u32,
                    original: at as u32,
                    fixed: false,
                });
                self.linear = true;
            }
        } else {
            if len > 0 {
                self.anchors.push(Anchor {
                    folded: folded as u32,
                    original: at as u32,
                    fixed: true,
                });
            }
            self.linear = false;
        }
    }

    /// Writes the folded chars of the char at original byte `at` (`width` bytes), one by one.
    fn chars(&mut self, at: usize, width: usize, folded: &[char]) {
        let start = self.out.len();
        for &f in folded {
            if f == ' ' && self.space {
                continue;
            }
            let w = is_word(f);
            if w && !self.in_word {
                self.words.push(self.out.len() as u32);
            }
            self.in_word = w;
            self.space = f == ' ';
            let mut b = [0u8; 4];
            self.out.extend_from_slice(f.encode_utf8(&mut b).as_bytes());
        }
        self.anchor(start, at, self.out.len() - start, width);
    }

    /// Writes the table entry `e` of `c`, the char at original byte `at` (`width` bytes).
    #[inline]
    fn entry(&mut self, c: char, at: usize, width: usize, e: &Entry) {
        let start = self.out.len();
        match e.kind {
            Kind::Word => {
                if !self.in_word {
                    self.words.push(start as u32);
                }
                self.in_word = true;
                self.space = false;
            }
            Kind::Other => {
                self.in_word = false;
                self.space = false;
            }
            Kind::Space => {
                self.in_word = false;
                if self.space {
                    self.linear = false;
                    return;
                }
                self.space = true;
            }
            Kind::Empty => {}
            Kind::Mixed => return self.chars(at, width, &fold_char_slow(c)),
        }
        let len = e.len as usize;
        // A copy of fixed size (no call to copy a few bytes), cut back to the entry's length.
        self.out.extend_from_slice(&e.bytes);
        self.out.truncate(start + len);
        self.anchor(start, at, len, width);
    }

    /// Writes the run of ASCII bytes from `bytes[i]` on; returns where it ends. The bytes are
    /// classified one by one (the rest of a word in a tight loop) and copied a stretch at a time
    /// (a stretch ends where a run of white space folds to one space).
    fn ascii(&mut self, bytes: &[u8], mut i: usize) -> usize {
        let mut copied = i;
        let (mut in_word, mut space) = (self.in_word, self.space);
        while let Some(&b) = bytes.get(i).filter(|b| b.is_ascii()) {
            match ASCII[b as usize].1 {
                WORD => {
                    if !in_word {
                        self.words.push((self.out.len() + i - copied) as u32);
                        in_word = true;
                    }
                    space = false;
                    i += 1;
                    while bytes.get(i).is_some_and(|&b| ASCII_WORD[b as usize]) {
                        i += 1;
                    }
                    continue;
                }
                SPACE => {
                    in_word = false;
                    if space {
                        // Runs of spaces and line breaks fold to one space, so multi-word terms
                        // match across them.
                        self.copy(bytes, copied, i);
                        copied = i + 1;
                        self.linear = false;
                    }
                    space = true;
                }
                _ => {
                    in_word = false;
                    space = false;
                }
            }
            i += 1;
        }
        (self.in_word, self.space) = (in_word, space);
        self.copy(bytes, copied, i);
        i
    }

    /// Writes ASCII `bytes[from..to]` folded, each byte to one byte: copied, then lower-cased
    /// and its white space made spaces in place, eight bytes at a time.
    fn copy(&mut self, bytes: &[u8], from: usize, to: usize) {
        if from == to {
            return;
        }
        let start = self.out.len();
        self.anchor(start, from, to - from, to - from);
        self.out.extend_from_slice(&bytes[from..to]);
        let out = &mut self.out[start..];
        let mut words = out.chunks_exact_mut(8);
        for chunk in &mut words {
            let word = u64::from_le_bytes((&*chunk).try_into().expect("eight bytes"));
            chunk.copy_from_slice(&fold_ascii_word(word).to_le_bytes());
        }
        for b in words.into_remainder() {
            *b = ASCII[*b as usize & 0x7F].0;
        }
    }
}

/// Eight ASCII bytes folded as [`ASCII`] has them: `A`–`Z` lower-cased (a byte is upper case
/// when adding `0x80 - b'A'` sets its high bit and adding `0x7F - b'Z'` does not), and the
/// control bytes below `0x0E` that are white space made spaces, byte by byte (rare).
fn fold_ascii_word(word: u64) -> u64 {
    let at_least_a = word.wrapping_add(ONES * u64::from(0x80 - b'A'));
    let above_z = word.wrapping_add(ONES * u64::from(0x7F - b'Z'));
    let upper = at_least_a & !above_z & HIGHS;
    let lowered = word | (upper >> 2);
    // Bytes below 0x0E (U+0009…U+000D are among them).
    if bytes_below(word, 0x0E) == 0 {
        return lowered;
    }
    let mut bytes = lowered.to_le_bytes();
    for b in &mut bytes {
        *b = ASCII[*b as usize & 0x7F].0;
    }
    u64::from_le_bytes(bytes)
}

/// Eight times the byte 0x01 and 0x80: the constants of the eight-bytes-at-a-time tests.
pub(super) const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// Not zero when one of the eight bytes of `word` is below `n` (at most 0x80): subtracting `n`
/// from each borrows into the high bit only of a byte below it whose own high bit is clear.
pub(super) fn bytes_below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS
}

/// Whether an ASCII byte is a letter or digit (false for every byte of a multi-byte char).
const ASCII_WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = ASCII[b].1 == WORD;
        b += 1;
    }
    t
};

/// Writes `text` folded.
fn write(text: &str) -> Writer {
    let bytes = text.as_bytes();
    let mut w = Writer {
        out: Vec::with_capacity(text.len() + 8),
        words: Vec::with_capacity(text.len() / 5),
        anchors: Vec::new(),
        in_word: false,
        space: false,
        linear: false,
    };
    let table = table();
    let punctuation = punctuation_table();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii() {
            i = w.ascii(bytes, i);
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        let (at, width) = (i, c.len_utf8());
        i += width;
        let u = c as usize;
        let entry = if u < TABLE_END as usize {
            Some(&table[u])
        } else {
            u.checked_sub(PUNCTUATION_START)
                .and_then(|k| punctuation.get(k))
        };
        match entry {
            Some(e) => w.entry(c, at, width, e),
            None => w.chars(at, width, &fold_char_slow(c)),
        }
    }
    w
}

/// Folds `text`.
pub fn fold(text: &str) -> Folded {
    let w = write(text);
    let mut blocks = Vec::with_capacity(w.out.len() / BLOCK + 1);
    let mut k = 0;
    for start in (0..w.out.len()).step_by(BLOCK) {
        while w
            .anchors
            .get(k + 1)
            .is_some_and(|a| a.folded as usize <= start)
        {
            k += 1;
        }
        blocks.push(k as u32);
    }
    Folded {
        // Only whole chars were written.
        text: String::from_utf8(w.out).unwrap_or_default(),
        words: w.words,
        anchors: w.anchors,
        blocks,
        original_len: text.len(),
    }
}

/// Folds a string (a rule term, a text to index) when only the folded text is wanted.
pub fn fold_str(text: &str) -> String {
    // Only whole chars were written.
    String::from_utf8(write(text).out).unwrap_or_default()
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
            let origins: Vec<u32> = (0..=f.text.len())
                .map(|i| f.origin(&text, i) as u32)
                .collect();
            assert_eq!(origins, map);
            assert_eq!(f.words, words);
        }
    }

    #[test]
    fn every_ascii_byte_folds_as_its_table_entry_in_runs_and_alone() {
        // Regression (issue 13, the copy that folds eight bytes at a time): each ASCII byte,
        // alone and at every place of two eight-byte words, folds to its table entry (U+000B is
        // not white space; `@`, `[`, `` ` `` and `{` sit next to the letters).
        for b in 0u8..128 {
            let alone = fold(std::str::from_utf8(&[b]).unwrap());
            assert_eq!(
                alone.text.as_bytes(),
                [ASCII[b as usize].0],
                "byte {b:#04x}"
            );
            for at in 0..16 {
                let mut run = *b"abcdEFGHijklMNOP@Z[a`z{";
                run[at] = b;
                let folded = fold(std::str::from_utf8(&run).unwrap());
                let expected: Vec<u8> = run.iter().map(|&x| ASCII[x as usize].0).collect();
                assert_eq!(folded.text.as_bytes(), expected, "byte {b:#04x} at {at}");
            }
        }
    }

    #[test]
    fn anchors_give_every_folded_byte_its_origin_in_every_language() {
        // The dev corpus: 180 items in the 24 languages, Greek, Cyrillic and Latin with marks.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/docs");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let f = fold(&text);
            let (out, map, words) = fold_one_by_one(&text);
            assert_eq!(f.text, out);
            for (i, &m) in map.iter().enumerate() {
                assert_eq!(f.origin(&text, i), m as usize, "folded byte {i}");
            }
            assert_eq!(f.words, words);
            checked += 1;
        }
        assert_eq!(checked, 180);
    }

    #[test]
    fn map_points_back_to_the_original() {
        let text = "Straße Σύνοδος ŁÓDŹ";
        let f = fold(text);
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

//! Splits an item into fields and sentences: the first line is the title, the first sentences
//! of the body are the lead, the rest is the body. Works on the original text (byte ranges).

use super::fold::{ONES, bytes_below};

/// Where a piece of text sits in the item; earlier fields weigh more.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Title,
    Lead,
    Body,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Lead => "lead",
            Field::Body => "body",
        }
    }
}

/// One sentence: its byte range in the original text and its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sentence {
    pub start: usize,
    pub end: usize,
    pub field: Field,
}

/// The lead ends after this many sentences of the body …
const LEAD_SENTENCES: usize = 3;
/// … or once it holds this many words, whichever comes first.
const LEAD_WORDS: usize = 60;

/// Splits `text` (first line = title) into sentences with their fields, in order.
pub fn sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let title_end = text.find('\n').unwrap_or(text.len());
    if !text[..title_end].trim().is_empty() {
        out.push(Sentence {
            start: 0,
            end: title_end,
            field: Field::Title,
        });
    }
    let mut lead_sentences = 0;
    let mut lead_words = 0;
    let mut line_start = title_end;
    while line_start < text.len() {
        let line_end = text[line_start + 1..]
            .find('\n')
            .map_or(text.len(), |i| line_start + 1 + i);
        let line = &text[line_start..line_end];
        split_line(line, |s, e| {
            let piece = &line[s..e];
            if !piece.chars().any(char::is_alphanumeric) {
                return;
            }
            let field = if lead_sentences < LEAD_SENTENCES && lead_words < LEAD_WORDS {
                lead_sentences += 1;
                lead_words += piece.split_whitespace().count();
                Field::Lead
            } else {
                Field::Body
            };
            out.push(Sentence {
                start: line_start + s,
                end: line_start + e,
                field,
            });
        });
        line_start = line_end;
    }
    out
}

/// Sentence ranges within one line, in order, given to `each`: a split after `.`, `!`, `?` or
/// `;` followed by a space and not ending an abbreviation (`U.S.`, `e.g.`, a single letter, a
/// number like `1.`).
fn split_line(line: &str, mut each: impl FnMut(usize, usize)) {
    let bytes = line.as_bytes();
    let mut start = 0;
    // The delimiters are ASCII, so a byte scan finds them without decoding UTF-8.
    let mut from = 0;
    while let Some(i) = next_delimiter(bytes, from) {
        let b = bytes[i];
        from = i + 1;
        let next = i + 1;
        if next < bytes.len() && !bytes[next].is_ascii_whitespace() {
            continue;
        }
        if b == b'.' && is_abbreviation(&line[start..i]) {
            continue;
        }
        each(start, next);
        start = next;
    }
    if start < line.len() {
        each(start, line.len());
    }
}

/// The offset of the first `.`, `!`, `?` or `;` in `bytes` at or after `from`. Eight bytes are
/// tested at a time: a byte equal to a delimiter is a zero byte of `word ^ delimiter`, and a
/// word without a zero byte is skipped whole.
fn next_delimiter(bytes: &[u8], from: usize) -> Option<usize> {
    let equal = |word: u64, d: u8| bytes_below(word ^ (ONES * u64::from(d)), 1);
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        if equal(word, b'.') | equal(word, b'!') | equal(word, b'?') | equal(word, b';') != 0 {
            break;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| matches!(b, b'.' | b'!' | b'?' | b';'))
        .map(|k| i + k)
}

/// Whether the word before a period is an abbreviation rather than a sentence end.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    let letters = word.chars().filter(|c| c.is_alphanumeric()).count();
    word.contains('.') || letters == 1 || (letters > 0 && word.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_lead_and_body() {
        let text = "EU and NATO meet\nBrussels, 3 May – The U.S. delegation came. They talked. \
                    A third one! A fourth one?\nLast line here.";
        let s = sentences(text);
        let parts: Vec<(&str, Field)> = s
            .iter()
            .map(|x| (text[x.start..x.end].trim(), x.field))
            .collect();
        assert_eq!(
            parts,
            [
                ("EU and NATO meet", Field::Title),
                ("Brussels, 3 May – The U.S. delegation came.", Field::Lead),
                ("They talked.", Field::Lead),
                ("A third one!", Field::Lead),
                ("A fourth one?", Field::Body),
                ("Last line here.", Field::Body),
            ]
        );
    }

    /// Regression (issue 13, the scan eight bytes at a time): from every offset of texts with
    /// every delimiter at every place of an eight-byte word, next to multi-byte chars and
    /// bytes one away from a delimiter, the first delimiter is the one a byte loop finds.
    #[test]
    fn the_word_scan_finds_the_first_delimiter_a_byte_loop_finds() {
        let plain = |b: &[u8], from: usize| {
            (from..b.len()).find(|&i| matches!(b[i], b'.' | b'!' | b'?' | b';'))
        };
        let mut texts = vec![String::new(), "no delimiter here at all, none".to_string()];
        for d in ['.', '!', '?', ';'] {
            for at in 0..17 {
                let mut t: String = "abcdéfghij-/:<>@ABC".chars().take(at).collect();
                t.push(d);
                t.push_str(" -/:<>@ ß €");
                texts.push(t);
            }
        }
        for t in &texts {
            let b = t.as_bytes();
            for from in 0..=b.len() {
                assert_eq!(next_delimiter(b, from), plain(b, from), "{t:?} from {from}");
            }
        }
    }

    #[test]
    fn empty_and_title_only() {
        assert!(sentences("").is_empty());
        assert_eq!(sentences("Only a title").len(), 1);
        assert_eq!(sentences("\n\nbody only.")[0].field, Field::Lead);
    }
}

//! What a feed says, made safe to store and to show, in two steps.
//!
//! 1. [`bound_raw`], at parse time, on the fields as the document gave them: control characters
//!    and bidi overrides are stripped (an ESC or a U+202E from a feed must never reach a
//!    terminal or a mail client), and titles, summaries, guids and links are capped — a capped
//!    field says so in its own text.
//! 2. [`finish`], only for the items that are new or changed: markup becomes text (the costly
//!    part), stripped and capped again, since entities can spell the same characters.
//!
//! Both are pure and idempotent: finishing twice, or bounding a bounded item, changes nothing.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use super::text::html_to_text;
use crate::model::ParsedItem;

/// Titles (and feed titles) longer than this many characters are cut.
pub const MAX_TITLE_CHARS: usize = 500;
/// Summary and content markup longer than this many bytes is cut (each).
pub const MAX_HTML_BYTES: usize = 128 * 1024;
/// Authors longer than this many characters are cut.
pub const MAX_AUTHOR_CHARS: usize = 200;
/// Guids longer than this many bytes are replaced by their hash (they stay unique and stable).
pub const MAX_GUID_BYTES: usize = 1024;
/// Links longer than this many bytes are dropped (no server serves them; they only cost).
pub const MAX_URL_BYTES: usize = 8 * 1024;

/// Whether `c` must not reach storage: C0 controls but tab, line feed and carriage return;
/// DEL; C1 controls; bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
/// which reorder what a terminal or a mail client shows; interlinear annotation marks; BOMs.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fff9}'..='\u{fffb}' | '\u{feff}')
}

/// `s` without the characters [`is_unsafe`] names; line and paragraph separators become line
/// feeds. Borrowed when there is nothing to strip.
pub fn strip_controls(s: &str) -> Cow<'_, str> {
    if !needs_stripping(s) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .filter(|c| !is_unsafe(*c))
            .map(|c| match c {
                '\u{2028}' | '\u{2029}' => '\n',
                c => c,
            })
            .collect(),
    )
}

/// Whether `s` holds a character [`strip_controls`] removes or replaces, read byte by byte: every
/// such character is a C0 control, DEL, or starts with one of the lead bytes `C2` (C1 controls),
/// `E2` (U+2028…U+2069) or `EF` (U+FEFF, U+FFF9…U+FFFB), and only those characters are decoded.
fn needs_stripping(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        // Printable ASCII, the common case, sixteen bytes at a time (a fold the compiler vectorises).
        if let Some(block) = bytes.get(i..i + 16)
            && block
                .iter()
                .fold(true, |ok, &b| ok & (b.wrapping_sub(0x20) < 0x5f))
        {
            i += 16;
            continue;
        }
        match b {
            b'\t'
            | b'\n'
            | b'\r'
            | 0x20..=0x7e
            | 0x80..=0xc1
            | 0xc3..=0xe1
            | 0xe3..=0xee
            | 0xf0.. => i += 1,
            0xc2 | 0xe2 | 0xef => {
                // A lead byte (continuation bytes are 0x80…0xBF), so `i` is a char boundary.
                let c = s[i..].chars().next().unwrap_or(' ');
                if is_unsafe(c) || matches!(c, '\u{2028}' | '\u{2029}') {
                    return true;
                }
                i += c.len_utf8();
            }
            _ => return true,
        }
    }
    false
}

fn strip_in_place(s: &mut String) {
    if let Cow::Owned(clean) = strip_controls(s) {
        *s = clean;
    }
}

/// What a cut title ends with.
pub const TITLE_CUT: &str = "… [title truncated by veille]";

/// Cuts `s` to at most `max` characters, the cut saying so.
pub fn cap_title(s: &mut String, max: usize) {
    if s.chars().count() <= max {
        return;
    }
    let note = TITLE_CUT;
    let keep = max.saturating_sub(note.chars().count());
    let cut = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    s.truncate(cut);
    let trimmed = s.trim_end().len();
    s.truncate(trimmed);
    s.push_str(note);
}

/// Cuts summary or content markup to at most `max` bytes, never inside a tag, and appends a
/// paragraph saying so.
pub fn cap_html(s: &mut String, max: usize, what: &str) {
    if s.len() <= max {
        return;
    }
    let note = format!(
        "<p>[{what} truncated by veille: the feed gave {} bytes; the first {max} are kept]</p>",
        s.len()
    );
    cap_markup(s, max, &note);
}

/// Cuts markup to at most `max` bytes (the note included), never inside a tag or a character.
fn cap_markup(s: &mut String, max: usize, note: &str) {
    if s.len() <= max {
        return;
    }
    let mut cut = max.saturating_sub(note.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &s[..cut];
    // A tag cut in two would swallow the note.
    if let Some(open) = head.rfind('<')
        && head[open..].find('>').is_none()
    {
        cut = open;
    }
    s.truncate(cut);
    s.push_str(note);
}

/// Step 1, at parse time: strips unsafe characters from every field as the document gave it
/// and caps titles, markup, guids, links and authors.
pub fn bound_raw(item: &mut ParsedItem) {
    strip_in_place(&mut item.guid);
    if item.guid.len() > MAX_GUID_BYTES {
        item.guid = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(item.guid.as_bytes()))
        );
    }
    if item.url.as_ref().is_some_and(|u| u.len() > MAX_URL_BYTES) {
        item.url = None;
        item.canonical_url = None;
    }
    if item
        .canonical_url
        .as_ref()
        .is_some_and(|u| u.len() > MAX_URL_BYTES)
    {
        item.canonical_url = None;
    }
    strip_in_place(&mut item.title);
    cap_title(&mut item.title, MAX_TITLE_CHARS);
    if let Some(t) = &mut item.title_html {
        strip_in_place(t);
        // Room for markup around a full-length title, and no more.
        cap_markup(t, 8 * MAX_TITLE_CHARS, " [title truncated by veille]");
    }
    for (field, what) in [
        (&mut item.summary_html, "summary"),
        (&mut item.content_html, "content"),
    ] {
        if let Some(h) = field {
            strip_in_place(h);
            cap_html(h, MAX_HTML_BYTES, what);
        }
    }
    if let Some(a) = &mut item.author {
        strip_in_place(a);
        cap_title(a, MAX_AUTHOR_CHARS);
    }
    strip_in_place(&mut item.text);
}

/// Step 2, for new and changed items: the title's markup becomes the title, the longer of the
/// summary's and the content's text becomes the item's text; both stripped and capped.
pub fn finish(item: &mut ParsedItem) {
    if let Some(h) = &item.title_html {
        let t = html_to_text(h).replace('\n', " ");
        if !t.is_empty() {
            item.title = t;
        }
    }
    strip_in_place(&mut item.title);
    cap_title(&mut item.title, MAX_TITLE_CHARS);
    if item.summary_html.is_some() || item.content_html.is_some() {
        let summary = item.summary_html.as_deref().map(html_to_text);
        let content = item.content_html.as_deref().map(html_to_text);
        let (summary, content) = (summary.unwrap_or_default(), content.unwrap_or_default());
        item.text = if content.len() >= summary.len() {
            content
        } else {
            summary
        };
    }
    strip_in_place(&mut item.text);
}

/// A feed's own title, bounded like an item's.
pub fn title(raw: &str) -> String {
    let mut t = strip_controls(&html_to_text(raw)).replace('\n', " ");
    cap_title(&mut t, MAX_TITLE_CHARS);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_scan_finds_what_a_character_scan_finds() {
        let by_chars = |s: &str| {
            s.chars()
                .any(|c| is_unsafe(c) || matches!(c, '\u{2028}' | '\u{2029}'))
        };
        // Every character alone, and between words, after a multi-byte letter, at the end and
        // around sixteen-byte ASCII runs (those above U+FFFF, four bytes from F0…F4, alone and
        // in one context: no stripped character is among them).
        for c in (0..0x11_0000u32).filter_map(char::from_u32) {
            if c > '\u{ffff}' {
                assert!(!needs_stripping(&format!("ab{c}")) && !needs_stripping(&c.to_string()));
                continue;
            }
            let long = "sixteen-byte run";
            for s in [
                c.to_string(),
                format!("Brüssel {c} x"),
                format!("€{c}"),
                format!("ab{c}"),
                format!("{long}{c}{long}{long}"),
                format!("{long}a{c}"),
            ] {
                assert_eq!(needs_stripping(&s), by_chars(&s), "{s:?}");
            }
        }
        assert!(!needs_stripping("l’Union « européenne » – 2026"));
        assert!(needs_stripping("EU\u{202e}NATO") && needs_stripping("x\u{85}"));
    }

    #[test]
    fn escapes_nul_and_bidi_overrides_are_stripped_text_is_kept() {
        let s = "Alert\u{1b}[2J\u{0} \u{202e}gnp.exe\u{202c} caf\u{e9} \u{5d0}\u{200f} tab\tnl\n";
        assert_eq!(
            strip_controls(s),
            "Alert[2J gnp.exe café \u{5d0}\u{200f} tab\tnl\n"
        );
        assert!(matches!(strip_controls("plain Ελληνικά"), Cow::Borrowed(_)));
    }

    #[test]
    fn entity_spelled_controls_are_stripped_when_finishing() {
        let mut item = ParsedItem {
            title_html: Some("Bad&#27;[31m &#x202E;title".into()),
            summary_html: Some("<p>x&#0;y&#x1b;z</p>".into()),
            ..ParsedItem::default()
        };
        bound_raw(&mut item);
        finish(&mut item);
        assert_eq!(item.title, "Bad[31m title");
        assert!(!item.text.chars().any(is_unsafe), "{:?}", item.text);
    }

    #[test]
    fn caps_say_so_and_are_idempotent() {
        let mut item = ParsedItem {
            title_html: Some("T".repeat(1 << 20)),
            summary_html: Some(format!("<p>{}</p>", "word ".repeat(100_000))),
            ..ParsedItem::default()
        };
        bound_raw(&mut item);
        finish(&mut item);
        assert!(item.title.chars().count() <= MAX_TITLE_CHARS);
        assert!(item.title.ends_with(TITLE_CUT), "{}", item.title);
        let summary = item.summary_html.clone().unwrap();
        assert!(summary.len() <= MAX_HTML_BYTES);
        assert!(
            summary.ends_with("the first 131072 are kept]</p>"),
            "{summary:.80}"
        );
        assert!(item.text.ends_with("the first 131072 are kept]"));
        let before = item.clone();
        bound_raw(&mut item);
        finish(&mut item);
        assert_eq!(item, before);
    }

    #[test]
    fn a_cut_never_splits_a_tag_or_a_character() {
        let mut s = format!("{}<a href=\"{}\">é</a>", "é".repeat(100), "x".repeat(300));
        cap_html(&mut s, 300, "summary");
        assert!(s.len() <= 300, "{s}");
        assert_eq!(
            s,
            format!(
                "{}<p>[summary truncated by veille: the feed gave 517 bytes; the first 300 are kept]</p>",
                "é".repeat(100)
            )
        );
    }

    #[test]
    fn long_guids_become_hashes_and_long_links_go() {
        let mut item = ParsedItem {
            guid: "g".repeat(5000),
            url: Some(format!("https://x.eu/{}", "a".repeat(10_000))),
            ..ParsedItem::default()
        };
        bound_raw(&mut item);
        assert!(item.guid.starts_with("sha256:") && item.guid.len() == 71);
        assert_eq!(item.url, None);
    }
}

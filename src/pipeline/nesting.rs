//! Deeply nested markup, defused before an HTML parser sees it.
//!
//! The HTML tree builder checks "is there a `<p>` in scope?" by walking its stack of open
//! elements at every block start tag, so `<div>`s nested n deep cost O(n²): 200,000 of them in
//! one feed summary took two minutes, on every poll. Browsers cap the depth of the tree
//! (Blink at 512); so does veille, before parsing: [`limit_depth`] scans the markup once, keeps
//! the tags of the first [`MAX_DEPTH`] levels and drops the start and end tags nested deeper,
//! keeping their text. The result parses in linear time; a document that never nests that deep
//! is returned as it is, borrowed.
//!
//! The depth is counted the simple way — start tags open, end tags close, void elements and the
//! usual implied ends (`<p>`, `<li>`, table cells) do not nest — so it can only over-count the
//! parser's real depth, never under-count it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Elements nested deeper than this lose their tags (their text stays). Real pages stay far
/// below (a few dozen levels); browsers stop nesting at 512.
pub const MAX_DEPTH: usize = 256;

/// `html` with the tags nested deeper than [`MAX_DEPTH`] removed.
pub fn limit_depth(html: &str) -> Cow<'_, str> {
    limit_depth_to(html, MAX_DEPTH)
}

/// `html` with the tags nested deeper than `max` removed (borrowed when nothing is).
pub fn limit_depth_to(html: &str, max: usize) -> Cow<'_, str> {
    // Too short to hold more start tags than the cap (each takes three bytes at least).
    if html.len() <= 3 * max {
        return Cow::Borrowed(html);
    }
    Limiter::new(html, max).run()
}

/// Elements that never have content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen", "basefont", "bgsound", "frame", "image",
];
/// Elements whose content is text up to their end tag.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];
/// Start tags that close an open `<p>`.
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "dialog",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
    "li",
    "dd",
    "dt",
];

/// The open elements a start tag `name` implicitly closes when one is on top of the stack.
fn implied_end(name: &str, top: &str) -> bool {
    match name {
        "li" => matches!(top, "li" | "p"),
        "dd" | "dt" => matches!(top, "dd" | "dt" | "p"),
        "option" => top == "option",
        "optgroup" => matches!(top, "option" | "optgroup"),
        "tr" => matches!(top, "td" | "th" | "tr"),
        "td" | "th" => matches!(top, "td" | "th"),
        "thead" | "tbody" | "tfoot" => {
            matches!(top, "td" | "th" | "tr" | "thead" | "tbody" | "tfoot")
        }
        "a" => top == "a",
        _ => top == "p" && CLOSES_P.contains(&name),
    }
}

struct Limiter<'a> {
    html: &'a str,
    max: usize,
    /// Open elements, innermost last (never more than `max`).
    stack: Vec<Name>,
    /// How many of each name (by hash) are on the stack.
    open: Counts,
    /// Start tags dropped for depth, by name hash, whose end tags are still to drop.
    dropped: Counts,
    /// `<svg>` and `<math>` elements open: inside them `<x/>` closes itself.
    foreign: usize,
    /// The output, once something was removed.
    out: Option<String>,
    /// `html[..copied]` is accounted for in `out`.
    copied: usize,
}

/// Counts by name hash (already a hash: the map need not hash it again).
type Counts = HashMap<u64, usize, BuildHasherDefault<Identity>>;

#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A tag as scanned: its name, where it ends, and whether it ends with `/>`.
struct Tag {
    name: Name,
    end: usize,
    self_closing: bool,
}

/// A tag name, lower-cased without allocating: its hash identifies it on the stack, and names
/// of up to 16 bytes (every name the rules above mention) are kept to compare with them.
#[derive(Clone, Copy)]
struct Name {
    hash: u64,
    len: u8,
    short: [u8; 16],
}

impl Name {
    fn new(raw: &[u8]) -> Name {
        let mut short = [0u8; 16];
        // FNV-1a over the lower-cased bytes.
        let mut hash = 0xcbf29ce484222325u64;
        for (i, b) in raw.iter().enumerate() {
            let b = b.to_ascii_lowercase();
            hash = (hash ^ u64::from(b)).wrapping_mul(0x100000001b3);
            if i < 16 {
                short[i] = b;
            }
        }
        Name {
            hash,
            len: raw.len().min(255) as u8,
            short,
        }
    }

    /// The name, when it is short enough to be one the rules mention.
    fn as_str(&self) -> &str {
        if usize::from(self.len) > 16 {
            return "";
        }
        std::str::from_utf8(&self.short[..usize::from(self.len)]).unwrap_or("")
    }
}

impl<'a> Limiter<'a> {
    fn new(html: &'a str, max: usize) -> Self {
        Limiter {
            html,
            max,
            stack: Vec::new(),
            open: Counts::default(),
            dropped: Counts::default(),
            foreign: 0,
            out: None,
            copied: 0,
        }
    }

    fn run(mut self) -> Cow<'a, str> {
        let bytes = self.html.as_bytes();
        let mut pos = 0;
        while let Some(off) = self.html[pos..].find('<') {
            let at = pos + off;
            let rest = &bytes[at + 1..];
            pos = match rest.first() {
                Some(b'!') => self.skip_markup_declaration(at),
                Some(b'?') => self.find_byte(at, b'>').map_or(bytes.len(), |e| e + 1),
                Some(b'/') => match rest.get(1) {
                    Some(c) if c.is_ascii_alphabetic() => {
                        let tag = self.scan_tag(at + 2);
                        self.end_tag(at, &tag);
                        tag.end
                    }
                    Some(b'>') => at + 3,
                    // `</ x>` and the like are bogus comments, up to the next `>`.
                    _ => self.find_byte(at, b'>').map_or(bytes.len(), |e| e + 1),
                },
                Some(c) if c.is_ascii_alphabetic() => {
                    let tag = self.scan_tag(at + 1);
                    match self.start_tag(at, &tag) {
                        Some(next) => next,
                        None => return self.finish(),
                    }
                }
                _ => at + 1,
            };
        }
        self.finish()
    }

    fn find_from(&self, from: usize, needle: &str) -> Option<usize> {
        self.html[from..].find(needle).map(|i| from + i)
    }

    /// The next `b` at or after `from` (memchr: `b` is ASCII, so this is a character boundary).
    fn find_byte(&self, from: usize, b: u8) -> Option<usize> {
        self.html.get(from..)?.find(char::from(b)).map(|i| from + i)
    }

    /// `<!-- … -->`, `<![CDATA[ … ]]>`, `<!DOCTYPE …>`: where scanning resumes.
    fn skip_markup_declaration(&self, at: usize) -> usize {
        let s = &self.html[at..];
        let len = self.html.len();
        if let Some(body) = s.strip_prefix("<!--") {
            // `<!-->` and `<!--->` end at once; otherwise at `-->` or `--!>`.
            if body.starts_with('>') {
                return at + 5;
            }
            if body.starts_with("->") {
                return at + 6;
            }
            let bytes = self.html.as_bytes();
            let mut from = at + 4;
            while let Some(dash) = self.find_byte(from, b'-') {
                let after = &bytes[dash + 1..];
                if after.starts_with(b"->") {
                    return dash + 3;
                }
                if after.starts_with(b"-!>") {
                    return dash + 4;
                }
                from = dash + 1;
            }
            return len;
        }
        if s.starts_with("<![CDATA[") && self.foreign > 0 {
            return self.find_from(at, "]]>").map_or(len, |e| e + 3);
        }
        self.find_byte(at, b'>').map_or(len, |e| e + 1)
    }

    /// Scans a tag whose name starts at `from`, through its attributes to its `>`.
    fn scan_tag(&self, from: usize) -> Tag {
        let bytes = self.html.as_bytes();
        let mut i = from;
        while i < bytes.len()
            && !matches!(
                bytes[i],
                b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>'
            )
        {
            i += 1;
        }
        let name = Name::new(&bytes[from..i]);
        let mut last_slash = false;
        while i < bytes.len() {
            match bytes[i] {
                b'>' => {
                    return Tag {
                        name,
                        end: i + 1,
                        self_closing: last_slash,
                    };
                }
                b'/' => {
                    last_slash = true;
                    i += 1;
                }
                b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' => i += 1,
                _ => {
                    last_slash = false;
                    i = self.skip_attribute(i);
                }
            }
        }
        Tag {
            name,
            end: bytes.len(),
            self_closing: false,
        }
    }

    /// Skips one attribute (`name`, `name=value`, `name="value"`) starting at `i`.
    fn skip_attribute(&self, mut i: usize) -> usize {
        let bytes = self.html.as_bytes();
        // The name: up to white space, `/`, `>` or `=` (a first `=` belongs to the name).
        let start = i;
        while i < bytes.len()
            && !matches!(
                bytes[i],
                b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>'
            )
            && (bytes[i] != b'=' || i == start)
        {
            i += 1;
        }
        let mut j = i;
        while j < bytes.len() && matches!(bytes[j], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ') {
            j += 1;
        }
        if bytes.get(j) != Some(&b'=') {
            return i;
        }
        j += 1;
        while j < bytes.len() && matches!(bytes[j], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ') {
            j += 1;
        }
        match bytes.get(j) {
            Some(&q @ (b'"' | b'\'')) => match self.html[j + 1..].find(q as char) {
                Some(e) => j + 1 + e + 1,
                None => bytes.len(),
            },
            _ => {
                while j < bytes.len()
                    && !matches!(bytes[j], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'>')
                {
                    j += 1;
                }
                j
            }
        }
    }

    /// Handles a start tag at `at`; returns where scanning resumes (`None`: the rest is text).
    fn start_tag(&mut self, at: usize, tag: &Tag) -> Option<usize> {
        let name = tag.name.as_str();
        while let Some(top) = self.stack.last() {
            if !implied_end(name, top.as_str()) {
                break;
            }
            self.pop();
        }
        if VOID.contains(&name) || (tag.self_closing && self.foreign > 0) {
            return Some(tag.end);
        }
        let raw_end = |this: &Self| this.raw_text_end(name, tag.end);
        if self.stack.len() >= self.max {
            if RAW_TEXT.contains(&name) {
                // Dropping the tag would turn a script into text: drop its content too.
                let end = raw_end(self).map_or(self.html.len(), |(_, after)| after);
                self.remove(at, end);
                return Some(end);
            }
            self.remove(at, tag.end);
            *self.dropped.entry(tag.name.hash).or_default() += 1;
            return Some(tag.end);
        }
        if name == "plaintext" {
            return None;
        }
        self.push(tag.name);
        if RAW_TEXT.contains(&name) {
            // Resume at the end tag, which the main loop then closes.
            return Some(raw_end(self).map_or(self.html.len(), |(start, _)| start));
        }
        Some(tag.end)
    }

    /// Where the text of raw-text element `name` opened before `from` ends: the start of its
    /// end tag and the position after it.
    fn raw_text_end(&self, name: &str, from: usize) -> Option<(usize, usize)> {
        let bytes = self.html.as_bytes();
        let mut i = from;
        while let Some(start) = self.find_byte(i, b'<') {
            if bytes.get(start + 1) != Some(&b'/') {
                i = start + 1;
                continue;
            }
            let after_name = start + 2 + name.len();
            let matches = self
                .html
                .get(start + 2..after_name)
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
                && matches!(
                    bytes.get(after_name),
                    Some(b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>') | None
                );
            if matches {
                let end = self
                    .find_byte(after_name, b'>')
                    .map_or(bytes.len(), |e| e + 1);
                return Some((start, end));
            }
            i = start + 2;
        }
        None
    }

    fn end_tag(&mut self, at: usize, tag: &Tag) {
        if let Some(n) = self.dropped.get_mut(&tag.name.hash)
            && *n > 0
        {
            *n -= 1;
            self.remove(at, tag.end);
            return;
        }
        if self.open.get(&tag.name.hash).is_some_and(|n| *n > 0) {
            while let Some(top) = self.pop() {
                if top.hash == tag.name.hash {
                    break;
                }
            }
        }
    }

    fn push(&mut self, name: Name) {
        if matches!(name.as_str(), "svg" | "math") {
            self.foreign += 1;
        }
        *self.open.entry(name.hash).or_default() += 1;
        self.stack.push(name);
    }

    fn pop(&mut self) -> Option<Name> {
        let top = self.stack.pop()?;
        if matches!(top.as_str(), "svg" | "math") {
            self.foreign -= 1;
        }
        if let Some(n) = self.open.get_mut(&top.hash) {
            *n -= 1;
        }
        Some(top)
    }

    /// Leaves `html[start..end]` out of the result.
    fn remove(&mut self, start: usize, end: usize) {
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(self.html.len()));
        out.push_str(&self.html[self.copied..start]);
        self.copied = end;
    }

    fn finish(self) -> Cow<'a, str> {
        match self.out {
            None => Cow::Borrowed(self.html),
            Some(mut out) => {
                out.push_str(&self.html[self.copied..]);
                Cow::Owned(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(tag: &str, depth: usize, inner: &str) -> String {
        format!(
            "{}{inner}{}",
            format!("<{tag}>").repeat(depth),
            format!("</{tag}>").repeat(depth)
        )
    }

    #[test]
    fn shallow_markup_is_returned_as_it_is() {
        let html = "<div><p>One<p>Two<ul><li>a<li>b</ul></div>";
        assert!(matches!(limit_depth_to(html, 4), Cow::Borrowed(_)));
        // Unclosed paragraphs and list items do not nest, so a long page of them is untouched.
        let page = format!("<body>{}</body>", "<p>para<li>item<br>".repeat(1000));
        assert!(matches!(limit_depth_to(&page, 8), Cow::Borrowed(_)));
        let table = format!("<table>{}</table>", "<tr><td>a<td>b".repeat(1000));
        assert!(matches!(limit_depth_to(&table, 8), Cow::Borrowed(_)));
    }

    #[test]
    fn tags_deeper_than_the_cap_are_dropped_and_their_text_kept() {
        let html = nested("div", 10, "deep");
        let out = limit_depth_to(&html, 3);
        assert_eq!(out, "<div><div><div>deep</div></div></div>");
        // Text between the levels stays where it was.
        let html = "<b>1<i>2<u>3<s>4</s>5</u>6</i>7</b>8";
        assert_eq!(limit_depth_to(html, 2), "<b>1<i>23456</i>7</b>8");
    }

    #[test]
    fn attributes_comments_and_scripts_are_not_taken_for_tags() {
        let html = format!(
            "<a title=\"x > <div>\" href='<div>'><!-- <div><div> --><script>if (a<b) {{ '<div>' }}</script>{}",
            nested("span", 4, "t")
        );
        let out = limit_depth_to(&html, 3);
        assert_eq!(
            out,
            "<a title=\"x > <div>\" href='<div>'><!-- <div><div> --><script>if (a<b) { '<div>' }</script><span><span>t</span></span>"
        );
    }

    #[test]
    fn a_script_beyond_the_cap_goes_with_its_tag() {
        let html = format!("{}<script>alert(1)</script>text", "<div>".repeat(5));
        assert_eq!(limit_depth_to(&html, 2), "<div><div>text");
    }

    #[test]
    fn self_closing_html_elements_still_nest_but_svg_ones_do_not() {
        // In HTML `<div/>` opens a div: it must count.
        let html = "<div/>".repeat(6) + "x";
        assert_eq!(limit_depth_to(&html, 2), "<div/><div/>x");
        let svg = format!("<svg>{}</svg><p>after</p>", "<path d='M0'/>".repeat(10));
        assert!(matches!(limit_depth_to(&svg, 3), Cow::Borrowed(_)));
    }

    #[test]
    fn the_result_parses_to_the_same_text() {
        let html = nested("div", 2000, "deep") + "<p>after</p>";
        let limited = limit_depth(&html);
        assert!(limited.len() < html.len());
        let text = |h: &str| {
            scraper::Html::parse_fragment(h)
                .root_element()
                .text()
                .collect::<String>()
        };
        assert_eq!(text(&limited), "deepafter");
    }
}

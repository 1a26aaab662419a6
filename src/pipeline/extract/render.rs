//! Turns the chosen elements into plain text, one paragraph per line, dropping what is left
//! of page furniture inside them: link lists, the headline, short link-only lines.

use super::dom::{Dom, Ix};
use super::score::is_block;

/// Whether element `ix` inside the article is furniture rather than text.
fn is_furniture(dom: &Dom, ix: Ix) -> bool {
    let node = &dom.nodes[ix];
    if node.removed {
        return true;
    }
    if node.is_text() {
        return false;
    }
    if node.tag == "h1" {
        return true;
    }
    let density = node.link_density();
    match node.tag {
        "p" => density > 0.8 && node.chars < 200,
        "ul" | "ol" | "dl" => (density > 0.4 && node.commas < 10) || is_link_list(dom, ix),
        "div" | "section" | "table" | "li" | "header" | "form" => density > 0.5 && node.commas < 10,
        _ => false,
    }
}

/// A list whose items nearly all carry a link, and are mostly links or mostly end cut short
/// ("…"): a list of headlines with teasers, not a list inside the article.
fn is_link_list(dom: &Dom, ix: Ix) -> bool {
    let items: Vec<&super::dom::Node> = dom.nodes[ix]
        .children
        .iter()
        .map(|&c| &dom.nodes[c])
        .filter(|n| n.tag == "li" && !n.removed && n.chars > 0)
        .collect();
    let linked = items.iter().filter(|n| n.link_chars > 0).count();
    let mostly_links = items.iter().filter(|n| n.link_density() >= 0.5).count();
    let cut_short = dom.nodes[ix]
        .children
        .iter()
        .filter(|&&c| dom.nodes[c].tag == "li" && is_cut_short(last_text(dom, c)))
        .count();
    items.len() >= 3
        && linked * 10 >= items.len() * 8
        && (cut_short * 2 >= items.len() || mostly_links * 2 >= items.len())
}

/// Whether a teaser ends with an ellipsis.
fn is_cut_short(text: &str) -> bool {
    let t = text.trim_end();
    t.ends_with("...") || t.ends_with('…')
}

/// The last non-blank text in the subtree of `ix`.
pub fn last_text<'a>(dom: &Dom<'a>, ix: Ix) -> &'a str {
    (ix..dom.nodes[ix].end)
        .rev()
        .map(|i| &dom.nodes[i])
        .find(|n| n.is_text() && !n.removed && !n.text.trim().is_empty())
        .map_or("", |n| n.text)
}

/// Text of `roots`, paragraphs separated by `\n`, whitespace collapsed.
pub fn render(dom: &Dom, roots: &[Ix]) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    // (node, entering): exit events close block elements.
    let mut stack: Vec<(Ix, bool)> = roots.iter().rev().map(|&r| (r, true)).collect();
    while let Some((ix, entering)) = stack.pop() {
        let node = &dom.nodes[ix];
        if !entering {
            flush(&mut line, &mut lines);
            continue;
        }
        if node.is_text() {
            push_words(&mut line, node.text);
            continue;
        }
        if is_furniture(dom, ix) {
            continue;
        }
        if is_block(node.tag) {
            flush(&mut line, &mut lines);
            stack.push((ix, false));
        }
        stack.extend(node.children.iter().rev().map(|&c| (c, true)));
    }
    flush(&mut line, &mut lines);
    lines.join("\n")
}

/// Appends `text` to `line` with runs of whitespace collapsed to one space.
fn push_words(line: &mut String, text: &str) {
    if text.starts_with(char::is_whitespace) && !line.is_empty() && !line.ends_with(' ') {
        line.push(' ');
    }
    let mut first = true;
    for word in text.split_whitespace() {
        if !first {
            line.push(' ');
        }
        line.push_str(word);
        first = false;
    }
    if !first && text.ends_with(char::is_whitespace) {
        line.push(' ');
    }
}

/// Short lines that are page furniture wherever they appear (compared lower-case, without
/// trailing punctuation).
const FURNITURE_LINES: &[&str] = &[
    "advert",
    "advertisement",
    "advertising",
    "sponsored",
    "anzeige",
    "werbung",
    "publicité",
    "pubblicità",
    "reklama",
    "publicidad",
    "comments",
    "comment",
    "share",
    "share this",
    "share this article",
    "share on facebook",
    "share on twitter",
    "read more",
    "continue reading",
    "related",
    "related articles",
    "related news",
    "read next",
    "this slideshow requires javascript",
    "click here",
    "print",
    "email",
    "e-mail",
    "tweet",
    "loading",
    "skip advert",
    "story continues below advertisement",
    "scroll to continue with content",
    "tell us what you think",
    "lire aussi",
    "lire la suite",
    "weiterlesen",
    "mehr zum thema",
    "leggi anche",
    "czytaj także",
    "czytaj więcej",
];

/// Whether a line is furniture by its wording alone.
fn is_furniture_line(text: &str) -> bool {
    if text.len() > 40 {
        return false;
    }
    let lower = text
        .trim_end_matches(|c: char| c.is_ascii_punctuation() || c == '…' || c.is_whitespace())
        .to_lowercase();
    FURNITURE_LINES.contains(&lower.as_str())
}

fn flush(line: &mut String, lines: &mut Vec<String>) {
    let text = line.trim();
    if !text.is_empty() && !is_furniture_line(text) {
        lines.push(text.to_string());
    }
    line.clear();
}

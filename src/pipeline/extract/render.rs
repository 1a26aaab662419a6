//! Turns the chosen elements into plain text, one paragraph per line, dropping what is left
//! of page furniture inside them: link lists, the headline, short link-only lines.

use super::dom::{Dom, Ix, is_block, last_text};

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
    // A block holding an image and a line of text is a figure in all but name: the text
    // is its caption.
    if matches!(node.tag, "div" | "center" | "span" | "td")
        && node.images > 0
        && node.paras == 0
        && node.chars < 120
    {
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
    "more",
    "topics",
    "tags",
    "subscribe",
    "iklan",
    "don't miss",
    "you may also like",
    "you might also like",
    "recommended",
    "most read",
    "most popular",
    "trending",
    "latest news",
    "newsletter",
    "follow us",
    "à lire aussi",
    "voir aussi",
    "das könnte sie auch interessieren",
    "ti potrebbe interessare",
    "zobacz także",
    "ver también",
    "lee también",
    "leia também",
    "veja também",
];

/// Beginnings of short lines that are furniture (lower case): "Related: …", "Filed
/// under …", "Posted on … by …", reading-time notes, newsletter and follow prompts.
const FURNITURE_PREFIXES: &[&str] = &[
    "related:",
    "related post:",
    "related posts:",
    "related articles:",
    "related roundup:",
    "read more:",
    "read also:",
    "see also:",
    "filed under",
    "posted on ",
    "posted in ",
    "reading time",
    "tempo de leitura",
    "temps de lecture",
    "lesezeit",
    "tempo di lettura",
    "sign up to our newsletter",
    "sign up for our newsletter",
    "subscribe to our newsletter",
    "follow us on",
    "like this story?",
    "popular on ",
    "more great ",
    "share this:",
    "lire aussi :",
    "lire aussi:",
    "à lire aussi :",
    "mehr zum thema:",
    "leggi anche:",
];

/// Whether a line is an image/gallery counter ("1 of 6", "3/12").
fn is_counter(text: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let parts: Vec<&str> = text.split([' ', '/']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [a, b] => digits(a) && digits(b),
        [a, "of" | "de" | "von" | "di" | "z", b] => digits(a) && digits(b),
        _ => false,
    }
}

/// Whether a line is furniture by its wording alone.
fn is_furniture_line(text: &str) -> bool {
    if text.len() > 120 {
        return false;
    }
    let lower = text.to_lowercase();
    if FURNITURE_PREFIXES.iter().any(|p| lower.starts_with(p)) || is_counter(text) {
        return true;
    }
    let bare =
        lower.trim_end_matches(|c: char| c.is_ascii_punctuation() || c == '…' || c.is_whitespace());
    text.len() <= 60 && FURNITURE_LINES.contains(&bare)
}

fn flush(line: &mut String, lines: &mut Vec<String>) {
    let text = line.trim();
    if !text.is_empty() && !is_furniture_line(text) {
        lines.push(text.to_string());
    }
    line.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn furniture_lines_by_wording() {
        for line in [
            "Advertisement",
            "Read more…",
            "Related: Council adopts cyber toolbox",
            "1 of 6",
            "3/12",
            "Filed under: Fisheries |",
            "Lesezeit: 3 Minuten",
        ] {
            assert!(is_furniture_line(line), "{line}");
        }
        for line in [
            "More than 1,200 rescuers took part.",
            "Share prices fell sharply on Monday after the announcement.",
            "2026",
            "Related parties must declare their interests before the vote, the Council said.",
        ] {
            assert!(!is_furniture_line(line), "{line}");
        }
        let long = format!("Related: {}", "x".repeat(200));
        assert!(!is_furniture_line(&long));
    }

    #[test]
    fn whitespace_is_collapsed_across_nodes() {
        let mut line = String::new();
        push_words(&mut line, "  The  Council\n");
        push_words(&mut line, "adopted");
        push_words(&mut line, " the text. ");
        assert_eq!(line.trim(), "The Council adopted the text.");
    }
}

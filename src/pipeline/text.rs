//! HTML fragments (feed summaries, titles) → clean text: block elements become line breaks,
//! scripts and styles are dropped, entities decoded, white space collapsed.

use scraper::{Html, Node};

/// Elements after which a line break is kept.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "blockquote",
    "section",
    "article",
    "header",
    "footer",
    "pre",
    "dd",
    "dt",
    "figcaption",
];
/// Elements whose content is never text.
const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "svg", "head",
];

/// Converts an HTML fragment (or plain text) to clean text with one paragraph per line.
pub fn html_to_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return collapse(html);
    }
    let doc = Html::parse_fragment(html);
    let mut raw = String::with_capacity(html.len());
    walk(doc.tree.root(), &mut raw);
    collapse(&raw)
}

fn walk(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    for child in node.children() {
        match child.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if SKIP.contains(&name) {
                    continue;
                }
                let block = BLOCKS.contains(&name);
                if block {
                    out.push('\n');
                }
                walk(child, out);
                if block {
                    out.push('\n');
                } else if name == "td" || name == "th" {
                    out.push(' ');
                }
            }
            _ => walk(child, out),
        }
    }
}

/// Collapses runs of white space inside lines and drops empty lines.
pub fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let mut first = true;
        for word in line.split_whitespace() {
            if first {
                if !out.is_empty() {
                    out.push('\n');
                }
                first = false;
            } else {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_become_lines_and_entities_decode() {
        let t = html_to_text("<p>EU &amp; NATO</p><p>hold   <b>talks</b></p><script>x()</script>");
        assert_eq!(t, "EU & NATO\nhold talks");
    }

    #[test]
    fn plain_text_is_only_collapsed() {
        assert_eq!(html_to_text("  a  b \n\n c "), "a b\nc");
    }

    #[test]
    fn line_breaks_split_lines() {
        assert_eq!(html_to_text("one<br>two<br/>three"), "one\ntwo\nthree");
    }
}

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
    // Linear in the input whatever its nesting (see `nesting`).
    let html = super::nesting::limit_depth(html);
    let doc = Html::parse_fragment(&html);
    let mut raw = String::with_capacity(html.len());
    walk(doc.tree.root(), &mut raw);
    collapse(&raw)
}

/// Depth-first walk with an explicit stack, so that no nesting depth can overflow the
/// thread's stack (a hostile feed may nest 200,000 elements).
fn walk(root: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    enum Step<'a> {
        Enter(ego_tree::NodeRef<'a, Node>),
        /// After an element's children: what to write when it closes.
        Close(&'static str),
    }
    let mut stack: Vec<Step<'_>> = root.children().rev().map(Step::Enter).collect();
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::Close(s) => {
                out.push_str(s);
                continue;
            }
            Step::Enter(node) => node,
        };
        match node.value() {
            Node::Text(t) => {
                out.push_str(t);
                continue;
            }
            Node::Element(e) => {
                let name = e.name();
                if SKIP.contains(&name) {
                    continue;
                }
                if BLOCKS.contains(&name) {
                    out.push('\n');
                    stack.push(Step::Close("\n"));
                } else if name == "td" || name == "th" {
                    stack.push(Step::Close(" "));
                }
            }
            _ => {}
        }
        stack.extend(node.children().rev().map(Step::Enter));
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

/// The links at most kept per item (story grouping looks for translations among them).
pub const MAX_LINKS: usize = 64;
/// A longer `href` is not kept.
pub const MAX_LINK_BYTES: usize = 2048;

/// The `href` values of an HTML fragment, as written (entities not decoded: story grouping looks
/// for links in them as it did in the raw HTML), each once, in order, at most [`MAX_LINKS`].
/// What is kept of a feed item's HTML once its text has been derived from it.
pub fn links_in(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let bytes = html.as_bytes();
    let mut out: Vec<String> = Vec::new();
    for at in memchr::memmem::find_iter(lower.as_bytes(), b"href") {
        // `href` as an attribute name: after white space, then `=` (spaces allowed around it)
        if at == 0 || !bytes[at - 1].is_ascii_whitespace() {
            continue;
        }
        let mut i = at + 4;
        let skip_ws = |i: &mut usize| {
            while *i < bytes.len() && bytes[*i].is_ascii_whitespace() {
                *i += 1;
            }
        };
        skip_ws(&mut i);
        if bytes.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        skip_ws(&mut i);
        let (start, end) = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let start = i + 1;
                match memchr::memchr(q, &bytes[start..]) {
                    Some(n) => (start, start + n),
                    None => continue,
                }
            }
            Some(_) => {
                let n = bytes[i..]
                    .iter()
                    .position(|b| b.is_ascii_whitespace() || *b == b'>')
                    .unwrap_or(bytes.len() - i);
                (i, i + n)
            }
            None => continue,
        };
        let link = html[start..end].trim();
        if link.is_empty() || link.len() > MAX_LINK_BYTES || link.starts_with('#') {
            continue;
        }
        if !out.iter().any(|l| l == link) {
            out.push(link.to_string());
            if out.len() == MAX_LINKS {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_the_href_values_as_written_each_once() {
        let html = "<p>See <a href=\"https://ec.europa.eu/fr/a?x=1&amp;y=2\">fr</a>, <A HREF='/de/a'>de</A>,\n\
            <a class=x href = https://x.eu/it/a>it</a> <a href=\"#top\">top</a>\n\
            <a href=\"https://ec.europa.eu/fr/a?x=1&amp;y=2\">again</a> <a data-href=\"no\">x</a>\n\
            <img src=\"https://x.eu/i.png\"> href=\"not-an-attribute\"</p>";
        assert_eq!(
            links_in(html),
            [
                "https://ec.europa.eu/fr/a?x=1&amp;y=2",
                "/de/a",
                "https://x.eu/it/a",
                "not-an-attribute"
            ]
        );
        assert!(links_in("no links at all").is_empty());
        assert!(links_in("<a href=\"unclosed").is_empty());
        let many: String = (0..100)
            .map(|i| format!("<a href=\"/{i}\">x</a>"))
            .collect();
        assert_eq!(links_in(&many).len(), MAX_LINKS);
    }

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
    fn deep_nesting_does_not_overflow_the_stack() {
        // Regression: the walk was recursive; 200,000 nested elements overflowed the stack.
        let depth = 200_000;
        let html = format!("{}deep{}", "<span>".repeat(depth), "</span>".repeat(depth));
        let text = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || html_to_text(&html))
            .unwrap()
            .join()
            .expect("html_to_text must not overflow a small stack");
        assert_eq!(text, "deep");
    }

    #[test]
    fn table_cells_are_spaced_and_blocks_nest() {
        assert_eq!(
            html_to_text("<div><p>a<b>b</b></p><table><tr><td>x</td><td>y</td></tr></table></div>"),
            "ab\nx y"
        );
    }

    #[test]
    fn line_breaks_split_lines() {
        assert_eq!(html_to_text("one<br>two<br/>three"), "one\ntwo\nthree");
    }
}

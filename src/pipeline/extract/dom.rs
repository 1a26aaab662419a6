//! A flat, read-only copy of the page body made for scoring: one entry per element or text
//! node, with class/id hints and text statistics summed over each subtree. Content that can
//! never be article text (scripts, navigation, forms, hidden nodes…) is left out while copying.

use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Html, Node as HtmlNode};
use std::collections::HashSet;

/// Index of a node in [`Dom::nodes`].
pub type Ix = usize;

/// Marker for "no parent".
pub const NONE: Ix = usize::MAX;

/// One element or text node of the page body.
#[derive(Debug)]
pub struct Node<'a> {
    /// The element, `None` for a text node.
    pub el: Option<ElementRef<'a>>,
    /// Lower-case tag name, `""` for a text node.
    pub tag: &'a str,
    /// The text of a text node, `""` for an element.
    pub text: &'a str,
    pub parent: Ix,
    pub children: Vec<Ix>,
    /// One past the last node of this subtree (nodes are stored in document order).
    pub end: Ix,
    /// What the class, id and role attributes say about this element.
    pub hint: Hint,
    /// Inside an `<a>` element (or is one).
    pub in_link: bool,
    /// Left out of the article (boilerplate); set by [`Dom::mark_boilerplate`].
    pub removed: bool,
    /// Non-whitespace characters of text in this subtree.
    pub chars: u32,
    /// Non-whitespace characters of text inside links in this subtree.
    pub link_chars: u32,
    /// Commas in the text of this subtree.
    pub commas: u32,
    /// `<p>` elements in this subtree.
    pub paras: u32,
    /// Images and videos in this subtree (they are not copied, only counted).
    pub images: u32,
}

impl Node<'_> {
    pub fn is_text(&self) -> bool {
        self.el.is_none()
    }

    /// Share of this subtree's text that sits inside links.
    pub fn link_density(&self) -> f32 {
        if self.chars == 0 {
            0.0
        } else {
            self.link_chars as f32 / self.chars as f32
        }
    }
}

/// Class/id/role verdict of one element.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hint {
    /// Looks like content ("article", "content", "story", "entry", …).
    pub positive: bool,
    /// Looks like the article body itself ("article-body", `itemprop=articleBody`, …).
    pub body: bool,
    /// Declared as the article body by `itemprop="articleBody"`.
    pub declared: bool,
    /// Looks like page furniture that may still hold the article (header, menu, sidebar…).
    pub negative: bool,
    /// Page furniture that rarely holds the article (share bar, related links, widgets…).
    pub junk: bool,
    /// Furniture that never holds the article, however much text it has (comments,
    /// cookie/consent banners, ad networks).
    pub never: bool,
}

impl Hint {
    /// Readability-style class weight used when scoring candidates.
    pub fn weight(self) -> f32 {
        let mut w = 0.0;
        if self.positive {
            w += 25.0;
        }
        if self.body {
            w += 40.0;
        }
        if self.negative || self.junk {
            w -= 25.0;
        }
        w
    }
}

/// The flat body.
pub struct Dom<'a> {
    pub nodes: Vec<Node<'a>>,
}

/// Elements that separate lines of text.
pub fn is_block(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "blockquote"
            | "pre"
            | "table"
            | "tr"
            | "td"
            | "th"
            | "thead"
            | "tbody"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "form"
            | "address"
            | "center"
            | "hr"
            | "br"
            | "details"
            | "summary"
            | "fieldset"
            | "body"
    )
}

/// Elements whose subtree is never article text.
fn is_skipped_tag(tag: &str) -> bool {
    matches!(
        tag,
        "head"
            | "script"
            | "style"
            | "noscript"
            | "template"
            | "svg"
            | "math"
            | "canvas"
            | "iframe"
            | "object"
            | "embed"
            | "video"
            | "audio"
            | "picture"
            | "img"
            | "button"
            | "select"
            | "option"
            | "input"
            | "textarea"
            | "label"
            | "nav"
            | "aside"
            | "footer"
            | "figure"
            | "figcaption"
            | "menu"
            | "dialog"
            | "link"
            | "meta"
    )
}

/// Whether the element is hidden from readers.
fn is_hidden(el: &scraper::node::Element) -> bool {
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(style) = el.attr("style") {
        let style: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if style.contains("display:none") || style.contains("visibility:hidden") {
            return true;
        }
    }
    matches!(
        el.attr("role"),
        Some(
            "navigation"
                | "banner"
                | "contentinfo"
                | "complementary"
                | "menu"
                | "menubar"
                | "dialog"
                | "alertdialog"
        )
    )
}

/// Class/id word prefixes of page furniture that never holds the article.
const JUNK: &[&str] = &[
    "comment",
    "share",
    "sharing",
    "social",
    "related",
    "recommend",
    "breadcrumb",
    "cookie",
    "consent",
    "gdpr",
    "newsletter",
    "subscri",
    "promo",
    "advert",
    "sponsor",
    "outbrain",
    "taboola",
    "disqus",
    "popular",
    "trending",
    "popup",
    "modal",
    "signup",
    "login",
    "donate",
    "reaction",
    "follow",
    "readmore",
    "rating",
    "toolbar",
    "paginat",
    "pager",
    "tagcloud",
    "byline",
    "caption",
    "credit",
    "copyright",
    "dateline",
    "timestamp",
    "print",
    "skip",
    "jump",
    "hidden",
    "banner",
    "widget",
    "sidebar",
    "masthead",
    "navbar",
    "navigation",
    "dropdown",
    "overlay",
    "teaser",
    "carousel",
    "slider",
    "tooltip",
    "rollover",
    "popover",
    "hovercard",
    "alert",
    "notification",
    "inline-ad",
];

/// Class/id word prefixes of furniture that never holds the article, however large.
const NEVER: &[&str] = &[
    "comment", "disqus", "cookie", "consent", "gdpr", "outbrain", "taboola",
];

/// Words of page furniture distinctive enough to be recognised inside longer class/id
/// tokens (`imageEmbedCaption`, `articleRelatedLinks`).
const JUNK_INSIDE: &[&str] = &[
    "caption",
    "comment",
    "newsletter",
    "cookie",
    "consent",
    "advert",
    "sidebar",
    "breadcrumb",
    "related",
    "sharing",
    "social",
];

/// Class/id words (exact) of page furniture that never holds the article.
const JUNK_EXACT: &[&str] = &[
    "ad",
    "ads",
    "adv",
    "nav",
    "menu",
    "tags",
    "tag",
    "meta",
    "author",
    "authors",
    "date",
    "more",
    "aside",
    "hide",
    "footnote",
    "foot",
    "links",
    "shoutbox",
    "sponsored",
    "rail",
    "contributor",
    "contributors",
    "bio",
    "kicker",
    "headline",
    "title",
    "subtitle",
    "dek",
    "standfirst",
];

/// Class/id words of furniture that may wrap the whole page on some sites.
const NEGATIVE: &[&str] = &["header", "footer", "masthead", "topbar", "bottom"];

/// Class/id words of content.
const POSITIVE: &[&str] = &[
    "article",
    "body",
    "content",
    "entry",
    "hentry",
    "main",
    "post",
    "text",
    "blog",
    "story",
    "news",
    "prose",
    "richtext",
    "paragraph",
];

/// Substrings of class/id values that name the article body itself.
const BODY: &[&str] = &[
    "articlebody",
    "article-body",
    "article_body",
    "article__body",
    "storybody",
    "story-body",
    "story_body",
    "entry-content",
    "entry_content",
    "post-content",
    "post_content",
    "postbody",
    "post-body",
    "article-content",
    "article_content",
    "articlecontent",
    "article-text",
    "articletext",
    "article__text",
    "body-text",
    "bodytext",
    "story-content",
    "storycontent",
    "field-name-body",
    "field--name-body",
    "content-body",
    "article__content",
    "main-text",
    "text-body",
    "rich-text",
    "richtext",
];

fn hint_of(el: &scraper::node::Element) -> Hint {
    let mut hint = Hint::default();
    if el
        .attr("itemprop")
        .is_some_and(|v| v.eq_ignore_ascii_case("articleBody"))
    {
        hint.body = true;
        hint.positive = true;
        hint.declared = true;
    }
    let class = el.attr("class").unwrap_or("");
    let id = el.attr("id").unwrap_or("");
    if class.is_empty() && id.is_empty() {
        return hint;
    }
    let mut joined = String::with_capacity(class.len() + id.len() + 1);
    joined.push_str(class);
    joined.push(' ');
    joined.push_str(id);
    let joined = joined.to_ascii_lowercase();
    if BODY.iter().any(|b| joined.contains(b)) {
        hint.body = true;
        hint.positive = true;
    }
    for token in joined.split(|c: char| !c.is_ascii_alphanumeric()) {
        if token.is_empty() {
            continue;
        }
        if POSITIVE
            .iter()
            .any(|p| token == *p || token.starts_with(p) && token.len() <= p.len() + 4)
        {
            hint.positive = true;
        }
        if NEVER.iter().any(|j| token.starts_with(j)) {
            hint.never = true;
        }
        if JUNK_EXACT.contains(&token)
            || JUNK.iter().any(|j| token.starts_with(j))
            || JUNK_INSIDE.iter().any(|j| token.contains(j))
        {
            hint.junk = true;
        } else if NEGATIVE.iter().any(|n| token.starts_with(n)) {
            hint.negative = true;
        }
    }
    hint
}

impl<'a> Dom<'a> {
    /// Copies the body of `html`, leaving out never-content elements and the subtrees
    /// rooted at `excluded` (per-feed `remove_selectors`).
    pub fn build(html: &'a Html, excluded: &HashSet<NodeId>) -> Dom<'a> {
        let root = html.root_element();
        let body = root
            .child_elements()
            .find(|e| e.value().name() == "body")
            .unwrap_or(root);
        let mut nodes: Vec<Node<'a>> = Vec::with_capacity(1024);
        let mut stack: Vec<(NodeRef<'a, HtmlNode>, Ix, bool)> = vec![(*body, NONE, false)];
        while let Some((node, parent, in_link)) = stack.pop() {
            let ix = nodes.len();
            match node.value() {
                HtmlNode::Text(text) => {
                    let text: &'a str = text;
                    let chars = text.chars().filter(|c| !c.is_whitespace()).count() as u32;
                    if text.is_empty() {
                        continue;
                    }
                    nodes.push(Node {
                        el: None,
                        tag: "",
                        text,
                        parent,
                        children: Vec::new(),
                        end: ix + 1,
                        hint: Hint::default(),
                        in_link,
                        removed: false,
                        chars,
                        link_chars: if in_link { chars } else { 0 },
                        commas: text.matches([',', '،', '，', '、']).count() as u32,
                        paras: 0,
                        images: 0,
                    });
                }
                HtmlNode::Element(el) => {
                    let tag: &'a str = el.name();
                    if matches!(tag, "img" | "picture" | "video" | "figure") && parent != NONE {
                        nodes[parent].images += 1;
                    }
                    if (ix != 0 && is_skipped_tag(tag))
                        || is_hidden(el)
                        || excluded.contains(&node.id())
                    {
                        continue;
                    }
                    let in_link = in_link || tag == "a";
                    nodes.push(Node {
                        el: ElementRef::wrap(node),
                        tag,
                        text: "",
                        parent,
                        children: Vec::new(),
                        end: ix + 1,
                        hint: hint_of(el),
                        in_link,
                        removed: false,
                        chars: 0,
                        link_chars: 0,
                        commas: 0,
                        paras: u32::from(tag == "p"),
                        images: 0,
                    });
                    let children: Vec<_> = node.children().collect();
                    for child in children.into_iter().rev() {
                        stack.push((child, ix, in_link));
                    }
                }
                _ => continue,
            }
            if parent != NONE {
                nodes[parent].children.push(ix);
            }
        }
        for ix in (1..nodes.len()).rev() {
            let (parent, end, images) = (nodes[ix].parent, nodes[ix].end, nodes[ix].images);
            nodes[parent].end = nodes[parent].end.max(end);
            nodes[parent].images += images;
        }
        let mut dom = Dom { nodes };
        dom.recount();
        dom
    }

    /// Marks page furniture as removed. With `use_hints` false only structural furniture
    /// (`<header>`, `<form>`, under half the page text) and what can never be the article
    /// (comments, consent banners) is removed. With hints, class/id furniture goes too, unless
    /// it holds much of the page text and so may be a wrapper of the article: junk under 60%
    /// of the text (25% when it also looks like content), header/footer-like under 40%.
    pub fn mark_boilerplate(&mut self, use_hints: bool) {
        self.reset();
        let Some(root) = self.nodes.first() else {
            return;
        };
        let total = root.chars.max(1) as f32;
        for ix in 1..self.nodes.len() {
            let parent = self.nodes[ix].parent;
            let node = &self.nodes[ix];
            if self.nodes[parent].removed {
                self.nodes[ix].removed = true;
                continue;
            }
            if node.is_text() {
                continue;
            }
            let hint = node.hint;
            let share = node.chars as f32 / total;
            let structural = matches!(node.tag, "header" | "form");
            let remove = if hint.body {
                false
            } else if structural {
                share < 0.5
            } else if hint.never && node.tag != "article" && node.tag != "main" {
                true
            } else if !use_hints || matches!(node.tag, "article" | "main") {
                false
            } else if hint.junk {
                share < if hint.positive { 0.25 } else { 0.6 }
            } else {
                hint.negative && share < 0.4 && !hint.positive
            };
            self.nodes[ix].removed = remove;
        }
        self.recount();
    }

    /// Sums text statistics over each subtree, counting only nodes not removed.
    pub fn recount(&mut self) {
        for node in &mut self.nodes {
            if !node.is_text() {
                node.chars = 0;
                node.link_chars = 0;
                node.commas = 0;
                node.paras = u32::from(node.tag == "p");
            }
        }
        // Children always come after their parent, so one backward sweep sums the subtrees.
        for ix in (1..self.nodes.len()).rev() {
            let child = &self.nodes[ix];
            if child.removed {
                continue;
            }
            let (parent, chars, link_chars, commas, paras) = (
                child.parent,
                child.chars,
                child.link_chars,
                child.commas,
                child.paras,
            );
            let p = &mut self.nodes[parent];
            p.chars += chars;
            p.link_chars += link_chars;
            p.commas += commas;
            p.paras += paras;
        }
    }

    /// Clears all removal marks.
    pub fn reset(&mut self) {
        for node in &mut self.nodes {
            node.removed = false;
        }
        self.recount();
    }

    /// Whether `ancestor` is `ix` or one of its ancestors.
    pub fn contains(&self, ancestor: Ix, mut ix: Ix) -> bool {
        while ix != NONE {
            if ix == ancestor {
                return true;
            }
            ix = self.nodes[ix].parent;
        }
        false
    }
}

/// The last non-blank text in the subtree of `ix`.
pub fn last_text<'a>(dom: &Dom<'a>, ix: Ix) -> &'a str {
    (ix..dom.nodes[ix].end)
        .rev()
        .map(|i| &dom.nodes[i])
        .find(|n| n.is_text() && !n.removed && !n.text.trim().is_empty())
        .map_or("", |n| n.text)
}

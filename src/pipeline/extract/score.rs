//! Finds the element that holds the article: every paragraph-like block gives points to its
//! nearest ancestors (more for longer, comma-rich text), points are scaled by the class/id
//! hints and discounted by link density; the best ancestor wins and related siblings join it.

use super::dom::{Dom, Ix, NONE, is_block, last_text};

/// Blocks shorter than this (non-whitespace characters) do not vote.
const MIN_VOTE_CHARS: u32 = 20;
/// How many ancestors a block's vote reaches.
const VOTE_DEPTH: usize = 5;

/// Inline elements: their text belongs to the block around them.
fn is_inline(tag: &str) -> bool {
    !is_block(tag)
}

/// Elements that are one paragraph whatever they contain.
fn is_paragraph_tag(tag: &str) -> bool {
    matches!(tag, "p" | "pre" | "blockquote")
}

/// Text (non-whitespace characters, commas) that element `ix` holds outside its block
/// children: a `<p>`, or the loose text of a `<div>` that mixes text with blocks.
fn inline_text(dom: &Dom, ix: Ix) -> (u32, u32) {
    let node = &dom.nodes[ix];
    if is_paragraph_tag(node.tag) {
        return (node.chars, node.commas);
    }
    let (mut chars, mut commas) = (0, 0);
    for &c in &node.children {
        let child = &dom.nodes[c];
        if !child.removed && (child.is_text() || is_inline(child.tag)) {
            chars += child.chars;
            commas += child.commas;
        }
    }
    (chars, commas)
}

fn tag_base(tag: &str) -> f32 {
    match tag {
        "div" | "article" | "main" | "section" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    }
}

/// Score of every element that received votes (`None` for the others).
fn vote(dom: &Dom) -> Vec<Option<f32>> {
    let mut scores: Vec<Option<f32>> = vec![None; dom.nodes.len()];
    for ix in 0..dom.nodes.len() {
        let node = &dom.nodes[ix];
        if node.removed || node.is_text() || node.chars < MIN_VOTE_CHARS || is_inline(node.tag) {
            continue;
        }
        if matches!(
            node.tag,
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "body" | "html"
        ) {
            continue;
        }
        let (chars, commas) = inline_text(dom, ix);
        if chars < MIN_VOTE_CHARS {
            continue;
        }
        let content = 1.0 + commas as f32 + (chars as f32 / 100.0).min(3.0);
        // A paragraph votes for its container; loose text votes for the element holding it,
        // which stands in for the paragraph wrapper the markup left out.
        let mut ancestor = if is_paragraph_tag(node.tag) {
            node.parent
        } else {
            ix
        };
        let mut level = 0;
        while ancestor != NONE && level < VOTE_DEPTH {
            let a = &dom.nodes[ancestor];
            let score = scores[ancestor].get_or_insert_with(|| tag_base(a.tag) + a.hint.weight());
            *score += match level {
                0 => content,
                1 => content / 2.0,
                _ => content / (level as f32 * 3.0),
            };
            ancestor = a.parent;
            level += 1;
        }
    }
    for (ix, score) in scores.iter_mut().enumerate() {
        if let Some(s) = score {
            *s *= 1.0 - dom.nodes[ix].link_density();
        }
    }
    scores
}

/// The elements that make up the article, in document order.
pub fn choose(dom: &Dom) -> Vec<Ix> {
    let scores = vote(dom);
    let best = scores
        .iter()
        .enumerate()
        .filter_map(|(ix, s)| s.map(|s| (ix, s)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let Some((mut top, mut top_score)) = best else {
        // No candidate: the whole body, if anything of it is left (a hidden body leaves none).
        return if dom.nodes.is_empty() {
            vec![]
        } else {
            vec![0]
        };
    };
    // A container of several `<article>`s is a listing (teasers of other articles, maybe
    // the article too): the page's article is then its longest `<article>`.
    let articles = leaf_articles(dom);
    let inside = articles
        .iter()
        .filter(|&&a| a > top && a < dom.nodes[top].end)
        .count();
    if inside >= 2 {
        let longest = articles
            .iter()
            .copied()
            .max_by_key(|&a| dom.nodes[a].chars - dom.nodes[a].link_chars);
        if let Some(a) = longest {
            (top, top_score) = (a..dom.nodes[a].end)
                .filter_map(|i| scores[i].map(|s| (i, s)))
                .max_by(|x, y| x.1.total_cmp(&y.1))
                .unwrap_or((a, 0.0));
        }
    }
    // A page that declares its article body (`itemprop="articleBody"`) near the best
    // candidate is taken at its word: the whole declared body is the article.
    let mut up = top;
    for _ in 0..4 {
        let node = &dom.nodes[up];
        if node.hint.declared && !node.removed && node.link_density() < 0.5 {
            top = up;
            break;
        }
        if node.parent == NONE {
            break;
        }
        up = node.parent;
    }
    let parent = dom.nodes[top].parent;
    if parent == NONE {
        return vec![top];
    }
    let threshold = (top_score * 0.2).max(10.0);
    let mut roots = Vec::new();
    for &sib in &dom.nodes[parent].children {
        let node = &dom.nodes[sib];
        if node.removed || node.is_text() {
            continue;
        }
        if sib != top && node.tag == "article" {
            continue;
        }
        let joins = sib == top
            || scores[sib].is_some_and(|s| s >= threshold)
            || (node.tag == "p" && node.chars >= 70 && node.link_density() < 0.25)
            || (node.tag == "p"
                && node.link_chars == 0
                && node.chars >= 20
                && ends_sentence(dom, sib))
            || (sib < top && is_fact_box(dom, sib));
        if joins {
            roots.push(sib);
        }
    }
    add_headings_between(dom, parent, &mut roots);
    add_twins(dom, top, &mut roots);
    roots
}

/// Adds the section headings ("Next steps", "Background") that sit, alone in their wrapper,
/// between two parts of the article: siblings with too little text to be voted for.
fn add_headings_between(dom: &Dom, parent: Ix, roots: &mut Vec<Ix>) {
    let (Some(&first), Some(&last)) = (roots.first(), roots.last()) else {
        return;
    };
    let mut added = false;
    for &sib in &dom.nodes[parent].children {
        if sib <= first || sib >= last || roots.contains(&sib) {
            continue;
        }
        let node = &dom.nodes[sib];
        if node.removed || node.is_text() || node.chars == 0 || node.chars > 80 {
            continue;
        }
        let mut inner = sib;
        loop {
            let n = &dom.nodes[inner];
            if matches!(n.tag, "h2" | "h3" | "h4" | "h5" | "h6") {
                break;
            }
            let kids: Vec<Ix> = n
                .children
                .iter()
                .copied()
                .filter(|&c| !dom.nodes[c].removed && dom.nodes[c].chars > 0)
                .collect();
            match kids.as_slice() {
                [only] if !dom.nodes[*only].is_text() => inner = *only,
                _ => break,
            }
        }
        if matches!(dom.nodes[inner].tag, "h2" | "h3" | "h4" | "h5" | "h6")
            && dom.nodes[inner].link_chars == 0
        {
            roots.push(sib);
            added = true;
        }
    }
    if added {
        roots.sort_unstable();
    }
}

/// Items of a fact box: at least this many…
const FACT_ITEMS: usize = 2;
/// …each with at least this many non-whitespace characters (a statement, not a menu entry).
const FACT_CHARS: u32 = 25;

/// A box of key facts above the body (European Parliament press releases): a list, alone in
/// its wrapper, of two or more link-free statements. It is a sibling of the body with too
/// little text to be voted for, but it is article content.
fn is_fact_box(dom: &Dom, ix: Ix) -> bool {
    let mut list = ix;
    while !matches!(dom.nodes[list].tag, "ul" | "ol") {
        let children: Vec<Ix> = dom.nodes[list]
            .children
            .iter()
            .copied()
            .filter(|&c| {
                let n = &dom.nodes[c];
                !n.removed && (!n.is_text() || !n.text.trim().is_empty())
            })
            .collect();
        match children.as_slice() {
            [only] if !dom.nodes[*only].is_text() => list = *only,
            _ => return false,
        }
    }
    let node = &dom.nodes[list];
    let items: Vec<&super::dom::Node> = node
        .children
        .iter()
        .map(|&c| &dom.nodes[c])
        .filter(|n| !n.removed && n.tag == "li")
        .collect();
    node.link_chars == 0
        && !node.removed
        && items.len() >= FACT_ITEMS
        && items.iter().all(|li| li.chars >= FACT_CHARS)
}

/// Adds the parts of an article split over several containers: elements elsewhere in the
/// page with the same tag and class as the chosen one (sites often interleave body parts
/// with ads or asides), when they hold text rather than links.
fn add_twins(dom: &Dom, top: Ix, roots: &mut Vec<Ix>) {
    let Some(class) = dom.nodes[top].el.and_then(|e| e.attr("class")) else {
        return;
    };
    let tag = dom.nodes[top].tag;
    if tag == "article" {
        // Other `<article>`s of the same class are other articles.
        return;
    }
    let before = roots.len();
    let mut ix = 0;
    while ix < dom.nodes.len() {
        let node = &dom.nodes[ix];
        let covered = roots[..before]
            .iter()
            .any(|&r| ix >= r && ix < dom.nodes[r].end);
        if node.removed || covered {
            ix = node.end;
            continue;
        }
        let twin = node.tag == tag
            && node.el.and_then(|e| e.attr("class")) == Some(class)
            && node.chars > 0
            && node.link_density() < 0.5
            && !dom.contains(ix, top);
        if twin {
            roots.push(ix);
            ix = node.end;
        } else {
            ix += 1;
        }
    }
    if roots.len() > before {
        roots.sort_unstable();
    }
}

/// `<article>` elements with some text and no `<article>` inside, in document order.
fn leaf_articles(dom: &Dom) -> Vec<Ix> {
    let all: Vec<Ix> = (0..dom.nodes.len())
        .filter(|&i| dom.nodes[i].tag == "article" && !dom.nodes[i].removed)
        .collect();
    all.iter()
        .enumerate()
        .filter(|&(k, &a)| {
            dom.nodes[a].chars >= 50 && all.get(k + 1).is_none_or(|&next| next >= dom.nodes[a].end)
        })
        .map(|(_, &a)| a)
        .collect()
}

/// Whether the last text of element `ix` ends a sentence.
fn ends_sentence(dom: &Dom, ix: Ix) -> bool {
    last_text(dom, ix)
        .trim_end()
        .ends_with(['.', '!', '?', '。', '»', '"', '”'])
}

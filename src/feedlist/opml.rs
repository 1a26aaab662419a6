//! OPML 2.0, the feed list format of feed readers (read and written with the `opml` crate): feed
//! outlines (`xmlUrl`) with their category — the outline they are nested in (`Folder/Sub` when
//! nested deeper), else their `category` attribute — title and language.

use chrono::Utc;
use opml::{Body, Head, OPML, Outline};

/// A feed of an OPML document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OpmlFeed {
    /// `text`, else `title`: the name a reader shows.
    pub text: String,
    pub title: Option<String>,
    pub url: String,
    pub html_url: Option<String>,
    /// Nested outlines' names joined by `/`, else the `category` attribute.
    pub category: Option<String>,
    pub language: Option<String>,
    /// The outline's `type` (`rss`, or FreshRSS's `HTML+XPath` for a scraped page).
    pub kind: Option<String>,
}

impl OpmlFeed {
    /// Whether `xmlUrl` is a feed document (RSS, Atom, JSON Feed), not a page another reader
    /// scrapes with its own rules (FreshRSS `HTML+XPath`, `XML+XPath`, `JSON+DotNotation`).
    pub fn is_feed(&self) -> bool {
        self.kind.as_deref().is_none_or(|k| {
            matches!(
                k.trim().to_ascii_lowercase().as_str(),
                "" | "rss" | "atom" | "feed" | "json" | "jsonfeed"
            )
        })
    }
}

/// Why an OPML document could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not a readable OPML document: {0}")]
pub struct OpmlError(String);

/// The feeds of an OPML document, in document order.
pub fn read(xml: &str) -> Result<Vec<OpmlFeed>, OpmlError> {
    // The parser wants the document element first: drop a byte-order mark.
    let xml = xml.trim_start_matches('\u{feff}');
    let doc = OPML::from_str(xml).map_err(|e| {
        let detail = match &e {
            opml::Error::XmlError(x) => format!("{e}: {x}"),
            _ => e.to_string(),
        };
        OpmlError(detail)
    })?;
    let mut out = Vec::new();
    for o in &doc.body.outlines {
        walk(o, &mut Vec::new(), &mut out);
    }
    Ok(out)
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn walk(o: &Outline, folders: &mut Vec<String>, out: &mut Vec<OpmlFeed>) {
    let label = non_empty(Some(&o.text)).or_else(|| non_empty(o.title.as_deref()));
    if let Some(url) = non_empty(o.xml_url.as_deref()) {
        let category = if folders.is_empty() {
            // `category="/Tech/News,/Other"`: the first one, without its leading slash
            o.category.as_deref().and_then(|c| {
                non_empty(
                    c.split(',')
                        .next()
                        .map(|c| c.trim().trim_start_matches('/')),
                )
            })
        } else {
            Some(folders.join("/"))
        };
        out.push(OpmlFeed {
            text: label.clone().unwrap_or_else(|| url.clone()),
            title: non_empty(o.title.as_deref()),
            url,
            html_url: non_empty(o.html_url.as_deref()),
            category,
            language: non_empty(o.language.as_deref()),
            kind: non_empty(o.r#type.as_deref()),
        });
        for child in &o.outlines {
            walk(child, folders, out);
        }
        return;
    }
    folders.push(label.unwrap_or_default());
    for child in &o.outlines {
        walk(child, folders, out);
    }
    folders.pop();
}

/// An OPML 2.0 document of `feeds`: those with a category nested in an outline of that name
/// (one level per `/`), in the order given.
pub fn write(title: &str, feeds: &[OpmlFeed]) -> String {
    let mut body = Body::default();
    for f in feeds {
        let outline = Outline {
            text: f.text.clone(),
            title: Some(f.title.clone().unwrap_or_else(|| f.text.clone())),
            r#type: Some("rss".into()),
            xml_url: Some(f.url.clone()),
            html_url: f.html_url.clone(),
            language: f.language.clone(),
            ..Outline::default()
        };
        let mut level = &mut body.outlines;
        for folder in f.category.iter().flat_map(|c| c.split('/')) {
            let at = match level
                .iter()
                .position(|o| o.xml_url.is_none() && o.text == folder)
            {
                Some(i) => i,
                None => {
                    level.push(Outline {
                        text: folder.to_string(),
                        title: Some(folder.to_string()),
                        ..Outline::default()
                    });
                    level.len() - 1
                }
            };
            level = &mut level[at].outlines;
        }
        level.push(outline);
    }
    let doc = OPML {
        version: "2.0".into(),
        head: Some(Head {
            title: Some(title.into()),
            date_created: Some(Utc::now().to_rfc2822()),
            ..Head::default()
        }),
        body,
    };
    let xml = doc
        .to_string()
        .expect("an OPML document built from strings serialises");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        indent(&xml)
    )
}

/// One element per line, two spaces per level; an element holding only text stays on its line.
fn indent(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() + xml.len() / 8);
    let mut depth: usize = 0;
    let mut at = 0;
    while let Some(start) = xml[at..].find('<').map(|p| p + at) {
        let Some(end) = xml[start..].find('>').map(|p| p + start + 1) else {
            break;
        };
        let tag = &xml[start..end];
        let line = |out: &mut String, depth: usize| {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&"  ".repeat(depth));
        };
        if tag.starts_with("</") {
            depth = depth.saturating_sub(1);
            line(&mut out, depth);
            out.push_str(tag);
            at = end;
        } else if tag.ends_with("/>") {
            line(&mut out, depth);
            out.push_str(tag);
            at = end;
        } else if !xml[end..].starts_with('<') {
            // <title>text</title>
            let close = xml[end..].find('<').map_or(xml.len(), |p| p + end);
            let close_end = xml[close..].find('>').map_or(xml.len(), |p| p + close + 1);
            line(&mut out, depth);
            out.push_str(&xml[start..close_end]);
            at = close_end;
        } else {
            line(&mut out, depth);
            out.push_str(tag);
            depth += 1;
            at = end;
        }
    }
    out.push_str(&xml[at..]);
    out
}

//! HTML listing pages → items, with the CSS selectors of `[feeds.html]`.

use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::{Found, HtmlRules, Page, RuleError, SourceError, resolve};
use crate::model::ParsedFeed;
use crate::pipeline::charset::decode_html;
use crate::pipeline::date::parse_date;
use crate::pipeline::parse::normalise_language;
use crate::pipeline::text::html_to_text;

/// The rules' selectors, compiled.
pub(super) struct Compiled {
    item: Selector,
    link: Selector,
    title: Option<Selector>,
    date: Option<Selector>,
    summary: Option<Selector>,
    next_page: Option<Selector>,
}

fn compile(field: &'static str, selector: &str) -> Result<Selector, RuleError> {
    if selector.trim().is_empty() {
        return Err(RuleError {
            field,
            message: "empty CSS selector; expected one such as \"div.card\" or \"a[href]\"".into(),
        });
    }
    Selector::parse(selector).map_err(|e| RuleError {
        field,
        message: format!(
            "invalid CSS selector {selector:?}: {}",
            crate::pipeline::extract::selector_error(&e)
        ),
    })
}

fn compile_opt(field: &'static str, selector: Option<&str>) -> Result<Option<Selector>, RuleError> {
    selector.map(|s| compile(field, s)).transpose()
}

impl Compiled {
    pub(super) fn new(rules: &HtmlRules) -> Result<Compiled, RuleError> {
        Ok(Compiled {
            item: compile("item", &rules.item)?,
            link: compile("link", &rules.link)?,
            title: compile_opt("title", rules.title.as_deref())?,
            date: compile_opt("date", rules.date.as_deref())?,
            summary: compile_opt("summary", rules.summary.as_deref())?,
            next_page: compile_opt("next_page", rules.next_page.as_deref())?,
        })
    }
}

/// Reads one listing page fetched from `url`.
pub(super) fn parse(
    body: &[u8],
    content_type: Option<&str>,
    url: &str,
    rules: &HtmlRules,
) -> Result<Page, SourceError> {
    let sel = Compiled::new(rules).map_err(SourceError::Rule)?;
    let (html, _) = decode_html(body, content_type);
    let doc = Html::parse_document(&crate::pipeline::nesting::limit_depth(&html));
    let base = base_url(&doc, url);

    let cards: Vec<ElementRef<'_>> = doc.select(&sel.item).collect();
    if cards.is_empty() {
        return Err(SourceError::NoItems {
            selector: rules.item.clone(),
            url: url.to_string(),
        });
    }
    let items: Vec<_> = cards
        .iter()
        .filter_map(|card| read_item(*card, &sel, base.as_ref()))
        .map(Found::into_item)
        .collect();
    if items.is_empty() {
        return Err(SourceError::NoLinks {
            selector: rules.link.clone(),
            items: cards.len(),
            url: url.to_string(),
        });
    }
    let next = sel
        .next_page
        .as_ref()
        .and_then(|s| doc.select(s).find_map(|a| a.value().attr("href")))
        .and_then(|href| resolve(base.as_ref(), href))
        .map(String::from);
    Ok(Page {
        feed: ParsedFeed {
            title: first(&doc, "title").map(text_of).filter(|t| !t.is_empty()),
            language: doc
                .root_element()
                .value()
                .attr("lang")
                .map(normalise_language)
                .filter(|l| !l.is_empty()),
            ttl: None,
            items,
            warnings: Vec::new(),
        },
        next,
    })
}

/// The page URL, or the page's `<base href>` resolved against it.
fn base_url(doc: &Html, url: &str) -> Option<Url> {
    let page = Url::parse(url).ok();
    let base = first(doc, "base[href]")
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| resolve(page.as_ref(), href));
    base.or(page)
}

fn first<'a>(doc: &'a Html, selector: &str) -> Option<ElementRef<'a>> {
    let s = Selector::parse(selector).expect("fixed selector");
    doc.select(&s).next()
}

fn read_item(card: ElementRef<'_>, sel: &Compiled, base: Option<&Url>) -> Option<Found> {
    // The first match whose href is a web link (not `#`, not `mailto:`); the link may be the
    // card itself (`item = "a.card"`, `link = "a"`).
    let href = |a: ElementRef<'_>| a.value().attr("href").and_then(|h| resolve(base, h));
    let (anchor, link) = card
        .select(&sel.link)
        .find_map(|a| href(a).map(|l| (a, l)))
        .or_else(|| {
            sel.link
                .matches(&card)
                .then(|| href(card).map(|l| (card, l)))
                .flatten()
        })?;
    let within = |s: &Option<Selector>| s.as_ref().and_then(|s| card.select(s).next());
    let title = within(&sel.title)
        .map(text_of)
        .filter(|t| !t.is_empty())
        .or_else(|| Some(text_of(anchor)).filter(|t| !t.is_empty()))
        .or_else(|| anchor.value().attr("title").map(str::to_string));
    let published = within(&sel.date).and_then(|d| {
        ["datetime", "content", "data-date"]
            .iter()
            .filter_map(|a| d.value().attr(a))
            .find_map(parse_date)
            .or_else(|| parse_date(&text_of(d)))
    });
    let summary_html = within(&sel.summary).map(|s| s.inner_html());
    Some(Found {
        link,
        title,
        published,
        summary_html,
        guid: None,
    })
}

/// An element's text on one line.
fn text_of(el: ElementRef<'_>) -> String {
    html_to_text(&el.inner_html()).replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The items as the pipeline stores them (titles and texts finished).
    fn finished(mut page: Page) -> Page {
        page.feed
            .items
            .iter_mut()
            .for_each(crate::pipeline::clean::finish);
        page
    }

    fn rules() -> HtmlRules {
        HtmlRules {
            item: "div.card".into(),
            link: "a[href]".into(),
            title: Some("h3".into()),
            date: Some("time, .date".into()),
            summary: Some("p.summary".into()),
            next_page: Some("a[rel=next]".into()),
            max_pages: 3,
        }
    }

    const PAGE: &str = r##"<html lang="en-GB"><head><title> Press material | EEAS </title></head><body>
      <div class="card"><h3>EU and NATO <em>cyber</em> talks</h3><a href="/eeas/a_en">Read more</a>
        <time datetime="2026-11-24T09:00:00+01:00">24.11.2026</time><p class="summary">Joint <b>statement</b>.</p></div>
      <div class="card"><a href="b_en?utm_source=x">Second item</a><span class="date">23 November 2026</span></div>
      <div class="card"><span>No link here</span></div>
      <div class="card"><a href="mailto:press@eeas.europa.eu">Contact</a></div>
      <div class="card"><h3>Third</h3><a href="#">Share</a><a href="/eeas/c_en">More</a></div>
      <a rel="next" href="?page=1">Next</a></body></html>"##;

    #[test]
    fn cards_become_items_with_resolved_links_dates_and_summaries() {
        let page = finished(
            parse(
                PAGE.as_bytes(),
                Some("text/html"),
                "https://www.eeas.europa.eu/eeas/press-material_en",
                &rules(),
            )
            .unwrap(),
        );
        let feed = &page.feed;
        assert_eq!(feed.title.as_deref(), Some("Press material | EEAS"));
        assert_eq!(feed.language.as_deref(), Some("en"));
        assert_eq!(feed.items.len(), 3, "{:#?}", feed.items);
        assert_eq!(
            feed.items[2].url.as_deref(),
            Some("https://www.eeas.europa.eu/eeas/c_en"),
            "an href that is no web link is passed over"
        );
        let a = &feed.items[0];
        assert_eq!(a.title, "EU and NATO cyber talks");
        assert_eq!(
            a.url.as_deref(),
            Some("https://www.eeas.europa.eu/eeas/a_en")
        );
        assert_eq!(a.guid, "https://www.eeas.europa.eu/eeas/a_en");
        assert_eq!(
            a.published.unwrap().to_rfc3339(),
            "2026-11-24T08:00:00+00:00"
        );
        assert_eq!(a.text, "Joint statement.");
        let b = &feed.items[1];
        assert_eq!(b.title, "Second item", "the link text is the default title");
        assert_eq!(b.guid, "https://www.eeas.europa.eu/eeas/b_en");
        assert_eq!(
            b.published.unwrap().format("%Y-%m-%d").to_string(),
            "2026-11-23"
        );
        assert_eq!(
            page.next.as_deref(),
            Some("https://www.eeas.europa.eu/eeas/press-material_en?page=1")
        );
    }

    #[test]
    fn a_selector_matching_nothing_is_an_error_naming_it() {
        let mut r = rules();
        r.item = "article.teaser".into();
        let e = parse(PAGE.as_bytes(), None, "https://x.eu/list", &r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "html source: selector \"article.teaser\" matched nothing on https://x.eu/list"
        );
        let mut r = rules();
        r.link = "a.nope".into();
        let e = parse(PAGE.as_bytes(), None, "https://x.eu/list", &r).unwrap_err();
        assert!(matches!(e, SourceError::NoLinks { items: 5, .. }), "{e}");
    }

    #[test]
    fn the_card_itself_may_be_the_link_and_base_href_applies() {
        let html = r#"<head><base href="https://cdn.x.eu/news/"></head>
          <a class="teaser" href="one">One</a><a class="teaser" href="two">Two</a>"#;
        let r = HtmlRules {
            item: "a.teaser".into(),
            link: "a".into(),
            title: None,
            date: None,
            summary: None,
            next_page: None,
            max_pages: 1,
        };
        let page = finished(parse(html.as_bytes(), None, "https://x.eu/", &r).unwrap());
        let urls: Vec<_> = page
            .feed
            .items
            .iter()
            .filter_map(|i| i.url.as_deref())
            .collect();
        assert_eq!(
            urls,
            ["https://cdn.x.eu/news/one", "https://cdn.x.eu/news/two"]
        );
        assert_eq!(page.next, None);
    }

    #[test]
    fn bad_selectors_name_their_key() {
        let mut r = rules();
        r.summary = Some("p[".into());
        let e = Compiled::new(&r).err().unwrap();
        assert_eq!(e.field, "summary");
        assert!(e.message.contains("\"p[\""), "{e}");
    }
}

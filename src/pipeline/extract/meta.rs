//! Page metadata: title, publication date, declared language, and the JSON-LD article
//! fields (`headline`, `datePublished`, `articleBody`) some sites embed.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use scraper::Html;
use serde_json::Value;

/// What the page says about itself.
#[derive(Debug, Default)]
pub struct Meta {
    pub title: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub language: Option<String>,
    /// `articleBody` from JSON-LD, if any.
    pub json_ld_body: Option<String>,
    /// The page has a password field (a login form).
    pub has_password: bool,
}

/// Metadata keys (`property`, `name`, `itemprop`) that carry a publication date.
const DATE_KEYS: &[&str] = &[
    "article:published_time",
    "datepublished",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "dcterms.issued",
    "dcterms.created",
    "pubdate",
    "publishdate",
    "publish-date",
    "publication_date",
    "sailthru.date",
    "parsely-pub-date",
    "og:published_time",
    "article.published",
    "date.release",
];

/// Reads the metadata of a parsed page in one pass over its elements.
pub fn read(html: &Html) -> Meta {
    let mut og_title = None;
    let mut og_locale = None;
    let mut content_language = None;
    let mut meta_date = None;
    let mut item_date = None;
    let mut time_date = None;
    let mut h1 = None;
    let mut title_tag = None;
    let mut has_password = false;
    let mut ld = JsonLd::default();
    for e in html.root_element().descendent_elements() {
        let el = e.value();
        match el.name() {
            "meta" => {
                let content = el.attr("content").unwrap_or("").trim();
                if content.is_empty() {
                    continue;
                }
                let key = el
                    .attr("property")
                    .or_else(|| el.attr("name"))
                    .or_else(|| el.attr("itemprop"))
                    .or_else(|| el.attr("http-equiv"))
                    .unwrap_or("")
                    .to_ascii_lowercase();
                match key.as_str() {
                    "og:title" if og_title.is_none() => og_title = Some(collapse(content)),
                    "og:locale" if og_locale.is_none() => og_locale = Some(content.to_string()),
                    "content-language" if content_language.is_none() => {
                        content_language = Some(content.to_string())
                    }
                    k if meta_date.is_none() && DATE_KEYS.contains(&k) => {
                        meta_date = parse_date(content)
                    }
                    _ => {}
                }
                continue;
            }
            "script" => {
                if el
                    .attr("type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
                {
                    let text: String = e.text().collect();
                    if let Ok(value) = serde_json::from_str::<Value>(text.trim()) {
                        ld.visit(&value, 0);
                    }
                }
                continue;
            }
            "h1" if h1.is_none() => {
                h1 = Some(collapse(&e.text().collect::<String>())).filter(|t| !t.is_empty());
            }
            "title" if title_tag.is_none() => {
                title_tag = Some(collapse(&e.text().collect::<String>())).filter(|t| !t.is_empty());
            }
            "time" if time_date.is_none() => time_date = el.attr("datetime").and_then(parse_date),
            "input" => {
                has_password |= el
                    .attr("type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("password"));
            }
            _ => {}
        }
        if item_date.is_none()
            && el
                .attr("itemprop")
                .is_some_and(|v| v.eq_ignore_ascii_case("datePublished"))
        {
            item_date = el
                .attr("content")
                .or_else(|| el.attr("datetime"))
                .and_then(parse_date);
        }
    }

    let title = og_title.or(ld.headline).or(h1).or(title_tag);
    let published = meta_date.or(ld.published).or(item_date).or(time_date);
    let root = html.root_element().value();
    let language = root
        .attr("lang")
        .or_else(|| root.attr("xml:lang"))
        .and_then(normalize_lang)
        .or_else(|| og_locale.as_deref().and_then(normalize_lang))
        .or_else(|| content_language.as_deref().and_then(normalize_lang));

    Meta {
        title,
        published,
        language,
        json_ld_body: ld.body,
        has_password,
    }
}

/// Fields gathered from JSON-LD blocks (first article-like object wins).
#[derive(Default)]
struct JsonLd {
    headline: Option<String>,
    published: Option<DateTime<Utc>>,
    body: Option<String>,
}

impl JsonLd {
    fn visit(&mut self, value: &Value, depth: usize) {
        if depth > 8 {
            return;
        }
        match value {
            Value::Array(items) => items.iter().for_each(|v| self.visit(v, depth + 1)),
            Value::Object(map) => {
                if let Some(Value::String(body)) = map.get("articleBody")
                    && self.body.is_none()
                    && !body.trim().is_empty()
                {
                    self.body = Some(body.clone());
                }
                if let Some(Value::String(h)) = map.get("headline")
                    && self.headline.is_none()
                {
                    self.headline = Some(collapse(h));
                }
                if let Some(Value::String(d)) = map.get("datePublished")
                    && self.published.is_none()
                {
                    self.published = parse_date(d);
                }
                if let Some(graph) = map.get("@graph") {
                    self.visit(graph, depth + 1);
                }
                if let Some(main) = map.get("mainEntity") {
                    self.visit(main, depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// `en_GB` / `EN-gb` / `en-GB,fr` → `en-gb`; rejects values that are not language tags.
pub fn normalize_lang(raw: &str) -> Option<String> {
    let first = raw.split([',', ';']).next()?.trim();
    let tag = first.replace('_', "-").to_ascii_lowercase();
    let primary = tag.split('-').next()?;
    let ok = (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
    ok.then_some(tag)
}

/// Parses the date formats found in page metadata; a date without a zone is taken as UTC.
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&d));
        }
    }
    let day = s.get(..10).unwrap_or(s);
    for fmt in ["%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%d/%m/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(day, fmt) {
            return d.and_hms_opt(0, 0, 0).map(|d| Utc.from_utc_datetime(&d));
        }
    }
    None
}

/// Collapses runs of whitespace to one space and trims.
pub fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_common_shapes() {
        let want = Utc.with_ymd_and_hms(2026, 3, 5, 9, 30, 0).unwrap();
        assert_eq!(parse_date("2026-03-05T10:30:00+01:00"), Some(want));
        assert_eq!(parse_date("2026-03-05T09:30:00Z"), Some(want));
        assert_eq!(parse_date("2026-03-05T10:30:00+0100"), Some(want));
        assert_eq!(parse_date("2026-03-05 09:30:00"), Some(want));
        assert_eq!(parse_date("Thu, 05 Mar 2026 09:30:00 GMT"), Some(want));
        let day = Utc.with_ymd_and_hms(2026, 3, 5, 0, 0, 0).unwrap();
        assert_eq!(parse_date("2026-03-05"), Some(day));
        assert_eq!(parse_date("05.03.2026"), Some(day));
        assert_eq!(parse_date("last Tuesday"), None);
    }

    #[test]
    fn language_tags() {
        assert_eq!(normalize_lang("en_GB").as_deref(), Some("en-gb"));
        assert_eq!(normalize_lang(" FR ").as_deref(), Some("fr"));
        assert_eq!(normalize_lang("de-DE, en").as_deref(), Some("de-de"));
        assert_eq!(normalize_lang("{{lang}}"), None);
        assert_eq!(normalize_lang(""), None);
    }
}

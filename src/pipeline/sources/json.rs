//! JSON endpoints → items, with the dotted paths of `[feeds.json]` (`data.items`,
//! `responses.0.hits.hits`, `_source.title`).

use std::fmt;

use serde_json::Value;
use url::Url;

use super::{Found, JsonRules, Page, SourceError, resolve};
use crate::model::ParsedFeed;
use crate::pipeline::date::{from_timestamp, parse_date};

/// A dotted path into a JSON document; a numeric step indexes an array. `""` or `"."` is the
/// value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<String>,
}

impl JsonPath {
    /// Parses `data.items`, `results.0.hits`; rejects empty steps such as `data..items`.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed == "." {
            return Ok(JsonPath {
                text: ".".into(),
                steps: Vec::new(),
            });
        }
        let steps: Vec<String> = trimmed.split('.').map(|s| s.trim().to_string()).collect();
        if steps.iter().any(String::is_empty) {
            return Err(format!(
                "invalid path {text:?}: empty step; expected keys and array indexes joined by dots, such as \"data.items\" or \"results.0.hits\""
            ));
        }
        Ok(JsonPath {
            text: trimmed.to_string(),
            steps,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path in `value`, or why there is none.
    pub fn resolve<'a>(&self, value: &'a Value) -> Result<&'a Value, String> {
        let mut cur = value;
        for (i, step) in self.steps.iter().enumerate() {
            let at = if i == 0 {
                "the top level".to_string()
            } else {
                format!("{:?}", self.steps[..i].join("."))
            };
            cur = match cur {
                Value::Object(map) => map.get(step).ok_or_else(|| {
                    let mut keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
                    keys.sort_unstable();
                    format!("no key {step:?} at {at} (keys: {})", keys.join(", "))
                })?,
                Value::Array(items) => {
                    let n: usize = step.parse().map_err(|_| {
                        format!("{at} is an array; expected an index such as 0, not {step:?}")
                    })?;
                    items.get(n).ok_or_else(|| {
                        format!(
                            "index {n} is out of range at {at} ({} elements)",
                            items.len()
                        )
                    })?
                }
                other => return Err(format!("{at} is {}, not an object", kind(other))),
            };
        }
        Ok(cur)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A scalar as text: strings as they are, numbers written out.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads one response fetched from `url`.
pub(super) fn parse(body: &[u8], url: &str, rules: &JsonRules) -> Result<Page, SourceError> {
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let doc: Value = serde_json::from_slice(body).map_err(|e| SourceError::NotJson {
        reason: e.to_string(),
        url: url.to_string(),
    })?;
    let path_error = |reason: String| SourceError::Path {
        path: rules.items.to_string(),
        reason,
        url: url.to_string(),
    };
    let list = rules.items.resolve(&doc).map_err(path_error)?;
    let Value::Array(list) = list else {
        return Err(path_error(format!("it is {}, not an array", kind(list))));
    };
    if list.is_empty() {
        return Err(SourceError::Empty {
            path: rules.items.to_string(),
            url: url.to_string(),
        });
    }
    let base = rules.base_url.clone().or_else(|| Url::parse(url).ok());
    let items: Vec<_> = list
        .iter()
        .filter_map(|item| read_item(item, rules, base.as_ref()))
        .map(Found::into_item)
        .collect();
    if items.is_empty() {
        return Err(SourceError::NoJsonLinks {
            path: rules.link.to_string(),
            items: list.len(),
            url: url.to_string(),
        });
    }
    Ok(Page {
        feed: ParsedFeed {
            items,
            ..ParsedFeed::default()
        },
        next: None,
    })
}

fn read_item(item: &Value, rules: &JsonRules, base: Option<&Url>) -> Option<Found> {
    let field = |p: &Option<JsonPath>| p.as_ref().and_then(|p| p.resolve(item).ok());
    let link = rules.link.resolve(item).ok().and_then(as_text)?;
    let link = resolve(base, &link)?;
    let published = field(&rules.date).and_then(|d| match d {
        Value::Number(n) => n.as_f64().and_then(from_timestamp),
        Value::String(s) => parse_date(s),
        _ => None,
    });
    Some(Found {
        link,
        title: field(&rules.title).and_then(as_text),
        published,
        summary_html: field(&rules.summary).and_then(as_text),
        guid: field(&rules.guid).and_then(as_text),
    })
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

    fn path(s: &str) -> JsonPath {
        JsonPath::parse(s).unwrap()
    }

    fn rules(items: &str) -> JsonRules {
        JsonRules {
            items: path(items),
            link: path("url"),
            title: Some(path("title")),
            date: Some(path("date")),
            summary: Some(path("teaser")),
            guid: None,
            base_url: Some(Url::parse("https://www.nato.int/").unwrap()),
        }
    }

    const DOC: &str = r#"{"results":[{"total":3,"hits":[
        {"title":"Allies meet on <i>cyber</i> defence","url":"/cps/en/natohq/news_1.htm","date":"2026-11-24T10:00:00Z","teaser":"Short."},
        {"title":"Second","url":"https://www.nato.int/cps/en/natohq/news_2.htm","date":1795516200},
        {"title":"No link","date":"24.11.2026"},
        {"title":"Again the first","url":"/cps/en/natohq/news_1.htm#top"}
    ]}]}"#;

    #[test]
    fn paths_with_indexes_reach_the_items_and_links_resolve_against_base_url() {
        let page = finished(
            parse(
                DOC.as_bytes(),
                "https://api.x/search",
                &rules("results.0.hits"),
            )
            .unwrap(),
        );
        // `parse_page` dedupes; here the raw parse keeps the repeated link.
        let items = &page.feed.items;
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].title, "Allies meet on cyber defence");
        assert_eq!(
            items[0].url.as_deref(),
            Some("https://www.nato.int/cps/en/natohq/news_1.htm")
        );
        assert_eq!(items[0].text, "Short.");
        assert_eq!(
            items[1].published.unwrap().to_rfc3339(),
            "2026-11-24T10:30:00+00:00"
        );
        assert_eq!(
            items[2].guid, items[0].guid,
            "canonical link drops the fragment"
        );
    }

    #[test]
    fn a_path_that_does_not_resolve_says_where_it_stopped() {
        let e = parse(DOC.as_bytes(), "https://api.x/s", &rules("results.0.items")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("json source: path \"results.0.items\" does not resolve on https://api.x/s: no key \"items\" at \"results.0\""),
            "{msg}"
        );
        let e = parse(DOC.as_bytes(), "https://api.x/s", &rules("results.4")).unwrap_err();
        assert!(e.to_string().contains("index 4 is out of range"), "{e}");
        let e = parse(DOC.as_bytes(), "https://api.x/s", &rules("results.0.total")).unwrap_err();
        assert!(e.to_string().contains("a number, not an array"), "{e}");
        let e = parse(b"{\"hits\":[]}", "https://api.x/s", &rules("hits")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "json source: path \"hits\" gave 0 items on https://api.x/s"
        );
        let e = parse(b"<html>", "https://api.x/s", &rules("hits")).unwrap_err();
        assert!(e.to_string().starts_with("json source: not JSON"), "{e}");
    }

    #[test]
    fn paths_reject_empty_steps_and_accept_the_root() {
        assert!(JsonPath::parse("data..items").is_err());
        let root = path(".");
        let v: Value = serde_json::from_str("[1]").unwrap();
        assert_eq!(root.resolve(&v).unwrap(), &v);
    }

    #[test]
    fn a_guid_path_overrides_the_link() {
        let mut r = rules("results.0.hits");
        r.guid = Some(path("id"));
        let doc = r#"{"results":[{"hits":[{"id":230145,"url":"/n/1","title":"T"}]}]}"#;
        let page = finished(parse(doc.as_bytes(), "https://api.x/s", &r).unwrap());
        assert_eq!(page.feed.items[0].guid, "230145");
    }
}

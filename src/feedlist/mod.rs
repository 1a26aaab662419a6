//! The feed list as people manage it: `[[feeds]]` tables added to or removed from the
//! configuration file without disturbing the rest of it (`edit`), and OPML 2.0 in and out
//! (`opml`). Pure text in, text out; the commands read and write the files.

pub mod edit;
pub mod opml;

/// A feed to add to the configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewFeed {
    pub name: String,
    pub url: String,
    /// As written (`"30m"`); `None` leaves the default.
    pub every: Option<String>,
    pub language: Option<String>,
    pub category: Option<String>,
    /// Shown as a comment above the table (the feed's own title), when known.
    pub title: Option<String>,
}

/// A name for a feed: lower-case ASCII letters and digits joined by `-`, at most 40 characters
/// (`"EEAS – Press material"` → `eeas-press-material`); `None` when nothing usable is left.
pub fn slug(text: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    for c in text.nfkd() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !unicode_normalization::char::is_combining_mark(c) && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut s = out.trim_matches('-').to_string();
    if s.len() > 40 {
        s.truncate(40);
        s = s.trim_end_matches('-').to_string();
    }
    (!s.is_empty()).then_some(s)
}

/// `base`, or `base-2`, `base-3`… the first not in `taken`.
pub fn unique_name(base: &str, taken: &std::collections::HashSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}-{i}"))
        .find(|n| !taken.contains(n))
        .expect("some suffix is free")
}

/// A name for a feed from its title, else its host and path (`www.example.eu/en/rss.xml` →
/// `example-eu-en-rss-xml`), unique among `taken`.
pub fn name_for(
    title: Option<&str>,
    url: &str,
    taken: &std::collections::HashSet<String>,
) -> String {
    let from_url = || {
        url::Url::parse(url).ok().and_then(|u| {
            let host = u.host_str()?.trim_start_matches("www.").to_string();
            slug(&format!("{host} {}", u.path()))
        })
    };
    let base = title
        .and_then(slug)
        .or_else(from_url)
        .unwrap_or_else(|| "feed".into());
    unique_name(&base, taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_slugs_of_titles_or_urls_and_unique() {
        assert_eq!(
            slug("EEAS – Press material").unwrap(),
            "eeas-press-material"
        );
        assert_eq!(
            slug("Société générale — Ελλάδα").unwrap(),
            "societe-generale"
        );
        assert_eq!(slug("Ελλάδα"), None);
        let taken: std::collections::HashSet<String> =
            ["eeas".to_string(), "eeas-2".to_string()].into();
        assert_eq!(unique_name("eeas", &taken), "eeas-3");
        assert_eq!(
            name_for(None, "https://www.example.eu/en/rss.xml", &taken),
            "example-eu-en-rss-xml"
        );
        assert_eq!(name_for(Some("EEAS"), "https://x.eu/", &taken), "eeas-3");
        assert!(name_for(Some(&"word ".repeat(30)), "https://x.eu/", &taken).len() <= 40);
    }
}

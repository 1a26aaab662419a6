//! A watch list as an Atom feed (RFC 4287): its newest matches, the evidence in each summary.
//! Written by hand: every value escaped for XML and stripped of characters XML forbids.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

/// One entry.
pub struct Entry {
    pub id: i64,
    pub title: String,
    pub url: Option<String>,
    /// The item page in the web view.
    pub page: String,
    pub feed: String,
    pub updated: DateTime<Utc>,
    pub published: Option<DateTime<Utc>>,
    pub language: Option<String>,
    pub summary: String,
    pub topics: Vec<String>,
}

pub struct Feed {
    pub watchlist: String,
    pub topics: Vec<String>,
    /// This feed's own URL.
    pub this: String,
    /// The matches page of the watch list.
    pub page: String,
    pub entries: Vec<Entry>,
    pub now: DateTime<Utc>,
}

/// Text escaped for XML content and attribute values; characters XML 1.0 forbids are dropped.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c as u32, 0xFFFE | 0xFFFF) => {}
            c => out.push(c),
        }
    }
    out
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The feed document.
pub fn render(f: &Feed) -> String {
    let updated = f.entries.iter().map(|e| e.updated).max().unwrap_or(f.now);
    let mut o = String::new();
    let _ = write!(
        o,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>veille: {}</title>\n<subtitle>Matches of the watch list {} (topics: {})</subtitle>\n\
         <id>{}</id>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<updated>{}</updated>\n\
         <author><name>veille</name></author>\n<generator version=\"{}\">veille</generator>\n",
        xml(&f.watchlist),
        xml(&f.watchlist),
        xml(&f.topics.join(", ")),
        xml(&f.this),
        xml(&f.this),
        xml(&f.page),
        stamp(updated),
        env!("CARGO_PKG_VERSION"),
    );
    for e in &f.entries {
        let _ = write!(o, "<entry");
        if let Some(l) = &e.language {
            let _ = write!(o, " xml:lang=\"{}\"", xml(l));
        }
        let _ = write!(
            o,
            ">\n<title type=\"text\">{}</title>\n<id>urn:veille:item:{}</id>\n",
            xml(&e.title),
            e.id
        );
        if let Some(u) = e
            .url
            .as_deref()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        {
            let _ = writeln!(o, "<link rel=\"alternate\" href=\"{}\"/>", xml(u));
        }
        let _ = writeln!(
            o,
            "<link rel=\"related\" type=\"text/html\" href=\"{}\"/>",
            xml(&e.page)
        );
        let _ = writeln!(o, "<updated>{}</updated>", stamp(e.updated));
        if let Some(p) = e.published {
            let _ = writeln!(o, "<published>{}</published>", stamp(p));
        }
        let _ = writeln!(o, "<author><name>{}</name></author>", xml(&e.feed));
        for t in &e.topics {
            let _ = writeln!(o, "<category term=\"{}\"/>", xml(t));
        }
        let _ = write!(
            o,
            "<summary type=\"text\">{}</summary>\n</entry>\n",
            xml(&e.summary)
        );
    }
    o.push_str("</feed>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_stays_text_and_forbidden_characters_go() {
        assert_eq!(
            xml("<script>a&b</script>\u{0}\u{b}'\""),
            "&lt;script&gt;a&amp;b&lt;/script&gt;&apos;&quot;"
        );
    }
}

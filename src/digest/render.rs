//! A digest as text and as HTML (inline styles, no remote images, no scripts; every value
//! from a feed escaped), and its subject line. Pure.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::select::{DigestContent, Entry, JudgeLinks, Version};

/// `[veille] cyber-cooperation — 5 new items, 24 Nov`.
pub fn subject(d: &DigestContent) -> String {
    let n = d.item_ids().len();
    let count = match n {
        0 => "no new items".to_string(),
        1 => "1 new item".to_string(),
        n => format!("{n} new items"),
    };
    let day = d.composed_at.with_timezone(&d.timezone).format("%-d %b");
    format!("[veille] {} — {count}, {day}", d.watchlist)
}

fn date(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "undated".into(), |t| t.format("%Y-%m-%d").to_string())
}

fn lang(v: &Version) -> &str {
    v.language.as_deref().unwrap_or("??")
}

/// The `lang` attribute: the item's language, or `und` (undetermined).
fn lang_attr(v: &Version) -> String {
    esc(v.language.as_deref().unwrap_or("und"))
}

fn stories(n: usize) -> String {
    if n == 1 {
        "1 story".into()
    } else {
        format!("{n} stories")
    }
}

/// The plain-text part.
pub fn text(d: &DigestContent) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", subject(d));
    let _ = writeln!(
        out,
        "Watch list {} · topics: {}",
        d.watchlist,
        d.topics.join(", ")
    );
    if d.is_empty() {
        let _ = writeln!(out, "\nNo new matching items since the last digest.");
    }
    for s in d.sections.iter().filter(|s| !s.entries.is_empty()) {
        let _ = writeln!(out, "\n== {} ({}) ==", s.topic, stories(s.entries.len()));
        for (i, e) in s.entries.iter().enumerate() {
            text_entry(&mut out, i + 1, e, d.links.as_ref());
        }
    }
    footer_text(&mut out, d);
    out
}

fn text_entry(out: &mut String, n: usize, e: &Entry, links: Option<&JudgeLinks>) {
    let lead = &e.versions[0];
    let _ = writeln!(out, "\n{n}. {}", lead.title);
    let _ = writeln!(
        out,
        "   {} · {} · {} · score {:.2}",
        lead.feed,
        date(lead.published),
        lang(lead),
        e.score
    );
    if !lead.snippet.is_empty() {
        let _ = writeln!(out, "   {}", lead.snippet);
    }
    if let Some(u) = &lead.url {
        let _ = writeln!(out, "   {u}");
    }
    if e.versions.len() > 1 {
        let langs: Vec<&str> = e.versions.iter().map(lang).collect();
        let _ = writeln!(out, "   Languages: {}", langs.join(", "));
        for v in &e.versions[1..] {
            let _ = writeln!(
                out,
                "   - [{}] {} ({}, {}){}",
                lang(v),
                v.title,
                v.feed,
                date(v.published),
                v.url
                    .as_deref()
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default()
            );
        }
    }
    if !e.evidence.is_empty() {
        let why: Vec<String> = e
            .evidence
            .iter()
            .map(|c| format!("{}: {}", c.concept, c.terms.join(", ")))
            .collect();
        let _ = writeln!(out, "   Why: {}", why.join("; "));
    }
    if let Some(l) = links {
        let _ = writeln!(
            out,
            "   Judge this match: {}",
            l.url(lead.item_id, &e.topic)
        );
    }
}

fn footer_text(out: &mut String, d: &DigestContent) {
    if d.held_back > 0 {
        let _ = writeln!(
            out,
            "\n{} more stories follow in the next digest.",
            d.held_back
        );
    }
    let _ = writeln!(out, "\n-- ");
    if healthy(d) {
        let _ = writeln!(out, "All feeds are healthy.");
    }
    if !d.failing.is_empty() {
        let _ = writeln!(out, "Failing feeds (items from them may be missing):");
        for f in &d.failing {
            let _ = writeln!(out, "  {}: {}", f.name, failing_line(f));
        }
    }
    if !d.articles.is_empty() {
        let _ = writeln!(out, "{ARTICLES_HEADING}");
        for a in &d.articles {
            let _ = writeln!(out, "  {}: {}", a.feed, articles_line(a, d.timezone));
        }
    }
    if !d.unpolled.is_empty() {
        let _ = writeln!(out, "Not polled yet: {}.", d.unpolled.join(", "));
    }
    let _ = writeln!(
        out,
        "Sent by veille for watch list {} at {}.",
        d.watchlist,
        d.composed_at
            .with_timezone(&d.timezone)
            .format("%Y-%m-%d %H:%M %Z")
    );
}

const ARTICLES_HEADING: &str =
    "Article pages without text (these items carry only their feed's summary):";

/// The footer says "All feeds are healthy." only when it is true: no feed failing, every
/// article page read, every feed polled.
fn healthy(d: &DigestContent) -> bool {
    d.failing.is_empty() && d.articles.is_empty() && d.unpolled.is_empty()
}

/// `4 consecutive errors, never read successfully, last: HTTP status 503`.
fn failing_line(f: &super::select::FailingFeed) -> String {
    format!(
        "{} consecutive {}{}{}",
        f.errors,
        if f.errors == 1 { "error" } else { "errors" },
        if f.never_succeeded {
            ", never read successfully"
        } else {
            ""
        },
        f.last_error
            .as_deref()
            .map(|e| format!(", last: {e}"))
            .unwrap_or_default()
    )
}

/// `3 of 4 pages fetched 2026-12-03 11:00 CET gave no text: blocked ×3 (e.g. …)`.
fn articles_line(a: &super::select::ArticleTrouble, tz: chrono_tz::Tz) -> String {
    format!(
        "{} of {} {} fetched {} gave no text: {}",
        a.report.failed_pages(),
        a.report.pages,
        if a.report.pages == 1 { "page" } else { "pages" },
        a.report.at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"),
        a.report.reasons()
    )
}

const BODY: &str = "margin:0;padding:16px;background:#ffffff;color:#1a1a1a;font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.45";
const H1: &str = "font-size:18px;margin:0 0 4px 0";
const H2: &str =
    "font-size:16px;margin:20px 0 8px 0;padding-bottom:4px;border-bottom:1px solid #cccccc";
const META: &str = "color:#555555;font-size:12px";
const ENTRY: &str = "margin:0 0 16px 0";
const WHY: &str = "margin:4px 0 0 0;padding:4px 8px;background:#f3f5f8;font-size:12px";
const FOOT: &str =
    "margin-top:24px;padding-top:8px;border-top:1px solid #cccccc;color:#555555;font-size:12px";

/// Escapes text for HTML content and double-quoted attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The last line of defence: the body goes through ammonia with only the tags, attributes and
/// URL schemes this renderer uses, so nothing from a feed can add a script, a remote image or a
/// `javascript:` link even if escaping above had a bug.
fn sanitize_body(body: &str) -> String {
    ammonia::Builder::empty()
        .add_tags(["div", "p", "h1", "h2", "ul", "li", "a", "b", "span"])
        .add_generic_attributes(["style", "lang"])
        .add_tag_attributes("a", ["href"])
        .url_schemes(["http", "https"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .clean(body)
        .to_string()
}

/// A link when the URL is http(s), else the escaped text alone.
fn link(url: Option<&str>, label: &str) -> String {
    match url {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
            format!(
                "<a href=\"{}\" style=\"color:#0b4f9c\">{}</a>",
                esc(u),
                esc(label)
            )
        }
        _ => esc(label),
    }
}

/// The HTML part: one self-contained document.
pub fn html(d: &DigestContent) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "<h1 style=\"{H1}\">{}</h1>", esc(&subject(d)));
    let _ = writeln!(
        out,
        "<p style=\"{META}\">Watch list <b>{}</b> · topics: {}</p>",
        esc(&d.watchlist),
        esc(&d.topics.join(", "))
    );
    if d.is_empty() {
        let _ = writeln!(out, "<p>No new matching items since the last digest.</p>");
    }
    for s in d.sections.iter().filter(|s| !s.entries.is_empty()) {
        let _ = writeln!(
            out,
            "<h2 style=\"{H2}\">{} <span style=\"{META}\">({})</span></h2>",
            esc(&s.topic),
            stories(s.entries.len())
        );
        for e in &s.entries {
            html_entry(&mut out, e, d.links.as_ref());
        }
    }
    if d.held_back > 0 {
        let _ = writeln!(
            out,
            "<p>{} more stories follow in the next digest.</p>",
            d.held_back
        );
    }
    let _ = write!(out, "<div style=\"{FOOT}\">");
    if healthy(d) {
        let _ = write!(out, "<p>All feeds are healthy.</p>");
    }
    if !d.failing.is_empty() {
        let _ = write!(
            out,
            "<p>Failing feeds (items from them may be missing):</p><ul>"
        );
        for f in &d.failing {
            let _ = write!(
                out,
                "<li><b>{}</b>: {}</li>",
                esc(&f.name),
                esc(&failing_line(f))
            );
        }
        let _ = write!(out, "</ul>");
    }
    if !d.articles.is_empty() {
        let _ = write!(out, "<p>{}</p><ul>", esc(ARTICLES_HEADING));
        for a in &d.articles {
            let _ = write!(
                out,
                "<li><b>{}</b>: {}</li>",
                esc(&a.feed),
                esc(&articles_line(a, d.timezone))
            );
        }
        let _ = write!(out, "</ul>");
    }
    if !d.unpolled.is_empty() {
        let _ = write!(
            out,
            "<p>Not polled yet: {}.</p>",
            esc(&d.unpolled.join(", "))
        );
    }
    let _ = writeln!(
        out,
        "<p>Sent by veille for watch list {} at {}.</p></div>",
        esc(&d.watchlist),
        d.composed_at
            .with_timezone(&d.timezone)
            .format("%Y-%m-%d %H:%M %Z")
    );
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body style=\"{BODY}\">\n{}\n</body></html>\n",
        esc(&subject(d)),
        sanitize_body(&out)
    )
}

fn html_entry(out: &mut String, e: &Entry, links: Option<&JudgeLinks>) {
    let lead = &e.versions[0];
    let _ = write!(
        out,
        "<div style=\"{ENTRY}\"><div style=\"font-size:15px;font-weight:bold\" lang=\"{}\">{}</div>",
        lang_attr(lead),
        link(lead.url.as_deref(), &lead.title)
    );
    let _ = write!(
        out,
        "<div style=\"{META}\">{} · {} · {} · score {:.2}</div>",
        esc(&lead.feed),
        date(lead.published),
        esc(lang(lead)),
        e.score
    );
    if !lead.snippet.is_empty() {
        let _ = write!(
            out,
            "<p style=\"margin:4px 0\" lang=\"{}\">{}</p>",
            lang_attr(lead),
            esc(&lead.snippet)
        );
    }
    if e.versions.len() > 1 {
        let _ = write!(
            out,
            "<div style=\"{META}\">Also in:<ul style=\"margin:2px 0\">"
        );
        for v in &e.versions[1..] {
            let _ = write!(
                out,
                "<li lang=\"{}\">[{}] {} — {}, {}</li>",
                lang_attr(v),
                esc(lang(v)),
                link(v.url.as_deref(), &v.title),
                esc(&v.feed),
                date(v.published)
            );
        }
        let _ = write!(out, "</ul></div>");
    }
    if !e.evidence.is_empty() {
        let _ = write!(out, "<div style=\"{WHY}\">Why: ");
        let parts: Vec<String> = e
            .evidence
            .iter()
            .map(|c| format!("<b>{}</b>: {}", esc(&c.concept), esc(&c.terms.join(", "))))
            .collect();
        let _ = write!(out, "{}</div>", parts.join("; "));
    }
    if let Some(l) = links {
        let _ = write!(
            out,
            "<div style=\"{META};margin-top:4px\">{}</div>",
            link(Some(&l.url(lead.item_id, &e.topic)), "Judge this match")
        );
    }
    let _ = writeln!(out, "</div>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::evidence::ConceptTerms;
    use crate::digest::select::{FailingFeed, Section};

    fn content() -> DigestContent {
        let v = |id, lang: &str, title: &str, url: &str| Version {
            item_id: id,
            title: title.into(),
            feed: format!("feed-{lang}"),
            url: Some(url.into()),
            language: Some(lang.into()),
            published: Some("2026-11-23T10:00:00Z".parse().unwrap()),
            snippet: "<b>bold</b> & co".into(),
            topics: vec![("eu-nato-cyber".into(), 0.82)],
        };
        DigestContent {
            watchlist: "cyber-cooperation".into(),
            topics: vec!["eu-nato-cyber".into(), "eu-us-cyber".into()],
            sections: vec![Section {
                topic: "eu-nato-cyber".into(),
                entries: vec![Entry {
                    topic: "eu-nato-cyber".into(),
                    score: 0.82,
                    versions: vec![
                        v(1, "en", "EU <script>x</script> NATO", "https://x.eu/en/a"),
                        v(2, "it", "UE e NATO", "javascript:alert(1)"),
                    ],
                    evidence: vec![ConceptTerms {
                        concept: "nato".into(),
                        terms: vec!["NATO".into(), "OTAN".into()],
                    }],
                }],
            }],
            failing: vec![FailingFeed {
                name: "cisa-news".into(),
                errors: 4,
                last_error: Some("HTTP status 503".into()),
                never_succeeded: false,
            }],
            articles: Vec::new(),
            unpolled: Vec::new(),
            held_back: 0,
            composed_at: "2026-11-24T07:00:00Z".parse().unwrap(),
            timezone: chrono_tz::Europe::Brussels,
            links: None,
        }
    }

    #[test]
    fn subject_counts_items_and_uses_the_watch_list_day() {
        assert_eq!(
            subject(&content()),
            "[veille] cyber-cooperation — 2 new items, 24 Nov"
        );
        let mut late = content();
        late.composed_at = "2026-11-24T23:30:00Z".parse().unwrap(); // 00:30 in Brussels
        assert!(subject(&late).ends_with("25 Nov"), "{}", subject(&late));
    }

    #[test]
    fn html_escapes_feed_text_and_keeps_only_web_links() {
        let h = html(&content());
        assert!(!h.contains("<script"), "{h}");
        assert!(h.contains("EU &lt;script&gt;x&lt;/script&gt; NATO"), "{h}");
        assert!(h.contains("&lt;b&gt;bold&lt;/b&gt; &amp; co"), "{h}");
        assert!(!h.contains("javascript:"), "{h}");
        assert!(h.contains("href=\"https://x.eu/en/a\""), "{h}");
        assert!(
            h.contains("style=\"margin:0 0 16px 0\""),
            "inline styles survive: {h}"
        );
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("cisa-news"), "{h}");
    }

    /// Regression (issue 16, point 7): "All feeds are healthy." while every feed had failed
    /// without ever succeeding (fewer errors than the failing threshold), and while every
    /// article page failed.
    #[test]
    fn the_footer_tells_the_truth_about_feeds_and_article_pages() {
        let mut d = content();
        d.failing = vec![FailingFeed {
            name: "local-en".into(),
            errors: 1,
            last_error: Some("connection failed: refused".into()),
            never_succeeded: true,
        }];
        d.articles = vec![crate::digest::select::ArticleTrouble {
            feed: "local-fr".into(),
            report: crate::model::ArticleReport {
                at: "2026-12-03T10:00:00Z".parse().unwrap(),
                pages: 3,
                failed: vec![crate::model::FailureKind {
                    kind: "blocked".into(),
                    count: 3,
                    example: "http://127.0.0.1:8080/a".into(),
                    status: "fetch_failed: blocked: …".into(),
                }],
            },
        }];
        d.unpolled = vec!["local-de".into()];
        for out in [text(&d), html(&d)] {
            assert!(!out.contains("All feeds are healthy"), "{out}");
            assert!(
                out.contains("local-en: 1 consecutive error, never read successfully, last: connection failed: refused")
                    || out.contains("<b>local-en</b>: 1 consecutive error, never read successfully"),
                "{out}"
            );
            assert!(
                out.contains("3 of 3 pages fetched 2026-12-03 11:00 CET gave no text: blocked ×3"),
                "{out}"
            );
            assert!(out.contains("Not polled yet: local-de."), "{out}");
        }
        d.failing.clear();
        d.articles.clear();
        d.unpolled.clear();
        assert!(text(&d).contains("All feeds are healthy."));
    }

    #[test]
    fn entries_carry_a_signed_judgement_link_when_the_web_view_has_an_address() {
        let mut d = content();
        assert!(!html(&d).contains("Judge this match"));
        let key = crate::links::Key::from_bytes(b"k");
        d.links = Some(JudgeLinks {
            base: "https://veille.example.org/".into(),
            key: key.clone(),
        });
        let url = format!(
            "https://veille.example.org/{}",
            crate::links::judge_path(&key, 1, "eu-nato-cyber")
        );
        assert!(
            html(&d).contains(&format!("href=\"{}\"", url.replace('&', "&amp;"))),
            "{}",
            html(&d)
        );
        assert!(
            text(&d).contains(&format!("Judge this match: {url}")),
            "{}",
            text(&d)
        );
    }

    #[test]
    fn text_lists_versions_evidence_and_failing_feeds() {
        let t = text(&content());
        assert!(t.contains("1. EU <script>x</script> NATO"), "{t}");
        assert!(t.contains("Languages: en, it"), "{t}");
        assert!(t.contains("- [it] UE e NATO (feed-it, 2026-11-23)"), "{t}");
        assert!(t.contains("Why: nato: NATO, OTAN"), "{t}");
        assert!(
            t.contains("cisa-news: 4 consecutive errors, last: HTTP status 503"),
            "{t}"
        );
    }
}

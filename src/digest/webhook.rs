//! Chat delivery: a digest as the body a webhook takes (Slack `text` in mrkdwn, a Microsoft
//! Teams Adaptive Card, or veille's own JSON; pure), and the HTTP POST that delivers it.
//!
//! The body is built once, when the digest is composed, and stored: every attempt posts the
//! same bytes with the same `Idempotency-Key` header (the digest's Message-ID, also the `id` of
//! the JSON body), so a receiver that keeps keys can drop the one duplicate a crash between its
//! answer and our record can cause. The URL is read from the configuration at each attempt
//! (it is a secret: it is neither stored nor logged, only its host).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::config::WebhookFormat;
use super::render;
use super::select::{DigestContent, Entry, Version};
use super::transport::SendError;

/// The bound on one POST, from connecting to the end of the answer.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// The bound on connecting.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most characters of text a Slack message gets (Slack cuts at 40,000).
const SLACK_BUDGET: usize = 35_000;
/// The most characters of text a Teams card gets (Teams refuses cards over about 28 KB).
const TEAMS_BUDGET: usize = 20_000;
/// The version of the `json` body's shape.
pub const JSON_VERSION: u32 = 1;

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Slack => "slack",
            WebhookFormat::Teams => "teams",
            WebhookFormat::Json => "json",
        }
    }
}

/// The body of digest `d` (Message-ID `id`, items fetched since `from`) in `format`.
pub fn payload(
    d: &DigestContent,
    id: &str,
    from: Option<DateTime<Utc>>,
    format: WebhookFormat,
) -> Vec<u8> {
    let body = match format {
        WebhookFormat::Slack => json!({ "text": chat_text(d, &Slack, SLACK_BUDGET) }),
        WebhookFormat::Teams => teams_card(d),
        WebhookFormat::Json => json_body(d, id, from),
    };
    serde_json::to_vec(&body).expect("JSON values serialise")
}

/// How a chat service marks up bold text and links.
trait Markup {
    fn bold(&self, s: &str) -> String;
    fn text(&self, s: &str) -> String;
    fn link(&self, url: &str, label: &str) -> String;
}

/// Slack mrkdwn: `&`, `<`, `>` escaped as entities, links as `<url|label>`.
struct Slack;

impl Markup for Slack {
    fn bold(&self, s: &str) -> String {
        format!("*{}*", self.text(s).replace('*', "∗"))
    }
    fn text(&self, s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
    fn link(&self, url: &str, label: &str) -> String {
        match safe_url(url) {
            Some(u) => format!("<{u}|{}>", self.text(label).replace('|', "¦")),
            None => self.text(label),
        }
    }
}

/// The Markdown subset of Adaptive Card text blocks: links as `[label](url)`.
struct Teams;

impl Markup for Teams {
    fn bold(&self, s: &str) -> String {
        format!("**{}**", self.text(s))
    }
    fn text(&self, s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '*' | '_' | '[' | ']' | '`' | '#' => format!("\\{c}"),
                c => c.to_string(),
            })
            .collect()
    }
    fn link(&self, url: &str, label: &str) -> String {
        match safe_url(url) {
            Some(u) => format!(
                "[{}]({})",
                self.text(label),
                u.replace('(', "%28").replace(')', "%29")
            ),
            None => self.text(label),
        }
    }
}

/// An http(s) URL with the characters chat markup gives a meaning to percent-encoded; other
/// schemes (`javascript:` …) are not linked.
fn safe_url(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| {
        u.as_str()
            .replace('|', "%7C")
            .replace('<', "%3C")
            .replace('>', "%3E")
    })
}

fn day(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "undated".into(), |t| t.format("%Y-%m-%d").to_string())
}

fn lang(v: &Version) -> &str {
    v.language.as_deref().unwrap_or("??")
}

/// One story in chat markup: the lead linked, its feed, date, language and score, the other
/// language versions linked by language code.
fn chat_entry(e: &Entry, m: &dyn Markup) -> String {
    let lead = &e.versions[0];
    let title = match &lead.url {
        Some(u) => m.link(u, &lead.title),
        None => m.text(&lead.title),
    };
    let mut line = format!(
        "• {title} — {} · {} · {} · score {:.2}",
        m.text(&lead.feed),
        day(lead.published),
        m.text(lang(lead)),
        e.score
    );
    if e.versions.len() > 1 {
        let others: Vec<String> = e.versions[1..]
            .iter()
            .map(|v| match &v.url {
                Some(u) => m.link(u, lang(v)),
                None => m.text(lang(v)),
            })
            .collect();
        line.push_str(&format!(" (also {})", others.join(", ")));
    }
    line
}

/// The digest as chat blocks: heading, then per topic its title and stories, then the footer;
/// stories past `budget` characters are counted in a last line instead.
fn chat_blocks(d: &DigestContent, m: &dyn Markup, budget: usize) -> Vec<String> {
    let mut blocks = vec![m.bold(&render::subject(d))];
    if d.is_empty() {
        blocks.push(m.text("No new matching items since the last digest."));
    }
    let mut used: usize = blocks.iter().map(String::len).sum();
    let mut left_out = 0;
    for s in d.sections.iter().filter(|s| !s.entries.is_empty()) {
        let head = m.bold(&format!("{} ({})", s.topic, stories(s.entries.len())));
        let mut lines = Vec::new();
        for e in &s.entries {
            let line = chat_entry(e, m);
            if used + head.len() + line.len() > budget {
                left_out += 1;
                continue;
            }
            used += line.len();
            lines.push(line);
        }
        if !lines.is_empty() {
            used += head.len();
            blocks.push(format!("{head}\n{}", lines.join("\n")));
        }
    }
    if left_out > 0 {
        blocks.push(m.text(&format!(
            "… and {} not shown here (too long for a chat message): see the mail or the web view.",
            stories(left_out)
        )));
    }
    if d.held_back > 0 {
        blocks.push(m.text(&format!(
            "{} more follow in the next digest.",
            stories(d.held_back)
        )));
    }
    if !d.failing.is_empty() {
        let names: Vec<String> = d
            .failing
            .iter()
            .map(|f| {
                let never = if f.never_succeeded {
                    ", never read"
                } else {
                    ""
                };
                format!("{} ({} errors{never})", f.name, f.errors)
            })
            .collect();
        blocks.push(m.text(&format!(
            "Failing feeds (items from them may be missing): {}",
            names.join(", ")
        )));
    }
    if !d.articles.is_empty() {
        let names: Vec<String> = d
            .articles
            .iter()
            .map(|a| {
                format!(
                    "{} ({} of {} pages)",
                    a.feed,
                    a.report.failed_pages(),
                    a.report.pages
                )
            })
            .collect();
        blocks.push(m.text(&format!(
            "Article pages without text (these items carry only their feed's summary): {}",
            names.join(", ")
        )));
    }
    if !d.unpolled.is_empty() {
        blocks.push(m.text(&format!("Not polled yet: {}.", d.unpolled.join(", "))));
    }
    blocks
}

fn stories(n: usize) -> String {
    if n == 1 {
        "1 story".into()
    } else {
        format!("{n} stories")
    }
}

fn chat_text(d: &DigestContent, m: &dyn Markup, budget: usize) -> String {
    chat_blocks(d, m, budget).join("\n\n")
}

/// An Adaptive Card in the message envelope Teams webhooks (workflows and connectors) take.
fn teams_card(d: &DigestContent) -> Value {
    let blocks = chat_blocks(d, &Teams, TEAMS_BUDGET);
    let body: Vec<Value> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut block = json!({ "type": "TextBlock", "text": b, "wrap": true });
            if i == 0 {
                block["size"] = json!("Medium");
                block["weight"] = json!("Bolder");
            } else {
                block["separator"] = json!(true);
            }
            block
        })
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": { "width": "Full" },
                "body": body,
            }
        }]
    })
}

/// veille's own body (documented in the README): one object per item, stories numbered.
fn json_body(d: &DigestContent, id: &str, from: Option<DateTime<Utc>>) -> Value {
    let mut items = Vec::new();
    let mut story = 0;
    for s in &d.sections {
        for e in &s.entries {
            story += 1;
            for v in &e.versions {
                let mut item = json!({
                    "story": story,
                    "title": v.title,
                    "url": v.url,
                    "feed": v.feed,
                    "language": v.language,
                    "published": v.published,
                    "topics": v.topics.iter().map(|(t, s)| json!({"topic": t, "score": s})).collect::<Vec<_>>(),
                    "snippet": v.snippet,
                });
                if let Some(l) = &d.links {
                    item["judge_url"] = json!(l.url(v.item_id, &e.topic));
                }
                items.push(item);
            }
        }
    }
    json!({
        "version": JSON_VERSION,
        "id": id,
        "watchlist": d.watchlist,
        "subject": render::subject(d),
        "topics": d.topics,
        "period": { "from": from, "to": d.composed_at },
        "stories": story,
        "held_back": d.held_back,
        "items": items,
        "failing_feeds": d.failing.iter().map(|f| json!({
            "name": f.name, "errors": f.errors, "last_error": f.last_error,
            "never_succeeded": f.never_succeeded,
        })).collect::<Vec<_>>(),
        "article_trouble": d.articles.iter().map(|a| json!({
            "feed": a.feed, "at": a.report.at, "pages": a.report.pages,
            "failed": a.report.failed_pages(), "reasons": a.report.reasons(),
        })).collect::<Vec<_>>(),
        "unpolled": d.unpolled,
    })
}

/// Posts stored bodies to webhooks.
#[derive(Clone)]
pub struct Poster {
    client: reqwest::Client,
}

impl Default for Poster {
    fn default() -> Self {
        Self::new()
    }
}

impl Poster {
    /// A client with [`TIMEOUT`], no redirects (a webhook that moved answers 3xx: a failure that
    /// says where to) and veille's user agent. The URL is the operator's, so like a configured
    /// feed it may point anywhere, loopback and private networks included.
    pub fn new() -> Poster {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(crate::config::default_user_agent())
            .build()
            .unwrap_or_default();
        Poster { client }
    }

    /// Posts `payload` to `url`; `Ok` only on a 2xx answer. Errors name the host, never the URL.
    pub async fn post(&self, url: &url::Url, key: &str, payload: &[u8]) -> Result<(), SendError> {
        let host = url.host_str().unwrap_or("?").to_string();
        let resp = self
            .client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", key)
            .body(payload.to_vec())
            .send()
            .await
            .map_err(|e| SendError {
                permanent: false,
                retry_after: None,
                message: format!(
                    "webhook {host}: {}",
                    if e.is_timeout() {
                        format!(
                            "no complete answer within {}",
                            crate::duration::show(TIMEOUT)
                        )
                    } else if e.is_connect() {
                        "cannot connect".to_string()
                    } else {
                        "request failed".to_string()
                    }
                ),
            })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        // Rate limited or down for maintenance: the endpoint may say when to come back.
        let retry_after = matches!(status.as_u16(), 429 | 503)
            .then(|| crate::pipeline::fetch::cache_hints(resp.headers(), Utc::now()).retry_after)
            .flatten();
        let body = resp.text().await.unwrap_or_default();
        let said: String = body.chars().take(200).collect();
        Err(SendError {
            // gone, unauthorised, malformed: a human must act (it is retried all the same)
            permanent: status.is_client_error() && status.as_u16() != 429,
            retry_after,
            message: format!("webhook {host}: HTTP {}{}", status.as_u16(), {
                let said = said.trim();
                if said.is_empty() {
                    String::new()
                } else {
                    format!(": {said}")
                }
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::select::{ArticleTrouble, FailingFeed, Section};

    fn content() -> DigestContent {
        let v = |id, lang: &str, title: &str, url: &str| Version {
            item_id: id,
            title: title.into(),
            feed: format!("feed-{lang}"),
            url: Some(url.into()),
            language: Some(lang.into()),
            published: Some("2026-11-23T10:00:00Z".parse().unwrap()),
            snippet: "snippet".into(),
            topics: vec![("eu-nato-cyber".into(), 0.82)],
        };
        DigestContent {
            watchlist: "cyber".into(),
            topics: vec!["eu-nato-cyber".into()],
            sections: vec![Section {
                topic: "eu-nato-cyber".into(),
                entries: vec![Entry {
                    topic: "eu-nato-cyber".into(),
                    score: 0.82,
                    versions: vec![
                        v(
                            1,
                            "en",
                            "EU & NATO <cyber> | talks",
                            "https://x.eu/a?b=1&c=2",
                        ),
                        v(2, "it", "UE e NATO [cyber]", "https://x.eu/it(1)"),
                    ],
                    evidence: Vec::new(),
                }],
            }],
            failing: vec![FailingFeed {
                name: "broken".into(),
                errors: 4,
                last_error: None,
                never_succeeded: true,
            }],
            articles: vec![ArticleTrouble {
                feed: "thin".into(),
                report: serde_json::from_value(json!({
                    "at": "2026-11-24T07:00:00Z",
                    "pages": 4,
                    "failed": [{"kind": "blocked", "count": 3, "example": "https://x.eu/p", "status": "HTTP 403"}]
                }))
                .unwrap(),
            }],
            unpolled: vec!["new-feed".into()],
            held_back: 0,
            composed_at: "2026-11-24T08:00:00Z".parse().unwrap(),
            timezone: chrono_tz::UTC,
            links: None,
        }
    }

    fn parse(b: &[u8]) -> Value {
        serde_json::from_slice(b).unwrap()
    }

    #[test]
    fn slack_text_escapes_feed_values_and_links_each_version() {
        let p = parse(&payload(&content(), "<id@x>", None, WebhookFormat::Slack));
        let text = p["text"].as_str().unwrap();
        assert!(
            text.contains("<https://x.eu/a?b=1&c=2|EU &amp; NATO &lt;cyber&gt; ¦ talks>"),
            "{text}"
        );
        assert!(text.contains("(also <https://x.eu/it(1)|it>)"), "{text}");
        assert!(text.contains("*eu-nato-cyber (1 story)*"), "{text}");
        assert!(text.contains("broken (4 errors, never read)"), "{text}");
        assert!(text.contains("thin (3 of 4 pages)"), "{text}");
        assert!(text.contains("Not polled yet: new-feed."), "{text}");
        assert_eq!(p.as_object().unwrap().len(), 1, "only `text`");
    }

    #[test]
    fn a_javascript_link_is_shown_as_text_not_linked() {
        let mut d = content();
        d.sections[0].entries[0].versions[0].url = Some("javascript:alert(1)".into());
        let p = parse(&payload(&d, "<id@x>", None, WebhookFormat::Slack));
        assert!(!p["text"].as_str().unwrap().contains("javascript"));
    }

    #[test]
    fn teams_gets_an_adaptive_card_with_markdown_links() {
        let p = parse(&payload(&content(), "<id@x>", None, WebhookFormat::Teams));
        assert_eq!(p["type"], "message");
        let card = &p["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        let blocks = card["content"]["body"].as_array().unwrap();
        assert!(blocks.iter().all(|b| b["type"] == "TextBlock"));
        let all: String = blocks.iter().map(|b| b["text"].as_str().unwrap()).collect();
        assert!(
            all.contains("[EU & NATO <cyber> | talks](https://x.eu/a?b=1&c=2)"),
            "{all}"
        );
        assert!(all.contains("(also [it](https://x.eu/it%281%29))"), "{all}");
    }

    #[test]
    fn json_carries_the_id_period_and_every_item_with_its_topics() {
        let from = Some("2026-11-23T08:00:00Z".parse().unwrap());
        let p = parse(&payload(&content(), "<id@x>", from, WebhookFormat::Json));
        assert_eq!(p["id"], "<id@x>");
        assert_eq!(p["version"], 1);
        assert_eq!(p["watchlist"], "cyber");
        assert_eq!(p["period"]["from"], "2026-11-23T08:00:00Z");
        assert_eq!(p["period"]["to"], "2026-11-24T08:00:00Z");
        let items = p["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1]["story"], 1);
        assert_eq!(items[1]["language"], "it");
        assert_eq!(items[0]["topics"][0]["score"], 0.82);
        assert_eq!(items[0]["published"], "2026-11-23T10:00:00Z");
        assert_eq!(p["failing_feeds"][0]["name"], "broken");
        assert_eq!(p["failing_feeds"][0]["never_succeeded"], true);
        assert_eq!(p["article_trouble"][0]["feed"], "thin");
        assert_eq!(p["article_trouble"][0]["failed"], 3);
        assert_eq!(p["unpolled"][0], "new-feed");
    }

    #[test]
    fn a_long_digest_stays_within_the_chat_limits_and_says_what_it_left_out() {
        let mut d = content();
        let e = d.sections[0].entries[0].clone();
        d.sections[0].entries = vec![e; 400];
        let slack = parse(&payload(&d, "<id@x>", None, WebhookFormat::Slack));
        let text = slack["text"].as_str().unwrap();
        assert!(text.chars().count() <= 40_000, "{}", text.len());
        assert!(text.contains("not shown here"), "a cut is said");
        let teams = payload(&d, "<id@x>", None, WebhookFormat::Teams);
        assert!(teams.len() < 28_000, "{}", teams.len());
    }
}

//! A stored digest shown as it was mailed: the HTML part of the stored message (mail-parser),
//! sanitised again with ammonia (only layout tags, inline styles, http(s) links), links opening
//! in a new tab; the text part, escaped, when there is no HTML part. Pure.

/// The document to show for the raw message `raw`.
pub fn as_mailed(raw: &[u8]) -> String {
    let parsed = mail_parser::MessageParser::default().parse(raw);
    let html = parsed.as_ref().and_then(|m| m.body_html(0));
    let body = match html {
        Some(h) => sanitize(&h),
        None => {
            let text = parsed
                .as_ref()
                .and_then(|m| m.body_text(0))
                .map(|t| t.into_owned())
                .unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned());
            format!("<pre>{}</pre>", ammonia::clean_text(&text))
        }
    };
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><base target=\"_blank\"><title>Digest as mailed</title></head>\n<body>\n{body}\n</body></html>\n"
    )
}

/// Only what a digest uses survives: no script, no remote resource, no form, no event handler.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::empty()
        .add_tags([
            "div", "p", "h1", "h2", "h3", "ul", "ol", "li", "a", "b", "i", "em", "strong", "span",
            "br", "pre", "code", "table", "tr", "td", "th", "tbody", "thead",
        ])
        .add_generic_attributes(["style", "lang"])
        .add_tag_attributes("a", ["href"])
        .url_schemes(["http", "https"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_part_is_shown_without_anything_active() {
        let raw = b"From: a@x\r\nTo: b@x\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><div style=\"color:red\">Hi <script>alert(1)</script><img src=http://x/a.png><a href=\"javascript:x\">j</a><a href=\"https://x.eu/\">ok</a></div></body></html>\r\n--b--\r\n";
        let doc = as_mailed(raw);
        assert!(doc.contains("style=\"color:red\""), "{doc}");
        assert!(
            !doc.contains("<script") && !doc.contains("<img") && !doc.contains("javascript:"),
            "{doc}"
        );
        assert!(doc.contains("href=\"https://x.eu/\""), "{doc}");
        let text_only = as_mailed(b"Subject: s\r\n\r\n<b>not html</b>\r\n");
        assert!(text_only.contains("&lt;b&gt;not html"), "{text_only}");
    }
}

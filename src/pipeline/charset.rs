//! Decodes fetched HTML bytes to text: BOM, then the HTTP `Content-Type` charset, then a
//! `<meta charset>` / `http-equiv` declaration near the top of the page, then detection
//! (chardetng); decoding itself is done by encoding_rs. The feed decoder (`pipeline::parse`)
//! reuses the label mapping, the `charset=` reader and the detection.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// How many leading bytes are searched for a `<meta>` charset declaration (the HTML standard
/// says 1024; real pages often put it later, after long comments or scripts).
const META_SCAN_BYTES: usize = 4096;

/// Decodes `bytes` and tells which encoding was used.
///
/// Precedence follows the HTML standard: a byte-order mark wins, then the charset of the
/// HTTP `content_type`, then a `<meta>` declaration, then statistical detection. Bytes that
/// are invalid in the chosen encoding become U+FFFD; decoding never fails.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> (String, &'static Encoding) {
    let encoding = sniff(bytes, content_type);
    let (text, used, _had_errors) = encoding.decode(bytes);
    (text.into_owned(), used)
}

/// Picks the encoding of `bytes` without decoding them.
pub fn sniff(bytes: &[u8], content_type: Option<&str>) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    if let Some(encoding) = content_type.and_then(charset_param).and_then(label) {
        return encoding;
    }
    let head = &bytes[..bytes.len().min(META_SCAN_BYTES)];
    if let Some(encoding) = meta_charset(head) {
        return encoding;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    detect(bytes)
}

/// Guesses the encoding of undeclared bytes that are not UTF-8 (chardetng: the detector of
/// Firefox, trained for legacy encodings of the web such as Windows-1252, EUC-JP or KOI8-R).
pub fn detect(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(None, chardetng::Utf8Detection::Allow)
}

/// Maps a charset label to an encoding the way browsers do for HTML: UTF-16 declared in
/// ASCII-compatible bytes cannot be right and means UTF-8; `x-user-defined` means windows-1252.
/// (Callers that met UTF-16 bytes have found them by their BOM or their first `<` already.)
pub fn label(name: &str) -> Option<&'static Encoding> {
    let encoding = Encoding::for_label(name.trim().trim_matches(['"', '\'']).as_bytes())?;
    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        Some(UTF_8)
    } else if encoding == encoding_rs::X_USER_DEFINED {
        Some(WINDOWS_1252)
    } else {
        Some(encoding)
    }
}

/// The value of the `charset=` parameter in a `Content-Type` value, if any.
pub fn charset_param(content_type: &str) -> Option<&str> {
    let lower = content_type.to_ascii_lowercase();
    let at = lower.find("charset")?;
    let rest = content_type[at + "charset".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let end = rest.find([';', ' ', ',']).unwrap_or(rest.len());
    let value = rest[..end].trim_matches(['"', '\'']);
    (!value.is_empty()).then_some(value)
}

/// Scans the head of a page for `<meta charset=..>` or
/// `<meta http-equiv="content-type" content="..; charset=..">`.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    // The scan is byte-based: the declaration itself is ASCII in every encoding we accept here.
    let text = String::from_utf8_lossy(head);
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find("<meta") {
        let start = from + pos + "<meta".len();
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(value) = attr_value(tag, "charset")
            && let Some(encoding) = label(value)
        {
            return Some(encoding);
        }
        if attr_value(tag, "http-equiv").is_some_and(|v| v.trim() == "content-type")
            && let Some(content) = attr_value(tag, "content")
            && let Some(encoding) = charset_param(content).and_then(label)
        {
            return Some(encoding);
        }
        from = end;
    }
    None
}

/// The value of attribute `name` inside the (lower-cased) text of a start tag.
fn attr_value<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let mut from = 0;
    while let Some(pos) = tag[from..].find(name) {
        let at = from + pos;
        from = at + name.len();
        let before_ok = at == 0 || tag.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = tag[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let rest = rest[1..].trim_start();
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
            _ => rest
                .split(|c: char| c.is_ascii_whitespace() || c == '/')
                .next()
                .unwrap_or(""),
        };
        return Some(value);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_beats_header_and_meta() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(b"<meta charset=iso-8859-1><p>caf\xC3\xA9</p>");
        let (text, enc) = decode_html(&bytes, Some("text/html; charset=windows-1251"));
        assert_eq!(enc, UTF_8);
        assert!(text.contains("café"), "{text}");
        assert!(!text.starts_with('\u{feff}'));
    }

    #[test]
    fn header_charset_beats_meta() {
        let bytes = b"<meta charset=\"utf-8\"><p>caf\xE9</p>";
        let (text, enc) = decode_html(bytes, Some("text/html; Charset=\"ISO-8859-1\""));
        assert_eq!(enc, WINDOWS_1252);
        assert!(text.contains("café"));
    }

    #[test]
    fn meta_charset_and_http_equiv() {
        let (text, enc) = decode_html(b"<html><head><meta charset='windows-1250'>\x9a", None);
        assert_eq!(enc.name(), "windows-1250");
        assert!(text.ends_with('š'));
        let page =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-2\">\xB1";
        let (text, enc) = decode_html(page, Some("text/html"));
        assert_eq!(enc.name(), "ISO-8859-2");
        assert!(text.ends_with('ą'));
    }

    #[test]
    fn declared_utf16_in_ascii_means_utf8() {
        let (_, enc) = decode_html(b"<meta charset=utf-16><p>x</p>", None);
        assert_eq!(enc, UTF_8);
    }

    #[test]
    fn undeclared_latin1_is_detected() {
        let page = "<p>La Commission européenne a présenté aujourd'hui une stratégie réglementée \
                    pour la sécurité des réseaux, après une année marquée par des échanges nourris.</p>";
        let (bytes, _, _) = WINDOWS_1252.encode(page);
        let (text, enc) = decode_html(&bytes, None);
        assert_eq!(enc, WINDOWS_1252);
        assert_eq!(text, page);
    }

    #[test]
    fn undeclared_utf8_stays_utf8() {
        let (text, enc) = decode_html("<p>Zażółć gęślą jaźń</p>".as_bytes(), None);
        assert_eq!(enc, UTF_8);
        assert!(text.contains("gęślą"));
    }

    #[test]
    fn unknown_label_falls_through() {
        assert_eq!(charset_param("text/html; charset=bogus"), Some("bogus"));
        let (_, enc) = decode_html(
            b"<meta charset=bogus><p>plain</p>",
            Some("text/html; charset=bogus"),
        );
        assert_eq!(enc, UTF_8);
    }
}

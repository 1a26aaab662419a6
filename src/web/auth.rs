//! Request guards of the web view: the token (HTTP Basic or the cookie the login form sets)
//! when one is configured, signed judgement links that open their page without it, CSRF tokens
//! bound to a per-browser cookie, and the security headers every response carries.

use std::sync::Arc;

use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::{PageError, State, templates};
use crate::links::{self, Key};

/// The cookie holding this browser's CSRF nonce.
pub const CSRF_COOKIE: &str = "veille_csrf";
/// The cookie the login form sets.
pub const SESSION_COOKIE: &str = "veille_session";

/// The Content-Security-Policy of every page: nothing but this server's stylesheet and icon,
/// no script at all, forms post back here only, frames only of this server's own documents.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The CSRF token of this request's browser, for forms (a request extension).
#[derive(Debug, Clone)]
pub struct Csrf {
    nonce: String,
    pub token: String,
}

/// The value of cookie `name`, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn csrf_message(nonce: &str) -> String {
    format!("csrf\n{nonce}")
}

fn session_message(token: &str) -> String {
    format!("session\n{token}")
}

/// The session cookie's value for `token`.
pub fn session_value(key: &Key, token: &str) -> String {
    key.sign(&session_message(token))
}

/// Whether `given` is the configured token, compared in constant time (through their MACs).
pub fn token_matches(key: &Key, token: &str, given: &str) -> bool {
    key.verify(
        &format!("login\n{given}"),
        &key.sign(&format!("login\n{token}")),
    )
}

/// Whether the request carries the token: HTTP Basic (any user name) or the session cookie.
fn authenticated(state: &State, token: &str, headers: &HeaderMap) -> bool {
    if let Some(c) = cookie(headers, SESSION_COOKIE)
        && state.key.verify(&session_message(token), c)
    {
        return true;
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    basic
        .as_deref()
        .and_then(|b| b.split_once(':'))
        .is_some_and(|(_, pass)| token_matches(&state.key, token, pass))
}

/// A judgement link `/judge/{item}/{topic}?t=…` whose signature holds.
fn signed_judge_link(key: &Key, path: &str, query: Option<&str>) -> bool {
    let Some(rest) = path.strip_prefix("/judge/") else {
        return false;
    };
    let Some((item, topic)) = rest.split_once('/') else {
        return false;
    };
    let (Ok(item), Ok(topic)) = (item.parse::<i64>(), percent_decode(topic).ok_or(())) else {
        return false;
    };
    let t = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "t")
        .map(|(_, v)| v.into_owned());
    t.is_some_and(|t| key.verify(&links::judge_message(item, &topic), &t))
}

fn percent_decode(s: &str) -> Option<String> {
    percent_encoding_decode(s)
}

/// Percent-decoding of a path segment (`+` stays `+`).
fn percent_encoding_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Paths served to anyone: the stylesheet, the icon, the login form.
fn public(path: &str) -> bool {
    path.starts_with("/static/") || path == "/favicon.ico" || path == "/login"
}

/// The guard of every request: issues the CSRF cookie, asks for the token when one is set.
pub async fn guard(AxState(state): AxState<Arc<State>>, mut req: Request, next: Next) -> Response {
    let existing = cookie(req.headers(), CSRF_COOKIE)
        .filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string);
    let fresh = existing.is_none();
    let nonce = existing.unwrap_or_else(|| hex::encode(links::random_bytes()));
    let csrf = Csrf {
        token: state.key.sign(&csrf_message(&nonce)),
        nonce,
    };
    let set_cookie = fresh.then(|| {
        format!(
            "{CSRF_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{}",
            csrf.nonce,
            secure_attr(&state)
        )
    });
    req.extensions_mut().insert(csrf.clone());
    let path = req.uri().path().to_string();
    let allowed = match &state.token {
        None => true,
        Some(token) => {
            public(&path)
                || signed_judge_link(&state.key, &path, req.uri().query())
                || authenticated(&state, token, req.headers())
        }
    };
    let mut resp = if allowed {
        next.run(req).await
    } else if path.ends_with(".atom") {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"veille\", charset=\"UTF-8\"",
            )],
            "this feed needs the web view's token (HTTP Basic, any user name)\n",
        )
            .into_response()
    } else {
        let next_path = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        (
            StatusCode::UNAUTHORIZED,
            templates::login::page(&csrf.token, &next_path, None),
        )
            .into_response()
    };
    if let Some(c) = set_cookie
        && let Ok(v) = HeaderValue::from_str(&c)
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `; Secure` when the web view is published over https.
pub fn secure_attr(state: &State) -> &'static str {
    if state.url.as_ref().is_some_and(|u| u.scheme() == "https") {
        "; Secure"
    } else {
        ""
    }
}

/// Checks a form's CSRF token against this browser's cookie.
pub fn check_csrf(
    state: &State,
    headers: &HeaderMap,
    given: Option<&str>,
) -> Result<(), PageError> {
    let ok = cookie(headers, CSRF_COOKIE)
        .zip(given)
        .is_some_and(|(nonce, token)| state.key.verify(&csrf_message(nonce), token));
    if ok {
        Ok(())
    } else {
        Err(PageError::Forbidden(
            "the form's security token is missing or stale (cookies off, or the page is old): reload the page and try again".into(),
        ))
    }
}

/// Adds the security headers to every response (those a handler set itself are kept).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judge_links_are_checked_against_their_item_and_topic() {
        let key = Key::from_bytes(b"k");
        let path = links::judge_path(&key, 12, "eu-nato-cyber");
        let (p, q) = path.split_once('?').unwrap();
        assert!(signed_judge_link(&key, &format!("/{p}"), Some(q)));
        assert!(!signed_judge_link(&key, "/judge/13/eu-nato-cyber", Some(q)));
        assert!(!signed_judge_link(&key, &format!("/{p}"), None));
        assert!(!signed_judge_link(&key, "/items/12", Some(q)));
        assert!(!signed_judge_link(&key, "/judge/12/%zz", Some(q)));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; veille_csrf=abc; b=2"),
        );
        assert_eq!(cookie(&h, CSRF_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn tokens_compare_by_value() {
        let key = Key::from_bytes(b"k");
        assert!(token_matches(
            &key,
            "secret-token-123456",
            "secret-token-123456"
        ));
        assert!(!token_matches(
            &key,
            "secret-token-123456",
            "secret-token-12345"
        ));
        assert!(!token_matches(&key, "secret-token-123456", ""));
    }
}

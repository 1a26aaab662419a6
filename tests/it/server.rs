//! A real HTTP server on 127.0.0.1 serving the feed fixtures of `tests/data/feeds/`, plus
//! misbehaving endpoints; it records the headers of every request.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Default)]
pub struct Shared {
    pub requests: Mutex<Vec<Seen>>,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
}

pub const LAST_MODIFIED: &str = "Fri, 06 Oct 2023 08:00:00 GMT";

impl TestServer {
    /// Starts the server on an ephemeral loopback port, on the current tokio runtime.
    pub async fn start() -> TestServer {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/feeds/{name}", get(feed))
            .route("/nocache/{name}", get(feed_without_validators))
            .route("/pages/{name}", get(page))
            .route("/redirect/{name}", get(redirect))
            .route("/loop/{n}", get(redirect_loop))
            .route("/status/{code}", get(status))
            .route("/big", get(big_stream))
            .route("/big-declared", get(big_declared))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer { addr, shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Requests seen for `path`, in order.
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.shared
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/feeds")
}

fn record(shared: &Shared, path: String, h: &HeaderMap) {
    let get = |n: header::HeaderName| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    shared.requests.lock().unwrap().push(Seen {
        path,
        if_none_match: get(header::IF_NONE_MATCH),
        if_modified_since: get(header::IF_MODIFIED_SINCE),
        user_agent: get(header::USER_AGENT),
    });
}

/// The fixture's bytes and content type (latin1.xml is re-encoded to ISO-8859-1).
fn fixture(name: &str) -> Option<(Vec<u8>, &'static str)> {
    if name.contains('/') || name.contains("..") {
        return None;
    }
    let text = std::fs::read_to_string(fixtures().join(name)).ok()?;
    let (bytes, ctype) = match name.rsplit('.').next() {
        Some("json") => (text.into_bytes(), "application/feed+json"),
        _ if name.starts_with("latin1") => {
            let (b, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
            (b.into_owned(), "application/rss+xml")
        }
        Some("rdf") => (text.into_bytes(), "application/rdf+xml"),
        _ if text.contains("<feed") => (text.into_bytes(), "application/atom+xml"),
        _ => (text.into_bytes(), "application/rss+xml; charset=utf-8"),
    };
    Some((bytes, ctype))
}

async fn feed(
    State(shared): State<Arc<Shared>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    record(&shared, format!("/feeds/{name}"), &headers);
    let Some((body, ctype)) = fixture(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"v1-{name}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (header::ETAG, etag),
            (header::LAST_MODIFIED, LAST_MODIFIED.to_string()),
        ],
        body,
    )
        .into_response()
}

async fn feed_without_validators(
    State(shared): State<Arc<Shared>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    record(&shared, format!("/nocache/{name}"), &headers);
    match fixture(&name) {
        Some((body, ctype)) => ([(header::CONTENT_TYPE, ctype)], body).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// An article page from `tests/data/pages/`.
async fn page(
    State(shared): State<Arc<Shared>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    record(&shared, format!("/pages/{name}"), &headers);
    let path = fixtures().join("../pages").join(&name);
    match std::fs::read(path) {
        Ok(body) if !name.contains("..") => {
            ([(header::CONTENT_TYPE, "text/html")], body).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn redirect(
    State(shared): State<Arc<Shared>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    record(&shared, format!("/redirect/{name}"), &headers);
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("/feeds/{name}"))],
    )
        .into_response()
}

async fn redirect_loop(UrlPath(n): UrlPath<u32>) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("/loop/{}", n + 1))],
    )
        .into_response()
}

async fn status(
    State(shared): State<Arc<Shared>>,
    UrlPath(code): UrlPath<u16>,
    headers: HeaderMap,
) -> Response {
    record(&shared, format!("/status/{code}"), &headers);
    let mut resp = (StatusCode::from_u16(code).unwrap(), "failure").into_response();
    if code == 503 {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("7200"));
    }
    resp
}

/// 2 MiB streamed in 64 KiB chunks without a Content-Length.
async fn big_stream() -> Response {
    let chunk = vec![b' '; 64 * 1024];
    let stream =
        futures_util::stream::iter((0..32).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    (
        [(header::CONTENT_TYPE, "application/rss+xml")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// 2 MiB with its Content-Length declared up front.
async fn big_declared() -> Response {
    (
        [(header::CONTENT_TYPE, "application/rss+xml")],
        vec![b' '; 2 * 1024 * 1024],
    )
        .into_response()
}

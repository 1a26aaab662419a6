//! A hostile HTTP server on 127.0.0.1, written on a bare TCP listener so that every byte and
//! every pause is ours: slowloris, endless and gzip-bomb bodies, lying headers, broken and
//! explosive XML. `/good` is a healthy feed served beside them.
//!
//! Shared by the integration tests (`tests/it/hostile.rs`) and the measurement example
//! (`examples/hostile.rs`, which includes this file by path).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Every hostile case: (path, what it does).
pub const CASES: &[(&str, &str)] = &[
    (
        "/slowloris",
        "headers, then one body byte per second, forever",
    ),
    (
        "/endless",
        "200 without Content-Length, 64 KiB chunks forever",
    ),
    ("/gzip-bomb", "~4 MiB of gzip expanding to 4 GiB of zeros"),
    ("/redirect-loop", "302 between two URLs, forever"),
    ("/huge-length", "Content-Length: 1 TB, then silence"),
    ("/bad-utf8", "declares UTF-8, contains invalid UTF-8 bytes"),
    (
        "/wrong-charset",
        "UTF-8 bytes and declaration, HTTP says ISO-8859-1",
    ),
    ("/billion-laughs", "XML entity expansion (10 levels x 10)"),
    ("/many-items", "100,000 items (4.6 MB)"),
    ("/same-guid", "500 items, one guid, 5 distinct contents"),
    ("/html", "an HTML page instead of a feed"),
    ("/empty", "200 with an empty body"),
    ("/truncated", "a valid feed cut in the middle of an item"),
];

/// Items served by `/good`.
pub const GOOD_ITEMS: usize = 3;

pub struct HostileServer {
    pub addr: SocketAddr,
    /// (path, when the request arrived), in order.
    pub requests: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl HostileServer {
    /// Starts the server on an ephemeral loopback port, on the current tokio runtime.
    pub async fn start() -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, seen).await;
                });
            }
        });
        HostileServer { addr, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// How many requests for `path` arrived.
    pub fn hits(&self, path: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .count()
    }

    /// A configuration (TOML) with the hostile feed `case` and the good feed, in `dir`.
    pub fn config(&self, case: &str) -> String {
        format!(
            "[storage]\ndatabase = \"veille.db\"\n\
             [fetch]\ntimeout = \"3s\"\nconnect_timeout = \"2s\"\nmax_body_bytes = 8388608\n\
             per_host = 4\nper_host_delay = \"0s\"\nallow_private_networks = true\n\
             [[feeds]]\nname = \"hostile\"\nurl = \"{}\"\nfetch_article = \"never\"\n\
             [[feeds]]\nname = \"good\"\nurl = \"{}\"\nfetch_article = \"never\"\n",
            self.url(case),
            self.url("/good"),
        )
    }
}

async fn serve(
    mut sock: TcpStream,
    seen: Arc<Mutex<Vec<(String, Instant)>>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut buf).await?;
        if n == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    seen.lock().unwrap().push((path.clone(), Instant::now()));
    let route = path.split('?').next().unwrap_or("");
    match route {
        "/good" => respond(&mut sock, "application/rss+xml", &good_feed()).await,
        "/slowloris" => {
            sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n")
                .await?;
            for b in rss(&items(0..3, "slow")).bytes().cycle() {
                sock.write_all(&[b]).await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(())
        }
        "/endless" => {
            sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n<rss version=\"2.0\"><channel><title>")
                .await?;
            let chunk = vec![b'a'; 64 * 1024];
            loop {
                sock.write_all(&chunk).await?;
            }
        }
        "/gzip-bomb" => {
            sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n")
                .await?;
            let (header, block) = gzip_bomb_parts();
            sock.write_all(&header).await?;
            for _ in 0..4096 {
                sock.write_all(&block).await?;
            }
            Ok(())
        }
        "/redirect-loop" => {
            let next = if path.ends_with("?b") {
                "/redirect-loop?a"
            } else {
                "/redirect-loop?b"
            };
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {next}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            sock.write_all(head.as_bytes()).await?;
            Ok(())
        }
        "/huge-length" => {
            sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 1000000000000\r\n\r\n<rss")
                .await?;
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        }
        "/bad-utf8" => {
            let mut body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Bad bytes</title>".to_vec();
            body.extend_from_slice(
                b"<item><guid>b1</guid><title>Caf\xe9 \xff\xfe d\xc3(fense</title></item>",
            );
            body.extend_from_slice(
                b"<item><guid>b2</guid><title>Second</title></item></channel></rss>",
            );
            respond(&mut sock, "application/rss+xml; charset=utf-8", &body).await
        }
        "/wrong-charset" => {
            let body = rss(
                "<item><guid>w1</guid><title>Sécurité numérique</title></item><item><guid>w2</guid><title>Défense</title></item>",
            );
            respond(
                &mut sock,
                "application/rss+xml; charset=iso-8859-1",
                body.as_bytes(),
            )
            .await
        }
        "/billion-laughs" => {
            respond(
                &mut sock,
                "application/rss+xml",
                billion_laughs().as_bytes(),
            )
            .await
        }
        "/many-items" => {
            let mut inner = String::with_capacity(5 << 20);
            for i in 0..100_000 {
                inner.push_str(&format!("<item><guid>m{i}</guid><title>{i}</title></item>"));
            }
            let body = rss(&inner);
            respond(&mut sock, "application/rss+xml", body.as_bytes()).await
        }
        "/same-guid" => {
            let mut inner = String::new();
            for i in 0..500 {
                inner.push_str(&format!(
                    "<item><guid>same</guid><title>Story {}</title><description>Text of story {}</description></item>",
                    i % 5,
                    i % 5
                ));
            }
            respond(&mut sock, "application/rss+xml", rss(&inner).as_bytes()).await
        }
        "/html" => {
            let body = "<!DOCTYPE html><html><head><title>Not a feed</title></head><body><h1>Welcome</h1><p>This page moved.</p></body></html>";
            respond(&mut sock, "text/html; charset=utf-8", body.as_bytes()).await
        }
        "/empty" => respond(&mut sock, "application/rss+xml", b"").await,
        "/truncated" => {
            let full = rss(&items(0..4, "cut"));
            let cut = &full[..full.len() * 2 / 3];
            respond(&mut sock, "application/rss+xml", cut.as_bytes()).await
        }
        "/ssrf-feed" => {
            let port = sock.local_addr()?.port();
            let links = [
                format!("http://127.0.0.1:{port}/page"),
                format!("http://localhost:{port}/page"),
                "http://169.254.169.254/latest/meta-data/".to_string(),
                format!("http://[::1]:{port}/page"),
            ];
            let inner: String = links
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    format!("<item><guid>s{i}</guid><title>Link {i}</title><link>{l}</link></item>")
                })
                .collect();
            respond(&mut sock, "application/rss+xml", rss(&inner).as_bytes()).await
        }
        "/page" => {
            let para =
                "The Council adopted conclusions on cyber security cooperation with partners. "
                    .repeat(12);
            let body = format!(
                "<html lang=\"en\"><head><title>Article</title></head><body><article><h1>Article</h1><p>{para}</p><p>{para}</p></article></body></html>"
            );
            respond(&mut sock, "text/html; charset=utf-8", body.as_bytes()).await
        }
        _ => respond_status(&mut sock, "404 Not Found").await,
    }
}

async fn respond(sock: &mut TcpStream, ctype: &str, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(body).await?;
    sock.flush().await
}

async fn respond_status(sock: &mut TcpStream, status: &str) -> std::io::Result<()> {
    let head = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    sock.write_all(head.as_bytes()).await
}

/// An RSS 2.0 document around `inner` items.
pub fn rss(inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Hostile</title><link>http://127.0.0.1/</link><description>d</description>{inner}</channel></rss>"
    )
}

/// Items `range` with guids `{prefix}-{i}`.
pub fn items(range: std::ops::Range<usize>, prefix: &str) -> String {
    let mut s = String::new();
    for i in range {
        s.push_str(&format!(
            "<item><guid>{prefix}-{i}</guid><title>Item {i}</title><description>Text {i}</description></item>"
        ));
    }
    s
}

/// The healthy feed: `GOOD_ITEMS` items.
pub fn good_feed() -> Vec<u8> {
    rss(&items(0..GOOD_ITEMS, "good")).into_bytes()
}

/// The classic entity-expansion document: 10 levels of 10 references (10^10 "lol"s, ~30 GB
/// if expanded), used in an item title.
pub fn billion_laughs() -> String {
    let mut dtd = String::from("<!ENTITY lol0 \"lol\">");
    for i in 1..=10 {
        let refs: String = (0..10).map(|_| format!("&lol{};", i - 1)).collect();
        dtd.push_str(&format!("<!ENTITY lol{i} \"{refs}\">"));
    }
    format!(
        "<?xml version=\"1.0\"?><!DOCTYPE rss [{dtd}]><rss version=\"2.0\"><channel><title>Laughs</title><item><guid>l1</guid><title>&lol10;</title></item></channel></rss>"
    )
}

/// A gzip header and one deflate block (1 MiB of zeros, full-flushed so it stands alone and can
/// be repeated); 4096 blocks are ~4 MiB on the wire and 4 GiB once inflated. No trailer is ever
/// sent: a client must give up long before.
pub fn gzip_bomb_parts() -> (Vec<u8>, Vec<u8>) {
    let header = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut enc = flate2::Compress::new(flate2::Compression::best(), false);
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::with_capacity(64 * 1024);
    while (enc.total_in() as usize) < zeros.len() {
        let from = enc.total_in() as usize;
        enc.compress_vec(&zeros[from..], &mut out, flate2::FlushCompress::None)
            .unwrap();
        out.reserve(64 * 1024);
    }
    // A full flush ends on a byte boundary with an empty dictionary.
    loop {
        out.reserve(64 * 1024);
        enc.compress_vec(&[], &mut out, flate2::FlushCompress::Full)
            .unwrap();
        if out.len() < out.capacity() {
            break;
        }
    }
    (header, out)
}

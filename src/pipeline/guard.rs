//! SSRF guard for untrusted URLs (article links found inside feeds): no request reaches a
//! loopback, private, link-local (cloud metadata), CGNAT, multicast, broadcast or unspecified
//! address.
//!
//! Host names are checked by a DNS resolver that hands the HTTP client only the addresses it
//! checked (so a name that re-resolves to 127.0.0.1 between check and connect — DNS rebinding —
//! cannot slip through), and refuses a name when any of its addresses is forbidden. IP literals
//! never reach a resolver, so they are checked on the URL, before the request and on every
//! redirect hop. Configured feed URLs are trusted and do not go through this guard.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// A request refused by the guard: `host` resolves to (or is) the forbidden `addr`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{host} resolves to {addr}, a loopback, private or reserved address")]
pub struct Blocked {
    pub host: String,
    pub addr: IpAddr,
}

/// Whether `ip` is an address an untrusted link must never make us connect to.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()                         // 127/8
        || ip.is_private()                   // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local()                // 169.254/16, incl. 169.254.169.254 (metadata)
        || ip.is_multicast()                 // 224/4
        || ip.is_broadcast()                 // 255.255.255.255
        || a == 0                            // 0/8 "this network", incl. 0.0.0.0
        || (a == 100 && (b & 0xc0) == 64)    // 100.64/10 carrier-grade NAT
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // 192.0.0/24 protocol assignments
        || a >= 240 // 240/4 reserved
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()                     // ::1
        || ip.is_unspecified()           // ::
        || ip.is_multicast()             // ff00::/8
        || (first & 0xfe00) == 0xfc00    // fc00::/7 unique local
        || (first & 0xffc0) == 0xfe80    // fe80::/10 link-local
        || (first & 0xffc0) == 0xfec0    // fec0::/10 deprecated site-local
        // 64:ff9b::/96 (NAT64) and ::a.b.c.d (IPv4-compatible) carry an IPv4 address.
        || (ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
            && forbidden_v4(embedded_v4(ip)))
        || (ip.segments()[..6] == [0, 0, 0, 0, 0, 0] && forbidden_v4(embedded_v4(ip)))
}

fn embedded_v4(ip: Ipv6Addr) -> Ipv4Addr {
    let o = ip.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

/// Checks a URL whose host is an IP literal (names are checked by [`GuardedResolver`]).
pub fn check_url(url: &Url) -> Result<(), Blocked> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    if forbidden(ip) {
        Err(Blocked {
            host: url.host_str().unwrap_or_default().to_string(),
            addr: ip,
        })
    } else {
        Ok(())
    }
}

/// Resolves with the system resolver, then refuses the name when any address is forbidden; the
/// client connects only to the addresses returned here.
#[derive(Debug, Clone, Copy, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(bad) = addrs.iter().find(|a| forbidden(a.ip())) {
                return Err(Box::new(Blocked {
                    host,
                    addr: bad.ip(),
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A redirect policy: at most `max` hops, and (when `guarded`) no hop to a forbidden IP literal.
pub fn redirect_policy(max: usize, guarded: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > max {
            return attempt.error(TooManyRedirects);
        }
        if guarded && let Err(blocked) = check_url(attempt.url()) {
            return attempt.error(blocked);
        }
        attempt.follow()
    })
}

/// The error a redirect policy gives after too many hops.
#[derive(Debug, thiserror::Error)]
#[error("too many redirects")]
pub struct TooManyRedirects;

/// The guard's refusal somewhere in an error's chain of causes, if that is why it failed.
pub fn blocked_in(e: &(dyn std::error::Error + 'static)) -> Option<Blocked> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(b) = err.downcast_ref::<Blocked>() {
            return Some(b.clone());
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_reserved_addresses_are_forbidden() {
        for bad in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(forbidden(ip(bad)), "{bad} should be forbidden");
        }
        for good in [
            "8.8.8.8",
            "147.67.34.30",
            "100.128.0.1",
            "172.32.0.1",
            "169.255.0.1",
            "2a01:7e0::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!forbidden(ip(good)), "{good} should be allowed");
        }
    }

    #[test]
    fn ip_literal_urls_are_checked_names_are_left_to_the_resolver() {
        let u = |s: &str| Url::parse(s).unwrap();
        let b = check_url(&u("http://169.254.169.254/latest/meta-data/")).unwrap_err();
        assert_eq!(b.addr, ip("169.254.169.254"));
        assert!(check_url(&u("http://[::1]:8080/x")).is_err());
        assert!(check_url(&u("https://ec.europa.eu/x")).is_ok());
        assert!(check_url(&u("https://8.8.8.8/x")).is_ok());
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_that_resolves_to_loopback() {
        let err = GuardedResolver
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost must be refused");
        let blocked = blocked_in(err.as_ref()).unwrap();
        assert!(forbidden(blocked.addr), "{blocked}");
        assert_eq!(blocked.host, "localhost");
    }

    #[tokio::test]
    async fn a_redirect_hop_to_the_metadata_address_is_refused() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // A server that redirects to the cloud-metadata address. The client here has the
        // guarded redirect policy but the system resolver, so that the first hop (loopback) is
        // reached and only the redirect check can stop the second.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
            }
        });
        let client = reqwest::Client::builder()
            .redirect(redirect_policy(5, true))
            .no_proxy()
            .connect_timeout(std::time::Duration::from_millis(300))
            .build()
            .unwrap();
        let err = client
            .get(format!("http://{addr}/article"))
            .send()
            .await
            .unwrap_err();
        let blocked = blocked_in(&err).expect("the hop must be refused by the guard");
        assert_eq!(blocked.addr, ip("169.254.169.254"));
    }
}

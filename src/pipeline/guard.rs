//! SSRF guard for untrusted URLs (article links found inside feeds): no request reaches a
//! loopback, private, link-local (cloud metadata), CGNAT, multicast, broadcast or unspecified
//! address.
//!
//! Host names are checked by a DNS resolver that hands the HTTP client only the addresses it
//! checked (so a name that re-resolves to 127.0.0.1 between check and connect — DNS rebinding —
//! cannot slip through), and refuses a name when any of its addresses is forbidden. IP literals
//! never reach a resolver, so they are checked on the URL, before the request and on every
//! redirect hop.
//!
//! Only what the operator wrote is trusted: a configured source URL is fetched wherever it
//! points, and so are its redirects and next pages while they stay on that URL's origin. Every
//! other URL — article links, JSON links, next pages on another origin, redirects to another
//! origin — comes from fetched content and passes the guard.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, RwLock};

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
    let s = ip.segments();
    ip.is_loopback()                     // ::1
        || ip.is_unspecified()           // ::
        || ip.is_multicast()             // ff00::/8
        || (s[0] & 0xfe00) == 0xfc00     // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80     // fe80::/10 link-local
        || (s[0] & 0xffc0) == 0xfec0     // fec0::/10 deprecated site-local
        || s[..4] == [0x100, 0, 0, 0]    // 100::/64 discard-only
        || s[..2] == [0x2001, 0xdb8]     // 2001:db8::/32 documentation
        // 64:ff9b:1::/48: local-use NAT64 (RFC 8215), never globally reachable.
        || s[..3] == [0x64, 0xff9b, 1]
        || embedded_v4(ip).into_iter().any(forbidden_v4)
}

/// The IPv4 addresses an IPv6 address carries, by the transition forms that route to them:
/// `::a.b.c.d` (IPv4-compatible), `::ffff:0:a.b.c.d` (IPv4-translated), NAT64 `64:ff9b::/96`,
/// 6to4 `2002:AABB:CCDD::/48` and Teredo `2001:0::/32` (server, and the client's address
/// stored inverted in the last 32 bits).
fn embedded_v4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let last = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if s[..6] == [0, 0, 0, 0, 0, 0]
        || s[..6] == [0, 0, 0, 0, 0xffff, 0]
        || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        return vec![last];
    }
    if s[0] == 0x2002 {
        return vec![Ipv4Addr::new(o[2], o[3], o[4], o[5])];
    }
    if s[..2] == [0x2001, 0] {
        let server = Ipv4Addr::new(o[4], o[5], o[6], o[7]);
        let client = Ipv4Addr::new(!o[12], !o[13], !o[14], !o[15]);
        return vec![server, client];
    }
    Vec::new()
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
        Box::pin(resolve_checked(host))
    }
}

async fn resolve_checked(host: String) -> Result<Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
    if let Some(bad) = addrs.iter().find(|a| forbidden(a.ip())) {
        return Err(Box::new(Blocked {
            host,
            addr: bad.ip(),
        }));
    }
    Ok(Box::new(addrs.into_iter()) as Addrs)
}

/// The resolver of the client for configured URLs: the host names of configured sources resolve
/// as the system says (the operator wrote them); any other name — a redirect to another host —
/// is checked like [`GuardedResolver`] does.
#[derive(Debug, Clone, Default)]
pub struct ConfiguredResolver {
    trusted: Arc<RwLock<HashSet<String>>>,
}

impl ConfiguredResolver {
    /// Trusts `host` (a configured source's host name) from now on.
    pub fn trust(&self, host: &str) {
        let host = host.to_ascii_lowercase();
        let known = self
            .trusted
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&host);
        if !known {
            self.trusted
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(host);
        }
    }

    fn is_trusted(&self, host: &str) -> bool {
        self.trusted
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&host.to_ascii_lowercase())
    }
}

impl Resolve for ConfiguredResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        if self.is_trusted(&host) {
            return Box::pin(async move {
                let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
                Ok(Box::new(addrs.into_iter()) as Addrs)
            });
        }
        Box::pin(resolve_checked(host))
    }
}

/// Whether `b` is on `a`'s origin (scheme, host, port), counting the upgrade of a default-port
/// `http` URL to `https` on the same host as the same origin.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    let host = |u: &Url| u.host_str().map(str::to_ascii_lowercase);
    if host(a).is_none() || host(a) != host(b) {
        return false;
    }
    a.port_or_known_default() == b.port_or_known_default()
        || (a.scheme() == "http"
            && b.scheme() == "https"
            && a.port().is_none()
            && b.port().is_none())
}

/// Which redirect hops the guard checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hops {
    /// None (`allow_private_networks`).
    Unchecked,
    /// Hops off the first URL's origin (the client for configured URLs).
    OffOrigin,
    /// Every hop (the client for untrusted URLs).
    All,
}

/// A redirect policy: at most `max` hops, and no hop to a forbidden IP literal among the hops
/// `checked` (names are checked by the client's resolver).
pub fn redirect_policy(max: usize, checked: Hops) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > max {
            return attempt.error(TooManyRedirects);
        }
        let check = match checked {
            Hops::Unchecked => false,
            Hops::All => true,
            Hops::OffOrigin => attempt
                .previous()
                .first()
                .is_none_or(|first| !same_origin(first, attempt.url())),
        };
        if check && let Err(blocked) = check_url(attempt.url()) {
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
    fn ipv6_forms_that_embed_a_private_ipv4_address_are_forbidden() {
        // Regression (issue 15): 6to4, Teredo, IPv4-translated and local-use NAT64 forms
        // reached the connect step.
        for bad in [
            "2002:7f00:1::",                        // 6to4 of 127.0.0.1
            "2002:a9fe:a9fe::1",                    // 6to4 of 169.254.169.254
            "2002:c0a8:101:1::5",                   // 6to4 of 192.168.1.1
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1 (inverted)
            "2001:0:a00:1::1",                      // Teredo, server 10.0.0.1
            "::ffff:0:7f00:1",                      // IPv4-translated 127.0.0.1
            "::ffff:0:a9fe:a9fe",                   // IPv4-translated 169.254.169.254
            "64:ff9b::7f00:1",                      // NAT64 of 127.0.0.1
            "64:ff9b:1::808:808",                   // local-use NAT64: never global
            "::127.0.0.1",                          // IPv4-compatible
            "2001:db8::1",                          // documentation
            "100::1",                               // discard-only
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
            "2002:808:808::1",                      // 6to4 of 8.8.8.8
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo, public server and client
            "64:ff9b::808:808",                     // NAT64 of 8.8.8.8
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
            .redirect(redirect_policy(5, Hops::All))
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

//! Fetching over HTTP, politely: conditional GET, a streamed body cap, timeouts, bounded
//! redirects, limits on requests in flight overall and per host, a minimum delay between two
//! requests to one host, and the SSRF guard (see [`super::guard`]) for every URL that came from
//! fetched content.
//!
//! Two timeouts, each doing what its name says: `connect_timeout` bounds establishing the
//! connection, `timeout` bounds the whole request from sending it to the last byte of the body.
//! A failure names the one that fired.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap};
use tokio::sync::Semaphore;

use super::guard::{self, ConfiguredResolver, GuardedResolver, Hops};
use crate::config::FetchSettings;
use crate::error::FetchError;

/// Validators from the previous fetch, sent back for a conditional GET.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What the server said about caching and retrying, from any response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CacheHints {
    /// `Cache-Control: max-age`.
    pub max_age: Option<Duration>,
    /// `Retry-After` (seconds or an HTTP date), relative to now.
    pub retry_after: Option<Duration>,
}

/// A successful fetch: a body (status 2xx) or "not modified" (304).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    /// The URL after redirects.
    pub final_url: String,
    pub content_type: Option<String>,
    pub content_language: Option<String>,
    /// New validators to store (the response's).
    pub validators: Validators,
    pub hints: CacheHints,
    /// Empty for 304.
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl Fetched {
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }
}

/// A failed fetch, with what the server said about retrying (if it said anything).
#[derive(Debug, Clone)]
pub struct FetchFailure {
    pub error: FetchError,
    pub hints: CacheHints,
    pub elapsed: Duration,
}

/// Whether a URL was written by the operator or found in fetched content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// A configured source URL (or a next page on its origin): fetched wherever it points;
    /// redirects off its origin pass the guard.
    Configured,
    /// A URL found in fetched content: goes through the SSRF guard (unless it is switched off).
    Untrusted,
}

/// One host's share of the politeness limits.
struct HostSlot {
    in_flight: Arc<Semaphore>,
    /// When the next request to this host may start.
    next_start: Instant,
}

/// The HTTP client with its limits. Cheap to share behind an `Arc`.
pub struct Fetcher {
    /// The client for configured URLs: their own hosts resolve freely, other hosts and IP
    /// literals reached by a redirect off the origin pass the guard.
    client: reqwest::Client,
    /// The client for untrusted URLs: guarded resolver and redirect policy, no proxy.
    guarded: reqwest::Client,
    /// The host names of configured URLs fetched so far (the resolver of `client` trusts them).
    configured: ConfiguredResolver,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, HostSlot>>,
    per_host: usize,
    per_host_delay: Duration,
    max_body: u64,
    timeout: Duration,
    connect_timeout: Duration,
    max_redirects: usize,
    allow_private: bool,
}

impl Fetcher {
    pub fn new(settings: &FetchSettings) -> Result<Fetcher, FetchError> {
        // No read timeout and no total timeout in the client: `timeout` is applied around the
        // whole request below, so that it is the one that fires and says so.
        let builder = || {
            reqwest::Client::builder()
                .user_agent(settings.user_agent.clone())
                .connect_timeout(settings.connect_timeout)
        };
        let open = settings.allow_private_networks;
        let configured = ConfiguredResolver::default();
        let client = if open {
            builder().redirect(guard::redirect_policy(
                settings.max_redirects,
                Hops::Unchecked,
            ))
        } else {
            builder()
                .redirect(guard::redirect_policy(
                    settings.max_redirects,
                    Hops::OffOrigin,
                ))
                .dns_resolver(configured.clone())
        }
        .build()
        .map_err(|e| FetchError::Other(e.to_string()))?;
        // A proxy would resolve names itself, out of the guard's sight.
        let guarded = if open {
            builder().redirect(guard::redirect_policy(
                settings.max_redirects,
                Hops::Unchecked,
            ))
        } else {
            builder()
                .redirect(guard::redirect_policy(settings.max_redirects, Hops::All))
                .dns_resolver(GuardedResolver)
                .no_proxy()
        }
        .build()
        .map_err(|e| FetchError::Other(e.to_string()))?;
        Ok(Fetcher {
            client,
            guarded,
            configured,
            global: Arc::new(Semaphore::new(settings.concurrency)),
            hosts: Mutex::new(HashMap::new()),
            per_host: settings.per_host,
            per_host_delay: settings.per_host_delay,
            max_body: settings.max_body_bytes,
            timeout: settings.timeout,
            connect_timeout: settings.connect_timeout,
            max_redirects: settings.max_redirects,
            allow_private: open,
        })
    }

    fn host_key(url: &str) -> String {
        url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default()
    }

    fn host_slot(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host.to_string())
            .or_insert_with(|| HostSlot {
                in_flight: Arc::new(Semaphore::new(self.per_host)),
                next_start: Instant::now(),
            })
            .in_flight
            .clone()
    }

    /// Reserves this host's next start time (`per_host_delay` after the previous one) and
    /// returns it.
    fn host_turn(&self, host: &str) -> Instant {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match hosts.get_mut(host) {
            Some(slot) => {
                let start = slot.next_start.max(now);
                slot.next_start = start + self.per_host_delay;
                start
            }
            None => now,
        }
    }

    /// GETs a configured source URL (or a next page on its origin), sending `validators` as
    /// `If-None-Match` / `If-Modified-Since`.
    pub async fn get(&self, url: &str, validators: &Validators) -> Result<Fetched, FetchFailure> {
        self.fetch(url, validators, Trust::Configured).await
    }

    /// GETs a URL found in fetched content (an article link, a next page on another origin):
    /// the SSRF guard applies unless `allow_private_networks` is set.
    pub async fn get_untrusted(&self, url: &str) -> Result<Fetched, FetchFailure> {
        self.fetch(url, &Validators::default(), Trust::Untrusted)
            .await
    }

    /// GETs `url` under the limits, through the client `trust` calls for.
    pub async fn fetch(
        &self,
        url: &str,
        validators: &Validators,
        trust: Trust,
    ) -> Result<Fetched, FetchFailure> {
        let parsed = url::Url::parse(url).ok();
        let client = match trust {
            Trust::Configured => {
                if let Some(host) = parsed.as_ref().and_then(|u| u.host_str()) {
                    self.configured.trust(host);
                }
                &self.client
            }
            Trust::Untrusted => {
                // IP literals never reach a resolver: check them here (the redirect policy
                // checks them on every hop).
                let blocked = parsed.as_ref().and_then(|u| guard::check_url(u).err());
                if let (Some(b), false) = (blocked, self.allow_private) {
                    return Err(FetchFailure {
                        error: FetchError::Blocked {
                            url: url.to_string(),
                            addr: b.addr,
                        },
                        hints: CacheHints::default(),
                        elapsed: Duration::ZERO,
                    });
                }
                &self.guarded
            }
        };
        let host_key = Self::host_key(url);
        let host = self.host_slot(&host_key);
        let _host = host.acquire_owned().await.expect("semaphore never closed");
        tokio::time::sleep_until(self.host_turn(&host_key).into()).await;
        let _global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        let start = Instant::now();
        // `timeout` covers the request from here to the last byte of the body, nothing else
        // (not the wait for a turn above).
        match tokio::time::timeout(self.timeout, self.request(client, url, validators, start)).await
        {
            Ok(result) => result,
            Err(_) => Err(FetchFailure {
                error: FetchError::Timeout {
                    after: self.timeout,
                },
                hints: CacheHints::default(),
                elapsed: start.elapsed(),
            }),
        }
    }

    async fn request(
        &self,
        client: &reqwest::Client,
        url: &str,
        validators: &Validators,
        start: Instant,
    ) -> Result<Fetched, FetchFailure> {
        let fail = |error: FetchError, hints: CacheHints| FetchFailure {
            error,
            hints,
            elapsed: start.elapsed(),
        };
        let mut req = client.get(url);
        if let Some(etag) = &validators.etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header(header::IF_MODIFIED_SINCE, lm);
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| fail(self.classify(url, &e), CacheHints::default()))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let hints = cache_hints(&headers, Utc::now());
        if status == 304 {
            return Ok(Fetched {
                status,
                final_url: resp.url().to_string(),
                content_type: None,
                content_language: None,
                validators: response_validators(&headers),
                hints,
                body: Vec::new(),
                elapsed: start.elapsed(),
            });
        }
        if !resp.status().is_success() {
            return Err(fail(FetchError::Status { status }, hints));
        }
        if resp.content_length().is_some_and(|n| n > self.max_body) {
            return Err(fail(
                FetchError::TooLarge {
                    limit: self.max_body,
                },
                hints,
            ));
        }
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > self.max_body {
                        return Err(fail(
                            FetchError::TooLarge {
                                limit: self.max_body,
                            },
                            hints,
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(fail(self.classify(url, &e), hints)),
            }
        }
        Ok(Fetched {
            status,
            final_url: resp.url().to_string(),
            content_type: header_str(&headers, header::CONTENT_TYPE),
            content_language: header_str(&headers, header::CONTENT_LANGUAGE),
            validators: response_validators(&headers),
            hints,
            body,
            elapsed: start.elapsed(),
        })
    }

    fn classify(&self, url: &str, e: &reqwest::Error) -> FetchError {
        if let Some(b) = guard::blocked_in(e) {
            FetchError::Blocked {
                url: e.url().map_or_else(|| url.to_string(), |u| u.to_string()),
                addr: b.addr,
            }
        } else if e.is_timeout() && e.is_connect() {
            FetchError::ConnectTimeout {
                after: self.connect_timeout,
            }
        } else if e.is_timeout() {
            FetchError::Timeout {
                after: self.timeout,
            }
        } else if e.is_redirect() {
            FetchError::TooManyRedirects {
                limit: self.max_redirects,
            }
        } else if e.is_connect() {
            FetchError::Connect(root_cause(e))
        } else {
            FetchError::Other(root_cause(e))
        }
    }
}

/// The innermost cause of an error, which says most (e.g. "Connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn response_validators(h: &HeaderMap) -> Validators {
    Validators {
        etag: header_str(h, header::ETAG),
        last_modified: header_str(h, header::LAST_MODIFIED),
    }
}

/// Reads `Cache-Control: max-age` and `Retry-After` (delta-seconds or HTTP date).
pub fn cache_hints(h: &HeaderMap, now: DateTime<Utc>) -> CacheHints {
    let max_age = header_str(h, header::CACHE_CONTROL).and_then(|cc| {
        cc.split(',').find_map(|d| {
            let (k, v) = d.trim().split_once('=')?;
            (k.trim().eq_ignore_ascii_case("max-age"))
                .then(|| v.trim().trim_matches('"').parse::<u64>().ok())
                .flatten()
                .map(Duration::from_secs)
        })
    });
    let retry_after = header_str(h, header::RETRY_AFTER).and_then(|v| {
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        let when = DateTime::parse_from_rfc2822(&v).ok()?.with_timezone(&Utc);
        (when - now).to_std().ok()
    });
    CacheHints {
        max_age,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn reads_max_age_and_both_retry_after_forms() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=600"),
        );
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        let hints = cache_hints(&h, now);
        assert_eq!(hints.max_age, Some(Duration::from_secs(600)));
        assert_eq!(hints.retry_after, Some(Duration::from_secs(120)));
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Tue, 24 Nov 2026 11:00:00 GMT"),
        );
        assert_eq!(
            cache_hints(&h, now).retry_after,
            Some(Duration::from_secs(3600))
        );
    }
}

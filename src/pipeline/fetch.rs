//! Fetching over HTTP, politely: conditional GET, a streamed body cap, timeouts, bounded
//! redirects, and limits on requests in flight overall and per host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap};
use tokio::sync::Semaphore;

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

/// The HTTP client with its limits. Cheap to share behind an `Arc`.
pub struct Fetcher {
    client: reqwest::Client,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    per_host: usize,
    max_body: u64,
    timeout: Duration,
    max_redirects: usize,
}

impl Fetcher {
    pub fn new(settings: &FetchSettings) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .read_timeout(settings.connect_timeout.max(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::limited(settings.max_redirects))
            .build()
            .map_err(|e| FetchError::Other(e.to_string()))?;
        Ok(Fetcher {
            client,
            global: Arc::new(Semaphore::new(settings.concurrency)),
            hosts: Mutex::new(HashMap::new()),
            per_host: settings.per_host,
            max_body: settings.max_body_bytes,
            timeout: settings.timeout,
            max_redirects: settings.max_redirects,
        })
    }

    fn host_slot(&self, url: &str) -> Arc<Semaphore> {
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }

    /// GETs `url`, sending `validators` as `If-None-Match` / `If-Modified-Since`.
    pub async fn get(&self, url: &str, validators: &Validators) -> Result<Fetched, FetchFailure> {
        let host = self.host_slot(url);
        let _host = host.acquire_owned().await.expect("semaphore never closed");
        let _global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        let start = Instant::now();
        let fail = |error: FetchError, hints: CacheHints| FetchFailure {
            error,
            hints,
            elapsed: start.elapsed(),
        };

        let mut req = self.client.get(url);
        if let Some(etag) = &validators.etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header(header::IF_MODIFIED_SINCE, lm);
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| fail(self.classify(&e), CacheHints::default()))?;
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
                Err(e) => return Err(fail(self.classify(&e), hints)),
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

    fn classify(&self, e: &reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout {
                seconds: self.timeout.as_secs_f64(),
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

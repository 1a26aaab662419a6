//! Digest rows: candidate items per watch list, composed digests and the items they claim,
//! delivery state per destination (mail in `digests`, a chat webhook in `digest_webhooks`:
//! pending → sent, attempts, next retry, lease) and each watch list's next fire time.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params, params_from_iter};

use super::{Store, StoredMatch};
use crate::error::StoreError;

/// A stored item that may go into a digest, with its matches on the watch list's topics.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: i64,
    /// The feed that brought the item first.
    pub feed: String,
    /// Every feed the item was seen in (the same article in several feeds is stored once).
    pub feeds: Vec<String>,
    pub url: Option<String>,
    pub canonical_url: Option<String>,
    pub title: String,
    /// The links of the item's feed HTML, one per line (for items stored before migration 0008,
    /// the HTML itself): where story grouping looks for links to other language versions.
    pub links: Option<String>,
    pub text: String,
    /// The article page's text, when it was extracted.
    pub article_text: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub fetched_at: DateTime<Utc>,
    pub language: Option<String>,
    pub matches: Vec<StoredMatch>,
}

/// A composed digest, ready to be stored before any send is tried.
#[derive(Debug, Clone)]
pub struct NewDigest {
    pub watchlist: String,
    pub message_id: String,
    pub subject: String,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub message: Vec<u8>,
    pub item_ids: Vec<i64>,
    pub composed_at: DateTime<Utc>,
    /// Whether the message goes by mail (a watch list with only a webhook: no).
    pub mailed: bool,
    /// The webhook delivery, when the watch list has one.
    pub webhook: Option<NewWebhook>,
}

/// The webhook delivery of a composed digest.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// `slack`, `teams` or `json`.
    pub format: String,
    /// The URL's host, for display (the URL is a secret and is not stored).
    pub host: String,
    /// The body, posted as is on every attempt.
    pub payload: Vec<u8>,
}

/// One destination of a digest, delivered on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Mail,
    Webhook,
}

impl Channel {
    /// The table holding this destination's state, and its digest id column.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Channel::Mail => ("digests", "id"),
            Channel::Webhook => ("digest_webhooks", "digest_id"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Mail => "mail",
            Channel::Webhook => "webhook",
        }
    }
}

/// A webhook delivery still to make: the exact body to post again.
#[derive(Debug, Clone)]
pub struct PendingWebhook {
    pub digest_id: i64,
    pub watchlist: String,
    /// The digest's Message-ID: the idempotency key of every attempt.
    pub message_id: String,
    pub format: String,
    pub payload: Vec<u8>,
    pub attempts: i64,
}

/// A digest still to deliver: the exact bytes to send again.
#[derive(Debug, Clone)]
pub struct PendingDigest {
    pub id: i64,
    pub watchlist: String,
    pub message_id: String,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub message: Vec<u8>,
    pub attempts: i64,
}

/// A digest as `veille digest --status` and tests see it. `status` is `sent` once every
/// destination accepted it; `attempts`, `last_error`, `next_attempt_at` and `sent_at` are the
/// mail's (the webhook's in `webhook`).
#[derive(Debug, Clone, PartialEq)]
pub struct DigestRow {
    pub id: i64,
    pub watchlist: String,
    pub message_id: String,
    pub subject: String,
    pub item_count: i64,
    pub status: String,
    /// The mail's own status; `None` when the digest is not mailed.
    pub mail_status: Option<String>,
    pub webhook: Option<WebhookRow>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub composed_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The webhook delivery of a digest.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRow {
    pub format: String,
    pub host: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Where one watch list's webhook deliveries stand (`/health`).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookState {
    pub watchlist: String,
    /// The host of its newest delivery (the URL is a secret and is not stored).
    pub host: String,
    /// Deliveries not yet accepted by the endpoint.
    pub pending: i64,
    /// Failed attempts of the pending delivery tried most (0 when none is pending).
    pub attempts: i64,
    /// That delivery's last error (it names the host, never the URL).
    pub last_error: Option<String>,
    /// The next attempt of a pending delivery, soonest first.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

/// The columns [`digest_row`] reads, from `digests d LEFT JOIN digest_webhooks w`.
pub(super) const DIGEST_ROW_COLUMNS: &str = "d.id, d.watchlist, d.message_id, d.subject, d.item_count,
    CASE WHEN (d.mailed = 1 AND d.status = 'pending') OR w.status = 'pending' THEN 'pending' ELSE 'sent' END,
    CASE WHEN d.mailed = 1 THEN d.status END, d.attempts, d.last_error, d.composed_at, d.next_attempt_at,
    CASE WHEN d.mailed = 1 THEN d.sent_at ELSE w.sent_at END,
    w.format, w.host, w.status, w.attempts, w.last_error, w.sent_at";

/// A [`DigestRow`] from the first columns of `r` ([`DIGEST_ROW_COLUMNS`]).
pub(super) fn digest_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DigestRow> {
    let webhook = match r.get::<_, Option<String>>(12)? {
        Some(format) => Some(WebhookRow {
            format,
            host: r.get(13)?,
            status: r.get(14)?,
            attempts: r.get(15)?,
            last_error: r.get(16)?,
            sent_at: r.get(17)?,
        }),
        None => None,
    };
    Ok(DigestRow {
        id: r.get(0)?,
        watchlist: r.get(1)?,
        message_id: r.get(2)?,
        subject: r.get(3)?,
        item_count: r.get(4)?,
        status: r.get(5)?,
        mail_status: r.get(6)?,
        attempts: r.get(7)?,
        last_error: r.get(8)?,
        composed_at: r.get(9)?,
        next_attempt_at: r.get(10)?,
        sent_at: r.get(11)?,
        webhook,
    })
}

/// Where a watch list stands: items count from `since`; the next digest is due at `next_fire_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchState {
    pub since: DateTime<Utc>,
    pub schedule: String,
    pub next_fire_at: DateTime<Utc>,
}

impl Store {
    /// Items matching one of `topics` fetched since `since` and not yet claimed by a digest of
    /// `watchlist`, oldest first, each with its matches on those topics.
    pub fn digest_candidates(
        &self,
        watchlist: &str,
        topics: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<Candidate>, StoreError> {
        if topics.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; topics.len()].join(", ");
        let sql = format!(
            "SELECT i.id, f.name, i.url, i.canonical_url, i.title,
                    COALESCE(i.links, i.content_html, i.summary_html), NULL, veille_text(i.text), i.published_at, i.fetched_at, i.language,
                    (SELECT group_concat(g.name, char(10)) FROM item_sources s JOIN feeds g ON g.id = s.feed_id
                     WHERE s.item_id = i.id), veille_text(i.article_text)
             FROM items i JOIN feeds f ON f.id = i.feed_id
             WHERE i.fetched_at >= ?
               AND NOT EXISTS (SELECT 1 FROM digest_items d WHERE d.watchlist = ? AND d.item_id = i.id)
               AND EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id AND m.topic IN ({marks}))
             ORDER BY COALESCE(i.published_at, i.fetched_at), i.id"
        );
        let mut args: Vec<rusqlite::types::Value> = vec![
            rusqlite::types::Value::Text(since_text(since)),
            rusqlite::types::Value::Text(watchlist.to_string()),
        ];
        args.extend(topics.iter().cloned().map(rusqlite::types::Value::Text));
        let mut stmt = self.conn.prepare(&sql)?;
        let mut out: Vec<Candidate> = stmt
            .query_map(params_from_iter(args), |r| {
                Ok(Candidate {
                    id: r.get(0)?,
                    feed: r.get(1)?,
                    url: r.get(2)?,
                    canonical_url: r.get(3)?,
                    title: r.get(4)?,
                    links: r.get(5)?,
                    text: r.get(7)?,
                    published: r.get(8)?,
                    fetched_at: r.get(9)?,
                    language: r.get(10)?,
                    feeds: r
                        .get::<_, Option<String>>(11)?
                        .map(|f| f.split('\n').map(str::to_string).collect())
                        .unwrap_or_default(),
                    article_text: r.get(12)?,
                    matches: Vec::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut m = self.conn.prepare(
            "SELECT topic, score, evidence FROM matches WHERE item_id = ?1 ORDER BY score DESC, topic",
        )?;
        for c in &mut out {
            c.matches = m
                .query_map([c.id], |r| {
                    Ok(StoredMatch {
                        topic: r.get(0)?,
                        score: r.get(1)?,
                        evidence_json: r.get(2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|m| topics.contains(&m.topic))
                .collect();
        }
        Ok(out)
    }

    /// The state of a watch list, if it was ever seen.
    pub fn watch_state(&self, watchlist: &str) -> Result<Option<WatchState>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT since, schedule, next_fire_at FROM watchlist_state WHERE watchlist = ?1",
                [watchlist],
                |r| {
                    Ok(WatchState {
                        since: r.get(0)?,
                        schedule: r.get(1)?,
                        next_fire_at: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records a watch list's schedule and next fire time (keeping `since` once set).
    pub fn set_watch_state(
        &mut self,
        watchlist: &str,
        state: &WatchState,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO watchlist_state (watchlist, since, schedule, next_fire_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(watchlist) DO UPDATE SET schedule = excluded.schedule, next_fire_at = excluded.next_fire_at",
            params![watchlist, state.since, state.schedule, state.next_fire_at],
        )?;
        Ok(())
    }

    /// Stores a composed digest and claims its items in one transaction; when `next_fire_at` is
    /// given the watch list's schedule moves on in the same transaction. Fails (and writes
    /// nothing) if an item is already claimed by another digest of the watch list.
    pub fn save_digest(
        &mut self,
        digest: &NewDigest,
        next_fire_at: Option<DateTime<Utc>>,
    ) -> Result<i64, StoreError> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO digests (watchlist, message_id, subject, envelope_from, envelope_to, message,
               item_count, composed_at, next_attempt_at, mailed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
            params![
                digest.watchlist,
                digest.message_id,
                digest.subject,
                digest.envelope_from,
                serde_json::to_string(&digest.envelope_to)?,
                digest.message,
                digest.item_ids.len() as i64,
                digest.composed_at,
                digest.mailed
            ],
        )?;
        let id = tx.last_insert_rowid();
        if let Some(w) = &digest.webhook {
            tx.execute(
                "INSERT INTO digest_webhooks (digest_id, format, host, payload, next_attempt_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, w.format, w.host, w.payload, digest.composed_at],
            )?;
        }
        {
            let mut claim = tx.prepare(
                "INSERT INTO digest_items (watchlist, item_id, digest_id) VALUES (?1, ?2, ?3)",
            )?;
            for item in &digest.item_ids {
                claim.execute(params![digest.watchlist, item, id])?;
            }
        }
        if let Some(next) = next_fire_at {
            tx.execute(
                "UPDATE watchlist_state SET next_fire_at = ?2 WHERE watchlist = ?1",
                params![digest.watchlist, next],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// When the last digest of `watchlist` was composed, if one was.
    pub fn last_digest_at(&self, watchlist: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT MAX(composed_at) FROM digests WHERE watchlist = ?1",
            [watchlist],
            |r| r.get(0),
        )?)
    }

    /// Moves a watch list's next fire time on without a digest (nothing new, `send_empty` off).
    pub fn skip_fire(
        &mut self,
        watchlist: &str,
        next_fire_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE watchlist_state SET next_fire_at = ?2 WHERE watchlist = ?1",
            params![watchlist, next_fire_at],
        )?;
        Ok(())
    }

    /// Pending digests whose next attempt is due at `now` (of one watch list when given),
    /// oldest first.
    pub fn pending_digests(
        &self,
        now: DateTime<Utc>,
        watchlist: Option<&str>,
    ) -> Result<Vec<PendingDigest>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, watchlist, message_id, envelope_from, envelope_to, message, attempts
             FROM digests
             WHERE status = 'pending' AND mailed = 1 AND next_attempt_at <= ?1
               AND (?2 IS NULL OR watchlist = ?2)
             ORDER BY composed_at, id",
        )?;
        let rows = stmt.query_map(params![now, watchlist], |r| {
            Ok((
                PendingDigest {
                    id: r.get(0)?,
                    watchlist: r.get(1)?,
                    message_id: r.get(2)?,
                    envelope_from: r.get(3)?,
                    envelope_to: Vec::new(),
                    message: r.get(5)?,
                    attempts: r.get(6)?,
                },
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut d, to) = row?;
            d.envelope_to = serde_json::from_str(&to)?;
            out.push(d);
        }
        Ok(out)
    }

    /// Webhook deliveries whose next attempt is due at `now` (of one watch list when given),
    /// oldest first.
    pub fn pending_webhooks(
        &self,
        now: DateTime<Utc>,
        watchlist: Option<&str>,
    ) -> Result<Vec<PendingWebhook>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT w.digest_id, d.watchlist, d.message_id, w.format, w.payload, w.attempts
             FROM digest_webhooks w JOIN digests d ON d.id = w.digest_id
             WHERE w.status = 'pending' AND w.next_attempt_at <= ?1 AND (?2 IS NULL OR d.watchlist = ?2)
             ORDER BY d.composed_at, d.id",
        )?;
        let rows = stmt.query_map(params![now, watchlist], |r| {
            Ok(PendingWebhook {
                digest_id: r.get(0)?,
                watchlist: r.get(1)?,
                message_id: r.get(2)?,
                format: r.get(3)?,
                payload: r.get(4)?,
                attempts: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Takes a pending digest for one send attempt: if it is still pending and due at `now`
    /// (no live lease), leases it to `token` until `until`. `false` means another sender holds it
    /// (or it was sent meanwhile): do not send. The holder renews the lease while it sends
    /// ([`Store::renew_lease`]); after a crash the digest is due again once the lease ends.
    pub fn lease_digest(
        &mut self,
        id: i64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        token: &str,
    ) -> Result<bool, StoreError> {
        self.lease(Channel::Mail, id, now, until, token)
    }

    /// Extends the lease `token` holds on a pending digest to `until`; `false` when it holds it
    /// no more.
    pub fn renew_lease(
        &mut self,
        id: i64,
        token: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.renew(Channel::Mail, id, token, until)
    }

    /// Marks a digest sent: called only after a transport accepted it.
    pub fn mark_digest_sent(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.mark_sent(Channel::Mail, id, now)
    }

    /// Records a failed attempt by the holder of `token`; the digest stays pending until
    /// `next_attempt_at`. A sender whose lease passed to another leaves it alone.
    pub fn record_digest_failure(
        &mut self,
        id: i64,
        token: &str,
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.record_failure(Channel::Mail, id, token, error, next_attempt_at)
    }

    /// [`Store::lease_digest`] for one destination of digest `id`.
    pub fn lease(
        &mut self,
        channel: Channel,
        id: i64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        token: &str,
    ) -> Result<bool, StoreError> {
        let (table, key) = channel.table();
        let n = self.conn.execute(
            &format!(
                "UPDATE {table} SET next_attempt_at = ?3, lease_token = ?4
                 WHERE {key} = ?1 AND status = 'pending' AND next_attempt_at <= ?2"
            ),
            params![id, now, until, token],
        )?;
        Ok(n == 1)
    }

    /// [`Store::renew_lease`] for one destination of digest `id`.
    pub fn renew(
        &mut self,
        channel: Channel,
        id: i64,
        token: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (table, key) = channel.table();
        let n = self.conn.execute(
            &format!(
                "UPDATE {table} SET next_attempt_at = ?3
                 WHERE {key} = ?1 AND status = 'pending' AND lease_token = ?2"
            ),
            params![id, token, until],
        )?;
        Ok(n == 1)
    }

    /// [`Store::mark_digest_sent`] for one destination of digest `id`.
    pub fn mark_sent(
        &mut self,
        channel: Channel,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (table, key) = channel.table();
        self.conn.execute(
            &format!(
                "UPDATE {table} SET status = 'sent', sent_at = ?2, attempts = attempts + 1,
                   last_error = NULL, lease_token = NULL
                 WHERE {key} = ?1 AND status = 'pending'"
            ),
            params![id, now],
        )?;
        Ok(())
    }

    /// [`Store::record_digest_failure`] for one destination of digest `id`.
    pub fn record_failure(
        &mut self,
        channel: Channel,
        id: i64,
        token: &str,
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (table, key) = channel.table();
        self.conn.execute(
            &format!(
                "UPDATE {table} SET attempts = attempts + 1, last_error = ?3, next_attempt_at = ?4,
                   lease_token = NULL
                 WHERE {key} = ?1 AND status = 'pending' AND (lease_token IS NULL OR lease_token = ?2)"
            ),
            params![id, token, error, next_attempt_at],
        )?;
        Ok(())
    }

    /// Each watch list's webhook deliveries: pending, attempts, last error, next attempt.
    pub fn webhook_states(&self) -> Result<Vec<WebhookState>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT d.watchlist,
                    (SELECT w2.host FROM digest_webhooks w2 JOIN digests d2 ON d2.id = w2.digest_id
                      WHERE d2.watchlist = d.watchlist ORDER BY d2.composed_at DESC, d2.id DESC LIMIT 1),
                    COUNT(*) FILTER (WHERE w.status = 'pending'),
                    COALESCE(MAX(w.attempts) FILTER (WHERE w.status = 'pending'), 0),
                    (SELECT w3.last_error FROM digest_webhooks w3 JOIN digests d3 ON d3.id = w3.digest_id
                      WHERE d3.watchlist = d.watchlist AND w3.status = 'pending'
                      ORDER BY w3.attempts DESC, d3.composed_at DESC LIMIT 1),
                    MIN(w.next_attempt_at) FILTER (WHERE w.status = 'pending'),
                    MAX(w.sent_at)
             FROM digest_webhooks w JOIN digests d ON d.id = w.digest_id
             GROUP BY d.watchlist ORDER BY d.watchlist",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(WebhookState {
                watchlist: r.get(0)?,
                host: r.get(1)?,
                pending: r.get(2)?,
                attempts: r.get(3)?,
                last_error: r.get(4)?,
                next_attempt_at: r.get(5)?,
                last_sent_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many digests are pending, and when the oldest of them was composed.
    pub fn pending_summary(&self) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), MIN(d.composed_at) FROM digests d
             LEFT JOIN digest_webhooks w ON w.digest_id = d.id
             WHERE (d.mailed = 1 AND d.status = 'pending') OR w.status = 'pending'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Digests, newest first (of one watch list when given).
    pub fn digests(&self, watchlist: Option<&str>) -> Result<Vec<DigestRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {DIGEST_ROW_COLUMNS}
             FROM digests d LEFT JOIN digest_webhooks w ON w.digest_id = d.id
             WHERE (?1 IS NULL OR d.watchlist = ?1) ORDER BY d.composed_at DESC, d.id DESC"
        ))?;
        let rows = stmt.query_map(params![watchlist], digest_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Pending mails of one watch list (or all) that wait for a later attempt: a retry after a
    /// failed send, or a send under way in another process. Oldest first. (A webhook delivery
    /// that waits is shown on the digest's status line.)
    pub fn waiting_digests(
        &self,
        now: DateTime<Utc>,
        watchlist: Option<&str>,
    ) -> Result<Vec<DigestRow>, StoreError> {
        Ok(self
            .digests(watchlist)?
            .into_iter()
            .rev()
            .filter(|d| d.mail_status.as_deref() == Some("pending") && d.next_attempt_at > now)
            .collect())
    }

    /// When a digest was last accepted by a transport (mail or webhook), by any process on this
    /// database.
    pub fn last_digest_sent_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT MAX(t) FROM (SELECT sent_at AS t FROM digests
                                     UNION ALL SELECT sent_at FROM digest_webhooks)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Item ids a digest carries, ascending.
    pub fn digest_item_ids(&self, digest_id: i64) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT item_id FROM digest_items WHERE digest_id = ?1 ORDER BY item_id")?;
        let rows = stmt.query_map([digest_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// `since` in the text form rusqlite writes for `DateTime<Utc>`, so text comparison is ordered.
pub(super) fn since_text(t: DateTime<Utc>) -> String {
    use rusqlite::types::{ToSql, ToSqlOutput, Value, ValueRef};
    match t.to_sql() {
        Ok(ToSqlOutput::Owned(Value::Text(s))) => s,
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(s))) => String::from_utf8_lossy(s).into_owned(),
        _ => t.to_rfc3339(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ParsedItem;
    use crate::store::NewItem;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn store_with_items(n: usize) -> (Store, Vec<i64>) {
        let mut s = Store::open_in_memory().unwrap();
        let feed = crate::config::FeedConfig::for_tests(
            "f",
            "https://x.eu/rss",
            crate::config::FetchArticle::Never,
        );
        let now = at("2026-11-24T07:00:00Z");
        s.sync_feeds(&[feed], now).unwrap();
        let items: Vec<NewItem> = (0..n)
            .map(|i| NewItem {
                parsed: ParsedItem {
                    guid: format!("g{i}"),
                    title: format!("t{i}"),
                    text: "x".into(),
                    ..ParsedItem::default()
                },
                language: Some("en".into()),
                language_source: None,
                matches: vec![StoredMatch {
                    topic: if i % 2 == 0 { "a" } else { "b" }.into(),
                    score: 0.9,
                    evidence_json: "[]".into(),
                }],
                article: None,
                links: None,
                hashes: None,
                prepared: None,
            })
            .collect();
        let r = s.store_items(1, &items, now).unwrap();
        (s, r.new_ids)
    }

    fn digest(items: Vec<i64>, mid: &str) -> NewDigest {
        NewDigest {
            watchlist: "w".into(),
            message_id: mid.into(),
            subject: "s".into(),
            envelope_from: "a@x".into(),
            envelope_to: vec!["b@x".into()],
            message: b"raw".to_vec(),
            item_ids: items,
            composed_at: at("2026-11-24T08:00:00Z"),
            mailed: true,
            webhook: None,
        }
    }

    /// Regression (merge of issue 16 into the packed texts of issue 18): candidates read
    /// `article_text` as stored, a deflated BLOB, so the snippet of an extracted article could
    /// not be built. Both texts come back as the text.
    #[test]
    fn candidates_carry_the_article_text_and_text_unpacked() {
        let mut s = Store::open_in_memory().unwrap();
        let feed = crate::config::FeedConfig::for_tests(
            "f",
            "https://x.eu/rss",
            crate::config::FetchArticle::Always,
        );
        let now = at("2026-11-24T07:00:00Z");
        s.sync_feeds(&[feed], now).unwrap();
        let article = "The Council adopted the regulation on cyber resilience today. ".repeat(20);
        let summary = "One line of summary from the feed, said several times over. ".repeat(8);
        let item = NewItem {
            parsed: ParsedItem {
                guid: "g".into(),
                title: "t".into(),
                text: summary.clone(),
                ..ParsedItem::default()
            },
            language: Some("en".into()),
            language_source: None,
            matches: vec![StoredMatch {
                topic: "a".into(),
                score: 0.9,
                evidence_json: "[]".into(),
            }],
            article: Some(crate::store::Article {
                text: Some(article.clone()),
                status: "ok".into(),
            }),
            links: None,
            hashes: None,
            prepared: None,
        };
        s.store_items(1, &[item], now).unwrap();
        let stored: (String, String) = s
            .conn
            .query_row(
                "SELECT typeof(text), typeof(article_text) FROM items",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(stored, ("blob".into(), "blob".into()), "both stored packed");
        let c = s
            .digest_candidates("w", &["a".to_string()], at("2026-11-01T00:00:00Z"))
            .unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].article_text.as_deref(), Some(article.as_str()));
        assert_eq!(c[0].text, summary);
    }

    #[test]
    fn claimed_items_are_no_longer_candidates_and_cannot_be_claimed_twice() {
        let (mut s, ids) = store_with_items(4);
        let since = at("2026-11-01T00:00:00Z");
        let topics = vec!["a".to_string()];
        let c = s.digest_candidates("w", &topics, since).unwrap();
        assert_eq!(c.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[0], ids[2]]);
        assert_eq!(
            (c[0].feed.as_str(), c[0].feeds.clone()),
            ("f", vec!["f".to_string()])
        );
        assert_eq!(c[0].matches.len(), 1);
        s.save_digest(&digest(vec![ids[0]], "<1@x>"), None).unwrap();
        let c = s.digest_candidates("w", &topics, since).unwrap();
        assert_eq!(c.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[2]]);
        // another watch list still sees it
        assert_eq!(s.digest_candidates("v", &topics, since).unwrap().len(), 2);
        // claiming again fails and writes nothing
        assert!(
            s.save_digest(&digest(vec![ids[2], ids[0]], "<2@x>"), None)
                .is_err()
        );
        assert_eq!(s.digests(None).unwrap().len(), 1);
        assert_eq!(s.digest_candidates("w", &topics, since).unwrap().len(), 1);
        // items fetched before `since` are not candidates
        let late = at("2026-11-25T00:00:00Z");
        assert!(s.digest_candidates("w", &topics, late).unwrap().is_empty());
    }

    #[test]
    fn pending_until_marked_sent_and_failures_postpone() {
        let (mut s, ids) = store_with_items(1);
        let id = s.save_digest(&digest(ids, "<1@x>"), None).unwrap();
        let now = at("2026-11-24T08:00:00Z");
        let p = s.pending_digests(now, None).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].message, b"raw");
        assert_eq!(p[0].envelope_to, ["b@x"]);
        s.record_digest_failure(id, "t0", "421 busy", at("2026-11-24T08:05:00Z"))
            .unwrap();
        assert!(s.pending_digests(now, None).unwrap().is_empty());
        assert_eq!(
            s.pending_digests(at("2026-11-24T08:05:00Z"), Some("w"))
                .unwrap()
                .len(),
            1
        );
        // a lease is exclusive: the second taker is refused, and the digest is not due until
        // the lease ends
        let t = at("2026-11-24T08:05:00Z");
        let until = at("2026-11-24T08:10:00Z");
        assert!(s.lease_digest(id, t, until, "a").unwrap());
        assert!(!s.lease_digest(id, t, until, "b").unwrap());
        // only the holder renews, and a renewed lease holds past its first end
        assert!(!s.renew_lease(id, "b", at("2026-11-24T08:20:00Z")).unwrap());
        assert!(s.renew_lease(id, "a", at("2026-11-24T08:15:00Z")).unwrap());
        assert!(!s.lease_digest(id, until, until, "b").unwrap());
        assert!(
            s.pending_digests(until, None).unwrap().is_empty(),
            "a renewed lease is live"
        );
        // a failure recorded by a sender that lost the lease changes nothing
        s.record_digest_failure(id, "b", "late", t).unwrap();
        assert_eq!(
            s.digests(None).unwrap()[0].last_error.as_deref(),
            Some("421 busy")
        );
        let until = at("2026-11-24T08:15:00Z");
        assert!(
            s.pending_digests(at("2026-11-24T08:09:59Z"), None)
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.pending_digests(until, None).unwrap().len(), 1);
        s.mark_digest_sent(id, at("2026-11-24T08:06:00Z")).unwrap();
        assert!(
            !s.lease_digest(id, until, until, "c").unwrap(),
            "sent digests are never taken"
        );
        assert!(
            s.pending_digests(at("2026-11-30T00:00:00Z"), None)
                .unwrap()
                .is_empty()
        );
        let row = &s.digests(Some("w")).unwrap()[0];
        assert_eq!((row.status.as_str(), row.attempts), ("sent", 2));
        assert_eq!(row.last_error, None);
    }
}

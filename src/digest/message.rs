//! The email: lettre builds a multipart/alternative message (text, then HTML) with encoded
//! UTF-8 headers, a Message-ID and a Date, and gives the exact bytes that are stored and sent.

use std::time::SystemTime;

use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use sha2::{Digest as _, Sha256};

use super::config::Watchlist;
use super::render;
use super::select::DigestContent;
use crate::store::NewDigest;

/// Why a message could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the digest message: {0}")]
pub struct ComposeError(#[from] lettre::error::Error);

/// A stable, unique Message-ID: watch list, time and the items carried, at the sender's domain.
pub fn message_id(d: &DigestContent, from: &Mailbox) -> String {
    let mut h = Sha256::new();
    h.update(d.watchlist.as_bytes());
    h.update(d.composed_at.to_rfc3339().as_bytes());
    for id in d.item_ids() {
        h.update(id.to_le_bytes());
    }
    format!(
        "<veille.{}.{}.{}@{}>",
        d.watchlist,
        d.composed_at.format("%Y%m%d%H%M%S"),
        &hex::encode(h.finalize())[..12],
        from.email.domain()
    )
}

/// The `List-Id` of a watch list (RFC 2919): its name at the sender's domain.
pub fn list_id(watchlist: &str, from: &Mailbox) -> String {
    format!(
        "\"veille digest {watchlist}\" <{watchlist}.{}>",
        from.email.domain()
    )
}

/// Builds the message of `d` for `wl`, ready to store and send.
pub fn compose(
    d: &DigestContent,
    wl: &Watchlist,
    from: &Mailbox,
) -> Result<NewDigest, ComposeError> {
    let subject = render::subject(d);
    let id = message_id(d, from);
    let mut b = Message::builder()
        .from(from.clone())
        .subject(subject.clone())
        .message_id(Some(id.clone()))
        .date(SystemTime::from(d.composed_at));
    // Machine-made mail, one list per watch list: auto-responders (out of office) stay quiet
    // (RFC 3834; Exchange reads its own header) and readers can filter on the list.
    for (name, value) in [
        ("Auto-Submitted", "auto-generated".to_string()),
        ("X-Auto-Response-Suppress", "All".to_string()),
        ("List-Id", list_id(&wl.name, from)),
    ] {
        b = b.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str(name),
            value,
        ));
    }
    for r in &wl.recipients {
        b = b.to(r.clone());
    }
    // A watch list with only a webhook: the message is still composed (the web view shows it)
    // and addressed to the sender, but never mailed.
    let mailed = !wl.recipients.is_empty();
    if !mailed {
        b = b.to(from.clone());
    }
    let msg = b.multipart(MultiPart::alternative_plain_html(
        render::text(d),
        render::html(d),
    ))?;
    let envelope = msg.envelope();
    Ok(NewDigest {
        watchlist: d.watchlist.clone(),
        message_id: id,
        subject,
        envelope_from: envelope.from().map(ToString::to_string).unwrap_or_default(),
        envelope_to: if mailed {
            envelope.to().iter().map(ToString::to_string).collect()
        } else {
            Vec::new()
        },
        message: msg.formatted(),
        item_ids: d.item_ids(),
        composed_at: d.composed_at,
        mailed,
        webhook: None,
    })
}

//! Mail transports: an outbox directory of `.eml` files (the default, needs no server), SMTP
//! submission, or the local sendmail. Each sends stored bytes as they are, so a resend is the
//! same message with the same Message-ID. One attempt is bounded by `mail.timeout` as a whole:
//! connecting, the greeting, each command, the data and the server's final reply all happen
//! within it (a server that goes silent after the data costs one timeout, not the service).
//! SMTP connections are not pooled: an attempt cut short never leaves a half-used connection.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::{AsyncSendmailTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::config::{MailSettings, TransportKind};
use crate::store::PendingDigest;

/// Why a send failed. Every failure is retried later; `permanent` says whether the server
/// refused the message for good (5xx), which the logs and status show so a human can act.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{message}")]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
    /// How long the server asked to wait before the next attempt (a webhook's `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl SendError {
    fn transient(message: impl Into<String>) -> Self {
        SendError {
            permanent: false,
            retry_after: None,
            message: message.into(),
        }
    }
}

/// A configured transport with the bound on one attempt.
pub struct Mailer {
    transport: Transport,
    timeout: Duration,
}

enum Transport {
    Outbox(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Sendmail(AsyncSendmailTransport<Tokio1Executor>),
}

impl Mailer {
    /// Builds the transport of `[mail]`. For SMTP the password is read from the environment
    /// variable named by `password_env` now; a missing variable is an error that names it.
    pub fn new(settings: &MailSettings) -> Result<Mailer, SendError> {
        Ok(Mailer {
            transport: Self::transport(settings)?,
            timeout: settings.timeout,
        })
    }

    /// The bound on one attempt (`mail.timeout`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn transport(settings: &MailSettings) -> Result<Transport, SendError> {
        use Transport as Mailer;
        Ok(match &settings.transport {
            TransportKind::Outbox(dir) => Mailer::Outbox(dir.clone()),
            TransportKind::Sendmail(cmd) => Mailer::Sendmail(match cmd {
                Some(c) => AsyncSendmailTransport::new_with_command(c.as_os_str()),
                None => AsyncSendmailTransport::new(),
            }),
            TransportKind::Smtp { url, password_env } => {
                let mut url = url.clone();
                if let Some(var) = password_env {
                    let pw = std::env::var(var).map_err(|_| SendError {
                        permanent: true,
                        retry_after: None,
                        message: format!(
                            "the SMTP password variable {var} is not set (mail.password_env)"
                        ),
                    })?;
                    url.set_password(Some(&pw)).map_err(|()| SendError {
                        permanent: true,
                        retry_after: None,
                        message:
                            "mail.smtp_url needs a user name (user@host) to log in with a password"
                                .into(),
                    })?;
                }
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str())
                    .map_err(|e| SendError {
                        permanent: true,
                        retry_after: None,
                        message: format!("mail.smtp_url: {e}"),
                    })?;
                Mailer::Smtp(builder.timeout(Some(settings.timeout)).build())
            }
        })
    }

    /// Sends one stored digest. `Ok` means the transport accepted it (the outbox file is
    /// complete on disk, the SMTP server answered 250 to the data, sendmail exited 0); an
    /// attempt that takes longer than `mail.timeout` is a failure that says so.
    pub async fn send(&self, d: &PendingDigest) -> Result<(), SendError> {
        match tokio::time::timeout(self.timeout, self.attempt(d)).await {
            Ok(result) => result,
            Err(_) => Err(SendError::transient(format!(
                "{}: no complete answer within {} (mail.timeout); the message will be sent again, with the same Message-ID",
                self.name(),
                crate::duration::show(self.timeout)
            ))),
        }
    }

    fn name(&self) -> &'static str {
        match self.transport {
            Transport::Outbox(_) => "outbox",
            Transport::Smtp(_) => "SMTP",
            Transport::Sendmail(_) => "sendmail",
        }
    }

    async fn attempt(&self, d: &PendingDigest) -> Result<(), SendError> {
        use Transport as Mailer;
        match &self.transport {
            Mailer::Outbox(dir) => write_outbox(dir, d).await,
            Mailer::Smtp(t) => {
                let env = envelope(d)?;
                t.send_raw(&env, &d.message)
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError {
                        permanent: e.is_permanent(),
                        retry_after: None,
                        message: format!("SMTP: {e}"),
                    })
            }
            Mailer::Sendmail(t) => {
                let env = envelope(d)?;
                t.send_raw(&env, &d.message)
                    .await
                    .map_err(|e| SendError::transient(format!("sendmail: {e}")))
            }
        }
    }
}

fn envelope(d: &PendingDigest) -> Result<Envelope, SendError> {
    let bad = |e: lettre::address::AddressError| SendError {
        permanent: true,
        retry_after: None,
        message: format!("stored envelope is invalid: {e}"),
    };
    let from = if d.envelope_from.is_empty() {
        None
    } else {
        Some(Address::from_str(&d.envelope_from).map_err(bad)?)
    };
    let to = d
        .envelope_to
        .iter()
        .map(|a| Address::from_str(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    Envelope::new(from, to).map_err(|e| SendError {
        permanent: true,
        retry_after: None,
        message: format!("stored envelope is invalid: {e}"),
    })
}

/// The outbox file of a digest: named after its Message-ID, so a resend rewrites the same file.
pub fn outbox_file_name(d: &PendingDigest) -> String {
    file_name(&d.message_id)
}

/// Where the outbox transport writes the digest with this Message-ID.
pub fn outbox_path(dir: &std::path::Path, message_id: &str) -> PathBuf {
    dir.join(file_name(message_id))
}

fn file_name(message_id: &str) -> String {
    let safe: String = message_id
        .trim_matches(['<', '>'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.eml")
}

/// Writes the message to a temporary file, syncs it, then renames it into place: a reader never
/// sees half a message, and a crash leaves at most a `.tmp` file.
async fn write_outbox(dir: &std::path::Path, d: &PendingDigest) -> Result<(), SendError> {
    let dir = dir.to_path_buf();
    let name = outbox_file_name(d);
    let bytes = d.message.clone();
    let shown = name.clone();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".{name}.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(&name))?;
        Ok(())
    })
    .await
    .map_err(|e| SendError::transient(format!("outbox: {e}")))?
    .map_err(|e| SendError::transient(format!("outbox {shown}: {e}")))
}

//! Delivering the outbox: each due message goes out once, or stays with the reason.
//!
//! Per message: mark it `sending` (committed), run the SMTP transaction, append a
//! copy to the Sent mailbox, mark it `sent`. A message found in `sending` was being
//! sent when a run died: it is looked up in the Sent mailbox by Message-ID first,
//! and only sent again when it is not there. A transient failure puts it back in the
//! queue with an exponentially growing wait; a permanent one (5xx), or too many
//! attempts, marks it `failed` with the server's reason.
//!
//! The one window left: a run killed between the server's final 250 and the end of
//! the Sent append sends that message again on the next run.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::imap::{self, Connection, ImapError};
use super::smtp::{self, SendError, Smtp};
use crate::config::{Config, EnvelopeFrom, ImapConfig, SmtpConfig};
use crate::secrets::Secret;
use crate::store::outbox::State;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often and how patiently to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff: SignedDuration,
    pub backoff_max: SignedDuration,
}

impl RetryPolicy {
    pub fn from_config(cfg: &SmtpConfig) -> RetryPolicy {
        let secs = |s: u64| SignedDuration::from_secs(s.min(i64::MAX as u64) as i64);
        RetryPolicy {
            max_attempts: cfg.max_attempts.max(1),
            backoff: secs(cfg.backoff_seconds.max(1)),
            backoff_max: secs(cfg.backoff_max_seconds.max(cfg.backoff_seconds.max(1))),
        }
    }

    /// The wait after `attempts` failed attempts: backoff, 2×, 4×, … up to the cap.
    pub fn wait(&self, attempts: u32) -> SignedDuration {
        let factor = 1i64 << attempts.saturating_sub(1).min(30);
        let secs = self.backoff.as_secs().saturating_mul(factor);
        SignedDuration::from_secs(secs.min(self.backoff_max.as_secs()))
    }
}

/// The envelope sender for a new message: the null sender for automatic replies
/// (unless `[smtp] envelope_from = "address"`), else the team address.
pub fn envelope_sender(cfg: &Config, automatic: bool) -> Option<String> {
    let null = cfg.smtp.as_ref().map(|s| s.envelope_from).unwrap_or_default() == EnvelopeFrom::Null;
    if automatic && null { None } else { Some(cfg.primary_address().to_string()) }
}

/// The Sent mailbox, connected on first use; a failed connection is remembered for
/// the rest of the run.
pub struct SentMailbox<'a> {
    imap: &'a ImapConfig,
    password: &'a Secret,
    mailbox: String,
    conn: Option<Connection>,
    broken: Option<String>,
    ensured: bool,
}

impl<'a> SentMailbox<'a> {
    pub fn new(imap: &'a ImapConfig, password: &'a Secret, mailbox: &str) -> SentMailbox<'a> {
        SentMailbox { imap, password, mailbox: mailbox.into(), conn: None, broken: None, ensured: false }
    }

    fn conn(&mut self) -> Result<&mut Connection, String> {
        if let Some(b) = &self.broken {
            return Err(b.clone());
        }
        if self.conn.is_none() {
            match imap::connect(self.imap, self.password) {
                Ok(c) => self.conn = Some(c),
                Err(e) => {
                    let r = smtp::reason(&e.to_string());
                    self.broken = Some(r.clone());
                    return Err(r);
                }
            }
        }
        self.conn.as_mut().ok_or_else(|| "no IMAP connection".to_string())
    }

    fn failed(&mut self, e: ImapError) -> String {
        let r = smtp::reason(&e.to_string());
        if matches!(e, ImapError::Lost { .. }) {
            self.conn = None;
            self.broken = Some(r.clone());
        }
        r
    }

    /// Whether a message with this Message-ID is in the Sent mailbox.
    pub fn contains(&mut self, message_id: &str) -> Result<bool, String> {
        let mailbox = self.mailbox.clone();
        let res = self.conn()?.has_message_id(&mailbox, message_id);
        res.map_err(|e| self.failed(e))
    }

    /// Append a copy (\Seen), creating the mailbox on first use when missing.
    pub fn append(&mut self, raw: &[u8]) -> Result<(), String> {
        let mailbox = self.mailbox.clone();
        if !self.ensured {
            let res = self.conn()?.ensure_mailbox(&mailbox);
            res.map_err(|e| self.failed(e))?;
            self.ensured = true;
        }
        let res = self.conn()?.append_seen(&mailbox, raw);
        res.map_err(|e| self.failed(e))
    }

    pub fn close(self) {
        if let Some(c) = self.conn {
            c.logout();
        }
    }
}

/// What happened to one message in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Handed to the server now.
    Sent,
    /// Found in the Sent mailbox after an interrupted run: not sent again.
    AlreadySent,
    /// Not delivered; queued for another attempt.
    Retry,
    /// Given up: refused for good, or too many attempts.
    Failed,
    /// Interrupted earlier, and the Sent mailbox cannot be checked now: left as it is.
    Unresolved,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    pub id: i64,
    pub outcome: Outcome,
    /// Sanitised: the server's words, or ours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether a copy is in the Sent mailbox (for sent messages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_copy: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub sent: u32,
    pub already_sent: u32,
    pub retry: u32,
    pub failed: u32,
    pub unresolved: u32,
    pub items: Vec<ItemResult>,
}

impl Summary {
    fn push(&mut self, id: i64, outcome: Outcome, reason: Option<String>, sent_copy: Option<bool>) {
        match outcome {
            Outcome::Sent => self.sent += 1,
            Outcome::AlreadySent => self.already_sent += 1,
            Outcome::Retry => self.retry += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Unresolved => self.unresolved += 1,
        }
        self.items.push(ItemResult { id, outcome, reason, sent_copy });
    }
}

/// A test-only crash point: with `VULNMAIL_FAULT=NAME`, exit 137 there (debug builds only).
#[cfg(debug_assertions)]
fn fault(point: &str) {
    if std::env::var("VULNMAIL_FAULT").is_ok_and(|v| v == point) {
        std::process::exit(137);
    }
}
#[cfg(not(debug_assertions))]
fn fault(_point: &str) {}

/// Deliver every message due at `now`. `sent` is the Sent mailbox (None: no copies,
/// and an interrupted message cannot be checked, so it is marked failed rather than
/// risk sending it twice).
pub fn deliver(
    store: &Store,
    smtp: &Smtp,
    policy: RetryPolicy,
    mut sent: Option<&mut SentMailbox<'_>>,
    now: Timestamp,
) -> Result<Summary, DeliverError> {
    let mut summary = Summary::default();
    for item in store.due(now)? {
        let row = &item.row;
        let id = row.id;
        if row.state == State::Sending {
            match sent.as_deref_mut().map(|s| s.contains(&row.message_id)) {
                Some(Ok(true)) => {
                    store.mark_sent(id, now, true)?;
                    summary.push(id, Outcome::AlreadySent, None, Some(true));
                    continue;
                }
                Some(Ok(false)) => {} // it did not go out: send it below
                Some(Err(e)) => {
                    let r = format!("interrupted while sending; cannot check the Sent mailbox yet: {e}");
                    store.note_error(id, &r)?;
                    summary.push(id, Outcome::Unresolved, Some(r), None);
                    continue;
                }
                None => {
                    let r = "interrupted while sending, and there is no Sent mailbox to tell whether it went out: \
                             ask the recipient, then `vulnmail outbox retry` it (or drop it)"
                        .to_string();
                    store.mark_failed(id, &r)?;
                    summary.push(id, Outcome::Failed, Some(r), None);
                    continue;
                }
            }
        }
        if row.attempts >= policy.max_attempts && row.state == State::Queued {
            let r = format!("gave up after {} attempts", row.attempts);
            store.mark_failed(id, &r)?;
            summary.push(id, Outcome::Failed, Some(r), None);
            continue;
        }
        store.mark_sending(id)?;
        let attempts = row.attempts + 1;
        let data = smtp::crlf(&item.raw);
        match smtp.send(row.envelope_from.as_deref(), std::slice::from_ref(&row.envelope_to), &data) {
            Ok(()) => {
                let (copy, reason) = match sent.as_deref_mut().map(|s| s.append(&data)) {
                    Some(Ok(())) => (true, None),
                    Some(Err(e)) => (false, Some(format!("sent, but no copy in the Sent mailbox: {e}"))),
                    None => (false, None),
                };
                fault("after-send");
                store.mark_sent(id, now, copy)?;
                summary.push(id, Outcome::Sent, reason, Some(copy));
            }
            Err(SendError::Permanent(r)) => {
                store.mark_failed(id, &r)?;
                summary.push(id, Outcome::Failed, Some(r), None);
            }
            Err(SendError::Transient(r)) => {
                if attempts >= policy.max_attempts {
                    let r = format!("{r} (gave up after {attempts} attempts)");
                    store.mark_failed(id, &r)?;
                    summary.push(id, Outcome::Failed, Some(r), None);
                } else {
                    store.mark_retry(id, &r, now + policy.wait(attempts))?;
                    summary.push(id, Outcome::Retry, Some(r), None);
                }
            }
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 8,
            backoff: SignedDuration::from_secs(60),
            backoff_max: SignedDuration::from_secs(300),
        };
        let w: Vec<i64> = (1..=5).map(|n| p.wait(n).as_secs()).collect();
        assert_eq!(w, vec![60, 120, 240, 300, 300]);
        assert_eq!(p.wait(200).as_secs(), 300);
    }

    #[test]
    fn automatic_replies_use_the_null_sender_unless_configured() {
        let mut cfg: Config =
            toml::from_str("[team]\naddresses = [\"security@example.org\"]\n[smtp]\nhost = \"smtp.example.org\"\n")
                .unwrap();
        assert_eq!(envelope_sender(&cfg, true), None);
        assert_eq!(envelope_sender(&cfg, false).as_deref(), Some("security@example.org"));
        if let Some(s) = cfg.smtp.as_mut() {
            s.envelope_from = EnvelopeFrom::Address;
        }
        assert_eq!(envelope_sender(&cfg, true).as_deref(), Some("security@example.org"));
    }
}

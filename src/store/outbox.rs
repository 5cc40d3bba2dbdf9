//! The outbox (outgoing mail, written before it is sent) and the memory of
//! automatic replies per sender (RFC 3834 rate limit).
//!
//! Every state change is its own committed statement, so that a run killed at any
//! moment leaves each message in a state that says what is known about it:
//! `queued` (not handed to the server), `sending` (perhaps handed over: check the
//! Sent mailbox before sending again), `sent`, `failed`, `dropped`. No network here;
//! `mail::deliver` drives the states.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{SqlContext, Store, StoreError};

/// Where an outgoing message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Queued,
    Sending,
    Sent,
    Failed,
    Dropped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sending => "sending",
            State::Sent => "sent",
            State::Failed => "failed",
            State::Dropped => "dropped",
        }
    }

    fn parse(s: &str) -> State {
        match s {
            "sending" => State::Sending,
            "sent" => State::Sent,
            "failed" => State::Failed,
            "dropped" => State::Dropped,
            _ => State::Queued,
        }
    }
}

/// A message to queue. `raw` is the complete RFC 5322 message with CRLF line endings,
/// carrying `message_id` in its Message-ID header (without angle brackets here).
#[derive(Debug, Clone)]
pub struct NewMail {
    pub report_id: Option<String>,
    /// Which reply this is ("ack", …): with `report_id`, what makes a reply a duplicate.
    pub template: String,
    /// Sent without a person (RFC 3834 `Auto-Submitted: auto-replied`).
    pub automatic: bool,
    pub message_id: String,
    /// `None`: the null sender `MAIL FROM:<>`.
    pub envelope_from: Option<String>,
    pub envelope_to: String,
    pub raw: Vec<u8>,
}

/// A row of the outbox, without the message itself.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub report_id: Option<String>,
    pub template: String,
    pub automatic: bool,
    pub message_id: String,
    pub envelope_from: Option<String>,
    pub envelope_to: String,
    pub state: State,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub sent_copy: bool,
}

/// A message due for delivery, with its bytes.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub row: OutboxRow,
    pub raw: Vec<u8>,
}

/// What a `retry` or `drop` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Done,
    NotFound,
    /// The message is in a state that does not allow it (the state it is in).
    Refused(State),
}

/// Times as the store writes them: RFC 3339, UTC, seconds.
const COLUMNS: &str = "id, report_id, template, automatic, message_id, envelope_from, envelope_to, state, \
                       attempts, last_error, next_attempt_at, created_at, sent_at, sent_copy";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
    let state: String = r.get(7)?;
    let state = State::parse(&state);
    let next: String = r.get(10)?;
    Ok(OutboxRow {
        id: r.get(0)?,
        report_id: r.get(1)?,
        template: r.get(2)?,
        automatic: r.get::<_, i64>(3)? != 0,
        message_id: r.get(4)?,
        envelope_from: r.get(5)?,
        envelope_to: r.get(6)?,
        state,
        attempts: r.get::<_, i64>(8)?.clamp(0, i64::from(u32::MAX)) as u32,
        last_error: r.get(9)?,
        next_attempt_at: (state == State::Queued).then_some(next),
        created_at: r.get(11)?,
        sent_at: r.get(12)?,
        sent_copy: r.get::<_, i64>(13)? != 0,
    })
}

impl Store {
    /// Queue a message, due at once. Fails on a Message-ID already in the outbox.
    pub fn enqueue(&self, mail: &NewMail, now: Timestamp) -> Result<i64, StoreError> {
        let t = crate::clock::rfc3339(now);
        self.conn
            .execute(
                "INSERT INTO outbox (report_id, template, automatic, message_id, envelope_from, envelope_to, \
                 state, attempts, next_attempt_at, created_at, sent_copy, raw) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', 0, ?7, ?7, 0, ?8)",
                params![
                    mail.report_id,
                    mail.template,
                    i64::from(mail.automatic),
                    mail.message_id,
                    mail.envelope_from,
                    mail.envelope_to,
                    t,
                    mail.raw,
                ],
            )
            .ctx("queueing a message")?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Messages to work on now: every `sending` one (a run died while sending it),
    /// then the `queued` ones whose time has come, oldest first.
    pub fn due(&self, now: Timestamp) -> Result<Vec<OutboxItem>, StoreError> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS}, raw FROM outbox \
                 WHERE state = 'sending' OR (state = 'queued' AND next_attempt_at <= ?1) \
                 ORDER BY state = 'queued', id"
            ))
            .ctx("listing due messages")?;
        let rows = st
            .query_map([crate::clock::rfc3339(now)], |r| Ok(OutboxItem { row: row(r)?, raw: r.get(14)? }))
            .ctx("listing due messages")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("listing due messages")
    }

    /// The whole outbox, newest last.
    pub fn list_outbox(&self) -> Result<Vec<OutboxRow>, StoreError> {
        let mut st =
            self.conn.prepare(&format!("SELECT {COLUMNS} FROM outbox ORDER BY id")).ctx("listing the outbox")?;
        let rows = st.query_map([], row).ctx("listing the outbox")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("listing the outbox")
    }

    pub fn outbox_row(&self, id: i64) -> Result<Option<OutboxRow>, StoreError> {
        self.conn
            .query_row(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"), [id], row)
            .optional()
            .ctx("reading an outbox message")
    }

    /// About to hand the message to the server: counted as an attempt. Committed
    /// before the first byte is sent.
    pub fn mark_sending(&self, id: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?1 AND state IN ('queued', 'sending')",
                [id],
            )
            .ctx("marking a message as sending")?;
        Ok(())
    }

    pub fn mark_sent(&self, id: i64, at: Timestamp, sent_copy: bool) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?2, sent_copy = ?3, last_error = NULL WHERE id = ?1",
                params![id, crate::clock::rfc3339(at), i64::from(sent_copy)],
            )
            .ctx("marking a message as sent")?;
        Ok(())
    }

    /// Not delivered, try again at `next_at`.
    pub fn mark_retry(&self, id: i64, error: &str, next_at: Timestamp) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'queued', last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
                params![id, error, crate::clock::rfc3339(next_at)],
            )
            .ctx("rescheduling a message")?;
        Ok(())
    }

    /// Note why a message is still `sending` (its fate could not be checked yet).
    pub fn note_error(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE outbox SET last_error = ?2 WHERE id = ?1", params![id, error])
            .ctx("noting an outbox error")?;
        Ok(())
    }

    pub fn mark_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE outbox SET state = 'failed', last_error = ?2 WHERE id = ?1", params![id, error])
            .ctx("marking a message as failed")?;
        Ok(())
    }

    /// Queue a failed, dropped or waiting message again, due now, with a fresh count
    /// of attempts.
    pub fn retry(&self, id: i64, now: Timestamp) -> Result<Change, StoreError> {
        let Some(r) = self.outbox_row(id)? else {
            return Ok(Change::NotFound);
        };
        if matches!(r.state, State::Sent | State::Sending) {
            return Ok(Change::Refused(r.state));
        }
        self.conn
            .execute(
                "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = ?2 WHERE id = ?1",
                params![id, crate::clock::rfc3339(now)],
            )
            .ctx("queueing a message again")?;
        Ok(Change::Done)
    }

    /// Give up on a message that has not gone out. A `sending` one may have, so it
    /// is refused (deliver settles it first).
    pub fn drop_mail(&self, id: i64) -> Result<Change, StoreError> {
        let Some(r) = self.outbox_row(id)? else {
            return Ok(Change::NotFound);
        };
        if matches!(r.state, State::Sent | State::Sending | State::Dropped) {
            return Ok(Change::Refused(r.state));
        }
        self.conn.execute("UPDATE outbox SET state = 'dropped' WHERE id = ?1", [id]).ctx("dropping a message")?;
        Ok(Change::Done)
    }

    /// Whether this reply to this report is queued, on its way or sent already: then
    /// it must not be queued again.
    pub fn pending_for_report(&self, report_id: &str, template: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE report_id = ?1 AND template = ?2 \
                 AND state IN ('queued', 'sending', 'sent'))",
                params![report_id, template],
                |r| r.get::<_, bool>(0),
            )
            .ctx("looking for a queued reply")
    }

    /// When `sender` last got an automatic reply (compared case-insensitively).
    pub fn last_auto_reply(&self, sender: &str) -> Result<Option<Timestamp>, StoreError> {
        let t: Option<String> = self
            .conn
            .query_row("SELECT last_at FROM auto_replies WHERE sender = ?1", [sender.to_lowercase()], |r| r.get(0))
            .optional()
            .ctx("reading the automatic reply memory")?;
        Ok(t.and_then(|t| t.parse().ok()))
    }

    pub fn record_auto_reply(&self, sender: &str, at: Timestamp) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO auto_replies (sender, last_at) VALUES (?1, ?2) \
                 ON CONFLICT (sender) DO UPDATE SET last_at = excluded.last_at",
                params![sender.to_lowercase(), crate::clock::rfc3339(at)],
            )
            .ctx("recording an automatic reply")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.db"), &[3u8; 32]).unwrap();
        (dir, s)
    }

    fn mail(id: &str) -> NewMail {
        NewMail {
            report_id: Some("VR-2026-0001".into()),
            template: "ack".into(),
            automatic: true,
            message_id: id.into(),
            envelope_from: None,
            envelope_to: "reporter@example.net".into(),
            raw: b"Message-ID: <x>\r\n\r\nhi\r\n".to_vec(),
        }
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_message_goes_from_queued_to_sent() {
        let (_d, s) = store();
        let now = t("2026-12-01T10:00:00Z");
        let id = s.enqueue(&mail("a@x"), now).unwrap();
        assert!(s.pending_for_report("VR-2026-0001", "ack").unwrap());
        assert!(!s.pending_for_report("VR-2026-0001", "fixed").unwrap());
        let due = s.due(now).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].row.envelope_from, None);
        assert_eq!(due[0].raw, mail("a@x").raw);
        s.mark_sending(id).unwrap();
        let r = s.outbox_row(id).unwrap().unwrap();
        assert_eq!((r.state, r.attempts), (State::Sending, 1));
        s.mark_sent(id, now, true).unwrap();
        assert!(s.due(now).unwrap().is_empty());
        assert_eq!(s.drop_mail(id).unwrap(), Change::Refused(State::Sent));
        assert_eq!(s.retry(id, now).unwrap(), Change::Refused(State::Sent));
        assert!(s.pending_for_report("VR-2026-0001", "ack").unwrap());
    }

    #[test]
    fn a_sending_message_is_due_whatever_the_time_and_first() {
        let (_d, s) = store();
        let now = t("2026-12-01T10:00:00Z");
        let a = s.enqueue(&mail("a@x"), now).unwrap();
        let b = s.enqueue(&mail("b@x"), now).unwrap();
        s.mark_sending(b).unwrap();
        s.mark_retry(a, "451 later", t("2026-12-01T11:00:00Z")).unwrap();
        let due: Vec<i64> = s.due(now).unwrap().iter().map(|i| i.row.id).collect();
        assert_eq!(due, vec![b]);
        let due: Vec<i64> = s.due(t("2026-12-01T11:00:00Z")).unwrap().iter().map(|i| i.row.id).collect();
        assert_eq!(due, vec![b, a]);
    }

    #[test]
    fn failed_messages_can_be_retried_or_dropped_and_then_queued_anew() {
        let (_d, s) = store();
        let now = t("2026-12-01T10:00:00Z");
        let id = s.enqueue(&mail("a@x"), now).unwrap();
        s.mark_sending(id).unwrap();
        assert_eq!(s.drop_mail(id).unwrap(), Change::Refused(State::Sending));
        s.mark_failed(id, "550 no such user").unwrap();
        assert!(!s.pending_for_report("VR-2026-0001", "ack").unwrap());
        assert_eq!(s.retry(id, now).unwrap(), Change::Done);
        let r = s.outbox_row(id).unwrap().unwrap();
        assert_eq!((r.state, r.attempts, r.last_error.as_deref()), (State::Queued, 0, Some("550 no such user")));
        assert_eq!(s.drop_mail(id).unwrap(), Change::Done);
        assert_eq!(s.drop_mail(99).unwrap(), Change::NotFound);
        assert!(s.enqueue(&mail("a@x"), now).is_err(), "a Message-ID is queued once");
    }

    #[test]
    fn automatic_replies_are_remembered_per_sender() {
        let (_d, s) = store();
        assert_eq!(s.last_auto_reply("Reporter@Example.net").unwrap(), None);
        s.record_auto_reply("Reporter@Example.net", t("2026-12-01T10:00:00Z")).unwrap();
        s.record_auto_reply("reporter@example.net", t("2026-12-02T10:00:00Z")).unwrap();
        assert_eq!(s.last_auto_reply("REPORTER@example.net").unwrap(), Some(t("2026-12-02T10:00:00Z")));
    }
}

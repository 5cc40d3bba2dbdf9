//! Messages and where they were seen: ingest (deduplicated), cursors, listing.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{SqlContext, Store, StoreError, now};

/// One message as fetched or imported.
pub struct Incoming<'a> {
    pub raw: &'a [u8],
    /// RFC822.SIZE as the server reported it (the file size for imports).
    pub size: u64,
    pub internaldate: Option<String>,
    pub flags: Vec<String>,
    /// `imap:MAILBOX` or `import:PATH`.
    pub source: String,
}

/// What one UID of a mailbox turned out to be.
pub enum FetchedItem<'a> {
    Message {
        uid: u32,
        msg: Incoming<'a>,
    },
    /// Larger than the cap: recorded with its size and reason, fetchable later.
    Oversize {
        uid: u32,
        size: u64,
        reason: String,
    },
}

#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct BatchCounts {
    pub new: u64,
    /// Already in the store (same content): only the location was recorded.
    pub duplicate: u64,
    pub oversize: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxState {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// sha256 of the message with line endings made CRLF, an mbox `From ` line and
/// trailing blank lines removed: the same message fetched over IMAP, saved in a
/// Maildir or exported to mbox has one content key.
pub fn content_key(raw: &[u8]) -> [u8; 32] {
    let mut body = raw;
    if body.starts_with(b"From ") {
        body = match body.iter().position(|&b| b == b'\n') {
            Some(i) => &body[i + 1..],
            None => &[],
        };
    }
    let mut h = Sha256::new();
    let mut pending_cr = false;
    let mut line = Vec::with_capacity(1024);
    let mut blank_run = 0usize;
    let flush_line = |line: &mut Vec<u8>, h: &mut Sha256, blank_run: &mut usize| {
        if line.is_empty() {
            *blank_run += 1;
        } else {
            for _ in 0..*blank_run {
                h.update(b"\r\n");
            }
            *blank_run = 0;
            h.update(&line[..]);
            h.update(b"\r\n");
            line.clear();
        }
    };
    for &b in body {
        match b {
            b'\n' => {
                pending_cr = false;
                flush_line(&mut line, &mut h, &mut blank_run);
            }
            b'\r' => {
                if pending_cr {
                    flush_line(&mut line, &mut h, &mut blank_run);
                }
                pending_cr = true;
            }
            _ => {
                if pending_cr {
                    flush_line(&mut line, &mut h, &mut blank_run);
                    pending_cr = false;
                }
                line.push(b);
            }
        }
    }
    if !line.is_empty() {
        flush_line(&mut line, &mut h, &mut blank_run);
    }
    h.finalize().into()
}

/// From, Subject, Date and Message-ID, for listing; only the header is parsed.
struct Summary {
    message_id: Option<String>,
    from: Option<String>,
    subject: Option<String>,
    date: Option<String>,
}

fn summarise(raw: &[u8]) -> Summary {
    // Headers only, and at most 256 KiB of them.
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let end = end.or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2));
    let head = &raw[..end.unwrap_or(raw.len()).min(256 * 1024)];
    let parsed = mail_parser::MessageParser::new().parse_headers(head);
    let Some(m) = parsed else {
        return Summary { message_id: None, from: None, subject: None, date: None };
    };
    let from = m.from().and_then(|a| a.first()).map(|a| match (a.name(), a.address()) {
        (Some(n), Some(addr)) => format!("{n} <{addr}>"),
        (None, Some(addr)) => addr.to_string(),
        (Some(n), None) => n.to_string(),
        (None, None) => String::new(),
    });
    Summary {
        message_id: m.message_id().map(|s| s.to_string()),
        from,
        subject: m.subject().map(|s| s.to_string()),
        date: m.date().map(|d| d.to_rfc3339()),
    }
}

/// Insert a message unless the same content is already stored; returns its id
/// and whether it is new.
fn insert_message(tx: &rusqlite::Transaction<'_>, m: &Incoming<'_>) -> Result<(i64, bool), StoreError> {
    let sha: [u8; 32] = Sha256::digest(m.raw).into();
    let key = content_key(m.raw);
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM messages WHERE sha256 = ?1 OR content_key = ?2 LIMIT 1",
            params![&sha[..], &key[..]],
            |r| r.get(0),
        )
        .optional()
        .ctx("looking for the same message")?;
    if let Some(id) = existing {
        return Ok((id, false));
    }
    let s = summarise(m.raw);
    let flags = serde_json::to_string(&m.flags).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO messages (sha256, content_key, raw, size, status, reason, message_id,
                               from_header, subject, date_header, internaldate, flags, source, stored_at)
         VALUES (?1, ?2, zeroblob(?3), ?4, 'stored', NULL, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            &sha[..],
            &key[..],
            m.raw.len() as i64,
            m.size as i64,
            s.message_id,
            s.from,
            s.subject,
            s.date,
            m.internaldate,
            flags,
            m.source,
            now()
        ],
    )
    .ctx("storing a message")?;
    let id = tx.last_insert_rowid();
    tx.execute("INSERT INTO unprocessed (message) VALUES (?1)", [id]).ctx("queueing a message for processing")?;
    super::write_blob(tx, "messages", "raw", id, m.raw)?;
    Ok((id, true))
}

/// The message stored at a mailbox/UIDVALIDITY/UID, if any.
fn location_message(
    tx: &rusqlite::Transaction<'_>,
    mailbox: &str,
    uidvalidity: u32,
    uid: u32,
) -> Result<Option<i64>, StoreError> {
    tx.query_row(
        "SELECT message FROM locations WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid = ?3",
        params![mailbox, uidvalidity, uid],
        |r| r.get(0),
    )
    .optional()
    .ctx("looking up a location")
}

fn add_location(
    tx: &rusqlite::Transaction<'_>,
    message: i64,
    mailbox: &str,
    uidvalidity: u32,
    uid: u32,
    size: u64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO locations (message, mailbox, uidvalidity, uid, size) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET message = excluded.message, size = excluded.size",
        params![message, mailbox, uidvalidity, uid, size as i64],
    )
    .ctx("recording where a message was")?;
    Ok(())
}

impl Store {
    pub fn mailbox_state(&self, mailbox: &str) -> Result<Option<MailboxState>, StoreError> {
        self.conn
            .query_row("SELECT uidvalidity, last_uid FROM mailboxes WHERE name = ?1", [mailbox], |r| {
                Ok(MailboxState { uidvalidity: r.get(0)?, last_uid: r.get(1)? })
            })
            .optional()
            .ctx("reading the mailbox cursor")
    }

    /// Store one batch of a mailbox and advance its cursor to `last_uid`, all in one
    /// transaction: after a crash either all of it is there or none.
    pub fn ingest_batch(
        &mut self,
        mailbox: &str,
        uidvalidity: u32,
        last_uid: u32,
        items: &[FetchedItem<'_>],
    ) -> Result<BatchCounts, StoreError> {
        let tx = self.conn.transaction().ctx("starting a batch")?;
        let mut counts = BatchCounts::default();
        for item in items {
            match item {
                FetchedItem::Message { uid, msg } => {
                    let (id, new) = insert_message(&tx, msg)?;
                    let before = location_message(&tx, mailbox, uidvalidity, *uid)?;
                    add_location(&tx, id, mailbox, uidvalidity, *uid, msg.size)?;
                    // A placeholder for this UID, now fetched in full, is replaced.
                    if let Some(old) = before.filter(|&old| old != id) {
                        tx.execute("DELETE FROM messages WHERE id = ?1 AND status = 'oversize'", [old])
                            .ctx("replacing a placeholder")?;
                    }
                    if new {
                        counts.new += 1;
                    } else {
                        counts.duplicate += 1;
                    }
                }
                FetchedItem::Oversize { uid, size, reason } => {
                    let known = location_message(&tx, mailbox, uidvalidity, *uid)?;
                    if known.is_none() {
                        tx.execute(
                            "INSERT INTO messages (size, status, reason, flags, source, stored_at)
                             VALUES (?1, 'oversize', ?2, '[]', ?3, ?4)",
                            params![*size as i64, reason, format!("imap:{mailbox}"), now()],
                        )
                        .ctx("recording an oversize message")?;
                        let id = tx.last_insert_rowid();
                        add_location(&tx, id, mailbox, uidvalidity, *uid, *size)?;
                    }
                    counts.oversize += 1;
                }
            }
        }
        tx.execute(
            "INSERT INTO mailboxes (name, uidvalidity, last_uid, synced_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET uidvalidity = excluded.uidvalidity,
                 last_uid = max(CASE WHEN mailboxes.uidvalidity = excluded.uidvalidity THEN mailboxes.last_uid ELSE 0 END,
                                excluded.last_uid),
                 synced_at = excluded.synced_at",
            params![mailbox, uidvalidity, last_uid, now()],
        )
        .ctx("advancing the mailbox cursor")?;
        tx.commit().ctx("committing a batch")?;
        Ok(counts)
    }

    /// Record that a mailbox now has another UIDVALIDITY: its cursor starts again at
    /// 0. Messages already stored are matched by content as they are fetched again.
    pub fn reset_mailbox(&mut self, mailbox: &str, uidvalidity: u32) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO mailboxes (name, uidvalidity, last_uid, synced_at) VALUES (?1, ?2, 0, ?3)
                 ON CONFLICT (name) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = 0,
                     synced_at = excluded.synced_at",
                params![mailbox, uidvalidity, now()],
            )
            .ctx("resetting the mailbox cursor")?;
        Ok(())
    }

    /// UIDs in `mailbox` recorded as oversize placeholders no larger than `cap`.
    pub fn oversize_uids(&self, mailbox: &str, uidvalidity: u32, cap: u64) -> Result<Vec<u32>, StoreError> {
        // Through the status index only: no message row (and no raw blob) is read.
        let mut st = self
            .conn
            .prepare(
                "SELECT l.uid FROM locations l
                 WHERE l.mailbox = ?1 AND l.uidvalidity = ?2 AND l.size <= ?3
                   AND l.message IN (SELECT id FROM messages WHERE status = 'oversize')
                 ORDER BY l.uid",
            )
            .ctx("listing placeholders")?;
        let rows = st.query_map(params![mailbox, uidvalidity, cap as i64], |r| r.get(0)).ctx("listing placeholders")?;
        rows.collect::<Result<Vec<u32>, _>>().ctx("listing placeholders")
    }

    /// Store imported messages (files, Maildir, mbox) in one transaction.
    pub fn ingest_imported(&mut self, items: &[Incoming<'_>]) -> Result<BatchCounts, StoreError> {
        let tx = self.conn.transaction().ctx("starting an import batch")?;
        let mut counts = BatchCounts::default();
        for m in items {
            let (_, new) = insert_message(&tx, m)?;
            if new {
                counts.new += 1;
            } else {
                counts.duplicate += 1;
            }
        }
        tx.commit().ctx("committing an import batch")?;
        Ok(counts)
    }

    pub fn message_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM messages", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .ctx("counting messages")
    }

    /// The raw bytes of a stored message.
    pub fn raw(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .query_row("SELECT raw FROM messages WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map(|o| o.flatten())
            .ctx("reading a message")
    }

    /// Every message with its first location, oldest first.
    pub fn list_messages(&self) -> Result<Vec<MessageRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT m.id, l.mailbox, l.uid, coalesce(m.internaldate, m.date_header), m.from_header,
                        m.subject, m.size, m.status, m.reason, m.message_id, m.source,
                        (SELECT count(*) FROM locations x WHERE x.message = m.id)
                 FROM messages m
                 LEFT JOIN locations l ON l.rowid =
                     (SELECT rowid FROM locations y WHERE y.message = m.id ORDER BY y.uidvalidity DESC, y.uid LIMIT 1)
                 ORDER BY m.id",
            )
            .ctx("listing messages")?;
        let rows = st
            .query_map([], |r| {
                Ok(MessageRow {
                    id: r.get(0)?,
                    mailbox: r.get(1)?,
                    uid: r.get(2)?,
                    date: r.get(3)?,
                    from: r.get(4)?,
                    subject: r.get(5)?,
                    size: r.get::<_, i64>(6)? as u64,
                    state: r.get(7)?,
                    reason: r.get(8)?,
                    message_id: r.get(9)?,
                    source: r.get(10)?,
                    locations: r.get::<_, i64>(11)? as u64,
                })
            })
            .ctx("listing messages")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("listing messages")
    }
}

/// One line of `vulnmail messages`.
#[derive(Debug, Clone, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub mailbox: Option<String>,
    pub uid: Option<u32>,
    pub date: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub size: u64,
    /// stored | oversize
    pub state: String,
    pub reason: Option<String>,
    pub message_id: Option<String>,
    pub source: String,
    /// How many mailbox/UID places hold this message.
    pub locations: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_key_ignores_line_endings_from_lines_and_trailing_blanks() {
        let crlf = b"Subject: x\r\n\r\nbody\r\n";
        assert_eq!(content_key(crlf), content_key(b"Subject: x\n\nbody\n"));
        assert_eq!(content_key(crlf), content_key(b"From a@b Sat Jan  1 00:00:00 2026\nSubject: x\n\nbody\n\n"));
        assert_ne!(content_key(crlf), content_key(b"Subject: x\r\n\r\nbody2\r\n"));
        assert_ne!(content_key(b"a\r\n\r\nb\r\n"), content_key(b"a\r\nb\r\n"), "inner blank lines count");
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.db"), &[1u8; 32]).unwrap();
        (dir, s)
    }

    fn msg(raw: &[u8]) -> Incoming<'_> {
        Incoming { raw, size: raw.len() as u64, internaldate: None, flags: vec![], source: "imap:INBOX".into() }
    }

    #[test]
    fn the_same_message_at_two_uids_is_one_message() {
        let (_d, mut s) = store();
        let raw = b"Message-ID: <1@x>\r\nSubject: hi\r\n\r\nbody\r\n";
        let c = s
            .ingest_batch(
                "INBOX",
                7,
                2,
                &[FetchedItem::Message { uid: 1, msg: msg(raw) }, FetchedItem::Message { uid: 2, msg: msg(raw) }],
            )
            .unwrap();
        assert_eq!((c.new, c.duplicate), (1, 1));
        let c = s.ingest_batch("Archive", 9, 1, &[FetchedItem::Message { uid: 1, msg: msg(raw) }]).unwrap();
        assert_eq!((c.new, c.duplicate), (0, 1));
        assert_eq!(s.message_count().unwrap(), 1);
        assert_eq!(s.mailbox_state("INBOX").unwrap(), Some(MailboxState { uidvalidity: 7, last_uid: 2 }));
        let rows = s.list_messages().unwrap();
        assert_eq!(rows[0].locations, 3);
        assert_eq!(rows[0].subject.as_deref(), Some("hi"));
    }

    #[test]
    fn an_oversize_placeholder_is_replaced_when_fetched() {
        let (_d, mut s) = store();
        s.ingest_batch("INBOX", 1, 1, &[FetchedItem::Oversize { uid: 1, size: 99, reason: "over 10 bytes".into() }])
            .unwrap();
        assert_eq!(s.oversize_uids("INBOX", 1, 100).unwrap(), vec![1]);
        assert_eq!(s.oversize_uids("INBOX", 1, 50).unwrap(), Vec::<u32>::new());
        let raw = b"Subject: big\r\n\r\nxxxxxxxx\r\n";
        s.ingest_batch("INBOX", 1, 1, &[FetchedItem::Message { uid: 1, msg: msg(raw) }]).unwrap();
        assert_eq!(s.message_count().unwrap(), 1);
        assert_eq!(s.list_messages().unwrap()[0].state, "stored");
    }

    #[test]
    fn the_cursor_restarts_with_a_new_uidvalidity() {
        let (_d, mut s) = store();
        s.ingest_batch("INBOX", 1, 40, &[]).unwrap();
        s.reset_mailbox("INBOX", 2).unwrap();
        assert_eq!(s.mailbox_state("INBOX").unwrap(), Some(MailboxState { uidvalidity: 2, last_uid: 0 }));
        s.ingest_batch("INBOX", 2, 5, &[]).unwrap();
        assert_eq!(s.mailbox_state("INBOX").unwrap().unwrap().last_uid, 5);
    }
}

//! Reports derived from messages, the team's triage data, attachments and
//! reporters' certificates.

use rusqlite::{OptionalExtension, params};
use sequoia_openpgp::Cert;
use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::serialize::SerializeInto;
use serde::Serialize;

use super::{SqlContext, Store, StoreError, now};
use crate::process::Outcome;
use crate::report::model::Report;

/// Bumped whenever extraction changes, so `reprocess` knows what is stale.
pub const EXTRACTOR_VERSION: i64 = 1;

/// A message waiting for processing.
pub struct Pending {
    pub message: i64,
    pub raw: Vec<u8>,
    pub received_at: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertRow {
    pub fingerprint: String,
    pub addresses: Vec<String>,
    pub source: String,
    pub first_seen: String,
    pub last_seen: String,
}

/// An attachment's file name (as sent) and bytes.
pub type NamedData = (Option<String>, Vec<u8>);

/// A conversation entry: a follow-up message of a report.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadEntry {
    pub message: i64,
    pub received_at: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub text: String,
}

fn parse_time(s: &str) -> Option<jiff::Timestamp> {
    s.parse::<jiff::Timestamp>().ok()
}

re_id!();
macro_rules! re_id {
    () => {
        static REPORT_ID: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| regex::Regex::new(r"\bVR-\d{4}-\d{4,}\b").expect("a valid built-in pattern"));
    };
}
use re_id;

impl Store {
    /// Messages stored in full that have no report row yet (or, with `all`, every
    /// one): ids only, so that a batch never holds many large messages at once.
    pub fn pending_ids(&self, all: bool, limit: usize) -> Result<Vec<i64>, StoreError> {
        let sql = if all {
            "SELECT m.id FROM messages m WHERE m.status = 'stored' ORDER BY m.id LIMIT ?1"
        } else {
            "SELECT message FROM unprocessed ORDER BY message LIMIT ?1"
        };
        let mut st = self.conn.prepare(sql).ctx("listing messages to process")?;
        let rows =
            st.query_map([limit.min(i64::MAX as usize) as i64], |r| r.get(0)).ctx("listing messages to process")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("listing messages to process")
    }

    pub fn pending_one(&self, message: i64) -> Result<Option<Pending>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, raw, coalesce(internaldate, date_header, stored_at) FROM messages WHERE id = ?1 AND status = 'stored'",
                [message],
                |r| {
                    let t: Option<String> = r.get(2)?;
                    Ok(Pending { message: r.get(0)?, raw: r.get(1)?, received_at: t.as_deref().and_then(parse_time) })
                },
            )
            .optional()
            .ctx("reading a message")
    }

    /// Reporters' certificates known so far, for verification and replies.
    pub fn known_certs(&self) -> Result<Vec<Cert>, StoreError> {
        let mut st = self.conn.prepare("SELECT cert FROM certs ORDER BY fingerprint").ctx("reading certificates")?;
        let rows = st.query_map([], |r| r.get::<_, Vec<u8>>(0)).ctx("reading certificates")?;
        let mut out = Vec::new();
        for b in rows {
            if let Ok(c) = Cert::from_bytes(&b.ctx("reading certificates")?) {
                out.push(c);
            }
        }
        Ok(out)
    }

    pub fn certs(&self) -> Result<Vec<CertRow>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT fingerprint, addresses, source, first_seen, last_seen FROM certs ORDER BY fingerprint")
            .ctx("listing certificates")?;
        let rows = st
            .query_map([], |r| {
                let addrs: String = r.get(1)?;
                Ok(CertRow {
                    fingerprint: r.get(0)?,
                    addresses: serde_json::from_str(&addrs).unwrap_or_default(),
                    source: r.get(2)?,
                    first_seen: r.get(3)?,
                    last_seen: r.get(4)?,
                })
            })
            .ctx("listing certificates")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("listing certificates")
    }

    /// Store what processing found for one message. A message that already has a
    /// report keeps its id (and the team's triage data).
    pub fn save_outcome(&mut self, message: i64, o: &Outcome) -> Result<Option<String>, StoreError> {
        Ok(self.save_outcomes(&[(message, o)])?.pop().flatten())
    }

    /// Save several outcomes in one transaction (one fsync for the lot).
    pub fn save_outcomes(&mut self, items: &[(i64, &Outcome)]) -> Result<Vec<Option<String>>, StoreError> {
        let tx = self.conn.transaction().ctx("starting to save reports")?;
        let mut ids = Vec::with_capacity(items.len());
        for (message, o) in items {
            ids.push(save_in(&tx, *message, o)?);
        }
        tx.commit().ctx("committing reports")?;
        Ok(ids)
    }

    fn merge_triage(&self, mut r: Report) -> Result<Report, StoreError> {
        if let Some(t) = self.triage_row(&r.id)? {
            t.apply(&mut r);
        }
        Ok(r)
    }

    /// One report by id, with the team's triage data.
    pub fn report(&self, id: &str) -> Result<Option<(i64, Report)>, StoreError> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row("SELECT message, record FROM reports WHERE report_id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .ctx("reading a report")?;
        match row {
            Some((m, json)) => {
                let r: Report = serde_json::from_str(&json).unwrap_or_default();
                Ok(Some((m, self.merge_triage(r)?)))
            }
            None => Ok(None),
        }
    }

    /// Every report (not follow-ups or non-reports unless `all`), oldest first.
    pub fn reports(&self, all: bool) -> Result<Vec<Report>, StoreError> {
        let sql = if all {
            "SELECT record FROM reports ORDER BY message"
        } else {
            "SELECT record FROM reports WHERE kind = 'report' ORDER BY message"
        };
        let mut st = self.conn.prepare(sql).ctx("listing reports")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0)).ctx("listing reports")?;
        let mut out = Vec::new();
        for json in rows {
            let r: Report = serde_json::from_str(&json.ctx("listing reports")?).unwrap_or_default();
            out.push(if r.id.is_empty() { r } else { self.merge_triage(r)? });
        }
        Ok(out)
    }

    /// The follow-ups in a report's conversation, oldest first.
    pub fn thread(&self, id: &str) -> Result<Vec<ThreadEntry>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT r.message, r.received_at, m.from_header, r.record, r.search_text FROM reports r
                 JOIN messages m ON m.id = r.message WHERE r.thread = ?1 ORDER BY r.message",
            )
            .ctx("reading the conversation")?;
        let rows = st
            .query_map([id], |r| {
                let record: String = r.get(3)?;
                let rep: Report = serde_json::from_str(&record).unwrap_or_default();
                Ok(ThreadEntry {
                    message: r.get(0)?,
                    received_at: r.get(1)?,
                    from: r.get(2)?,
                    subject: rep.subject,
                    text: r.get(4)?,
                })
            })
            .ctx("reading the conversation")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("reading the conversation")
    }

    /// The decrypted MIME entity of a report's message, if it was PGP/MIME.
    pub fn decrypted(&self, message: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .query_row("SELECT decrypted FROM reports WHERE message = ?1", [message], |r| r.get(0))
            .optional()
            .map(|o| o.flatten())
            .ctx("reading decrypted content")
    }

    /// An attachment of a message by (sanitised-or-raw) name or index.
    pub fn attachment(&self, message: i64, name: &str) -> Result<Option<NamedData>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT idx, filename, data FROM attachments WHERE message = ?1 ORDER BY idx")
            .ctx("reading attachments")?;
        let rows = st
            .query_map([message], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Vec<u8>>(2)?))
            })
            .ctx("reading attachments")?;
        for row in rows {
            let (idx, filename, data) = row.ctx("reading attachments")?;
            let shown = filename.as_deref().map(crate::term::safe_file_name);
            if filename.as_deref() == Some(name) || shown.as_deref() == Some(name) || idx.to_string() == name {
                return Ok(Some((filename, data)));
            }
        }
        Ok(None)
    }

    /// Other messages whose reports carry the same ciphertext.
    pub fn same_ciphertext(&self, message: i64) -> Result<Vec<i64>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT DISTINCT b.message FROM ciphertexts a JOIN ciphertexts b ON a.sha256 = b.sha256
                 WHERE a.message = ?1 AND b.message != ?1",
            )
            .ctx("comparing ciphertexts")?;
        let rows = st.query_map([message], |r| r.get(0)).ctx("comparing ciphertexts")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("comparing ciphertexts")
    }

    pub fn has_report(&self, message: i64) -> Result<bool, StoreError> {
        self.conn
            .query_row("SELECT 1 FROM reports WHERE message = ?1", [message], |_| Ok(true))
            .optional()
            .map(|o| o.unwrap_or(false))
            .ctx("looking up a report")
    }

    pub fn report_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM reports WHERE kind = 'report'", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .ctx("counting reports")
    }
}

/// Store what processing found for one message, inside `tx`.
fn save_in(tx: &rusqlite::Transaction<'_>, message: i64, o: &Outcome) -> Result<Option<String>, StoreError> {
    let existing: Option<Option<String>> = tx
        .query_row("SELECT report_id FROM reports WHERE message = ?1", [message], |r| r.get(0))
        .optional()
        .ctx("looking up the report")?;
    // A follow-up joins the conversation it answers (or names).
    let mut thread: Option<String> = None;
    if o.report.kind == "report" {
        for mid in o.in_reply_to.iter().chain(o.references.iter()) {
            let found: Option<String> = tx
                .query_row(
                    "SELECT coalesce(r.report_id, r.thread) FROM messages m JOIN reports r ON r.message = m.id
                     WHERE m.message_id = ?1 AND m.id != ?2 AND coalesce(r.report_id, r.thread) IS NOT NULL LIMIT 1",
                    params![mid.trim_matches(['<', '>']), message],
                    |r| r.get(0),
                )
                .optional()
                .ctx("threading")?;
            if found.is_some() {
                thread = found;
                break;
            }
        }
        if thread.is_none()
            && let Some(s) = &o.report.subject
            && let Some(m) = REPORT_ID.find(s)
        {
            let id = m.as_str().to_string();
            let known: bool = tx
                .query_row("SELECT 1 FROM reports WHERE report_id = ?1 AND message != ?2", params![id, message], |_| {
                    Ok(true)
                })
                .optional()
                .ctx("threading")?
                .unwrap_or(false);
            if known {
                thread = Some(id);
            }
        }
    }
    let kind = if thread.is_some() { "follow-up" } else { o.report.kind.as_str() };
    tx.execute("DELETE FROM unprocessed WHERE message = ?1", [message]).ctx("dequeueing a message")?;
    let report_id = if kind == "report" {
        match existing.flatten() {
            Some(id) => Some(id),
            None => {
                let year = o
                    .report
                    .received_at
                    .as_deref()
                    .and_then(|t| t.get(..4))
                    .and_then(|y| y.parse::<i64>().ok())
                    .unwrap_or(2026);
                tx.execute(
                    "INSERT INTO report_ids (year, last) VALUES (?1, 1) ON CONFLICT (year) DO UPDATE SET last = last + 1",
                    [year],
                )
                .ctx("numbering the report")?;
                let n: i64 = tx
                    .query_row("SELECT last FROM report_ids WHERE year = ?1", [year], |r| r.get(0))
                    .ctx("numbering the report")?;
                Some(format!("VR-{year}-{n:04}"))
            }
        }
    } else {
        None
    };
    let mut record = o.report.clone();
    record.id = report_id.clone().unwrap_or_default();
    let json = serde_json::to_string(&record).unwrap_or_default();
    tx.execute(
        "INSERT INTO reports (message, report_id, kind, thread, record, search_text, decrypted, received_at, processed_at, extractor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (message) DO UPDATE SET report_id = excluded.report_id, kind = excluded.kind, thread = excluded.thread,
             record = excluded.record, search_text = excluded.search_text, decrypted = excluded.decrypted,
             received_at = excluded.received_at, processed_at = excluded.processed_at, extractor = excluded.extractor",
        params![
            message,
            report_id,
            kind,
            thread,
            json,
            // A report's text lives in its fields; a follow-up's text is shown in the conversation.
            if kind == "report" { "" } else { o.text.as_str() },
            o.decrypted,
            o.report.received_at,
            now(),
            EXTRACTOR_VERSION
        ],
    )
    .ctx("saving the report")?;
    if let Some(id) = &report_id {
        tx.execute("INSERT INTO triage (report_id, state) VALUES (?1, 'new') ON CONFLICT (report_id) DO NOTHING", [id])
            .ctx("creating triage data")?;
    }
    // The row of a message that is still the same report is updated in place (it
    // keeps its place, which readers of the listing in parts rely on); any other row
    // of the message goes.
    let listed = report_id.as_deref().filter(|_| kind == "report");
    tx.execute("DELETE FROM listing WHERE message = ?1 AND report_id IS NOT ?2", params![message, listed])
        .ctx("replacing the listing row")?;
    if let (Some(id), "report") = (&report_id, kind) {
        let r = &o.report;
        tx.execute(
            "INSERT INTO listing (report_id, message, received, title, reporter, claimed, failed)
             VALUES (?1, ?2, unixepoch(?3), ?4, ?5, ?6, ?7)
             ON CONFLICT (report_id) DO UPDATE SET message = excluded.message, received = excluded.received,
                 title = excluded.title, reporter = excluded.reporter, claimed = excluded.claimed, failed = excluded.failed",
            params![
                id,
                message,
                r.received_at,
                r.fields.title.as_ref().or(r.subject.as_ref()),
                r.from.address,
                r.fields.severity,
                (r.encryption.status == "failed") as i64
            ],
        )
        .ctx("saving the listing row")?;
    }
    tx.execute("DELETE FROM attachments WHERE message = ?1", [message]).ctx("replacing attachments")?;
    for (i, a) in o.attachments.iter().enumerate() {
        // The data goes in through incremental blob I/O: a large attachment is not
        // copied again into SQLite's bind buffer.
        tx.execute(
            "INSERT INTO attachments (message, idx, filename, content_type, size, sha256, encrypted, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, zeroblob(?8))",
            params![
                message,
                i as i64,
                a.meta.filename,
                a.meta.content_type,
                a.meta.size as i64,
                a.meta.sha256,
                a.meta.encrypted as i64,
                a.data.len() as i64
            ],
        )
        .ctx("saving an attachment")?;
        super::write_blob(tx, "attachments", "data", tx.last_insert_rowid(), &a.data)?;
    }
    for h in &o.ciphertexts {
        tx.execute("INSERT OR IGNORE INTO ciphertexts (sha256, message) VALUES (?1, ?2)", params![h, message])
            .ctx("recording a ciphertext")?;
    }
    for (source, cert) in &o.certs {
        upsert_cert(tx, source, cert)?;
    }
    Ok(report_id)
}

/// Keep a reporter's certificate (its valid user IDs' addresses recorded).
fn upsert_cert(tx: &rusqlite::Connection, source: &str, cert: &Cert) -> Result<bool, StoreError> {
    let p = crate::openpgp::policy();
    let addrs: Vec<String> = match cert.with_policy(&p, std::time::SystemTime::now()) {
        Ok(vc) => vc.userids().filter_map(|u| crate::openpgp::uid_email(u.userid())).collect(),
        Err(_) => return Ok(false),
    };
    let bytes = cert.to_vec().unwrap_or_default();
    let t = now();
    tx.execute(
        "INSERT INTO certs (fingerprint, cert, addresses, source, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (fingerprint) DO UPDATE SET last_seen = excluded.last_seen",
        params![
            crate::openpgp::fpr_hex(&cert.fingerprint()),
            bytes,
            serde_json::to_string(&addrs).unwrap_or_default(),
            source,
            t
        ],
    )
    .ctx("saving a certificate")?;
    Ok(true)
}

impl Store {
    /// Add a certificate found elsewhere (WKD, a keyserver).
    pub fn add_cert(&mut self, source: &str, cert: &Cert) -> Result<bool, StoreError> {
        upsert_cert(&self.conn, source, cert)
    }
}

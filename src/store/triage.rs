//! The team's triage data about reports, its history (events), and the small
//! listing rows `list` and `due` read.

use std::ops::RangeInclusive;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{SqlContext, Store, StoreError};
use jiff::Timestamp;

use crate::report::deadline::Milestones;
use crate::report::model::{Cvss, Report, Triage};
use crate::report::state::State;

/// The triage row of one report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriageRow {
    pub state: String,
    pub severity: Option<String>,
    pub acknowledged_at: Option<String>,
    pub triage: Triage,
}

impl TriageRow {
    /// Copy the team's data into a report record.
    pub fn apply(&self, r: &mut Report) {
        r.state = self.state.clone();
        r.severity = self.severity.clone();
        r.acknowledged_at = self.acknowledged_at.clone();
        r.triage = self.triage.clone();
    }
}

/// One change to a report's triage data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub at: String,
    pub actor: String,
    /// state, severity, cvss, assignee, cve, duplicate_of, acknowledged, note
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// What `list`, `due`, `stats` and `ack` need of a report, without its record:
/// small, because they read every report, and borrowed from the database while it
/// is read.
#[derive(Debug, Clone)]
pub struct ListRow<'a> {
    pub report_id: &'a str,
    pub message: i64,
    pub title: Option<&'a str>,
    pub reporter: Option<&'a str>,
    /// The reporter's severity claim.
    pub claimed: Option<&'a str>,
    pub failed: bool,
    pub state: State,
    /// The team's severity.
    pub severity: Option<&'a str>,
    /// Receipt and the triage steps' times.
    pub milestones: Milestones,
}

impl ListRow<'_> {
    /// The severity shown and counted: the team's, else the reporter's claim
    /// (true when it is only the claim).
    pub fn shown_severity(&self) -> (Option<&str>, bool) {
        match (self.severity, self.claimed) {
            (Some(s), _) => (Some(s), false),
            (None, Some(c)) => (Some(c), true),
            _ => (None, false),
        }
    }
}

const COLUMNS: &str = "t.state, t.severity, t.acknowledged_at, t.assignee, t.cvss, t.cve, t.duplicate_of, t.triaged_at, t.fixed_at, t.disclosed_at, t.closed_at";

fn row_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<TriageRow> {
    let cvss: Option<String> = r.get(i + 4)?;
    let cve: Option<String> = r.get(i + 5)?;
    Ok(TriageRow {
        state: r.get::<_, Option<String>>(i)?.unwrap_or_else(|| "new".into()),
        severity: r.get(i + 1)?,
        acknowledged_at: r.get(i + 2)?,
        triage: Triage {
            assignee: r.get(i + 3)?,
            cvss: cvss.and_then(|c| serde_json::from_str::<Cvss>(&c).ok()),
            cve: cve.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default(),
            duplicate_of: r.get(i + 6)?,
            triaged_at: r.get(i + 7)?,
            fixed_at: r.get(i + 8)?,
            disclosed_at: r.get(i + 9)?,
            closed_at: r.get(i + 10)?,
        },
    })
}

impl Store {
    pub fn triage_row(&self, id: &str) -> Result<Option<TriageRow>, StoreError> {
        self.conn
            .query_row(&format!("SELECT {COLUMNS} FROM triage t WHERE t.report_id = ?1"), [id], |r| row_at(r, 0))
            .optional()
            .ctx("reading triage data")
    }

    /// Replace a report's triage data and record the events, in one transaction.
    pub fn set_triage(&mut self, id: &str, t: &TriageRow, events: &[Event]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().ctx("starting a triage change")?;
        let cvss = t.triage.cvss.as_ref().map(|c| serde_json::to_string(c).unwrap_or_default());
        let n = tx
            .execute(
                "UPDATE triage SET state = ?2, severity = ?3, acknowledged_at = ?4, assignee = ?5, cvss = ?6, cve = ?7,
                     duplicate_of = ?8, triaged_at = ?9, fixed_at = ?10, disclosed_at = ?11, closed_at = ?12
                 WHERE report_id = ?1",
                params![
                    id,
                    t.state,
                    t.severity,
                    t.acknowledged_at,
                    t.triage.assignee,
                    cvss,
                    serde_json::to_string(&t.triage.cve).unwrap_or_else(|_| "[]".into()),
                    t.triage.duplicate_of,
                    t.triage.triaged_at,
                    t.triage.fixed_at,
                    t.triage.disclosed_at,
                    t.triage.closed_at
                ],
            )
            .ctx("saving triage data")?;
        if n == 0 {
            return Err(StoreError::Sql {
                context: format!("no triage data for report {id}"),
                source: rusqlite::Error::QueryReturnedNoRows,
            });
        }
        for e in events {
            tx.execute(
                "INSERT INTO events (report_id, at, actor, field, old, new) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, e.at, e.actor, e.field, e.old, e.new],
            )
            .ctx("recording a triage event")?;
        }
        tx.commit().ctx("committing a triage change")
    }

    /// A report's history, oldest first.
    pub fn events(&self, id: &str) -> Result<Vec<Event>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT at, actor, field, old, new FROM events WHERE report_id = ?1 ORDER BY id")
            .ctx("reading the history")?;
        let rows = st
            .query_map([id], |r| {
                Ok(Event { at: r.get(0)?, actor: r.get(1)?, field: r.get(2)?, old: r.get(3)?, new: r.get(4)? })
            })
            .ctx("reading the history")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("reading the history")
    }

    /// Every report's listing row, borrowed while it is read (in storage order):
    /// `list` and `due` go through all of them and keep little of each.
    pub fn each_listing(&self, f: impl FnMut(&ListRow<'_>)) -> Result<(), StoreError> {
        self.each_listing_in(i64::MIN..=i64::MAX, f)
    }

    /// The listing in `n` consecutive parts of about the same size (storage order),
    /// each of at least `min` rows, for reading on several threads; one part when
    /// the listing is small.
    pub fn listing_parts(&self, n: usize, min: i64) -> Result<Vec<RangeInclusive<i64>>, StoreError> {
        let (lo, hi): (Option<i64>, Option<i64>) = self
            .conn
            .query_row("SELECT min(rowid), max(rowid) FROM listing", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("sizing the listing")?;
        let (Some(lo), Some(hi)) = (lo, hi) else { return Ok(vec![i64::MIN..=i64::MAX]) };
        let span = hi.saturating_sub(lo).saturating_add(1);
        let n = (span / min.max(1)).clamp(1, n.max(1) as i64);
        let step = span / n;
        Ok((0..n)
            .map(|i| {
                let start = if i == 0 { i64::MIN } else { lo + i * step };
                let end = if i == n - 1 { i64::MAX } else { lo + (i + 1) * step - 1 };
                start..=end
            })
            .collect())
    }

    /// The listing rows whose storage position (rowid) is in `part`, in storage order.
    pub fn each_listing_in(
        &self,
        part: RangeInclusive<i64>,
        mut f: impl FnMut(&ListRow<'_>),
    ) -> Result<(), StoreError> {
        // One scan of one table; the triage columns are copies kept by triggers
        // (migration 0007), so nothing is joined.
        let mut st = self
            .conn
            .prepare(
                "SELECT report_id, message, received, title, reporter, claimed, failed, state, severity,
                        acknowledged, triaged, fixed, disclosed, closed
                 FROM listing WHERE rowid BETWEEN ?1 AND ?2",
            )
            .ctx("listing reports")?;
        let mut rows = st.query([part.start(), part.end()]).ctx("listing reports")?;
        fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
            Ok(r.get_ref(i)?.as_str_or_null()?)
        }
        // Times are Unix seconds; states are matched without a copy.
        fn ts(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Timestamp>> {
            Ok(r.get::<_, Option<i64>>(i)?.and_then(|s| Timestamp::from_second(s).ok()))
        }
        while let Some(r) = rows.next().ctx("listing reports")? {
            let row = (|| {
                Ok::<_, rusqlite::Error>(ListRow {
                    report_id: r.get_ref(0)?.as_str()?,
                    message: r.get(1)?,
                    title: text(r, 3)?,
                    reporter: text(r, 4)?,
                    claimed: text(r, 5)?,
                    failed: r.get::<_, i64>(6)? != 0,
                    state: text(r, 7)?.and_then(|s| s.parse().ok()).unwrap_or(State::New),
                    severity: text(r, 8)?,
                    milestones: Milestones {
                        received: ts(r, 2)?,
                        acknowledged: ts(r, 9)?,
                        triaged: ts(r, 10)?,
                        fixed: ts(r, 11)?,
                        disclosed: ts(r, 12)?,
                        closed: ts(r, 13)?,
                    },
                })
            })()
            .ctx("listing reports")?;
            f(&row);
        }
        Ok(())
    }

    /// Ids of the reports whose decrypted fields, or whose conversation,
    /// contain `text` (case-insensitive).
    pub fn search(&self, text: &str) -> Result<std::collections::HashSet<String>, StoreError> {
        let needle = text.to_lowercase();
        let mut st = self
            .conn
            .prepare(
                "SELECT report_id FROM reports WHERE kind = 'report' AND instr(lower(record), ?1) > 0
                 UNION SELECT thread FROM reports WHERE kind = 'follow-up' AND thread IS NOT NULL
                     AND (instr(lower(search_text), ?1) > 0 OR instr(lower(record), ?1) > 0)",
            )
            .ctx("searching reports")?;
        let rows = st.query_map([needle], |r| r.get::<_, Option<String>>(0)).ctx("searching reports")?;
        let mut out = std::collections::HashSet::new();
        for id in rows {
            if let Some(id) = id.ctx("searching reports")? {
                out.insert(id);
            }
        }
        Ok(out)
    }

    /// Replies that went out to reports whose first response is not yet
    /// recorded: (report id, sent at, message id), oldest first.
    pub fn unrecorded_replies(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT o.report_id, o.sent_at, o.message_id FROM outbox o JOIN triage t ON t.report_id = o.report_id
                 WHERE o.state = 'sent' AND o.sent_at IS NOT NULL AND t.acknowledged_at IS NULL ORDER BY o.id",
            )
            .ctx("finding replies sent")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).ctx("finding replies sent")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("finding replies sent")
    }
}

#[cfg(test)]
impl Store {
    /// `n` listing rows (with their messages) for tests of reading the listing.
    pub fn insert_test_listing(&self, n: usize) {
        let tx = self.conn.unchecked_transaction().unwrap();
        for i in 0..n {
            tx.execute(
                "INSERT INTO messages (id, size, status, source, stored_at) VALUES (?1, 1, 'stored', 'test', 'x')",
                [i as i64 + 1],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO listing (report_id, message, received, title, failed) VALUES (?1, ?2, ?3, ?4, 0)",
                params![format!("VR-2026-{:04}", i + 1), i as i64 + 1, 1_796_040_000 + i as i64, "t".repeat(i % 13)],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
}

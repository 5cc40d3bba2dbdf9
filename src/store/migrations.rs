//! Numbered schema migrations, applied in order inside one transaction each.

use super::{SqlContext, Store, StoreError};

/// Each entry is one migration; never edit one that has shipped, add a new one.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001 messages, locations, mailboxes",
        "
    CREATE TABLE messages (
        id            INTEGER PRIMARY KEY,
        -- sha256 of the raw bytes exactly as received (NULL for a placeholder)
        sha256        BLOB UNIQUE,
        -- sha256 over the message with line endings made CRLF and an mbox From_
        -- line removed: what makes an imported copy the same message
        content_key   BLOB UNIQUE,
        size          INTEGER NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('stored', 'oversize')),
        reason        TEXT,
        message_id    TEXT,
        from_header   TEXT,
        subject       TEXT,
        date_header   TEXT,
        internaldate  TEXT,
        flags         TEXT NOT NULL DEFAULT '[]',
        source        TEXT NOT NULL,
        stored_at     TEXT NOT NULL,
        -- last: reading any other column never walks the blob's overflow pages
        raw           BLOB
    ) STRICT;
    CREATE INDEX messages_message_id ON messages (message_id);

    CREATE TABLE locations (
        message       INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        mailbox       TEXT NOT NULL,
        uidvalidity   INTEGER NOT NULL,
        uid           INTEGER NOT NULL,
        size          INTEGER NOT NULL,
        PRIMARY KEY (mailbox, uidvalidity, uid)
    ) STRICT;
    CREATE INDEX locations_message ON locations (message);

    CREATE TABLE mailboxes (
        name          TEXT PRIMARY KEY,
        uidvalidity   INTEGER NOT NULL,
        -- every UID up to here has been stored (or recorded as a placeholder)
        last_uid      INTEGER NOT NULL,
        synced_at     TEXT NOT NULL
    ) STRICT;

    CREATE TABLE meta (
        key           TEXT PRIMARY KEY,
        value         TEXT NOT NULL
    ) STRICT;
    ",
    ),
    (
        "0002 reports, triage, attachments, certificates",
        "
    -- One row per processed message. Everything here is derived from the raw
    -- message and rebuilt by `vulnmail reprocess`, except the triage table.
    CREATE TABLE reports (
        message       INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        -- VR-YYYY-NNNN for kind 'report'; never reused
        report_id     TEXT UNIQUE,
        kind          TEXT NOT NULL CHECK (kind IN ('report', 'follow-up', 'not-a-report')),
        -- for a follow-up: the report whose conversation it joins
        thread        TEXT,
        received_at   TEXT,
        processed_at  TEXT NOT NULL,
        extractor     INTEGER NOT NULL,
        record        TEXT NOT NULL,
        search_text   TEXT NOT NULL,
        decrypted     BLOB
    ) STRICT;
    CREATE INDEX reports_thread ON reports (thread);

    CREATE TABLE report_ids (
        year          INTEGER PRIMARY KEY,
        last          INTEGER NOT NULL
    ) STRICT;

    -- The team's data about a report: survives reprocessing.
    CREATE TABLE triage (
        report_id       TEXT PRIMARY KEY,
        state           TEXT NOT NULL DEFAULT 'new',
        severity        TEXT,
        acknowledged_at TEXT
    ) STRICT;

    CREATE TABLE attachments (
        message       INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        idx           INTEGER NOT NULL,
        filename      TEXT,
        content_type  TEXT NOT NULL,
        size          INTEGER NOT NULL,
        sha256        TEXT NOT NULL,
        encrypted     INTEGER NOT NULL,
        data          BLOB NOT NULL,
        PRIMARY KEY (message, idx)
    ) STRICT;

    CREATE TABLE certs (
        fingerprint   TEXT PRIMARY KEY,
        cert          BLOB NOT NULL,
        addresses     TEXT NOT NULL,
        source        TEXT NOT NULL,
        first_seen    TEXT NOT NULL,
        last_seen     TEXT NOT NULL
    ) STRICT;

    CREATE TABLE ciphertexts (
        sha256        TEXT NOT NULL,
        message       INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        PRIMARY KEY (sha256, message)
    ) STRICT;
    ",
    ),
    (
        "0003 index message status",
        "
    -- Status sits after the raw blob in each row: without this index, finding
    -- placeholders or unprocessed messages reads (and decrypts) every page.
    CREATE INDEX messages_status ON messages (status, id);
    ",
    ),
    (
        "0004 unprocessed messages",
        "
    -- Messages stored but not yet turned into reports: finding them costs what is
    -- new, not what the store holds.
    CREATE TABLE unprocessed (
        message       INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE
    ) STRICT;
    INSERT INTO unprocessed (message)
        SELECT id FROM messages WHERE status = 'stored' AND id NOT IN (SELECT message FROM reports);
    ",
    ),
    (
        "0005 triage history and listing",
        "
    -- The team's decisions, beyond state and severity; the times feed the deadlines.
    ALTER TABLE triage ADD COLUMN assignee TEXT;
    ALTER TABLE triage ADD COLUMN cvss TEXT;
    ALTER TABLE triage ADD COLUMN cve TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE triage ADD COLUMN duplicate_of TEXT;
    ALTER TABLE triage ADD COLUMN triaged_at TEXT;
    ALTER TABLE triage ADD COLUMN fixed_at TEXT;
    ALTER TABLE triage ADD COLUMN disclosed_at TEXT;
    ALTER TABLE triage ADD COLUMN closed_at TEXT;

    -- Every triage change, with its time and actor: the report's history.
    CREATE TABLE events (
        id            INTEGER PRIMARY KEY,
        report_id     TEXT NOT NULL,
        at            TEXT NOT NULL,
        actor         TEXT NOT NULL,
        field         TEXT NOT NULL,
        old           TEXT,
        new           TEXT
    ) STRICT;
    CREATE INDEX events_report ON events (report_id, id);

    -- One small row per report, so that list and due read kilobytes, not every
    -- record. Derived like the report and rewritten with it.
    CREATE TABLE listing (
        report_id     TEXT PRIMARY KEY,
        message       INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        received_at   TEXT,
        title         TEXT,
        reporter      TEXT,
        claimed       TEXT,
        failed        INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX listing_message ON listing (message);
    INSERT INTO listing (report_id, message, received_at, title, reporter, claimed, failed)
        SELECT report_id, message, received_at,
               coalesce(json_extract(record, '$.fields.title'), json_extract(record, '$.subject')),
               json_extract(record, '$.from.address'), json_extract(record, '$.fields.severity'),
               json_extract(record, '$.encryption.status') = 'failed'
        FROM reports WHERE kind = 'report' AND report_id IS NOT NULL;
    ",
    ),
    (
        "0006 outbox",
        "
    -- Outgoing mail is written here first and sent from here: a reply is never lost
    -- (it stays until sent, failed or dropped) and never sent twice (see mail::deliver).
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        report_id       TEXT,
        template        TEXT NOT NULL,
        automatic       INTEGER NOT NULL CHECK (automatic IN (0, 1)),
        message_id      TEXT NOT NULL UNIQUE,
        -- NULL: the null sender, MAIL FROM:<> (RFC 3834 automatic replies)
        envelope_from   TEXT,
        envelope_to     TEXT NOT NULL,
        state           TEXT NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'dropped')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        next_attempt_at TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        sent_at         TEXT,
        -- a copy was appended to the Sent mailbox
        sent_copy       INTEGER NOT NULL DEFAULT 0 CHECK (sent_copy IN (0, 1)),
        -- last: the message exactly as sent, CRLF line endings
        raw             BLOB NOT NULL
    ) STRICT;
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
    CREATE INDEX outbox_report ON outbox (report_id, template);

    -- When each sender last got an automatic reply (RFC 3834 rate limit).
    CREATE TABLE auto_replies (
        sender          TEXT PRIMARY KEY,
        last_at         TEXT NOT NULL
    ) STRICT;
    ",
    ),
    (
        "0007 triage data in the listing",
        "
    -- list and due read every listing row; joining each with its triage row cost
    -- four b-tree lookups a row, and parsing its times most of the rest. The listing
    -- (derived, rebuilt here) now carries a copy of the triage columns it needs, kept
    -- in step with the triage table by the triggers below (triage stays the record:
    -- it survives reprocessing, the listing is rewritten), and its times are Unix
    -- seconds (UTC).
    DROP TABLE listing;
    CREATE TABLE listing (
        report_id     TEXT PRIMARY KEY,
        message       INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        received      INTEGER,
        title         TEXT,
        reporter      TEXT,
        claimed       TEXT,
        failed        INTEGER NOT NULL,
        state         TEXT NOT NULL DEFAULT 'new',
        severity      TEXT,
        acknowledged  INTEGER,
        triaged       INTEGER,
        fixed         INTEGER,
        disclosed     INTEGER,
        closed        INTEGER
    ) STRICT;
    CREATE INDEX listing_message ON listing (message);

    -- A trigger has one event in SQLite: the same copy after an update and an insert.
    CREATE TRIGGER triage_to_listing_update AFTER UPDATE ON triage BEGIN
        UPDATE listing SET state = NEW.state, severity = NEW.severity, acknowledged = unixepoch(NEW.acknowledged_at),
            triaged = unixepoch(NEW.triaged_at), fixed = unixepoch(NEW.fixed_at),
            disclosed = unixepoch(NEW.disclosed_at), closed = unixepoch(NEW.closed_at)
        WHERE report_id = NEW.report_id;
    END;
    CREATE TRIGGER triage_to_listing_insert AFTER INSERT ON triage BEGIN
        UPDATE listing SET state = NEW.state, severity = NEW.severity, acknowledged = unixepoch(NEW.acknowledged_at),
            triaged = unixepoch(NEW.triaged_at), fixed = unixepoch(NEW.fixed_at),
            disclosed = unixepoch(NEW.disclosed_at), closed = unixepoch(NEW.closed_at)
        WHERE report_id = NEW.report_id;
    END;
    -- A listing row written again (reprocessing) takes the triage data it belongs to.
    CREATE TRIGGER listing_from_triage AFTER INSERT ON listing
    WHEN EXISTS (SELECT 1 FROM triage WHERE report_id = NEW.report_id) BEGIN
        UPDATE listing SET (state, severity, acknowledged, triaged, fixed, disclosed, closed) =
            (SELECT t.state, t.severity, unixepoch(t.acknowledged_at), unixepoch(t.triaged_at), unixepoch(t.fixed_at),
                    unixepoch(t.disclosed_at), unixepoch(t.closed_at)
             FROM triage t WHERE t.report_id = NEW.report_id)
        WHERE report_id = NEW.report_id;
    END;

    INSERT INTO listing (report_id, message, received, title, reporter, claimed, failed)
        SELECT report_id, message, unixepoch(received_at),
               coalesce(json_extract(record, '$.fields.title'), json_extract(record, '$.subject')),
               json_extract(record, '$.from.address'), json_extract(record, '$.fields.severity'),
               coalesce(json_extract(record, '$.encryption.status') = 'failed', 0)
        FROM reports WHERE kind = 'report' AND report_id IS NOT NULL;
    ",
    ),
];

pub fn run(store: &mut Store) -> Result<(), StoreError> {
    let version: i64 =
        store.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).ctx("reading the schema version")?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew { path: store.path().to_path_buf(), found: version, known });
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = store.conn.transaction().ctx("starting a migration")?;
        tx.execute_batch(sql).ctx(&format!("migration {name}"))?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1)).ctx("recording the schema version")?;
        tx.commit().ctx(&format!("committing migration {name}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use rusqlite::Connection;

    fn listing(c: &Connection, id: &str) -> (String, Option<String>, Option<i64>, Option<i64>, Option<i64>) {
        c.query_row(
            "SELECT state, severity, received, acknowledged, closed FROM listing WHERE report_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap()
    }

    /// 0007 carries triage data into the listing, and the triggers keep it there
    /// through triage changes and a rewritten listing row (reprocessing).
    #[test]
    fn the_listing_follows_the_triage_table() {
        let c = Connection::open_in_memory().unwrap();
        for (_, sql) in &MIGRATIONS[..6] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch(
            r#"INSERT INTO messages (id, size, status, source, stored_at) VALUES (1, 1, 'stored', 'test', 'x'), (2, 1, 'stored', 'test', 'x');
               INSERT INTO reports (message, report_id, kind, received_at, processed_at, extractor, record, search_text)
                 VALUES (1, 'VR-2026-0001', 'report', '2026-11-30T12:00:00Z', 'x', 1,
                         '{"subject": "s", "fields": {"title": "XSS", "severity": "low"}, "from": {"address": "a@example.net"}, "encryption": {"status": "failed"}}', ''),
                        (2, 'VR-2026-0002', 'report', '2026-11-30T13:00:00+01:00', 'x', 1, '{"subject": "plain"}', '');
               INSERT INTO triage (report_id, state, severity, acknowledged_at) VALUES ('VR-2026-0001', 'acknowledged', 'high', '2026-11-30T13:00:00Z');
               INSERT INTO triage (report_id) VALUES ('VR-2026-0002');
               INSERT INTO listing (report_id, message, received_at, title, reporter, claimed, failed)
                 VALUES ('VR-2026-0001', 1, '2026-11-30T12:00:00Z', 'XSS', 'a@example.net', 'low', 1),
                        ('VR-2026-0002', 2, '2026-11-30T13:00:00+01:00', 'plain', NULL, NULL, 0);"#,
        )
        .unwrap();
        c.execute_batch(MIGRATIONS[6].1).unwrap();
        let noon = 1_796_040_000; // 2026-11-30T12:00:00Z
        assert_eq!(
            listing(&c, "VR-2026-0001"),
            ("acknowledged".into(), Some("high".into()), Some(noon), Some(noon + 3600), None)
        );
        // An offset is converted to UTC seconds.
        assert_eq!(listing(&c, "VR-2026-0002"), ("new".into(), None, Some(noon), None, None));
        let (title, claimed, failed): (String, String, i64) = c
            .query_row("SELECT title, claimed, failed FROM listing WHERE report_id = 'VR-2026-0001'", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((title.as_str(), claimed.as_str(), failed), ("XSS", "low", 1));

        // A triage change reaches the listing.
        c.execute(
            "UPDATE triage SET state = 'invalid', closed_at = '2026-12-01T12:00:00Z' WHERE report_id = 'VR-2026-0001'",
            [],
        )
        .unwrap();
        assert_eq!(
            listing(&c, "VR-2026-0001"),
            ("invalid".into(), Some("high".into()), Some(noon), Some(noon + 3600), Some(noon + 86_400))
        );
        // Reprocessing writes the listing row again: it takes the triage data back.
        c.execute_batch(
            "DELETE FROM listing WHERE message = 1;
             INSERT INTO listing (report_id, message, received, title, reporter, claimed, failed)
                 VALUES ('VR-2026-0001', 1, unixepoch('2026-11-30T12:00:00Z'), 'XSS', 'a@example.net', NULL, 0);",
        )
        .unwrap();
        assert_eq!(
            listing(&c, "VR-2026-0001"),
            ("invalid".into(), Some("high".into()), Some(noon), Some(noon + 3600), Some(noon + 86_400))
        );
        // The other row was not touched by either.
        assert_eq!(listing(&c, "VR-2026-0002"), ("new".into(), None, Some(noon), None, None));
        // A report whose triage row comes after its listing row (the order save_outcome
        // does not use, but nothing forbids) gets it too.
        c.execute_batch(
            r#"INSERT INTO messages (id, size, status, source, stored_at) VALUES (3, 1, 'stored', 'test', 'x');
               INSERT INTO listing (report_id, message, received, failed) VALUES ('VR-2026-0003', 3, NULL, 0);
               INSERT INTO triage (report_id, state) VALUES ('VR-2026-0003', 'needs-info');"#,
        )
        .unwrap();
        assert_eq!(listing(&c, "VR-2026-0003"), ("needs-info".into(), None, None, None, None));
    }
}

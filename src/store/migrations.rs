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

//! Numbered schema migrations, applied in order inside one transaction each.

use super::{SqlContext, Store, StoreError};

/// Each entry is one migration; never edit one that has shipped, add a new one.
const MIGRATIONS: &[(&str, &str)] = &[(
    "0001 messages, locations, mailboxes",
    "
    CREATE TABLE messages (
        id            INTEGER PRIMARY KEY,
        -- sha256 of the raw bytes exactly as received (NULL for a placeholder)
        sha256        BLOB UNIQUE,
        -- sha256 over the message with line endings made CRLF and an mbox From_
        -- line removed: what makes an imported copy the same message
        content_key   BLOB UNIQUE,
        raw           BLOB,
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
        stored_at     TEXT NOT NULL
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
)];

pub fn run(store: &mut Store) -> Result<(), StoreError> {
    let version: i64 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .ctx("reading the schema version")?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew {
            path: store.path().to_path_buf(),
            found: version,
            known,
        });
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = store.conn.transaction().ctx("starting a migration")?;
        tx.execute_batch(sql).ctx(&format!("migration {name}"))?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
            .ctx("recording the schema version")?;
        tx.commit().ctx(&format!("committing migration {name}"))?;
    }
    Ok(())
}

//! The local store: SQLite encrypted at rest with SQLCipher.
//!
//! The raw message is the source of truth: it is kept byte for byte as received,
//! with where it came from (mailbox, UIDVALIDITY, UID) and what the server said of it
//! (RFC822.SIZE, INTERNALDATE, flags). Everything derived later can be rebuilt from it.
//!
//! One writer at a time ([`lock::WriteLock`]); readers never block (WAL). Every
//! commit is durable (`synchronous = FULL`): a committed message survives a power cut.

pub mod key;
pub mod lock;
pub mod messages;
mod migrations;
pub mod outbox;
pub mod reports;
pub mod triage;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use zeroize::Zeroizing;

pub use lock::WriteLock;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store {}: {source}", .path.display())]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error(
        "the store {} cannot be read with this key: it is damaged, or belongs to another team key",
        .0.display()
    )]
    WrongKey(PathBuf),
    #[error("store: {context}: {source}")]
    Sql { context: String, source: rusqlite::Error },
    #[error("the store {} was written by a newer vulnmail (schema {found}, this one knows {known})", .path.display())]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error(transparent)]
    Key(#[from] key::StoreKeyError),
}

/// Attach a context to a rusqlite error.
pub trait SqlContext<T> {
    fn ctx(self, context: &str) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: &str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sql { context: context.to_string(), source })
    }
}

/// An open store connection.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    /// Kept (zeroised on drop) so that [`Store::reopen`] needs no second unlock;
    /// SQLCipher holds the same key for the connection anyway.
    key: Zeroizing<[u8; 32]>,
}

/// The store's file names inside the data directory.
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("store.db")
}

impl Store {
    /// Open (creating and migrating when needed) the store at `path` with the raw
    /// 32-byte SQLCipher key.
    pub fn open(path: &Path, key: &[u8; 32]) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            crate::openpgp::keys::create_private_dir(dir)
                .map_err(|e| StoreError::Open { path: path.to_path_buf(), source: io_sql(e) })?;
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
        // SQLCipher's own log lines would go to stderr; vulnmail reports errors itself.
        let _ = conn.execute_batch("PRAGMA cipher_log_level = NONE;");
        // A raw key (x'…') skips SQLCipher's PBKDF2: the key is already random.
        let hex = Zeroizing::new(hex(key));
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex.as_str())).ctx("setting the store key")?;
        // The first read shows whether the key fits.
        if conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).is_err() {
            return Err(StoreError::WrongKey(path.to_path_buf()));
        }
        conn.busy_timeout(Duration::from_secs(10)).ctx("setting the busy timeout")?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA secure_delete = ON;",
        )
        .ctx("configuring the store")?;
        set_private(path);
        let mut store = Store { conn, path: path.to_path_buf(), key: Zeroizing::new(*key) };
        migrations::run(&mut store)?;
        Ok(store)
    }

    /// What opens another connection to the same store, on another thread.
    pub fn reopener(&self) -> impl FnOnce() -> Result<Store, StoreError> + Send + 'static {
        let (path, key) = (self.path.clone(), self.key.clone());
        move || Store::open(&path, &key)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `PRAGMA integrity_check`: "ok" or the problems found.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).ctx("integrity check")
    }
}

fn set_private(db: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::set_permissions(Path::new(&p), std::fs::Permissions::from_mode(0o600));
    }
}

fn io_sql(e: std::io::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

/// Fill a `zeroblob` column through incremental blob I/O, so large data is not
/// copied again into SQLite's bind buffer.
pub(crate) fn write_blob(
    conn: &rusqlite::Connection,
    table: &str,
    column: &str,
    rowid: i64,
    data: &[u8],
) -> Result<(), StoreError> {
    use std::io::Write as _;
    if data.is_empty() {
        return Ok(());
    }
    let mut blob = conn.blob_open(rusqlite::MAIN_DB, table, column, rowid, false).ctx("opening a blob for writing")?;
    blob.write_all(data).map_err(|e| StoreError::Sql {
        context: format!("writing {table}.{column}"),
        source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
    })
}

/// Now, as the store writes times: RFC 3339, UTC, seconds.
pub(crate) fn now() -> String {
    crate::clock::rfc3339(jiff::Timestamp::now())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_key_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        drop(Store::open(&p, &[7u8; 32]).unwrap());
        assert!(matches!(Store::open(&p, &[8u8; 32]), Err(StoreError::WrongKey(_))));
        let s = Store::open(&p, &[7u8; 32]).unwrap();
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn the_file_is_not_plain_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        let s = Store::open(&p, &[7u8; 32]).unwrap();
        drop(s);
        let bytes = std::fs::read(&p).unwrap();
        assert!(!bytes.starts_with(b"SQLite format 3"));
    }
}

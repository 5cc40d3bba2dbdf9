//! One writer at a time: an advisory lock on `store.lock`, naming its holder.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another vulnmail is writing to the store ({holder}); waited {waited}s. \
         Let it finish, or stop it, then run this again"
    )]
    Busy { holder: String, waited: u64 },
    #[error("cannot open the store lock {}: {source}", .path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// Held while this process may write. Dropping it releases the lock.
pub struct WriteLock {
    file: File,
}

impl WriteLock {
    /// Take the lock, waiting up to `wait` for another writer to finish.
    pub fn acquire(data_dir: &Path, what: &str, wait: Duration) -> Result<WriteLock, LockError> {
        let path = data_dir.join("store.lock");
        let io = |source| LockError::Io { path: path.clone(), source };
        crate::openpgp::keys::create_private_dir(data_dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .mode(0o600)
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    if start.elapsed() >= wait {
                        let mut holder = String::new();
                        let _ = file.read_to_string(&mut holder);
                        let holder = holder.trim();
                        let holder = if holder.is_empty() { "holder unknown".to_string() } else { holder.to_string() };
                        return Err(LockError::Busy { holder, waited: start.elapsed().as_secs() });
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        let since = jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M:%S UTC");
        let note = format!("pid {}, `vulnmail {what}`, since {since}\n", std::process::id());
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(note.as_bytes()).map_err(io)?;
        Ok(WriteLock { file })
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_told_who_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriteLock::acquire(dir.path(), "fetch", Duration::ZERO).unwrap();
        let err = WriteLock::acquire(dir.path(), "import", Duration::from_millis(200)).err().unwrap();
        let msg = err.to_string();
        assert!(msg.contains(&format!("pid {}", std::process::id())) && msg.contains("`vulnmail fetch`"), "{msg}");
        drop(first);
        WriteLock::acquire(dir.path(), "import", Duration::ZERO).unwrap();
    }
}

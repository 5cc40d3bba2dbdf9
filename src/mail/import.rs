//! Reading messages from files: `.eml` files, Maildir folders and mbox files.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is neither a message file, an mbox, nor a Maildir", .0.display())]
    Unknown(PathBuf),
}

/// One message found in a file, with where it came from.
pub struct Found {
    pub origin: String,
    pub raw: Vec<u8>,
}

/// Every message under `path`: a Maildir (cur/ and new/), a directory of message
/// files, an mbox (first line `From `), or a single message file.
pub fn read(path: &Path) -> Result<Vec<Found>, ImportError> {
    let err = |source| ImportError::Read { path: path.to_path_buf(), source };
    let meta = std::fs::metadata(path).map_err(err)?;
    if meta.is_dir() {
        let mut files = Vec::new();
        let maildir = path.join("cur").is_dir() || path.join("new").is_dir();
        let dirs: Vec<PathBuf> =
            if maildir { vec![path.join("cur"), path.join("new")] } else { vec![path.to_path_buf()] };
        for d in dirs {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                let name = e.file_name();
                if p.is_file() && !name.to_string_lossy().starts_with('.') {
                    files.push(p);
                }
            }
        }
        files.sort();
        let mut out = Vec::new();
        for f in files {
            out.extend(read_file(&f)?);
        }
        return Ok(out);
    }
    if meta.is_file() {
        return read_file(path);
    }
    Err(ImportError::Unknown(path.to_path_buf()))
}

fn read_file(path: &Path) -> Result<Vec<Found>, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read { path: path.to_path_buf(), source })?;
    if bytes.starts_with(b"From ") {
        return Ok(split_mbox(&bytes)
            .into_iter()
            .enumerate()
            .map(|(i, raw)| Found { origin: format!("{}#{}", path.display(), i + 1), raw })
            .collect());
    }
    Ok(vec![Found { origin: path.display().to_string(), raw: bytes }])
}

/// Split an mbox (mboxrd or mboxo) into messages: each starts at a `From ` line at
/// the beginning of the file or after a newline; `>From ` quoting is undone
/// (mboxrd: one `>` removed from `>+From `).
pub fn split_mbox(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            if let Some(mut m) = current.take() {
                trim_separator(&mut m);
                out.push(m);
            }
            current = Some(Vec::new());
            continue;
        }
        let Some(m) = current.as_mut() else { continue };
        let gt = line.iter().take_while(|&&b| b == b'>').count();
        if gt > 0 && line[gt..].starts_with(b"From ") {
            m.extend_from_slice(&line[1..]);
        } else {
            m.extend_from_slice(line);
        }
    }
    if let Some(mut m) = current {
        trim_separator(&mut m);
        out.push(m);
    }
    out
}

/// The blank line mbox puts before the next `From ` is not part of the message.
fn trim_separator(m: &mut Vec<u8>) {
    if m.ends_with(b"\r\n\r\n") {
        m.truncate(m.len() - 2);
    } else if m.ends_with(b"\n\n") {
        m.truncate(m.len() - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_split_and_unquote() {
        let mbox = b"From a@b Mon Jan  1 00:00:00 2026\nSubject: one\n\n>From the start\n>>From deeper\n\nFrom c@d Mon Jan  1 00:00:01 2026\nSubject: two\n\nbody\n";
        let msgs = split_mbox(mbox);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], b"Subject: one\n\nFrom the start\n>From deeper\n");
        assert_eq!(msgs[1], b"Subject: two\n\nbody\n");
    }
}

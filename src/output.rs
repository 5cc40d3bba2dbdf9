//! How a command's result reaches the user: text for people, JSON for scripts.
//!
//! Data goes to stdout, diagnostics to stderr. Colour only on a terminal, never
//! with `NO_COLOR` or `--color never`.

use std::io::{self, IsTerminal, Write};

use crate::cli::ColorChoice;

/// What a command produced: the same result as text and as JSON.
pub struct Output {
    pub text: String,
    pub json: serde_json::Value,
    /// When set, the text is these pieces of these buffers, in this order (long
    /// tables are written as their rows are read, on several threads, and only the
    /// pieces sorted; copying them into order would touch as much memory again).
    pub pieces: Option<(Vec<String>, Vec<Piece>)>,
    /// JSON already written out (large results skip the `json` value).
    pub json_text: Option<String>,
    /// Exit status 1 without an error: a check found problems.
    pub failed: bool,
    /// Another exit status without an error (`run`: 3 when deadlines are overdue).
    pub code: Option<u8>,
}

impl Output {
    pub fn new(text: impl Into<String>, json: serde_json::Value) -> Self {
        Output { text: text.into(), json, failed: false, code: None, pieces: None, json_text: None }
    }

    /// A result for `--json` serialised straight from `value` (no JSON value tree
    /// in between: faster and smaller for long lists).
    pub fn json_of(value: &impl serde::Serialize) -> serde_json::Result<Self> {
        let json_text = Some(serde_json::to_string_pretty(value)?);
        Ok(Output { json_text, ..Output::new(String::new(), serde_json::Value::Null) })
    }

    /// Text made of pieces of `bufs` in the given order; each piece is whole lines.
    pub fn pieces(bufs: Vec<String>, order: Vec<Piece>) -> Self {
        Output { pieces: Some((bufs, order)), ..Output::new(String::new(), serde_json::Value::Null) }
    }

    /// Output that has no JSON form worth having (generated files, scripts).
    pub fn text(text: impl Into<String>) -> Self {
        Output::new(text, serde_json::Value::Null)
    }

    pub fn failed(mut self, failed: bool) -> Self {
        self.failed = failed;
        self
    }

    pub fn code(mut self, code: Option<u8>) -> Self {
        self.code = code;
        self
    }

    /// Print to stdout as JSON or text.
    pub fn print(&self, json: bool) -> io::Result<()> {
        let mut out = io::stdout().lock();
        if json {
            // Buffered: stdout is line-buffered, and pretty JSON is many lines.
            let mut w = io::BufWriter::with_capacity(1 << 16, &mut out);
            match &self.json_text {
                Some(t) => w.write_all(t.as_bytes())?,
                None => serde_json::to_writer_pretty(&mut w, &self.json).map_err(io::Error::other)?,
            }
            w.write_all(b"\n")?;
            w.flush()?;
        } else if let Some((bufs, order)) = &self.pieces {
            let mut w = io::BufWriter::with_capacity(1 << 16, &mut out);
            for p in order {
                let piece = bufs.get(p.buf).and_then(|b| b.as_bytes().get(p.start..p.end));
                w.write_all(piece.unwrap_or_default())?;
            }
            w.flush()?;
        } else if !self.text.is_empty() {
            out.write_all(self.text.as_bytes())?;
            if !self.text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
        }
        out.flush()
    }
}

/// A piece of [`Output::pieces`]: bytes `start..end` of buffer `buf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Piece {
    pub buf: usize,
    pub start: usize,
    pub end: usize,
}

impl Piece {
    /// The piece of `buf` written since `start`.
    pub fn since(buf: usize, text: &str, start: usize) -> Piece {
        Piece { buf, start, end: text.len() }
    }
}

/// Terminal styling, decided once.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn new(choice: ColorChoice) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Never => false,
            ColorChoice::Always => !no_color,
            ColorChoice::Auto => !no_color && io::stdout().is_terminal(),
        };
        Style { color }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }

    /// Append what `f` writes, in the failure colour when `on`.
    pub fn push_fail(&self, out: &mut String, on: bool, f: impl FnOnce(&mut String)) {
        let paint = on && self.color;
        if paint {
            out.push_str("\x1b[1;31m");
        }
        f(out);
        if paint {
            out.push_str("\x1b[0m");
        }
    }

    pub fn ok(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub fn warn(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub fn fail(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

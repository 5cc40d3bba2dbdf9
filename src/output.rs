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
    /// Exit status 1 without an error: a check found problems.
    pub failed: bool,
    /// Another exit status without an error (`run`: 3 when deadlines are overdue).
    pub code: Option<u8>,
}

impl Output {
    pub fn new(text: impl Into<String>, json: serde_json::Value) -> Self {
        Output { text: text.into(), json, failed: false, code: None }
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
            serde_json::to_writer_pretty(&mut out, &self.json).map_err(io::Error::other)?;
            out.write_all(b"\n")?;
        } else if !self.text.is_empty() {
            out.write_all(self.text.as_bytes())?;
            if !self.text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
        }
        out.flush()
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

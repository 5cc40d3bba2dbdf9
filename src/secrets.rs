//! Where a password or passphrase comes from: an environment variable, a command,
//! a file (systemd credentials), the OS keyring, or a prompt.
//!
//! One module for every secret vulnmail uses (the key passphrase, IMAP and SMTP
//! passwords). A [`Secret`] never prints its value, and no error message here
//! contains one: a failing command's output is not captured into the message.

use std::fmt;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use zeroize::Zeroizing;

use crate::config::SecretSource;

/// A secret value; `Debug` and `Display` show `[redacted]`.
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(Zeroizing::new(s))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set (or is empty)")]
    EnvMissing(String),
    #[error("the command for {what} failed ({status}); run it yourself to see why")]
    CommandFailed { what: String, status: String },
    #[error("the command for {what} printed nothing")]
    CommandEmpty { what: String },
    #[error("cannot run the command for {what}: {source}")]
    CommandSpawn { what: String, source: std::io::Error },
    #[error("cannot read the {what} file {}: {source}", .path.display())]
    File { what: String, path: PathBuf, source: std::io::Error },
    #[error("the {what} file {} is empty", .path.display())]
    FileEmpty { what: String, path: PathBuf },
    #[error(
        "the OS keyring ({detail}) has no usable entry {entry:?} for {what}; on a server without a \
         Secret Service use {{ env = \"NAME\" }}, {{ command = \"…\" }} or {{ file = \"…\" }} instead"
    )]
    Keyring { what: String, entry: String, detail: String },
    #[error("a keyring source must be \"service/account\", not {0:?}")]
    KeyringName(String),
    #[error(
        "{what} must be typed at a prompt, but {why}; configure {{ env = \"NAME\" }}, \
         {{ command = \"…\" }}, {{ file = \"…\" }} or {{ keyring = \"service/account\" }} instead"
    )]
    NoPrompt { what: String, why: &'static str },
    #[error("cannot read {0} from the terminal: {1}")]
    Prompt(String, #[source] std::io::Error),
}

/// Whether vulnmail may ask the person at the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Allowed,
    /// `--batch`: never prompt.
    Batch,
}

impl Interaction {
    pub fn can_prompt(self) -> Result<(), &'static str> {
        if self == Interaction::Batch {
            return Err("--batch forbids prompting");
        }
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Err("there is no terminal to ask on");
        }
        Ok(())
    }
}

/// Read a secret from its source. `what` names it in messages ("the key passphrase").
pub fn resolve(what: &str, source: &SecretSource, interaction: Interaction) -> Result<Secret, SecretError> {
    match source {
        SecretSource::Env(name) => match std::env::var(name) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
            _ => Err(SecretError::EnvMissing(name.clone())),
        },
        SecretSource::Command(cmd) => run_command(what, cmd),
        SecretSource::File(path) => read_file(what, path),
        SecretSource::Keyring(name) => from_keyring(what, name),
        SecretSource::Prompt(_) => prompt(what, interaction),
    }
}

/// Ask for a secret on the terminal, optionally twice (for a new passphrase).
pub fn prompt_new(what: &str, interaction: Interaction) -> Result<Secret, SecretError> {
    interaction.can_prompt().map_err(|why| SecretError::NoPrompt { what: what.into(), why })?;
    loop {
        let a = read_tty(&format!("New {what}: "), what)?;
        if a.expose().is_empty() {
            eprintln!("An empty {what} protects nothing; try again.");
            continue;
        }
        let b = read_tty(&format!("Repeat the {what}: "), what)?;
        if a.expose() == b.expose() {
            return Ok(a);
        }
        eprintln!("The two entries differ; try again.");
    }
}

fn prompt(what: &str, interaction: Interaction) -> Result<Secret, SecretError> {
    interaction.can_prompt().map_err(|why| SecretError::NoPrompt { what: what.into(), why })?;
    read_tty(&format!("{}: ", capitalise(what)), what)
}

fn read_tty(label: &str, what: &str) -> Result<Secret, SecretError> {
    rpassword::prompt_password(label).map(Secret::new).map_err(|e| SecretError::Prompt(what.into(), e))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn run_command(what: &str, cmd: &str) -> Result<Secret, SecretError> {
    // stderr stays the user's: it is the command's own diagnostics, and capturing it
    // into our message could carry a secret into a log.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| SecretError::CommandSpawn { what: what.into(), source })?;
    let mut out = Zeroizing::new(Vec::new());
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_end(&mut out).map_err(|source| SecretError::CommandSpawn { what: what.into(), source })?;
    }
    let status = child.wait().map_err(|source| SecretError::CommandSpawn { what: what.into(), source })?;
    if !status.success() {
        return Err(SecretError::CommandFailed { what: what.into(), status: status.to_string() });
    }
    let text = String::from_utf8_lossy(&out);
    let first = text.lines().next().unwrap_or_default().to_string();
    if first.is_empty() {
        return Err(SecretError::CommandEmpty { what: what.into() });
    }
    Ok(Secret::new(first))
}

/// Relative paths are systemd credentials: `$CREDENTIALS_DIRECTORY/<path>`.
pub fn credential_path(path: &Path) -> PathBuf {
    if path.is_relative()
        && let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY")
    {
        return Path::new(&dir).join(path);
    }
    path.to_path_buf()
}

fn read_file(what: &str, path: &Path) -> Result<Secret, SecretError> {
    let full = credential_path(path);
    let bytes = Zeroizing::new(std::fs::read(&full).map_err(|source| SecretError::File {
        what: what.into(),
        path: full.clone(),
        source,
    })?);
    let text = String::from_utf8_lossy(&bytes);
    let first = text.lines().next().unwrap_or_default().to_string();
    if first.is_empty() {
        return Err(SecretError::FileEmpty { what: what.into(), path: full });
    }
    Ok(Secret::new(first))
}

fn split_keyring(name: &str) -> Result<(&str, &str), SecretError> {
    match name.split_once('/') {
        Some((s, a)) if !s.is_empty() && !a.is_empty() => Ok((s, a)),
        _ => Err(SecretError::KeyringName(name.into())),
    }
}

fn keyring_entry(name: &str) -> Result<keyring::Entry, SecretError> {
    let (service, account) = split_keyring(name)?;
    keyring::Entry::new(service, account).map_err(|e| SecretError::Keyring {
        what: String::new(),
        entry: name.into(),
        detail: e.to_string(),
    })
}

fn from_keyring(what: &str, name: &str) -> Result<Secret, SecretError> {
    let entry = keyring_entry(name).map_err(|e| with_what(e, what))?;
    entry.get_password().map(Secret::new).map_err(|e| SecretError::Keyring {
        what: what.into(),
        entry: name.into(),
        detail: keyring_detail(&e),
    })
}

fn with_what(e: SecretError, what: &str) -> SecretError {
    match e {
        SecretError::Keyring { entry, detail, .. } => SecretError::Keyring { what: what.into(), entry, detail },
        other => other,
    }
}

fn keyring_detail(e: &keyring::Error) -> String {
    match e {
        keyring::Error::NoEntry => "Secret Service: no such entry".into(),
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => {
            "Secret Service over D-Bus, not reachable here".into()
        }
        other => format!("Secret Service: {other}"),
    }
}

/// A one-line description of a source, never of its value.
pub fn describe(source: &SecretSource) -> String {
    match source {
        SecretSource::Env(n) => format!("environment variable {n}"),
        SecretSource::Command(c) => format!("command `{c}`"),
        SecretSource::File(p) => format!("file {}", credential_path(p).display()),
        SecretSource::Keyring(n) => format!("OS keyring entry {n}"),
        SecretSource::Prompt(_) => "prompt on the terminal".into(),
    }
}

/// The short kind of a source, for JSON: env, command, file, keyring, prompt.
pub fn kind(source: &SecretSource) -> &'static str {
    match source {
        SecretSource::Env(_) => "env",
        SecretSource::Command(_) => "command",
        SecretSource::File(_) => "file",
        SecretSource::Keyring(_) => "keyring",
        SecretSource::Prompt(_) => "prompt",
    }
}

/// Whether a source looks usable now, without running commands or asking anyone.
pub fn availability(source: &SecretSource, interaction: Interaction) -> Result<(), String> {
    match source {
        SecretSource::Env(n) => match std::env::var_os(n) {
            Some(v) if !v.is_empty() => Ok(()),
            _ => Err(format!("{n} is not set")),
        },
        SecretSource::File(p) => {
            let full = credential_path(p);
            match std::fs::metadata(&full) {
                Ok(m) if m.is_file() => Ok(()),
                Ok(_) => Err(format!("{} is not a file", full.display())),
                Err(e) => Err(format!("{}: {e}", full.display())),
            }
        }
        SecretSource::Command(_) | SecretSource::Keyring(_) => Ok(()),
        SecretSource::Prompt(_) => interaction.can_prompt().map_err(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "[redacted]");
    }

    #[test]
    fn command_source_takes_the_first_line() {
        let s = resolve("test", &SecretSource::Command("printf 'pw1\\nrest'".into()), Interaction::Batch).unwrap();
        assert_eq!(s.expose(), "pw1");
        let e = resolve("test", &SecretSource::Command("echo leak; exit 3".into()), Interaction::Batch).unwrap_err();
        assert!(!e.to_string().contains("leak"), "{e}");
    }

    #[test]
    fn batch_never_prompts() {
        let e = resolve("the key passphrase", &SecretSource::Prompt(true), Interaction::Batch).unwrap_err();
        assert!(e.to_string().contains("--batch"), "{e}");
        assert!(e.to_string().contains("env"), "{e}");
    }

    #[test]
    fn keyring_names_need_a_slash() {
        assert!(split_keyring("vulnmail").is_err());
        assert_eq!(split_keyring("vulnmail/key").unwrap(), ("vulnmail", "key"));
    }
}

//! SMTP: hand one finished message to the configured server (lettre, rustls).
//!
//! TLS is always verified (system roots plus `ca_file`), implicit or STARTTLS; no
//! password crosses a network in clear. The message is sent as given, after making
//! sure every line ends in CRLF: lettre dot-stuffs only after CRLF
//! (RUSTSEC-2026-0561), so a bare LF followed by `.` could end the DATA early.
//! Errors are classified for the outbox: transient (try again later) or permanent.

use std::net::ToSocketAddrs;
use std::time::Duration;

use lettre::Transport as _;
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use crate::config::{SmtpConfig, TlsMode};
use crate::secrets::Secret;

/// A reason kept in the outbox and printed: sanitised, one line, bounded.
const MAX_REASON: usize = 400;

#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error(
        "[smtp] tls = \"none\" needs allow_plaintext = true and a loopback address ({0} is not both); \
         a password must not cross a network in clear"
    )]
    PlaintextRefused(String),
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("cannot read the CA file {}: {reason}", .path.display())]
    CaFile { path: std::path::PathBuf, reason: String },
    #[error("[smtp] user is set but no password source is")]
    NoPassword,
    #[error("SMTP TLS setup: {0}")]
    Tls(String),
}

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: the server could not be reached, the connection
    /// broke, timed out, or the server answered 4xx.
    #[error("{0}")]
    Transient(String),
    /// The server refused it for good (5xx), or it cannot be sent as it is.
    #[error("{0}")]
    Permanent(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent(_))
    }
}

/// A configured SMTP server, ready to send.
pub struct Smtp {
    transport: SmtpTransport,
    addr: String,
}

/// Set up (but do not connect) the transport described by `[smtp]`.
pub fn connect(cfg: &SmtpConfig, password: Option<&Secret>, hello: &str) -> Result<Smtp, SmtpSetupError> {
    let port = cfg.port();
    let addr = format!("{}:{port}", cfg.host);
    if cfg.tls == TlsMode::None {
        let addrs: Vec<_> =
            (cfg.host.as_str(), port).to_socket_addrs().map_err(|_| SmtpSetupError::Resolve(addr.clone()))?.collect();
        if !(cfg.allow_plaintext && !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())) {
            return Err(SmtpSetupError::PlaintextRefused(addr));
        }
    }
    let tls_params = || -> Result<TlsParameters, SmtpSetupError> {
        let mut b = TlsParameters::builder(cfg.host.clone());
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| SmtpSetupError::CaFile { path: path.clone(), reason: e.to_string() })?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| SmtpSetupError::CaFile { path: path.clone(), reason: e.to_string() })?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls().map_err(|e| SmtpSetupError::Tls(e.to_string()))
    };
    let tls = match cfg.tls {
        TlsMode::Implicit => Tls::Wrapper(tls_params()?),
        TlsMode::Starttls => Tls::Required(tls_params()?),
        TlsMode::None => Tls::None,
    };
    let mut b = SmtpTransport::builder_dangerous(cfg.host.clone())
        .port(port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(cfg.timeout_seconds.max(1))))
        .hello_name(ClientId::Domain(if hello.is_empty() { "localhost".into() } else { hello.to_string() }));
    if let Some(user) = &cfg.user {
        let pw = password.ok_or(SmtpSetupError::NoPassword)?;
        b = b
            .credentials(Credentials::new(user.clone(), pw.expose().to_string()))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    Ok(Smtp { transport: b.build(), addr })
}

impl Smtp {
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// One SMTP transaction: `from` `None` is the null sender `MAIL FROM:<>`.
    pub fn send(&self, from: Option<&str>, to: &[String], raw: &[u8]) -> Result<(), SendError> {
        let parse = |a: &str| {
            a.parse::<Address>().map_err(|e| {
                SendError::Permanent(format!("{} is not a usable address: {e}", crate::term::sanitize(a, false)))
            })
        };
        let from = from.map(parse).transpose()?;
        let to = to.iter().map(|a| parse(a)).collect::<Result<Vec<_>, _>>()?;
        let envelope = Envelope::new(from, to).map_err(|e| SendError::Permanent(format!("envelope: {e}")))?;
        let data = crlf(raw);
        // lettre dot-stuffs "\r\n." only; a bare CR or LF here would let a line
        // holding "." end the message early (RUSTSEC-2026-0561).
        if has_bare_cr_or_lf(&data) {
            return Err(SendError::Permanent("internal: the message still has a bare CR or LF".into()));
        }
        // lettre ends DATA with "\r\n.\r\n" itself: without this, a message ending in
        // CRLF would arrive with an extra empty line.
        let body = data.strip_suffix(b"\r\n").unwrap_or(&data);
        self.transport.send_raw(&envelope, body).map(|_| ()).map_err(|e| classify(&self.addr, &e))
    }
}

fn classify(addr: &str, e: &lettre::transport::smtp::Error) -> SendError {
    // The chain, not just the top: lettre's Display carries the server's text.
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let t = s.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        src = s.source();
    }
    let text = reason(&format!("{addr}: {text}"));
    // A refused login (530/534/535) says nothing about the message: the account needs
    // fixing, and the queue should wait for that rather than fail every reply.
    let auth = e.status().is_some_and(|c| matches!(c.to_string().as_str(), "530" | "534" | "535"));
    if e.is_permanent() && !auth {
        SendError::Permanent(text)
    } else if auth || e.is_transient() || e.is_timeout() || e.is_tls() {
        SendError::Transient(text)
    } else if e.is_client() {
        // The client refused to send it as it is (e.g. 8-bit text to a 7-bit server).
        SendError::Permanent(text)
    } else {
        // Network, connection, an unreadable answer, a cut: try again.
        SendError::Transient(text)
    }
}

/// One line, no control or bidi characters, bounded.
pub fn reason(s: &str) -> String {
    let one = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let clean = crate::term::sanitize(&one, false);
    if clean.chars().count() > MAX_REASON {
        let mut c: String = clean.chars().take(MAX_REASON).collect();
        c.push('…');
        c
    } else {
        clean
    }
}

/// Every line ending made CRLF: a bare LF or a bare CR becomes CRLF.
pub fn crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 50 + 2);
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\r' if raw.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 2;
            }
            b'\r' | b'\n' => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

pub fn has_bare_cr_or_lf(data: &[u8]) -> bool {
    data.iter().enumerate().any(|(i, &b)| match b {
        b'\r' => data.get(i + 1) != Some(&b'\n'),
        b'\n' => i == 0 || data[i - 1] != b'\r',
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_line_ends_become_crlf() {
        assert_eq!(crlf(b"a\nb\r\nc\rd\r\n.\n"), b"a\r\nb\r\nc\r\nd\r\n.\r\n");
        assert_eq!(crlf(b"\r\r\n\n"), b"\r\n\r\n\r\n");
        assert!(has_bare_cr_or_lf(b"a\n.\r\n"));
        assert!(has_bare_cr_or_lf(b"a\r.\r\n"));
        assert!(has_bare_cr_or_lf(b"\n"));
        assert!(!has_bare_cr_or_lf(&crlf(b"a\n.\nb\r.\r")));
    }

    #[test]
    fn reasons_are_one_clean_bounded_line() {
        assert_eq!(reason("550 5.1.1 <x>:\r\n Recipient\x1b[31m rejected"), "550 5.1.1 <x>: Recipient␛[31m rejected");
        assert!(reason(&"x".repeat(1000)).chars().count() <= MAX_REASON + 1);
    }

    #[test]
    fn plaintext_is_refused_off_loopback_and_without_the_flag() {
        let mut cfg: SmtpConfig = toml::from_str("host = \"127.0.0.1\"\nport = 2525\ntls = \"none\"\n").unwrap();
        assert!(matches!(connect(&cfg, None, "example.org"), Err(SmtpSetupError::PlaintextRefused(_))));
        cfg.allow_plaintext = true;
        assert!(connect(&cfg, None, "example.org").is_ok());
        cfg.host = "192.0.2.1".into();
        assert!(matches!(connect(&cfg, None, "example.org"), Err(SmtpSetupError::PlaintextRefused(_))));
    }
}

//! IMAP: connect (TLS verified, no credential before TLS), and sync a mailbox into
//! the store incrementally by UIDVALIDITY/UID, one round trip per batch.
//!
//! Messages are fetched with BODY.PEEK, so the server's \Seen flag is left alone.
//! A batch and the cursor that covers it are committed in one transaction: killed
//! at any moment, a rerun resumes where the last commit left off.

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imap::extensions::idle::SetReadTimeout;
use rustls::{ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;

use crate::config::{ImapConfig, TlsMode};
use crate::secrets::Secret;
use crate::store::messages::{BatchCounts, FetchedItem, Incoming};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("{addr}: {reason}; nothing was sent")]
    Tls { addr: String, reason: String },
    #[error("{0} does not offer STARTTLS; refusing to log in without TLS (use tls = \"implicit\" on its IMAPS port)")]
    NoStartTls(String),
    #[error(
        "tls = \"none\" needs allow_plaintext = true and a loopback address ({0} is not both); \
         a password must not cross a network in clear"
    )]
    PlaintextRefused(String),
    #[error("the server refused the login for {user}: {reason} (wrong password?)")]
    Login { user: String, reason: String },
    #[error("the server greeted with {0:?}")]
    Greeting(String),
    #[error("cannot open mailbox {mailbox}: {reason}")]
    Mailbox { mailbox: String, reason: String },
    #[error(
        "the connection to {addr} failed during {during}: {reason}. Everything committed is kept; \
         run again to resume"
    )]
    Lost { addr: String, during: String, reason: String },
    #[error("{0}")]
    TlsConfig(#[from] super::tls::TlsConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The transport under the IMAP client: plain TCP (before STARTTLS, or loopback
/// plaintext when explicitly allowed) or TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stream::Plain(_) => "Stream::Plain",
            Stream::Tls(_) => "Stream::Tls",
        })
    }
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

impl SetReadTimeout for Stream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> imap::Result<()> {
        self.tcp().set_read_timeout(timeout).map_err(imap::Error::Io)
    }
}

pub type Session = imap::Session<Stream>;

/// An authenticated IMAP session and where it goes.
pub struct Connection {
    pub session: Session,
    pub addr: String,
    timeout: Duration,
    /// A handle on the same socket, to restore timeouts that IDLE changes.
    socket: TcpStream,
}

fn first_line(e: &imap::Error) -> String {
    let s = e.to_string();
    s.lines().next().unwrap_or_default().to_string()
}

fn handshake(tcp: TcpStream, host: &str, tls: Arc<rustls::ClientConfig>, addr: &str) -> Result<Stream, ImapError> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| ImapError::Tls { addr: addr.into(), reason: format!("{host:?} is not a valid server name") })?;
    let conn =
        ClientConnection::new(tls, name).map_err(|e| ImapError::Tls { addr: addr.into(), reason: e.to_string() })?;
    let mut stream = StreamOwned::new(conn, tcp);
    // Finish the handshake now, so a bad certificate fails before any IMAP command.
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .map_err(|e| ImapError::Tls { addr: addr.into(), reason: super::tls::explain(&e) })?;
    }
    Ok(Stream::Tls(Box::new(stream)))
}

/// Connect, secure and log in. The password is sent only over verified TLS (or to
/// loopback with `allow_plaintext`).
pub fn connect(cfg: &ImapConfig, password: &Secret) -> Result<Connection, ImapError> {
    let port = cfg.port();
    let addr_text = format!("{}:{port}", cfg.host);
    let addrs: Vec<SocketAddr> =
        (cfg.host.as_str(), port).to_socket_addrs().map_err(|_| ImapError::Resolve(addr_text.clone()))?.collect();
    let timeout = Duration::from_secs(cfg.timeout_seconds.max(1));
    if cfg.tls == TlsMode::None
        && !(cfg.allow_plaintext && !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()))
    {
        return Err(ImapError::PlaintextRefused(addr_text));
    }
    let mut last_err = String::from("no address");
    let mut tcp = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last_err = e.to_string(),
        }
    }
    let tcp = tcp.ok_or_else(|| ImapError::Connect { addr: addr_text.clone(), reason: last_err })?;
    let socket = tcp.try_clone().map_err(|e| ImapError::Connect { addr: addr_text.clone(), reason: e.to_string() })?;
    tcp.set_read_timeout(Some(timeout)).ok();
    tcp.set_write_timeout(Some(timeout)).ok();
    tcp.set_nodelay(true).ok();

    let tls_config = || super::tls::client_config(cfg.ca_file.as_deref());
    let lost = |during: &str, e: &imap::Error| ImapError::Lost {
        addr: addr_text.clone(),
        during: during.into(),
        reason: first_line(e),
    };
    let mut client = match cfg.tls {
        TlsMode::Implicit => {
            let stream = handshake(tcp, &cfg.host, tls_config()?, &addr_text)?;
            let mut c = imap::Client::new(stream);
            check_greeting(&c.read_greeting().map_err(|e| lost("the greeting", &e))?)?;
            c
        }
        TlsMode::Starttls => {
            let mut tcp = tcp;
            starttls(&mut tcp, &addr_text)?;
            let stream = handshake(tcp, &cfg.host, tls_config()?, &addr_text)?;
            let mut c = imap::Client::new(stream);
            // RFC 3501: no second greeting after STARTTLS.
            c.greeting_read = true;
            c
        }
        TlsMode::None => {
            let mut c = imap::Client::new(Stream::Plain(tcp));
            check_greeting(&c.read_greeting().map_err(|e| lost("the greeting", &e))?)?;
            c
        }
    };
    client.debug = false; // the protocol trace would contain the password
    let session = client.login(&cfg.user, password.expose()).map_err(|(e, _)| match e {
        imap::Error::No(n) => ImapError::Login { user: cfg.user.clone(), reason: n.information },
        imap::Error::Bad(b) => ImapError::Login { user: cfg.user.clone(), reason: b.information },
        other => lost("LOGIN", &other),
    })?;
    Ok(Connection { session, addr: addr_text, timeout, socket })
}

/// Read one CRLF-terminated line, a byte at a time, so that nothing the server
/// sends after its STARTTLS answer is buffered outside TLS.
fn read_line_raw(tcp: &mut TcpStream, addr: &str) -> Result<String, ImapError> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match tcp.read(&mut b) {
            Ok(0) => {
                return Err(ImapError::Lost {
                    addr: addr.into(),
                    during: "STARTTLS".into(),
                    reason: "connection closed".into(),
                });
            }
            Ok(_) => {
                line.push(b[0]);
                if b[0] == b'\n' {
                    return Ok(String::from_utf8_lossy(&line).into_owned());
                }
                if line.len() > 64 * 1024 {
                    return Err(ImapError::Greeting("an overlong line before TLS".into()));
                }
            }
            Err(e) => {
                return Err(ImapError::Lost { addr: addr.into(), during: "STARTTLS".into(), reason: e.to_string() });
            }
        }
    }
}

/// The plaintext part of a STARTTLS connection: greeting, CAPABILITY, STARTTLS.
/// Nothing secret is sent here.
fn starttls(tcp: &mut TcpStream, addr: &str) -> Result<(), ImapError> {
    let greeting = read_line_raw(tcp, addr)?;
    check_greeting(greeting.as_bytes())?;
    let send = |tcp: &mut TcpStream, cmd: &str| {
        tcp.write_all(cmd.as_bytes()).map_err(|e| ImapError::Lost {
            addr: addr.into(),
            during: "STARTTLS".into(),
            reason: e.to_string(),
        })
    };
    send(tcp, "S1 CAPABILITY\r\n")?;
    let mut has_starttls = false;
    loop {
        let line = read_line_raw(tcp, addr)?;
        if line.starts_with("* CAPABILITY") {
            has_starttls = line.split_whitespace().any(|w| w.eq_ignore_ascii_case("STARTTLS"));
        } else if line.starts_with("S1 ") {
            break;
        }
    }
    if !has_starttls {
        return Err(ImapError::NoStartTls(addr.into()));
    }
    send(tcp, "S2 STARTTLS\r\n")?;
    loop {
        let line = read_line_raw(tcp, addr)?;
        if let Some(rest) = line.strip_prefix("S2 ") {
            if rest.starts_with("OK") {
                return Ok(());
            }
            return Err(ImapError::NoStartTls(addr.into()));
        }
    }
}

fn check_greeting(g: &[u8]) -> Result<(), ImapError> {
    let s = String::from_utf8_lossy(g);
    if s.starts_with("* OK") || s.starts_with("* PREAUTH") {
        Ok(())
    } else {
        Err(ImapError::Greeting(crate::term::sanitize(s.trim_end(), false)))
    }
}

/// Limits for one sync.
#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    pub max_message_size: u64,
    /// A batch ends after this many messages…
    pub batch_messages: usize,
    /// …or this many bytes, whichever comes first.
    pub batch_bytes: u64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions { max_message_size: 50 * 1024 * 1024, batch_messages: 500, batch_bytes: 16 * 1024 * 1024 }
    }
}

/// What syncing one mailbox did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct MailboxSync {
    pub mailbox: String,
    pub uidvalidity: u32,
    pub uidvalidity_changed: bool,
    #[serde(flatten)]
    pub counts: BatchCounts,
    pub batches: u32,
}

/// Progress reports, so the caller can draw a bar (or not).
pub trait Progress {
    fn start(&mut self, _mailbox: &str, _total: u64) {}
    fn advance(&mut self, _n: u64) {}
}

pub struct NoProgress;
impl Progress for NoProgress {}

/// After-store actions from the config.
pub struct AfterStore<'a> {
    pub keyword: Option<&'a str>,
    pub move_to: Option<&'a str>,
}

/// Sync one mailbox: fetch every UID above the cursor (and placeholders that now
/// fit under the cap), store it, advance the cursor.
pub fn sync_mailbox(
    conn: &mut Connection,
    store: &mut Store,
    mailbox: &str,
    opts: SyncOptions,
    after: &AfterStore<'_>,
    progress: &mut dyn Progress,
) -> Result<MailboxSync, ImapError> {
    let addr = conn.addr.clone();
    let lost = |during: &str, e: &imap::Error| match e {
        imap::Error::No(_) | imap::Error::Bad(_) => {
            ImapError::Mailbox { mailbox: mailbox.into(), reason: first_line(e) }
        }
        _ => ImapError::Lost { addr: addr.clone(), during: during.into(), reason: first_line(e) },
    };
    let writes = after.keyword.is_some() || after.move_to.is_some();
    let mb =
        if writes { conn.session.select(mailbox) } else { conn.session.examine(mailbox) }.map_err(|e| match e {
            imap::Error::No(_) | imap::Error::Bad(_) => {
                ImapError::Mailbox { mailbox: mailbox.into(), reason: first_line(&e) }
            }
            other => lost(&format!("opening {mailbox}"), &other),
        })?;
    let uidvalidity = mb.uid_validity.unwrap_or(0);
    let mut out = MailboxSync { mailbox: mailbox.into(), uidvalidity, ..MailboxSync::default() };
    let state = store.mailbox_state(mailbox)?;
    let mut last_uid = match state {
        Some(s) if s.uidvalidity == uidvalidity => s.last_uid,
        Some(_) => {
            // The server renumbered the mailbox: start over; stored messages are
            // recognised by content and only get a new location.
            store.reset_mailbox(mailbox, uidvalidity)?;
            out.uidvalidity_changed = true;
            0
        }
        None => 0,
    };
    let retry = store.oversize_uids(mailbox, uidvalidity, opts.max_message_size)?;
    let nothing_new = mb.exists == 0 || mb.uid_next.is_some_and(|next| next.saturating_sub(1) <= last_uid);
    if nothing_new && retry.is_empty() {
        // The no-op path: one EXAMINE, no FETCH, whatever the mailbox size.
        if mb.exists == 0 && last_uid == 0 && state.is_none() {
            store.ingest_batch(mailbox, uidvalidity, 0, &[])?;
        }
        return Ok(out);
    }

    // Sizes first, so the cap is applied before any body crosses the wire.
    let mut todo: Vec<(u32, u64)> = Vec::new();
    if !nothing_new {
        let sizes = conn
            .session
            .uid_fetch(format!("{}:*", last_uid + 1), "(UID RFC822.SIZE)")
            .map_err(|e| lost("listing new messages", &e))?;
        for f in sizes.iter() {
            if let (Some(uid), Some(size)) = (f.uid, f.size) {
                // "n:*" also returns the highest message when n is beyond it.
                if uid > last_uid {
                    todo.push((uid, u64::from(size)));
                }
            }
        }
    }
    if !retry.is_empty() {
        let set = uid_set(&retry);
        let sizes =
            conn.session.uid_fetch(set, "(UID RFC822.SIZE)").map_err(|e| lost("re-listing placeholders", &e))?;
        for f in sizes.iter() {
            if let (Some(uid), Some(size)) = (f.uid, f.size)
                && !todo.iter().any(|(u, _)| *u == uid)
            {
                todo.push((uid, u64::from(size)));
            }
        }
    }
    todo.sort_unstable();
    progress.start(mailbox, todo.len() as u64);

    let mut i = 0;
    while i < todo.len() {
        // One batch: up to batch_messages / batch_bytes, oversize ones recorded only.
        let mut batch: Vec<(u32, u64)> = Vec::new();
        let mut bytes = 0u64;
        while i < todo.len() && batch.len() < opts.batch_messages {
            let (uid, size) = todo[i];
            if size <= opts.max_message_size && !batch.is_empty() && bytes + size > opts.batch_bytes {
                break;
            }
            if size <= opts.max_message_size {
                bytes += size;
            }
            batch.push((uid, size));
            i += 1;
        }
        let wanted: Vec<u32> = batch.iter().filter(|(_, s)| *s <= opts.max_message_size).map(|(u, _)| *u).collect();
        let fetched = if wanted.is_empty() {
            None
        } else {
            Some(
                conn.session
                    .uid_fetch(uid_set(&wanted), "(UID RFC822.SIZE INTERNALDATE FLAGS BODY.PEEK[])")
                    .map_err(|e| lost(&format!("fetching from {mailbox}"), &e))?,
            )
        };
        let mut items: Vec<FetchedItem<'_>> = Vec::with_capacity(batch.len());
        for &(uid, size) in &batch {
            if size > opts.max_message_size {
                items.push(FetchedItem::Oversize {
                    uid,
                    size,
                    reason: format!(
                        "{size} bytes is over the {} byte limit (imap.max_message_size); fetch with a larger --max-size",
                        opts.max_message_size
                    ),
                });
                continue;
            }
            let Some(f) = fetched.as_ref().and_then(|fs| fs.iter().find(|f| f.uid == Some(uid))) else {
                // Expunged between listing and fetching: it is gone from the server.
                continue;
            };
            let Some(body) = f.body() else { continue };
            items.push(FetchedItem::Message {
                uid,
                msg: Incoming {
                    raw: body,
                    size: f.size.map(u64::from).unwrap_or(size),
                    internaldate: f.internal_date().map(|d| d.to_rfc3339()),
                    flags: f.flags().iter().map(|fl| fl.to_string()).collect(),
                    source: format!("imap:{mailbox}"),
                },
            });
        }
        let batch_last = batch.iter().map(|(u, _)| *u).max().unwrap_or(last_uid).max(last_uid);
        let counts = store.ingest_batch(mailbox, uidvalidity, batch_last, &items)?;
        last_uid = batch_last;
        out.counts.new += counts.new;
        out.counts.duplicate += counts.duplicate;
        out.counts.oversize += counts.oversize;
        out.batches += 1;
        progress.advance(batch.len() as u64);
        drop(items);
        if !wanted.is_empty() {
            after_store(conn, &wanted, after).map_err(|e| lost("marking stored messages", &e))?;
        }
    }
    Ok(out)
}

fn after_store(conn: &mut Connection, uids: &[u32], after: &AfterStore<'_>) -> imap::Result<()> {
    let set = uid_set(uids);
    if let Some(k) = after.keyword {
        conn.session.uid_store(&set, format!("+FLAGS.SILENT ({k})"))?;
    }
    if let Some(m) = after.move_to {
        conn.session.uid_mv(&set, m)?;
    }
    Ok(())
}

/// An IMAP quoted string (RFC 3501): backslash and double quote escaped; CR and LF,
/// which a quoted string cannot hold, dropped.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A compact UID set: 1:5,8,10:12.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
        i += 1;
    }
    parts.join(",")
}

impl Connection {
    /// Wait in IDLE until the mailbox changes, `max` passes, or `stop` returns true
    /// (checked every `tick`). Returns true when the mailbox may have changed.
    pub fn idle(&mut self, max: Duration, tick: Duration, stop: &dyn Fn() -> bool) -> Result<bool, ImapError> {
        let start = Instant::now();
        let addr = self.addr.clone();
        loop {
            if stop() {
                return Ok(false);
            }
            let left = max.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Ok(false);
            }
            let outcome = {
                let mut handle = self.session.idle();
                handle.timeout(tick.min(left)).keepalive(false);
                handle.wait_while(imap::extensions::idle::stop_on_any)
            };
            // IDLE clears the read timeout; restore ours.
            let _ = self.socket.set_read_timeout(Some(self.timeout));
            match outcome {
                Ok(imap::extensions::idle::WaitOutcome::MailboxChanged) => return Ok(true),
                Ok(imap::extensions::idle::WaitOutcome::TimedOut) => continue,
                Err(e) => {
                    return Err(ImapError::Lost { addr, during: "IDLE".into(), reason: first_line(&e) });
                }
            }
        }
    }

    /// Make sure `mailbox` exists, creating it when the server has none by that name.
    pub fn ensure_mailbox(&mut self, mailbox: &str) -> Result<(), ImapError> {
        let names = self
            .session
            .list(None, Some(&quote(mailbox)))
            .map_err(|e| ImapError::Mailbox { mailbox: mailbox.into(), reason: first_line(&e) })?;
        if names.iter().any(|n| n.name() == mailbox) {
            return Ok(());
        }
        self.session.create(mailbox).map_err(|e| ImapError::Mailbox { mailbox: mailbox.into(), reason: first_line(&e) })
    }

    /// Append a message to `mailbox`, flagged \Seen (a copy of what was sent).
    pub fn append_seen(&mut self, mailbox: &str, raw: &[u8]) -> Result<(), ImapError> {
        let addr = self.addr.clone();
        self.session.append(mailbox, raw).flag(imap::types::Flag::Seen).finish().map(|_| ()).map_err(|e| match e {
            imap::Error::No(_) | imap::Error::Bad(_) => {
                ImapError::Mailbox { mailbox: mailbox.into(), reason: first_line(&e) }
            }
            other => ImapError::Lost { addr, during: format!("APPEND to {mailbox}"), reason: first_line(&other) },
        })
    }

    /// Whether `mailbox` holds a message with this Message-ID (given without angle
    /// brackets): `UID SEARCH HEADER Message-ID`.
    pub fn has_message_id(&mut self, mailbox: &str, message_id: &str) -> Result<bool, ImapError> {
        let addr = self.addr.clone();
        let lost = |during: &str, e: imap::Error| match e {
            imap::Error::No(_) | imap::Error::Bad(_) => {
                ImapError::Mailbox { mailbox: mailbox.into(), reason: first_line(&e) }
            }
            other => ImapError::Lost { addr: addr.clone(), during: during.into(), reason: first_line(&other) },
        };
        self.session.examine(mailbox).map_err(|e| lost(&format!("opening {mailbox}"), e))?;
        let found = self
            .session
            .uid_search(format!("HEADER Message-ID {}", quote(&format!("<{message_id}>"))))
            .map_err(|e| lost(&format!("searching {mailbox}"), e))?;
        Ok(!found.is_empty())
    }

    pub fn logout(mut self) {
        let _ = self.session.logout();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[5, 1, 2, 3, 8, 10, 11, 12]), "1:3,5,8,10:12");
        assert_eq!(uid_set(&[7]), "7");
    }

    #[test]
    fn quoted_strings_escape_what_they_must() {
        assert_eq!(quote("Sent"), "\"Sent\"");
        assert_eq!(quote("a\"b\\c\r\n"), "\"a\\\"b\\\\c\"");
    }
}

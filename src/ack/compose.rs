//! The reply as an RFC 5322 message: threaded, PGP/MIME when the reporter's
//! certificate is known, and injection-proof.
//!
//! What makes it safe:
//! - Every header value is cleaned first: control characters (CR, LF, TAB, …),
//!   Unicode line separators and bidi controls become spaces, so no value can end a
//!   header and start another (`\r\nBcc: x@evil` stays text in the Subject).
//! - The recipient is one validated address (`to`); nothing from the body ever
//!   becomes a recipient, and a `to` with a list, a group or stray text is refused.
//! - Non-ASCII header text is RFC 2047 encoded (UTF-8, base64 words).
//! - Bodies are quoted-printable with CRLF line ends; a line starting with `.` or
//!   `From ` has that first character encoded, and the whole message has no bare CR or
//!   LF (lettre 0.11.23, RUSTSEC-2026-0561, does not dot-stuff after a bare one).
//! - Message ids from the report are kept only when they look like message ids.
//!
//! With encryption, the real subject travels inside (protected headers, as
//! Thunderbird and Enigmail write them) and the outer Subject only carries the
//! report id.

use std::time::SystemTime;

use rand::Rng;
use sequoia_openpgp::Cert;

use crate::openpgp::encrypt::{EncryptError, sign_and_encrypt};

/// Encrypt the reply: to the reporter and the team, signed by the team.
#[derive(Debug, Clone)]
pub struct Encryption {
    pub reporter: Cert,
    /// The unlocked team key (secret parts decrypted).
    pub team_key: Cert,
    /// The team's public certificate (a copy of each reply is encrypted to it).
    pub team_cert: Cert,
}

/// Everything a reply needs. `subject` and `body` are the rendered template.
#[derive(Debug, Clone)]
pub struct ReplyInput {
    pub from_name: String,
    /// The first team address.
    pub from_address: String,
    /// The address the report came from: exactly one mailbox (`a@b` or `<a@b>`).
    pub to: String,
    /// The team's domain, for our Message-ID.
    pub domain: String,
    /// The report message's Message-ID (with or without angle brackets).
    pub in_reply_to: Option<String>,
    /// The report message's References.
    pub references: Vec<String>,
    pub subject: String,
    pub body: String,
    /// An automatic reply: `Auto-Submitted: auto-replied` (RFC 3834).
    pub automatic: bool,
    pub report_id: String,
    pub date: jiff::Timestamp,
    pub encryption: Option<Encryption>,
}

/// A reply ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// Our Message-ID, without angle brackets.
    pub message_id: String,
    /// The one SMTP recipient.
    pub envelope_to: String,
    /// The message, CRLF line ends throughout.
    pub raw: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("the reply's recipient {0:?} is not exactly one plain email address")]
    BadRecipient(String),
    #[error("the team address {0:?} is not a plain email address; check [team] addresses")]
    BadSender(String),
    #[error("the team domain {0:?} is not a domain name; check [team] domain")]
    BadDomain(String),
    #[error("cannot encrypt the reply: {0}")]
    Encrypt(#[from] EncryptError),
}

/// Build the reply message.
pub fn compose(r: &ReplyInput) -> Result<Composed, ComposeError> {
    let to = mailbox(&r.to).ok_or_else(|| ComposeError::BadRecipient(crate::term::cut(&clean(&r.to), 120)))?;
    let from = mailbox(&r.from_address).ok_or_else(|| ComposeError::BadSender(clean(&r.from_address)))?;
    let domain = r.domain.trim().to_ascii_lowercase();
    if !is_domain(&domain) {
        return Err(ComposeError::BadDomain(clean(&r.domain)));
    }
    let message_id = format!("{}@{domain}", hex(&rand::rng().random::<[u8; 16]>()));
    let date = rfc5322_date(r.date);
    let from_header = format!("{} <{from}>", display_name(&r.from_name)).trim_start().to_string();
    let in_reply_to = r.in_reply_to.as_deref().and_then(msg_id);
    let mut references: Vec<String> = r.references.iter().filter_map(|s| msg_id(s)).collect();
    if let Some(id) = &in_reply_to
        && !references.contains(id)
    {
        references.push(id.clone());
    }

    let mut h = Headers::default();
    h.add("Date", &date);
    h.add("From", &from_header);
    h.add("To", &format!("<{to}>"));
    h.add("Message-ID", &format!("<{message_id}>"));
    if let Some(id) = &in_reply_to {
        h.add("In-Reply-To", &format!("<{id}>"));
    }
    if !references.is_empty() {
        // One id per line keeps long chains under the line limit.
        let refs: Vec<String> = references.iter().map(|id| format!("<{id}>")).collect();
        h.add("References", &refs.join("\r\n "));
    }
    if r.automatic {
        h.add("Auto-Submitted", "auto-replied");
        // Exchange and Outlook: no out-of-office answer to our answer.
        h.add("X-Auto-Response-Suppress", "All");
    }
    h.add("MIME-Version", "1.0");

    let body = qp_body(&r.body);
    match &r.encryption {
        None => {
            h.add_text("Subject", &r.subject);
            h.add("Content-Type", "text/plain; charset=utf-8");
            h.add("Content-Transfer-Encoding", "quoted-printable");
            let mut raw = h.0;
            raw.extend_from_slice(b"\r\n");
            raw.extend_from_slice(body.as_bytes());
            Ok(Composed { message_id, envelope_to: to, raw })
        }
        Some(enc) => {
            // The protected part: the real subject and the addresses, then the body.
            let mut inner = Headers::default();
            inner.add("Content-Type", "text/plain; charset=utf-8; protected-headers=\"v1\"");
            inner.add("Content-Transfer-Encoding", "quoted-printable");
            inner.add_text("Subject", &r.subject);
            inner.add("From", &from_header);
            inner.add("To", &format!("<{to}>"));
            inner.add("Date", &date);
            inner.add("Message-ID", &format!("<{message_id}>"));
            let mut plain = inner.0;
            plain.extend_from_slice(b"\r\n");
            plain.extend_from_slice(body.as_bytes());
            // Dates before 1970 cannot occur for a reply; clamp rather than fail.
            let since =
                std::time::Duration::try_from(r.date.duration_since(jiff::Timestamp::UNIX_EPOCH)).unwrap_or_default();
            let now = SystemTime::UNIX_EPOCH + since;
            let armored = sign_and_encrypt(&enc.team_key, &[enc.reporter.clone(), enc.team_cert.clone()], &plain, now)?;
            let armored = crlf(&String::from_utf8_lossy(&armored));

            let outer_subject = format!("Re: [{}] your security report", clean(&r.report_id));
            h.add_text("Subject", &outer_subject);
            let boundary = format!("vm-{}", hex(&rand::rng().random::<[u8; 12]>()));
            h.add(
                "Content-Type",
                &format!("multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n boundary=\"{boundary}\""),
            );
            let mut raw = h.0;
            raw.extend_from_slice(b"\r\nThis is an OpenPGP/MIME encrypted message (RFC 3156).\r\n");
            let mut part = |s: &str| raw.extend_from_slice(s.as_bytes());
            part(&format!("--{boundary}\r\n"));
            part("Content-Type: application/pgp-encrypted\r\n");
            part("Content-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n");
            part(&format!("--{boundary}\r\n"));
            part("Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n");
            part("Content-Description: OpenPGP encrypted message\r\n");
            part("Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n");
            part(&armored);
            if !armored.ends_with("\r\n") {
                part("\r\n");
            }
            part(&format!("\r\n--{boundary}--\r\n"));
            Ok(Composed { message_id, envelope_to: to, raw })
        }
    }
}

#[derive(Default)]
struct Headers(Vec<u8>);

impl Headers {
    /// A header whose value we built from validated parts.
    fn add(&mut self, name: &str, value: &str) {
        self.0.extend_from_slice(name.as_bytes());
        self.0.extend_from_slice(b": ");
        self.0.extend_from_slice(value.as_bytes());
        self.0.extend_from_slice(b"\r\n");
    }

    /// A free-text header (unstructured, RFC 5322 §3.2.5): cleaned, encoded, folded.
    fn add_text(&mut self, name: &str, value: &str) {
        let v = clean(value);
        let folded = if v.is_ascii() { fold_ascii(&v, name.len() + 2) } else { encoded_words(&v) };
        self.add(name, &folded);
    }
}

/// One line of text: every control character, line or paragraph separator and bidi
/// control becomes a space, runs of spaces collapse, ends are trimmed.
pub fn clean(s: &str) -> String {
    s.split(|c: char| {
        c.is_control()
            || c.is_whitespace()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    })
    .filter(|w| !w.is_empty())
    .collect::<Vec<_>>()
    .join(" ")
}

fn fold_ascii(v: &str, first_offset: usize) -> String {
    let mut out = String::new();
    let mut line = first_offset;
    for (i, word) in v.split(' ').enumerate() {
        if i > 0 {
            if line + 1 + word.len() > 78 {
                out.push_str("\r\n ");
                line = 1;
            } else {
                out.push(' ');
                line += 1;
            }
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// RFC 2047 B-encoded words, each at most 60 characters, split on character
/// boundaries, joined by folding white space (which decoders drop between words).
fn encoded_words(v: &str) -> String {
    use base64::Engine;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in v.chars() {
        if chunk.len() + c.len_utf8() > 36 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?utf-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// The From display name: a quoted string, or encoded words when not ASCII.
fn display_name(name: &str) -> String {
    let n = clean(name);
    if n.is_empty() {
        String::new()
    } else if n.is_ascii() {
        format!("\"{}\"", n.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        encoded_words(&n)
    }
}

/// A plain address `local@domain` (optionally in angle brackets), lower-cased
/// domain; `None` for anything else (lists, groups, names, comments, non-ASCII).
pub fn mailbox(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.strip_prefix('<').and_then(|s| s.strip_suffix('>')).unwrap_or(s);
    let (local, domain) = s.split_once('@')?;
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok =
        !local.is_empty() && local.len() <= 64 && local.split('.').all(|p| !p.is_empty() && p.chars().all(atext));
    if !local_ok || !is_domain(&domain.to_ascii_lowercase()) {
        return None;
    }
    Some(format!("{local}@{}", domain.to_ascii_lowercase()))
}

fn is_domain(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A message id from the report, without brackets, when it is one: printable ASCII,
/// no spaces or brackets, one `@`.
fn msg_id(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.strip_prefix('<').and_then(|s| s.strip_suffix('>')).unwrap_or(s);
    let ok = !s.is_empty()
        && s.len() <= 250
        && s.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\' | b'(' | b')' | b','))
        && s.matches('@').count() == 1;
    ok.then(|| s.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rfc5322_date(t: jiff::Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// Every line break (CRLF, CR, LF) becomes CRLF.
fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n").replace('\n', "\r\n")
}

/// The body as quoted-printable (RFC 2045 §6.7) with CRLF line ends, lines at most
/// 76 characters. A leading `.` (SMTP end of data) and `From ` (mbox) are encoded.
pub fn qp_body(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let mut out = String::new();
    for line in text.split('\n') {
        let bytes = line.as_bytes();
        let mut cur = String::new();
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let first_of_line = i == 0;
            let enc = match b {
                b'=' => true,
                b' ' | b'\t' => last,
                b'.' if first_of_line => true,
                b'F' if first_of_line && line.starts_with("From ") => true,
                33..=126 => false,
                _ => true,
            };
            let piece = if enc { format!("={b:02X}") } else { (b as char).to_string() };
            // Room for a soft line break ("=") within 76.
            if cur.len() + piece.len() > 75 {
                out.push_str(&cur);
                out.push_str("=\r\n");
                cur.clear();
                // A continuation line starting with '.' needs the same care.
                if piece == "." {
                    cur.push_str("=2E");
                    continue;
                }
            }
            cur.push_str(&piece);
        }
        out.push_str(&cur);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::{MessageParser, MimeHeaders};

    fn input() -> ReplyInput {
        ReplyInput {
            from_name: "Example Security Team".into(),
            from_address: "security@example.org".into(),
            to: "ada@example.net".into(),
            domain: "example.org".into(),
            in_reply_to: Some("<r1@example.net>".into()),
            references: vec!["<a@example.net>".into()],
            subject: "Re: [VR-2026-0007] XSS in the admin panel".into(),
            body: "Hello,\n\nthanks.\n".into(),
            automatic: true,
            report_id: "VR-2026-0007".into(),
            date: "2026-03-10T12:00:00Z".parse().unwrap(),
            encryption: None,
        }
    }

    /// Every CR and LF in `raw` is part of a CRLF.
    fn assert_crlf_only(raw: &[u8]) {
        for (i, &b) in raw.iter().enumerate() {
            if b == b'\r' {
                assert_eq!(raw.get(i + 1), Some(&b'\n'), "bare CR at {i}");
            }
            if b == b'\n' {
                assert!(i > 0 && raw[i - 1] == b'\r', "bare LF at {i}");
            }
        }
    }

    fn header_names(raw: &[u8]) -> Vec<String> {
        let msg = MessageParser::new().parse(raw).unwrap();
        msg.headers().iter().map(|h| h.name.as_str().to_ascii_lowercase()).collect()
    }

    #[test]
    fn a_plaintext_reply_is_threaded_automatic_and_parses() {
        let c = compose(&input()).unwrap();
        assert_crlf_only(&c.raw);
        assert_eq!(c.envelope_to, "ada@example.net");
        assert!(c.message_id.ends_with("@example.org") && c.message_id.len() > 40, "{}", c.message_id);
        let msg = MessageParser::new().parse(&c.raw).unwrap();
        assert_eq!(msg.message_id(), Some(c.message_id.as_str()));
        assert_eq!(msg.subject(), Some("Re: [VR-2026-0007] XSS in the admin panel"));
        assert_eq!(msg.from().unwrap().first().unwrap().address(), Some("security@example.org"));
        assert_eq!(msg.from().unwrap().first().unwrap().name(), Some("Example Security Team"));
        assert_eq!(msg.to().unwrap().first().unwrap().address(), Some("ada@example.net"));
        assert_eq!(msg.in_reply_to().as_text(), Some("r1@example.net"));
        let refs: Vec<&str> = msg.references().as_text_list().unwrap().iter().map(|s| s.as_ref()).collect();
        assert_eq!(refs, ["a@example.net", "r1@example.net"]);
        assert_eq!(msg.header_raw("Auto-Submitted").map(str::trim), Some("auto-replied"));
        assert_eq!(msg.date().unwrap().to_rfc3339(), "2026-03-10T12:00:00Z");
        assert_eq!(msg.body_text(0).unwrap(), "Hello,\r\n\r\nthanks.\r\n");
        assert_eq!(
            header_names(&c.raw),
            [
                "date",
                "from",
                "to",
                "message-id",
                "in-reply-to",
                "references",
                "auto-submitted",
                "x-auto-response-suppress",
                "mime-version",
                "subject",
                "content-type",
                "content-transfer-encoding"
            ]
        );
        // A manual reply is not marked automatic.
        let c = compose(&ReplyInput { automatic: false, ..input() }).unwrap();
        assert!(!header_names(&c.raw).contains(&"auto-submitted".to_string()));
    }

    #[test]
    fn crlf_in_any_value_adds_no_header_and_no_recipient() {
        let evil = "x\r\nBcc: x@evil\r\n\r\nbody injection";
        let r = ReplyInput {
            subject: format!("Re: {evil}"),
            from_name: format!("Team{evil}"),
            report_id: format!("VR-1{evil}"),
            in_reply_to: Some(format!("<r1@example.net>{evil}")),
            references: vec![format!("<a@x>\r\nBcc: y@evil")],
            ..input()
        };
        for enc in [None, Some(encryption("ada.pub.asc"))] {
            let date = if enc.is_some() { jiff::Timestamp::now() } else { r.date };
            let c = compose(&ReplyInput { encryption: enc.clone(), date, ..r.clone() }).unwrap();
            assert_crlf_only(&c.raw);
            let names = header_names(&c.raw);
            assert!(!names.contains(&"bcc".to_string()), "{names:?}");
            let text = String::from_utf8_lossy(&c.raw);
            assert!(!text.lines().any(|l| l.starts_with("Bcc:")), "{text}");
            let msg = MessageParser::new().parse(&c.raw).unwrap();
            assert_eq!(msg.to().unwrap().iter().count(), 1);
            assert_eq!(c.envelope_to, "ada@example.net");
            if enc.is_none() {
                assert_eq!(msg.subject(), Some("Re: x Bcc: x@evil body injection"));
            } else {
                assert_eq!(msg.subject(), Some("Re: [VR-1x Bcc: x@evil body injection] your security report"));
            }
            // An id that is not a clean message id is dropped, not mangled into one.
            assert_eq!(msg.in_reply_to().as_text(), None);
        }
    }

    #[test]
    fn a_recipient_must_be_exactly_one_address() {
        for bad in [
            "",
            "a@b.example, c@d.example",
            "Ada <ada@example.net>",
            "ada@example.net\r\nBcc: x@evil",
            "ada",
            "ada@",
            "@x.example",
            "a b@x.example",
            "ada@exa mple.net",
            "group: a@b.example;",
            "ada@example.net>",
            "ädä@example.net",
            "a..b@x.example",
        ] {
            assert!(
                matches!(compose(&ReplyInput { to: bad.into(), ..input() }), Err(ComposeError::BadRecipient(_))),
                "{bad:?}"
            );
        }
        let c = compose(&ReplyInput { to: " <Ada@Example.NET> ".into(), ..input() }).unwrap();
        assert_eq!(c.envelope_to, "Ada@example.net");
        assert!(compose(&ReplyInput { domain: "example.org\r\nX: y".into(), ..input() }).is_err());
        assert!(compose(&ReplyInput { from_address: "security@example.org, x@evil".into(), ..input() }).is_err());
    }

    #[test]
    fn a_body_with_a_lone_dot_line_survives_whole() {
        let body = "first\n.\nsecond\n..\n.hidden\nFrom the top\r\nbare\rcr\n";
        let c = compose(&ReplyInput { body: body.into(), ..input() }).unwrap();
        assert_crlf_only(&c.raw);
        let text = String::from_utf8_lossy(&c.raw);
        // No line of the message is a lone dot or starts with one, or with "From ".
        assert!(!text.split("\r\n").any(|l| l.starts_with('.') || l.starts_with("From ")), "{text}");
        let msg = MessageParser::new().parse(&c.raw).unwrap();
        assert_eq!(
            msg.body_text(0).unwrap(),
            "first\r\n.\r\nsecond\r\n..\r\n.hidden\r\nFrom the top\r\nbare\r\ncr\r\n"
        );
    }

    #[test]
    fn long_and_non_ascii_text_is_encoded_and_folded() {
        let long_line = "x".repeat(300) + " . " + &"é".repeat(100) + " \t";
        let r = ReplyInput {
            subject: "Re: Sicherheitslücke in der Anmeldung — «grave» 漏洞 ".repeat(4),
            from_name: "Équipe \"Sécurité\"".into(),
            body: long_line.clone(),
            ..input()
        };
        let c = compose(&r).unwrap();
        assert_crlf_only(&c.raw);
        assert!(c.raw.is_ascii());
        for l in String::from_utf8_lossy(&c.raw).split("\r\n") {
            assert!(l.len() <= 78, "{} long: {l}", l.len());
        }
        let msg = MessageParser::new().parse(&c.raw).unwrap();
        assert_eq!(msg.subject().unwrap(), clean(&r.subject));
        assert_eq!(msg.from().unwrap().first().unwrap().name(), Some("Équipe \"Sécurité\""));
        assert_eq!(msg.body_text(0).unwrap().trim_end_matches("\r\n"), long_line);
        // An ASCII name with quotes is a quoted string.
        let c = compose(&ReplyInput { from_name: "The \"Sec\" Team\\".into(), ..input() }).unwrap();
        let msg = MessageParser::new().parse(&c.raw).unwrap();
        assert_eq!(msg.from().unwrap().first().unwrap().name(), Some("The \"Sec\" Team\\"));
    }

    fn fixture(name: &str) -> Cert {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys").join(name);
        crate::openpgp::keys::parse_certs(&std::fs::read(path).unwrap()).unwrap().remove(0)
    }

    fn encryption(reporter: &str) -> Encryption {
        let team = fixture("team.sec.asc");
        Encryption { reporter: fixture(reporter), team_cert: team.clone().strip_secret_key_material(), team_key: team }
    }

    #[test]
    fn an_encrypted_reply_is_pgp_mime_with_the_subject_inside() {
        let r = ReplyInput { encryption: Some(encryption("ada.pub.asc")), date: jiff::Timestamp::now(), ..input() };
        let c = compose(&r).unwrap();
        assert_crlf_only(&c.raw);
        let msg = MessageParser::new().parse(&c.raw).unwrap();
        assert_eq!(msg.subject(), Some("Re: [VR-2026-0007] your security report"));
        assert!(!String::from_utf8_lossy(&c.raw).contains("XSS"));
        let ct = msg.content_type().unwrap();
        assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("encrypted")));
        assert_eq!(ct.attribute("protocol"), Some("application/pgp-encrypted"));
        assert_eq!(msg.parts.len(), 3, "root + version + data");
        assert_eq!(msg.parts[1].content_type().unwrap().subtype(), Some("pgp-encrypted"));
        let armored = msg.parts[2].contents();
        let team = fixture("team.sec.asc");
        let ada = fixture("ada.sec.asc");
        for key in [ada, team.clone()] {
            let d = crate::openpgp::decrypt::decrypt(
                &[key],
                std::slice::from_ref(&team),
                armored,
                Default::default(),
                SystemTime::now(),
            )
            .unwrap();
            assert_eq!(d.signatures.first().map(|s| s.status), Some("good"));
            let inner = MessageParser::new().parse(&d.plaintext).unwrap();
            assert_eq!(inner.subject(), Some("Re: [VR-2026-0007] XSS in the admin panel"));
            assert_eq!(inner.content_type().unwrap().attribute("protected-headers"), Some("v1"));
            assert_eq!(inner.body_text(0).unwrap(), "Hello,\r\n\r\nthanks.\r\n");
            assert_crlf_only(&d.plaintext);
        }
    }
}

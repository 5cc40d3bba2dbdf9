//! Processing: from a stored raw message to a [`Report`].
//!
//! parse MIME (our limits) -> find encrypted parts -> decrypt/verify -> extract.
//! Safety rules kept here:
//! - when a mail has an encrypted part, fields come from decrypted content alone:
//!   unencrypted siblings are never joined with it (EFAIL direct exfiltration);
//! - plaintext is used only after the whole OpenPGP message, integrity check
//!   included, has been processed (see `openpgp::decrypt`); output is capped;
//! - HTML is converted to text, never rendered; nothing remote is fetched;
//! - a message counts as signed only when a good signature covers all that is shown.
//!
//! Nothing here touches the disk or the network.

use std::collections::BTreeSet;
use std::sync::LazyLock;
use std::time::SystemTime;

use regex::Regex;
use sequoia_openpgp::Cert;
use sha2::{Digest, Sha256};

use crate::mail::mime::{self, Mail, Part};
use crate::openpgp::decrypt::{self, SignatureCheck};
use crate::openpgp::{keys, verify};
use crate::report::extract;
use crate::report::model::{Attachment, Encryption, Party, Report, Signature};

/// The keys processing may use.
pub struct Keys<'a> {
    /// Unlocked team keys (current and retired), for decryption.
    pub team: &'a [Cert],
    /// Reporters' certificates already known, for verification.
    pub known: &'a [Cert],
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub mime: mime::Limits,
    pub pgp: decrypt::Limits,
}

/// An attachment's metadata and bytes (decrypted when it was encrypted).
#[derive(Debug, Clone)]
pub struct AttachmentData {
    pub meta: Attachment,
    pub data: Vec<u8>,
}

/// Everything processing found, beyond the report itself.
#[derive(Debug, Default)]
pub struct Outcome {
    pub report: Report,
    /// Reporters' certificates found in the message: (where, certificate).
    pub certs: Vec<(String, Cert)>,
    pub attachments: Vec<AttachmentData>,
    /// The decrypted MIME entity (PGP/MIME), for `show --raw`.
    pub decrypted: Option<Vec<u8>>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// sha256 of each ciphertext: the same ciphertext in two reports is suspicious.
    pub ciphertexts: Vec<String>,
    /// The encrypted part is the message's root (not wrapped by someone's own mail).
    pub encrypted_root: bool,
    /// The text the fields were extracted from.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EncKind {
    PgpMime,
    Inline,
    Attachment,
}

struct Encrypted<'a> {
    kind: EncKind,
    ciphertext: std::borrow::Cow<'a, [u8]>,
    filename: Option<String>,
    ctype: String,
    root: bool,
}

/// A signature and how much of the shown content it covers.
struct SigSeen {
    check: SignatureCheck,
    covers_all: bool,
}

#[derive(Default)]
struct Content {
    texts: Vec<String>,
    attachments: Vec<AttachmentData>,
    sigs: Vec<SigSeen>,
    /// Some content was not under any signature.
    unsigned_content: bool,
    subject: Option<String>,
}

re_static!(ARMORED, r"-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----");
re_static!(CLEARSIGNED, r"-----BEGIN PGP SIGNED MESSAGE-----[\s\S]*?-----END PGP SIGNATURE-----");
re_static!(KEYBLOCK, r"-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----");

macro_rules! re_static {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("a valid built-in pattern"));
    };
}
use re_static;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// HTML as plain text (no wrapping, so armor lines stay whole). Never rendered.
pub fn html_to_text(html: &str) -> String {
    html2text::from_read(html.as_bytes(), 100_000).unwrap_or_else(|_| html.to_string())
}

/// Armor text that went through HTML conversion or quoting: one armor line per line.
fn tidy_armor(block: &str) -> String {
    block.lines().map(|l| l.trim().trim_start_matches('>').trim()).collect::<Vec<_>>().join("\n")
}

fn is_text_like(name: Option<&str>, ctype: &str, data: &[u8]) -> bool {
    let by_type = ctype.starts_with("text/") || ctype == "application/x-sh" || ctype == "application/json";
    let by_name = name.is_some_and(|n| {
        let n = n.to_lowercase();
        [
            ".txt", ".md", ".py", ".sh", ".js", ".html", ".htm", ".rb", ".pl", ".php", ".c", ".go", ".rs", ".java",
            ".json", ".xml", ".yaml", ".yml", ".http", ".log", ".diff", ".patch",
        ]
        .iter()
        .any(|e| n.ends_with(e))
    });
    (by_type || by_name) && std::str::from_utf8(data).is_ok()
}

fn strip_pgp_suffix(name: &str) -> String {
    for s in [".pgp", ".gpg", ".asc"] {
        if name.to_ascii_lowercase().ends_with(s) && name.len() > s.len() {
            return name[..name.len() - s.len()].to_string();
        }
    }
    name.to_string()
}

/// Canonical form for signature checks over MIME: every line ending CRLF.
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut prev = 0u8;
    for &b in data {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// The bytes a multipart/signed signature covers: the first part's raw bytes (the
/// CRLF before the next boundary is not in them), line endings made CRLF.
fn signed_bytes(part: &Part) -> Vec<u8> {
    crlf(&part.raw)
}

fn find_encrypted(root: &Part) -> Vec<Encrypted<'_>> {
    let mut out = Vec::new();
    let mut stack: Vec<(&Part, bool)> = vec![(root, true)];
    while let Some((p, is_root)) = stack.pop() {
        if p.is("multipart/encrypted") {
            if let Some(ct) = p.children.iter().find(|c| c.is("application/octet-stream")).or_else(|| p.children.get(1))
            {
                out.push(Encrypted {
                    kind: EncKind::PgpMime,
                    ciphertext: ct.body.as_slice().into(),
                    filename: None,
                    ctype: ct.ctype.clone(),
                    root: is_root,
                });
            }
            continue;
        }
        if p.is_multipart() {
            for c in p.children.iter().rev() {
                stack.push((c, false));
            }
            continue;
        }
        let attachment = p.disposition.as_deref() == Some("attachment") || p.filename.is_some();
        let name = p.filename.as_deref().map(str::to_lowercase);
        let armored = |b: &[u8]| String::from_utf8_lossy(b).contains("-----BEGIN PGP MESSAGE-----");
        if (p.is("text/plain") || p.is("text/html")) && !attachment {
            let text = if p.is("text/html") {
                html_to_text(&String::from_utf8_lossy(&p.body))
            } else {
                String::from_utf8_lossy(&p.body).into_owned()
            };
            for m in ARMORED.find_iter(&text) {
                out.push(Encrypted {
                    kind: EncKind::Inline,
                    ciphertext: tidy_armor(m.as_str()).into_bytes().into(),
                    filename: None,
                    ctype: p.ctype.clone(),
                    root: is_root,
                });
            }
            continue;
        }
        let pgp_name = name.as_deref().is_some_and(|n| n.ends_with(".pgp") || n.ends_with(".gpg"));
        let asc_msg = name.as_deref().is_some_and(|n| n.ends_with(".asc")) && armored(&p.body);
        let typed = p.is("application/pgp-encrypted")
            && !String::from_utf8_lossy(&p.body).trim_start().starts_with("Version: 1");
        let octet_armored = p.is("application/octet-stream") && armored(&p.body);
        if pgp_name || asc_msg || typed || octet_armored || (attachment && armored(&p.body)) {
            out.push(Encrypted {
                kind: EncKind::Attachment,
                ciphertext: p.body.as_slice().into(),
                filename: p.filename.clone(),
                ctype: p.ctype.clone(),
                root: is_root,
            });
        }
    }
    out
}

fn attachment_meta(name: Option<String>, ctype: &str, data: &[u8], encrypted: bool) -> Attachment {
    Attachment {
        filename: name,
        content_type: ctype.to_string(),
        size: data.len() as u64,
        sha256: hex(&Sha256::digest(data)),
        encrypted,
    }
}

/// Walk a (plaintext or decrypted) tree for what a person is shown.
fn collect(
    part: &Part,
    encrypted: bool,
    certs: &[Cert],
    now: SystemTime,
    opts: &Options,
    out: &mut Content,
    under_sig: bool,
) {
    if part.is("multipart/alternative") {
        let plain = part.children.iter().find(|c| c.is("text/plain") && !c.body.iter().all(u8::is_ascii_whitespace));
        let pick = plain.or_else(|| part.children.iter().find(|c| c.is("text/html"))).or_else(|| part.children.first());
        if let Some(c) = pick {
            collect(c, encrypted, certs, now, opts, out, under_sig);
        }
        return;
    }
    if part.is("multipart/signed") && part.children.len() >= 2 {
        let content = &part.children[0];
        let sig = part.children.iter().skip(1).find(|c| c.is("application/pgp-signature")).unwrap_or(&part.children[1]);
        match verify::detached(&signed_bytes(content), &sig.body, certs, now) {
            Ok(checks) => {
                for check in checks {
                    out.sigs.push(SigSeen { check, covers_all: true });
                }
            }
            Err(e) => out.sigs.push(SigSeen {
                check: SignatureCheck {
                    status: "bad",
                    signer: None,
                    signer_addresses: vec![format!("unreadable signature: {e}")],
                },
                covers_all: true,
            }),
        }
        collect(content, encrypted, certs, now, opts, out, true);
        return;
    }
    if part.is("multipart/encrypted") {
        return; // handled by the caller
    }
    if part.is_multipart() {
        for c in &part.children {
            collect(c, encrypted, certs, now, opts, out, under_sig);
        }
        return;
    }
    if part.is("application/pgp-signature") || part.is("application/pgp-encrypted") {
        return;
    }
    let attachment = part.disposition.as_deref() == Some("attachment")
        || (part.filename.is_some() && !part.ctype.starts_with("text/"))
        || (part.filename.is_some() && part.disposition.as_deref() != Some("inline"));
    if !attachment && (part.is("text/plain") || part.is("text/html") || part.ctype.starts_with("text/")) {
        let mut text = String::from_utf8_lossy(&part.body).into_owned();
        if part.is("text/html") {
            text = html_to_text(&text);
        }
        if let Some(m) = CLEARSIGNED.find(&text) {
            let outside = format!("{}{}", &text[..m.start()], &text[m.end()..]);
            let partial = !outside.trim().is_empty();
            match verify::inline(m.as_str().as_bytes(), certs, now, opts.pgp.max_plaintext) {
                Ok((signed, checks)) => {
                    for check in checks {
                        out.sigs.push(SigSeen { check, covers_all: !partial });
                    }
                    if partial {
                        out.unsigned_content = true;
                    }
                    text = format!("{}{}{}", &text[..m.start()], String::from_utf8_lossy(&signed), &text[m.end()..]);
                }
                Err(_) => out.sigs.push(SigSeen {
                    check: SignatureCheck { status: "bad", signer: None, signer_addresses: Vec::new() },
                    covers_all: !partial,
                }),
            }
        } else if !under_sig && !text.trim().is_empty() {
            out.unsigned_content = true;
        }
        out.texts.push(text);
        return;
    }
    if let PartKind::Skip = part_kind(part) {
        return;
    }
    if !under_sig {
        out.unsigned_content = true;
    }
    let meta = attachment_meta(part.filename.clone(), &part.ctype, &part.body, encrypted);
    out.attachments.push(AttachmentData { meta, data: part.body.clone() });
}

enum PartKind {
    Keep,
    Skip,
}

fn part_kind(part: &Part) -> PartKind {
    // Encrypted attachments are listed once, decrypted, by the caller.
    let n = part.filename.as_deref().map(str::to_lowercase).unwrap_or_default();
    if n.ends_with(".pgp") || n.ends_with(".gpg") {
        return PartKind::Skip;
    }
    if String::from_utf8_lossy(&part.body[..part.body.len().min(4096)]).contains("-----BEGIN PGP MESSAGE-----") {
        return PartKind::Skip;
    }
    PartKind::Keep
}

/// Certificates a message carries: Autocrypt headers (for the From address) and
/// attached keys.
fn carried_certs(mail: &Mail, tree: &Part, from: Option<&str>) -> Vec<(String, Cert)> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for value in mail.headers_named("Autocrypt") {
        let mut addr = None;
        let mut keydata = None;
        for attr in value.split(';') {
            let (k, v) = match attr.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim()),
                None => continue,
            };
            match k.as_str() {
                "addr" => addr = Some(v.to_ascii_lowercase()),
                "keydata" => keydata = Some(v.chars().filter(|c| !c.is_whitespace()).collect::<String>()),
                _ => {}
            }
        }
        let (Some(addr), Some(kd)) = (addr, keydata) else { continue };
        if Some(addr.as_str()) != from {
            continue; // Autocrypt binds a key to the sender only
        }
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(kd)
            && let Ok(mut certs) = keys::parse_certs(&bytes)
            && let Some(c) = certs.pop()
        {
            out.push(("autocrypt".to_string(), c.strip_secret_key_material()));
        }
    }
    for p in tree.walk() {
        let keyish = p.is("application/pgp-keys")
            || (p
                .filename
                .as_deref()
                .is_some_and(|n| n.to_lowercase().ends_with(".asc") || n.to_lowercase().ends_with(".key"))
                && String::from_utf8_lossy(&p.body).contains("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        if keyish {
            let text = String::from_utf8_lossy(&p.body).into_owned();
            let blocks: Vec<String> = KEYBLOCK.find_iter(&text).map(|m| m.as_str().to_string()).collect();
            let sources: Vec<Vec<u8>> = if blocks.is_empty() {
                vec![p.body.clone()]
            } else {
                blocks.into_iter().map(String::into_bytes).collect()
            };
            for src in sources {
                if let Ok(certs) = keys::parse_certs(&src) {
                    for c in certs {
                        out.push((
                            format!("attachment {}", p.filename.clone().unwrap_or_default()),
                            c.strip_secret_key_material(),
                        ));
                    }
                }
            }
        }
    }
    out
}

fn not_a_report(mail: &Mail) -> Option<String> {
    let h = |n: &str| mail.header(n).map(|v| v.to_ascii_lowercase());
    let from = mail.from_address.clone().unwrap_or_default();
    let local = from.split('@').next().unwrap_or("");
    if mail.root.is("multipart/report") || local == "mailer-daemon" || local == "postmaster" {
        return Some("a delivery status notification (bounce)".into());
    }
    if let Some(a) = h("auto-submitted")
        && a.split(';').next().is_some_and(|v| v.trim() != "no")
    {
        return Some(format!("an automatic message (Auto-Submitted: {a})"));
    }
    if h("x-autoreply").is_some() || h("x-autorespond").is_some() {
        return Some("an automatic reply".into());
    }
    if let Some(p) = h("precedence")
        && ["bulk", "junk", "list", "auto_reply"].contains(&p.trim())
    {
        return Some(format!("bulk mail (Precedence: {p})"));
    }
    if h("x-spam-flag").is_some_and(|v| v.trim() == "yes") {
        return Some("marked as spam (X-Spam-Flag)".into());
    }
    let subject = mail.subject.clone().unwrap_or_default().to_lowercase();
    for s in [
        "out of office",
        "automatic reply",
        "auto-reply",
        "autoreply",
        "abwesenheitsnotiz",
        "undelivered mail returned",
        "delivery status notification",
        "mail delivery failed",
    ] {
        if subject.starts_with(s) || subject.starts_with(&format!("auto: {s}")) {
            return Some(format!("an automatic message (subject \"{s}…\")"));
        }
    }
    None
}

fn signature_from(sigs: &[SigSeen], unsigned_content: bool, from: Option<&str>, notes: &mut Vec<String>) -> Signature {
    if sigs.is_empty() {
        return Signature::default();
    }
    let good: Vec<&SigSeen> = sigs.iter().filter(|s| s.check.status == "good").collect();
    if let Some(g) = good.iter().find(|s| s.covers_all && !unsigned_content) {
        let matches = from.map(|f| g.check.signer_addresses.iter().any(|a| a == f));
        return Signature {
            status: "good".into(),
            signer: g.check.signer.clone(),
            signer_matches_from: matches,
            partial: false,
        };
    }
    if let Some(g) = good.first() {
        notes.push(format!(
            "only part of the message is signed (good signature by {}); it does not count as signed",
            g.check.signer.clone().unwrap_or_default()
        ));
        return Signature { status: "unsigned".into(), signer: None, signer_matches_from: None, partial: true };
    }
    let worst = sigs.iter().find(|s| s.check.status == "bad").or_else(|| sigs.first());
    let w = worst.map(|s| &s.check);
    Signature {
        status: w.map(|c| c.status.to_string()).unwrap_or_else(|| "unsigned".into()),
        signer: w.and_then(|c| c.signer.clone()),
        signer_matches_from: None,
        partial: sigs.iter().any(|s| !s.covers_all) || unsigned_content,
    }
}

/// Process one raw message. Never panics: a bug or a parser panic on hostile input
/// becomes a report that says processing failed, and the raw message stays stored.
pub fn process(raw: &[u8], keys_: &Keys<'_>, received_at: Option<jiff::Timestamp>, opts: &Options) -> Outcome {
    crate::openpgp::guard(|| process_unguarded(raw, keys_, received_at, opts))
        .unwrap_or_else(|e| failed_outcome(e, received_at))
}

/// [`process`] for a message the caller no longer needs: the raw bytes are freed
/// as soon as the MIME tree is built, before decryption (large attachments).
pub fn process_owned(raw: Vec<u8>, keys_: &Keys<'_>, received_at: Option<jiff::Timestamp>, opts: &Options) -> Outcome {
    let result = crate::openpgp::guard(move || match parse_stage(&raw, received_at, opts) {
        Ok(mail) => {
            drop(raw);
            process_mail(mail, keys_, received_at, opts)
        }
        Err(out) => *out,
    });
    result.unwrap_or_else(|e| failed_outcome(e, received_at))
}

/// An outcome for a new report received at `received_at`, nothing found yet.
fn new_outcome(received_at: Option<jiff::Timestamp>) -> Outcome {
    let mut out = Outcome::default();
    out.report.state = "new".into();
    out.report.kind = "report".into();
    out.report.received_at = received_at.map(crate::clock::rfc3339);
    out
}

fn failed_outcome(e: String, received_at: Option<jiff::Timestamp>) -> Outcome {
    let mut out = new_outcome(received_at);
    out.report.notes.push(format!("not processed: {e}"));
    out
}

fn process_unguarded(raw: &[u8], keys_: &Keys<'_>, received_at: Option<jiff::Timestamp>, opts: &Options) -> Outcome {
    match parse_stage(raw, received_at, opts) {
        Ok(mail) => process_mail(mail, keys_, received_at, opts),
        Err(out) => *out,
    }
}

/// The MIME tree, or (when the message is beyond parsing) the report that says why.
fn parse_stage(raw: &[u8], received_at: Option<jiff::Timestamp>, opts: &Options) -> Result<Mail, Box<Outcome>> {
    let mut out = new_outcome(received_at);
    let r = &mut out.report;
    match mime::parse(raw, &opts.mime) {
        Ok(m) => Ok(m),
        Err(e) => {
            r.notes.push(format!("not processed: {e}"));
            r.encryption = Encryption { status: "plaintext".into(), format: "none".into(), error: None, root: false };
            // What the headers alone still say.
            if let Some(h) = mail_parser::MessageParser::new().parse_headers(&raw[..raw.len().min(256 * 1024)]) {
                r.subject = h.subject().map(str::to_string);
                r.message_id = h.message_id().map(|s| format!("<{s}>"));
                let f = h.from().and_then(|a| a.first());
                r.from = Party {
                    name: f.and_then(|a| a.name()).map(str::to_string),
                    address: f.and_then(|a| a.address()).map(|s| s.to_ascii_lowercase()),
                };
            }
            Err(Box::new(out))
        }
    }
}

fn process_mail(mail: Mail, keys_: &Keys<'_>, received_at: Option<jiff::Timestamp>, opts: &Options) -> Outcome {
    let now = SystemTime::now();
    let mut out = new_outcome(received_at);
    let r = &mut out.report;
    r.message_id = mail.message_id.clone();
    r.from = Party { name: mail.from_name.clone(), address: mail.from_address.clone() };
    r.subject = mail.subject.clone();
    out.in_reply_to = mail.in_reply_to.clone();
    out.references = mail.references.clone();
    if let Some(why) = not_a_report(&mail) {
        out.report.kind = "not-a-report".into();
        out.report.notes.push(format!("not a report: {why}"));
    }
    let from = mail.from_address.clone();
    let mut certs_found = carried_certs(&mail, &mail.root, from.as_deref());
    let mut verify_with: Vec<Cert> = keys_.known.to_vec();
    verify_with.extend(certs_found.iter().map(|(_, c)| c.clone()));

    let encrypted = find_encrypted(&mail.root);
    let mut content = Content::default();
    let mut text_attachments: Vec<(String, String)> = Vec::new();
    if encrypted.is_empty() {
        collect(&mail.root, false, &verify_with, now, opts, &mut content, false);
        out.report.encryption = Encryption::default();
    } else {
        let mut seen = BTreeSet::new();
        let mut errors = Vec::new();
        let mut ok = 0usize;
        let format = match encrypted[0].kind {
            EncKind::PgpMime => "pgp-mime",
            EncKind::Inline => "inline",
            EncKind::Attachment => "attachment",
        };
        out.encrypted_root = encrypted.iter().any(|e| e.root && e.kind == EncKind::PgpMime)
            || (encrypted.len() == 1 && encrypted[0].kind == EncKind::Inline && mail.root.children.is_empty());
        out.report.encryption.root = out.encrypted_root;
        for e in &encrypted {
            let h = hex(&Sha256::digest(&e.ciphertext));
            if !seen.insert(h.clone()) {
                continue; // the same block in text and HTML alternatives
            }
            out.ciphertexts.push(h);
            match decrypt::decrypt(keys_.team, &verify_with, &e.ciphertext, opts.pgp, now) {
                Ok(d) => {
                    ok += 1;
                    let sigs: Vec<SigSeen> =
                        d.signatures.iter().cloned().map(|check| SigSeen { check, covers_all: true }).collect();
                    match e.kind {
                        EncKind::PgpMime => {
                            // A payload without MIME headers is plain text (some clients send that).
                            let looks_mime = {
                                let head = String::from_utf8_lossy(&d.plaintext[..d.plaintext.len().min(8192)])
                                    .to_ascii_lowercase();
                                head.starts_with("content-type:")
                                    || head.contains("\ncontent-type:")
                                    || head.contains("\rcontent-type:")
                            };
                            let parsed = if looks_mime {
                                mime::parse(&d.plaintext, &opts.mime)
                            } else {
                                Err(mime::MimeError::Unparseable)
                            };
                            match parsed {
                                Ok(inner) => {
                                    if let Some(s) = &inner.subject {
                                        content.subject.get_or_insert_with(|| s.clone());
                                    }
                                    let inner_certs = carried_certs(&inner, &inner.root, from.as_deref());
                                    verify_with.extend(inner_certs.iter().map(|(_, c)| c.clone()));
                                    certs_found.extend(inner_certs);
                                    let mut inner_content = Content::default();
                                    collect(
                                        &inner.root,
                                        true,
                                        &verify_with,
                                        now,
                                        opts,
                                        &mut inner_content,
                                        !sigs.is_empty(),
                                    );
                                    content.texts.extend(inner_content.texts);
                                    content.attachments.extend(inner_content.attachments);
                                    content.sigs.extend(inner_content.sigs);
                                    content.unsigned_content |= inner_content.unsigned_content && sigs.is_empty();
                                }
                                Err(err) => {
                                    if looks_mime {
                                        out.report
                                            .notes
                                            .push(format!("the decrypted MIME entity is not usable: {err}"));
                                    }
                                    content.texts.push(String::from_utf8_lossy(&d.plaintext).into_owned());
                                }
                            }
                            content.sigs.extend(sigs);
                            out.decrypted = Some(d.plaintext);
                        }
                        EncKind::Inline => {
                            let text = String::from_utf8_lossy(&d.plaintext).into_owned();
                            if let Some(m) = CLEARSIGNED.find(&text) {
                                if let Ok((signed, checks)) =
                                    verify::inline(m.as_str().as_bytes(), &verify_with, now, opts.pgp.max_plaintext)
                                {
                                    content
                                        .sigs
                                        .extend(checks.into_iter().map(|check| SigSeen { check, covers_all: true }));
                                    content.texts.push(String::from_utf8_lossy(&signed).into_owned());
                                }
                            } else {
                                content.texts.push(text);
                            }
                            content.sigs.extend(sigs);
                        }
                        EncKind::Attachment => {
                            // Listed as it was sent (name and type), marked encrypted;
                            // what is kept is the decrypted content.
                            let name = e.filename.as_deref().map(strip_pgp_suffix);
                            let textual = is_text_like(name.as_deref(), "", &d.plaintext);
                            let meta = attachment_meta(e.filename.clone(), &e.ctype, &d.plaintext, true);
                            if textual {
                                let text = String::from_utf8_lossy(&d.plaintext).into_owned();
                                let n = name.clone().unwrap_or_default();
                                if extract::looks_like_poc(&n) {
                                    text_attachments.push((n, text));
                                } else {
                                    content.texts.push(text);
                                }
                            }
                            content.attachments.push(AttachmentData { meta, data: d.plaintext });
                            content.sigs.extend(sigs);
                        }
                    }
                }
                Err(err) => {
                    if e.kind == EncKind::Attachment {
                        // Still listed, so nobody overlooks it; the ciphertext is what is kept.
                        let meta = attachment_meta(e.filename.clone(), &e.ctype, &e.ciphertext, true);
                        content.attachments.push(AttachmentData { meta, data: e.ciphertext.to_vec() });
                    }
                    errors.push(err.to_string())
                }
            }
        }
        out.report.encryption = if ok > 0 {
            if !errors.is_empty() {
                out.report.notes.push(format!(
                    "{} of {} encrypted parts could not be decrypted: {}",
                    errors.len(),
                    errors.len() + ok,
                    errors.join("; ")
                ));
            }
            Encryption { status: "decrypted".into(), format: format.into(), error: None, root: out.encrypted_root }
        } else {
            Encryption {
                status: "failed".into(),
                format: format.into(),
                error: Some(errors.join("; ")),
                root: out.encrypted_root,
            }
        };
    }
    // The protected subject replaces the outer placeholder.
    if let Some(s) = content.subject.take() {
        out.report.subject = Some(s);
    }
    for a in &content.attachments {
        if is_text_like(a.meta.filename.as_deref(), &a.meta.content_type, &a.data) {
            text_attachments
                .push((a.meta.filename.clone().unwrap_or_default(), String::from_utf8_lossy(&a.data).into_owned()));
        }
    }
    let mut notes = std::mem::take(&mut out.report.notes);
    out.report.signature = signature_from(&content.sigs, content.unsigned_content, from.as_deref(), &mut notes);
    out.report.notes = notes;
    out.report.attachments = content.attachments.iter().map(|a| a.meta.clone()).collect();
    out.text = content.texts.join("\n\n");
    if out.report.encryption.status != "failed" {
        out.report.fields = extract::extract(&extract::Input {
            text: &out.text,
            subject: out.report.subject.as_deref(),
            received_at,
            text_attachments: &text_attachments,
        });
    }
    out.attachments = content.attachments;
    out.certs = certs_found;
    out
}

/// The fuzzing entry point: process arbitrary bytes with the corpus' test team key
/// (built in, so that encrypted inputs reach the decryptor). Must never panic.
pub fn fuzz_one(data: &[u8]) {
    static TEAM: LazyLock<Vec<Cert>> = LazyLock::new(|| {
        keys::parse_certs(include_bytes!("../../tests/fixtures/keys/team.sec.asc")).unwrap_or_default()
    });
    let opts = Options {
        mime: mime::Limits { max_size: 4 * 1024 * 1024, ..mime::Limits::default() },
        pgp: decrypt::Limits { max_plaintext: 4 * 1024 * 1024 },
    };
    let out = process(data, &Keys { team: &TEAM, known: &[] }, None, &opts);
    // Rendering must cope with whatever came out, too.
    let _ = serde_json::to_string(&out.report);
    let _ = crate::term::sanitize(&out.text, true);
}

//! When vulnmail must not send an automatic reply (RFC 3834 and common practice),
//! and the per-sender rate limit, as pure functions over the stored message.
//!
//! Decisions worth knowing:
//! - The sender's role is checked on both the From address and the envelope sender
//!   (`Return-Path`, as Dovecot LMTP records it at delivery; the topmost one counts,
//!   being the one the final delivery added). A message without `Return-Path` (an
//!   mbox import, say) is refused like a null sender: nobody vouches for a sender.
//! - `X-Auto-Response-Suppress`: any value except `None` refuses. Microsoft defines
//!   All, DR, NDR, RN, NRN, OOF and AutoReply; only All/OOF/AutoReply literally name
//!   our kind of reply, but a sender setting the header at all is automated mail, and
//!   a wrongly withheld automatic reply costs a manual `ack`, while a wrong one can
//!   start a loop.
//! - `Precedence: auto_reply` refuses too, besides bulk, list and junk.
//! - Addresses are compared case-insensitively, whole (no `+tag` folding): a message
//!   to `security+x@` is addressed to us only if that exact address is ours.
//! - This module never decides *whether* to reply manually: `ack --force` overrides.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use mail_parser::{HeaderForm, HeaderValue, MessageParser};

/// The envelope sender as recorded by the final delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeSender {
    /// No `Return-Path` header at all.
    Missing,
    /// `Return-Path: <>`: a bounce or another automatic message (RFC 5321 §4.5.5).
    Null,
    /// A lower-cased address.
    Address(String),
}

/// The headers of an incoming message that the no-reply rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The first From address, lower-cased; `None` when there is none.
    pub from: Option<String>,
    /// How many addresses the From header has (a reply goes to exactly one).
    pub from_count: usize,
    pub envelope_sender: EnvelopeSender,
    /// To, Cc, Resent-To and Resent-Cc addresses, lower-cased. Not Delivered-To or
    /// X-Original-To: our own delivery agent (Dovecot LMTP) writes those on every
    /// message it puts in the mailbox, Bcc'd or not, so they say nothing about whether
    /// the sender addressed us (RFC 3834 §2 asks for the recipient fields).
    pub recipients: Vec<String>,
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    /// Names (as written) of every `List-*` header.
    pub list_headers: Vec<String>,
    pub auto_response_suppress: Option<String>,
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// Without angle brackets, in order.
    pub references: Vec<String>,
    pub in_reply_to: Vec<String>,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum InboundError {
    #[error("the message has no parseable header")]
    Unparseable,
}

impl Inbound {
    /// Read the headers of a raw stored message.
    pub fn parse(raw: &[u8]) -> Result<Inbound, InboundError> {
        let msg = MessageParser::new().parse_headers(raw).ok_or(InboundError::Unparseable)?;
        if msg.headers().is_empty() {
            return Err(InboundError::Unparseable);
        }
        let mut from = Vec::new();
        for v in msg.header_as("From", HeaderForm::Addresses) {
            from.extend(addresses(&v));
        }
        let mut recipients = Vec::new();
        for name in ["To", "Cc", "Resent-To", "Resent-Cc"] {
            for v in msg.header_as(name, HeaderForm::Addresses) {
                for a in addresses(&v) {
                    if !recipients.contains(&a) {
                        recipients.push(a);
                    }
                }
            }
        }
        let mut envelope_sender = EnvelopeSender::Missing;
        let mut auto_submitted = None;
        let mut precedence = None;
        let mut auto_response_suppress = None;
        let mut list_headers = Vec::new();
        for (name, value) in msg.headers_raw() {
            let lower = name.to_ascii_lowercase();
            let value = unfold(value);
            match lower.as_str() {
                "return-path" if envelope_sender == EnvelopeSender::Missing => {
                    envelope_sender = parse_return_path(&value);
                }
                "auto-submitted" if auto_submitted.is_none() => auto_submitted = Some(value),
                "precedence" if precedence.is_none() => precedence = Some(value),
                "x-auto-response-suppress" if auto_response_suppress.is_none() => auto_response_suppress = Some(value),
                _ if lower.starts_with("list-") => list_headers.push(name.to_string()),
                _ => {}
            }
        }
        Ok(Inbound {
            from_count: from.len(),
            from: from.into_iter().next(),
            envelope_sender,
            recipients,
            auto_submitted,
            precedence,
            list_headers,
            auto_response_suppress,
            message_id: msg.message_id().map(str::to_string),
            references: ids(msg.references()),
            in_reply_to: ids(msg.in_reply_to()),
        })
    }
}

fn addresses(v: &HeaderValue<'_>) -> Vec<String> {
    v.as_address()
        .map(|a| a.iter().filter_map(|a| a.address()).map(|s| s.trim().to_lowercase()).collect())
        .unwrap_or_default()
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn unfold(raw: &str) -> String {
    raw.split(['\r', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

fn parse_return_path(value: &str) -> EnvelopeSender {
    // `<addr>`, `<>`, or (seen in the wild) a bare address; a comment after it is ignored.
    let v = value.trim();
    let inner = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split_whitespace().next().unwrap_or(""),
    };
    let inner = inner.trim();
    // A source route (`<@relay:user@host>`) carries the address after the colon.
    let inner = inner.rsplit(':').next().unwrap_or(inner).trim();
    if inner.is_empty() { EnvelopeSender::Null } else { EnvelopeSender::Address(inner.to_lowercase()) }
}

/// Why no automatic reply goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    AutoSubmitted(String),
    Precedence(String),
    MailingList(String),
    AutoResponseSuppress(String),
    /// A system or list role address (`MAILER-DAEMON`, `postmaster`, `*-request`, `owner-*`).
    RoleSender(String),
    NoReplySender(String),
    NullSender,
    MissingEnvelopeSender,
    NoFrom,
    SeveralFrom(usize),
    FromUs(String),
    NotAddressedToUs,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The values come from a mail: made safe for a terminal and cut short here.
        let c = |s: &str| crate::term::cut(&crate::term::sanitize(s, false), 80);
        match self {
            Refusal::AutoSubmitted(v) => {
                write!(f, "the message is itself automatic (Auto-Submitted: {}); RFC 3834 forbids a reply", c(v))
            }
            Refusal::Precedence(v) => write!(f, "the message is bulk or list mail (Precedence: {})", c(v)),
            Refusal::MailingList(h) => write!(f, "the message came through a mailing list (it has a {} header)", c(h)),
            Refusal::AutoResponseSuppress(v) => {
                write!(f, "the sender asked for no automatic replies (X-Auto-Response-Suppress: {})", c(v))
            }
            Refusal::RoleSender(a) => write!(f, "the sender {} is a system or list address", c(a)),
            Refusal::NoReplySender(a) => write!(f, "the sender {} does not accept replies", c(a)),
            Refusal::NullSender => {
                write!(f, "the envelope sender is null (Return-Path: <>): a bounce or automatic mail")
            }
            Refusal::MissingEnvelopeSender => {
                write!(
                    f,
                    "the message has no envelope sender (no Return-Path header), so nobody vouches for the sender"
                )
            }
            Refusal::NoFrom => write!(f, "the message has no From address to reply to"),
            Refusal::SeveralFrom(n) => write!(f, "the From header has {n} addresses; a reply goes to exactly one"),
            Refusal::FromUs(a) => write!(f, "the sender {} is one of our own addresses", c(a)),
            Refusal::NotAddressedToUs => {
                write!(f, "none of our addresses is among the recipients (To, Cc, Resent-To, Resent-Cc)")
            }
        }
    }
}

/// The first reason not to send an automatic reply to `msg`, or `None` when one may go.
/// `ours` are the team's addresses.
pub fn auto_reply_refusal(msg: &Inbound, ours: &[String]) -> Option<Refusal> {
    refusals(msg, ours).into_iter().next()
}

/// Every reason not to reply automatically, in a fixed order (for `ack --preview`).
pub fn refusals(msg: &Inbound, ours: &[String]) -> Vec<Refusal> {
    let ours: Vec<String> = ours.iter().map(|a| a.trim().to_lowercase()).collect();
    let mut out = Vec::new();
    if let Some(v) = &msg.auto_submitted {
        let keyword = v.split(';').next().unwrap_or("").split('(').next().unwrap_or("").trim();
        if !keyword.eq_ignore_ascii_case("no") {
            out.push(Refusal::AutoSubmitted(v.clone()));
        }
    }
    if let Some(v) = &msg.precedence {
        let p = v.trim().to_ascii_lowercase();
        if ["bulk", "list", "junk", "auto_reply"].contains(&p.as_str()) {
            out.push(Refusal::Precedence(v.clone()));
        }
    }
    if let Some(h) = msg.list_headers.first() {
        out.push(Refusal::MailingList(h.clone()));
    }
    if let Some(v) = &msg.auto_response_suppress {
        let only_none = v.split([',', ' ', ';']).filter(|t| !t.is_empty()).all(|t| t.eq_ignore_ascii_case("none"))
            && !v.trim().is_empty();
        if !only_none {
            out.push(Refusal::AutoResponseSuppress(v.clone()));
        }
    }
    match &msg.envelope_sender {
        EnvelopeSender::Missing => out.push(Refusal::MissingEnvelopeSender),
        EnvelopeSender::Null => out.push(Refusal::NullSender),
        EnvelopeSender::Address(_) => {}
    }
    match (&msg.from, msg.from_count) {
        (None, _) => out.push(Refusal::NoFrom),
        (Some(_), n) if n > 1 => out.push(Refusal::SeveralFrom(n)),
        _ => {}
    }
    let mut senders: Vec<&str> = msg.from.iter().map(String::as_str).collect();
    if let EnvelopeSender::Address(a) = &msg.envelope_sender
        && !senders.contains(&a.as_str())
    {
        senders.push(a);
    }
    for s in &senders {
        match local_part_kind(s) {
            Some(LocalKind::Role) => out.push(Refusal::RoleSender(s.to_string())),
            Some(LocalKind::NoReply) => out.push(Refusal::NoReplySender(s.to_string())),
            None => {}
        }
    }
    for s in &senders {
        if ours.iter().any(|o| o == s) {
            out.push(Refusal::FromUs(s.to_string()));
        }
    }
    if !msg.recipients.iter().any(|r| ours.contains(r)) {
        out.push(Refusal::NotAddressedToUs);
    }
    out
}

enum LocalKind {
    Role,
    NoReply,
}

fn local_part_kind(address: &str) -> Option<LocalKind> {
    let local = address.rsplit_once('@').map(|(l, _)| l).unwrap_or(address).to_ascii_lowercase();
    let local = local.trim_matches('"');
    // `list-request+tag` is still the list's request address.
    let base = local.split('+').next().unwrap_or(local);
    if base == "mailer-daemon" || base == "mailerdaemon" || base == "postmaster" {
        return Some(LocalKind::Role);
    }
    if base.ends_with("-request") || base.starts_with("owner-") {
        return Some(LocalKind::Role);
    }
    let squeezed: String = local.chars().filter(|c| !matches!(c, '-' | '_' | '.')).collect();
    if squeezed.contains("noreply") || squeezed.contains("donotreply") || squeezed.contains("dontreply") {
        return Some(LocalKind::NoReply);
    }
    None
}

/// Whether another automatic reply to a sender would come too soon: the last one went
/// out less than `window` before `now`. A last reply in the future (a clock set back)
/// counts as recent; a zero or negative window never limits.
pub fn rate_limited(last_auto_reply: Option<Timestamp>, now: Timestamp, window: SignedDuration) -> bool {
    match last_auto_reply {
        None => false,
        Some(_) if window <= SignedDuration::ZERO => false,
        Some(last) => now.duration_since(last) < window,
    }
}

/// The default rate-limit window: 7 days.
pub const DEFAULT_WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &[&str] = &["security@example.org", "psirt@example.org"];

    fn ours() -> Vec<String> {
        OURS.iter().map(|s| s.to_string()).collect()
    }

    /// A plain, personal report to security@: no rule applies.
    fn base() -> String {
        "Return-Path: <ada@example.net>\r\n\
         Delivered-To: security@example.org\r\n\
         From: Ada Lovelace <ada@example.net>\r\n\
         To: Example Security <security@example.org>\r\n\
         Subject: XSS in the admin panel\r\n\
         Message-ID: <r1@example.net>\r\n\
         References: <a@example.net> <b@example.net>\r\n\
         In-Reply-To: <b@example.net>\r\n\
         \r\n\
         body\r\n"
            .to_string()
    }

    fn with(extra: &str) -> Inbound {
        Inbound::parse(format!("{extra}\r\n{}", base()).as_bytes()).unwrap()
    }

    /// Replace the header `name` of the base message by `line` (or drop it with "").
    fn replaced(name: &str, line: &str) -> Inbound {
        let mut out = String::new();
        for l in base().split_inclusive("\r\n") {
            if l.to_ascii_lowercase().starts_with(&format!("{}:", name.to_ascii_lowercase())) {
                if !line.is_empty() {
                    out.push_str(line);
                    out.push_str("\r\n");
                }
            } else {
                out.push_str(l);
            }
        }
        Inbound::parse(out.as_bytes()).unwrap()
    }

    fn refusal(m: &Inbound) -> Option<Refusal> {
        auto_reply_refusal(m, &ours())
    }

    #[test]
    fn a_personal_report_gets_a_reply_and_its_headers_are_read() {
        let m = Inbound::parse(base().as_bytes()).unwrap();
        assert_eq!(refusal(&m), None, "{:?}", refusals(&m, &ours()));
        assert_eq!(m.from.as_deref(), Some("ada@example.net"));
        assert_eq!(m.envelope_sender, EnvelopeSender::Address("ada@example.net".into()));
        assert_eq!(m.recipients, vec!["security@example.org".to_string()]);
        assert_eq!(m.message_id.as_deref(), Some("r1@example.net"));
        assert_eq!(m.references, vec!["a@example.net".to_string(), "b@example.net".to_string()]);
        assert_eq!(m.in_reply_to, vec!["b@example.net".to_string()]);
    }

    #[test]
    fn auto_submitted_other_than_no_refuses() {
        assert_eq!(refusal(&with("Auto-Submitted: no")), None);
        assert_eq!(refusal(&with("Auto-Submitted: No (a person wrote this)")), None);
        for v in ["auto-replied", "auto-generated", "auto-notified; owner-email=x@y", "AUTO-REPLIED", ""] {
            assert!(matches!(refusal(&with(&format!("Auto-Submitted: {v}"))), Some(Refusal::AutoSubmitted(_))), "{v}");
        }
    }

    #[test]
    fn precedence_bulk_list_junk_refuses() {
        for v in ["bulk", "list", "junk", "JUNK", " Bulk ", "auto_reply"] {
            assert!(matches!(refusal(&with(&format!("Precedence: {v}"))), Some(Refusal::Precedence(_))), "{v}");
        }
        assert_eq!(refusal(&with("Precedence: first-class")), None);
    }

    #[test]
    fn any_list_header_refuses() {
        for h in ["List-Id: <dev.lists.example.com>", "List-Unsubscribe: <mailto:x@y>", "list-post: <mailto:l@y>"] {
            assert!(matches!(refusal(&with(h)), Some(Refusal::MailingList(_))), "{h}");
        }
        // A header that merely contains "List" is not a list header.
        assert_eq!(refusal(&with("X-Listing: yes")), None);
    }

    #[test]
    fn x_auto_response_suppress_refuses_unless_none() {
        for v in ["All", "OOF", "AutoReply", "DR, NDR", "RN", "NRN", "oof, autoreply"] {
            assert!(
                matches!(
                    refusal(&with(&format!("X-Auto-Response-Suppress: {v}"))),
                    Some(Refusal::AutoResponseSuppress(_))
                ),
                "{v}"
            );
        }
        assert_eq!(refusal(&with("X-Auto-Response-Suppress: None")), None);
    }

    #[test]
    fn role_senders_refuse_by_from_or_envelope() {
        for a in [
            "MAILER-DAEMON@mx.example.net",
            "postmaster@example.net",
            "dev-request@lists.example.net",
            "owner-dev@lists.example.net",
            "dev-request+bounce@lists.example.net",
        ] {
            let m = replaced("From", &format!("From: <{a}>"));
            assert!(matches!(refusal(&m), Some(Refusal::RoleSender(_))), "From {a}");
            let m = replaced("Return-Path", &format!("Return-Path: <{a}>"));
            assert!(matches!(refusal(&m), Some(Refusal::RoleSender(_))), "Return-Path {a}");
        }
        // Look-alikes that are people.
        for a in ["requester@example.net", "owner@example.net", "postmasters-fan@example.net"] {
            assert_eq!(refusal(&replaced("From", &format!("From: <{a}>"))), None, "{a}");
        }
    }

    #[test]
    fn noreply_variants_refuse() {
        for a in [
            "noreply@x.example",
            "no-reply@x.example",
            "No_Reply@x.example",
            "do-not-reply@x.example",
            "donotreply@x.example",
            "notifications-noreply@x.example",
            "dont.reply@x.example",
        ] {
            assert!(
                matches!(refusal(&replaced("From", &format!("From: <{a}>"))), Some(Refusal::NoReplySender(_))),
                "{a}"
            );
        }
        assert!(matches!(
            refusal(&replaced("Return-Path", "Return-Path: <bounce-noreply@x.example>")),
            Some(Refusal::NoReplySender(_))
        ));
    }

    #[test]
    fn a_null_envelope_sender_refuses() {
        assert_eq!(refusal(&replaced("Return-Path", "Return-Path: <>")), Some(Refusal::NullSender));
        assert_eq!(refusal(&replaced("Return-Path", "Return-Path: < >")), Some(Refusal::NullSender));
    }

    #[test]
    fn a_missing_envelope_sender_refuses() {
        assert_eq!(refusal(&replaced("Return-Path", "")), Some(Refusal::MissingEnvelopeSender));
    }

    #[test]
    fn the_topmost_return_path_counts() {
        // LMTP delivery adds its Return-Path on top; an older one below is the sender's game.
        let m = with("Return-Path: <>");
        assert_eq!(m.envelope_sender, EnvelopeSender::Null);
    }

    #[test]
    fn our_own_address_as_sender_refuses() {
        let m = replaced("From", "From: Security <SECURITY@example.org>");
        assert_eq!(refusal(&m), Some(Refusal::FromUs("security@example.org".into())));
        let m = replaced("Return-Path", "Return-Path: <psirt@example.org>");
        assert_eq!(refusal(&m), Some(Refusal::FromUs("psirt@example.org".into())));
    }

    #[test]
    fn mail_not_addressed_to_us_refuses() {
        // Bcc'd to us leaves no trace of us; Delivered-To names another mailbox.
        let raw = base()
            .replace("Delivered-To: security@example.org", "Delivered-To: other@example.org")
            .replace("To: Example Security <security@example.org>", "To: list@example.com");
        assert_eq!(refusal(&Inbound::parse(raw.as_bytes()).unwrap()), Some(Refusal::NotAddressedToUs));
    }

    #[test]
    fn each_recipient_header_counts_as_addressed_to_us() {
        let stripped = base()
            .replace("Delivered-To: security@example.org\r\n", "")
            .replace("To: Example Security <security@example.org>", "To: someone@example.com");
        for h in ["Cc: <psirt@example.org>", "Resent-To: Security@Example.org", "Resent-Cc: <security@example.org>"] {
            let m = Inbound::parse(format!("{h}\r\n{stripped}").as_bytes()).unwrap();
            assert_eq!(refusal(&m), None, "{h}");
        }
        assert_eq!(refusal(&Inbound::parse(stripped.as_bytes()).unwrap()), Some(Refusal::NotAddressedToUs));
    }

    #[test]
    fn delivered_to_from_our_own_delivery_agent_does_not_count_as_addressed_to_us() {
        // Regression: Dovecot LMTP adds `Delivered-To: security@...` to a Bcc'd message
        // too, so counting it made the rule never fire on mail that really arrived.
        let stripped = base().replace("To: Example Security <security@example.org>", "To: someone@example.com");
        for h in ["", "X-Original-To: security@example.org\r\n"] {
            let m = Inbound::parse(format!("{h}{stripped}").as_bytes()).unwrap();
            assert_eq!(refusal(&m), Some(Refusal::NotAddressedToUs), "{h}");
        }
    }

    #[test]
    fn no_or_several_from_addresses_refuse() {
        assert_eq!(refusal(&replaced("From", "")), Some(Refusal::NoFrom));
        assert_eq!(refusal(&replaced("From", "From: a@example.net, b@example.net")), Some(Refusal::SeveralFrom(2)));
    }

    #[test]
    fn every_reason_is_listed_and_readable() {
        let m = with("Auto-Submitted: auto-replied\r\nPrecedence: bulk\r\nList-Id: <x>\r\nReturn-Path: <>");
        let all = refusals(&m, &ours());
        assert_eq!(all.len(), 4, "{all:?}");
        for r in &all {
            let text = r.to_string();
            assert!(text.len() > 20 && !text.contains('\n'), "{text}");
        }
        assert!(Refusal::NullSender.to_string().contains("null"));
        // A hostile value cannot reach a terminal raw.
        let r = Refusal::RoleSender("owner-x\x1b[2J\u{202e}@x".into()).to_string();
        assert!(!r.contains('\x1b') && !r.contains('\u{202e}'), "{r}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Inbound::parse(b"").is_err());
        let _ = Inbound::parse(b"\xff\xfe: \x00\r\n\r\n");
    }

    #[test]
    fn the_rate_limit_window() {
        let now: Timestamp = "2026-03-10T12:00:00Z".parse().unwrap();
        let w = DEFAULT_WINDOW;
        assert!(!rate_limited(None, now, w));
        assert!(rate_limited(Some(now - SignedDuration::from_hours(1)), now, w));
        assert!(rate_limited(Some(now - SignedDuration::from_hours(7 * 24 - 1)), now, w));
        assert!(!rate_limited(Some(now - SignedDuration::from_hours(7 * 24)), now, w));
        assert!(!rate_limited(Some(now - SignedDuration::from_hours(30 * 24)), now, w));
        // A last reply "in the future" (the clock went back) still limits.
        assert!(rate_limited(Some(now + SignedDuration::from_hours(2)), now, w));
        // No window, no limit.
        assert!(!rate_limited(Some(now), now, SignedDuration::ZERO));
    }
}

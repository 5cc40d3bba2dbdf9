//! `vulnmail outbox` against the real Postfix and Dovecot of scripts/mailservers:
//! a reply arrives once, a copy lands in Sent, failures are kept with the server's
//! reason and retried, and neither a cut connection nor a killed run sends twice.

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::mailservers::MailServers;
use crate::proxy::{Faults, Proxy};

pub(crate) const REPORTER: &str = "reporter@example.net";
pub(crate) const SECURITY: &str = "security@example.org";

/// How vulnmail reaches the SMTP server in a test.
pub(crate) enum Via {
    /// Port 25 style: STARTTLS, no AUTH.
    Starttls,
    /// Submissions: implicit TLS and AUTH as the security user.
    Submissions,
    /// Plaintext to this loopback port (a proxy, or nothing listening).
    Plain(u16),
}

pub(crate) fn smtp_section(ms: &MailServers, via: &Via, extra: &str) -> String {
    let (port, tls, auth) = match via {
        Via::Starttls => (ms.port("MS_SMTP_PORT"), "starttls", String::new()),
        Via::Submissions => (
            ms.port("MS_SUBMISSIONS_PORT"),
            "implicit",
            format!("user = \"{SECURITY}\"\npassword = {{ env = \"VULNMAIL_SMTP_PASSWORD\" }}\n"),
        ),
        Via::Plain(p) => (*p, "none", "allow_plaintext = true\n".to_string()),
    };
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{tls}\"\n{auth}ca_file = \"{}\"\n\
         timeout_seconds = 10\nbackoff_seconds = 60\n{extra}",
        ms.get("MS_CA")
    )
}

/// Write the whole configuration: what init wrote, [imap] for the Sent mailbox, [smtp].
pub(crate) fn configure(env: &Env, ms: &MailServers, via: &Via, extra: &str) {
    let cfg = std::fs::read_to_string(env.path("config.base")).unwrap_or_else(|_| {
        let c = std::fs::read_to_string(env.config_file()).unwrap();
        std::fs::write(env.path("config.base"), &c).unwrap();
        c
    });
    let imap = ms.imap_section("MS_IMAPS_PORT", "implicit");
    let text = format!("{cfg}\n{imap}\n{}\n[store]\ncache_seconds = 0\n", smtp_section(ms, via, extra));
    std::fs::write(env.config_file(), text).unwrap();
}

fn setup(ms: &MailServers, via: &Via, extra: &str) -> Env {
    let env = Env::new();
    env.init();
    configure(&env, ms, via, extra);
    env
}

pub(crate) fn vmo(env: &Env, ms: &MailServers) -> assert_cmd::Command {
    let mut c = env.vmp();
    c.env("VULNMAIL_IMAP_PASSWORD", ms.get("MS_SECURITY_PASS"))
        .env("VULNMAIL_SMTP_PASSWORD", ms.get("MS_SECURITY_PASS"));
    c
}

/// A reply as the ack module would compose it; `body` is used as given (line ends too).
fn write_message(env: &Env, tag: &str, to: &str, body: &[u8]) -> PathBuf {
    let mut m = format!(
        "From: Example Security Team <{SECURITY}>\r\nTo: <{to}>\r\nSubject: [VR-2026-0001] {tag}\r\n\
         Message-ID: <{tag}@example.org>\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\n\
         Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    .into_bytes();
    m.extend_from_slice(body);
    let p = env.work().join(format!("{tag}.eml"));
    std::fs::write(&p, m).unwrap();
    p
}

fn enqueue(env: &Env, ms: &MailServers, file: &PathBuf, to: &str, automatic: bool) -> i64 {
    let mut c = vmo(env, ms);
    c.args(["outbox", "enqueue-raw", "--json", "--report", "VR-2026-0001", "--to", to]).arg(file);
    if automatic {
        c.arg("--automatic");
    }
    json(ok(&c.output().unwrap()))["id"].as_i64().unwrap()
}

fn send(env: &Env, ms: &MailServers, time: Option<&str>) -> Output {
    let mut c = vmo(env, ms);
    c.args(["outbox", "send", "--json"]);
    if let Some(t) = time {
        c.env("VULNMAIL_TIME", t);
    }
    c.output().unwrap()
}

fn row(env: &Env, ms: &MailServers, id: i64) -> serde_json::Value {
    let v = json(ok(&vmo(env, ms).args(["outbox", "--json"]).output().unwrap()));
    v.as_array().unwrap().iter().find(|r| r["id"] == id).cloned().unwrap()
}

/// An RFC 3339 instant `hours` from now.
fn hours_from_now(hours: i64) -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(hours);
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Every message file in a user's Maildir folder ("" = INBOX).
pub(crate) fn maildir(ms: &MailServers, user: &str, folder: &str) -> Vec<Vec<u8>> {
    let base = PathBuf::from(ms.get("MS_MAIL_DIR")).join(user).join("Maildir");
    let dir = if folder.is_empty() { base } else { base.join(format!(".{folder}")) };
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
            for e in rd.flatten() {
                out.push(std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

/// Wait until the reporter's INBOX holds `n` messages (Postfix delivers over LMTP,
/// asynchronously), then a little longer to see that no more arrive.
fn reporter_inbox(ms: &MailServers, n: usize) -> Vec<Vec<u8>> {
    let start = Instant::now();
    while maildir(ms, REPORTER, "").len() < n && start.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    maildir(ms, REPORTER, "")
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn a_reply_arrives_once_whole_with_the_null_sender_and_a_copy_in_sent() {
    let ms = MailServers::start();
    let env = setup(&ms, &Via::Starttls, "");
    // Bare LF line ends, a line holding only ".", and "\n.\n" (RUSTSEC-2026-0561):
    // unstuffed, the server would end the message at the first such dot.
    let body = b"Thank you for your report.\n.\nThis line follows a lone dot.\r\n.\r\n..two dots\r\nlast line\n";
    let file = write_message(&env, "ack-1", REPORTER, body);
    let id = enqueue(&env, &ms, &file, REPORTER, true);
    assert_eq!(row(&env, &ms, id)["state"], "queued");
    assert_eq!(row(&env, &ms, id)["envelope_from"], serde_json::Value::Null, "automatic: the null sender");

    let v = json(ok(&send(&env, &ms, None)));
    assert_eq!((v["sent"].as_u64(), v["retry"].as_u64(), v["failed"].as_u64()), (Some(1), Some(0), Some(0)), "{v}");
    let r = row(&env, &ms, id);
    assert_eq!(
        (r["state"].as_str(), r["attempts"].as_u64(), r["sent_copy"].as_bool()),
        (Some("sent"), Some(1), Some(true))
    );

    let inbox = reporter_inbox(&ms, 1);
    assert_eq!(inbox.len(), 1, "delivered exactly once");
    let got = &inbox[0];
    assert!(contains(got, b"Return-Path: <>"), "MAIL FROM:<> reached Postfix: {}", String::from_utf8_lossy(got));
    // Dovecot keeps Maildir files with LF line ends.
    let want_body = b"\n\nThank you for your report.\n.\nThis line follows a lone dot.\n.\n..two dots\nlast line\n";
    assert!(got.ends_with(want_body), "the body arrives whole, dots included: {:?}", String::from_utf8_lossy(got));

    // The copy in Sent is the message as sent, and \Seen.
    let sent = maildir(&ms, SECURITY, "Sent");
    assert_eq!(sent.len(), 1);
    assert!(contains(&sent[0], b"Message-ID: <ack-1@example.org>") && sent[0].ends_with(want_body));
    let flags = ms.doveadm(&["fetch", "-u", SECURITY, "flags", "mailbox", "Sent"]);
    assert!(flags.contains("\\Seen"), "{flags}");

    // Nothing is due any more: a second run sends nothing.
    let v = json(ok(&send(&env, &ms, None)));
    assert_eq!(v["items"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(reporter_inbox(&ms, 1).len(), 1);

    // A reply a person sends, over submissions with AUTH: the team address as sender.
    configure(&env, &ms, &Via::Submissions, "");
    let file = write_message(&env, "ack-2", REPORTER, b"Written by a person.\r\n");
    let id2 = enqueue(&env, &ms, &file, REPORTER, false);
    assert_eq!(row(&env, &ms, id2)["envelope_from"], SECURITY);
    let v = json(ok(&send(&env, &ms, None)));
    assert_eq!(v["sent"], 1, "{v}");
    let inbox = reporter_inbox(&ms, 2);
    assert_eq!(inbox.len(), 2);
    assert!(inbox.iter().any(|m| contains(m, b"Return-Path: <security@example.org>") && contains(m, b"<ack-2@")));
    assert_eq!(maildir(&ms, SECURITY, "Sent").len(), 2);

    // The listing is text too, one line per message plus header and count.
    let o = vmo(&env, &ms).arg("outbox").output().unwrap();
    let text = stdout(ok(&o));
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("reporter@example.net") && text.contains("sent"), "{text}");
}

#[test]
fn with_the_server_down_a_reply_waits_with_the_reason_and_goes_out_once_it_is_back() {
    let ms = MailServers::start();
    let dead = free_port();
    let env = setup(&ms, &Via::Plain(dead), "");
    let file = write_message(&env, "down-1", REPORTER, b"Thanks.\r\n");
    let id = enqueue(&env, &ms, &file, REPORTER, true);

    let v = json(ok(&send(&env, &ms, None)));
    assert_eq!((v["sent"].as_u64(), v["retry"].as_u64()), (Some(0), Some(1)), "{v}");
    let r = row(&env, &ms, id);
    assert_eq!((r["state"].as_str(), r["attempts"].as_u64()), (Some("queued"), Some(1)), "{r}");
    let reason = r["last_error"].as_str().unwrap();
    assert!(reason.contains(&format!("127.0.0.1:{dead}")) && reason.to_lowercase().contains("connect"), "{reason}");
    assert!(r["next_attempt_at"].as_str().unwrap() > hours_from_now(0).as_str(), "{r}");

    // Not due yet: an immediate rerun leaves it alone.
    let v = json(ok(&send(&env, &ms, None)));
    assert_eq!(v["items"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(row(&env, &ms, id)["attempts"], 1);

    // The server is back (the real port) and the backoff has passed.
    configure(&env, &ms, &Via::Starttls, "");
    let v = json(ok(&send(&env, &ms, Some(&hours_from_now(1)))));
    assert_eq!(v["sent"], 1, "{v}");
    let r = row(&env, &ms, id);
    assert_eq!((r["state"].as_str(), r["attempts"].as_u64(), r["last_error"].is_null()), (Some("sent"), Some(2), true));
    assert_eq!(reporter_inbox(&ms, 1).len(), 1);
}

#[test]
fn a_4xx_is_retried_later_and_fails_after_max_attempts() {
    let ms = MailServers::start();
    let env = setup(&ms, &Via::Starttls, "max_attempts = 2\n");
    let busy = ms.get("MS_TEMPFAIL_USER").to_string();
    let file = write_message(&env, "busy-1", &busy, b"Thanks.\r\n");
    let id = enqueue(&env, &ms, &file, &busy, true);

    let o = send(&env, &ms, None);
    let v = json(ok(&o));
    assert_eq!(v["retry"], 1, "{v}");
    let r = row(&env, &ms, id);
    let reason = r["last_error"].as_str().unwrap();
    assert!(reason.contains("450") && reason.contains("try again later"), "Postfix's words: {reason}");
    assert_eq!(r["state"], "queued");

    // Second attempt after the backoff: the last one allowed.
    let o = send(&env, &ms, Some(&hours_from_now(1)));
    assert_eq!(o.status.code(), Some(1), "a permanent failure in this run exits 1: {}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["failed"], 1, "{v}");
    let r = row(&env, &ms, id);
    assert_eq!((r["state"].as_str(), r["attempts"].as_u64()), (Some("failed"), Some(2)));
    assert!(r["last_error"].as_str().unwrap().contains("gave up after 2 attempts"), "{r}");
    assert_eq!(maildir(&ms, SECURITY, "Sent").len(), 0, "no copy of what was not sent");
}

#[test]
fn a_5xx_fails_with_the_servers_reason_and_can_be_retried_or_dropped() {
    let ms = MailServers::start();
    let env = setup(&ms, &Via::Starttls, "");
    let file = write_message(&env, "nobody-1", "nobody@example.net", b"Thanks.\r\n");
    let id = enqueue(&env, &ms, &file, "nobody@example.net", true);

    let o = send(&env, &ms, None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!((v["failed"].as_u64(), v["retry"].as_u64()), (Some(1), Some(0)), "{v}");
    let r = row(&env, &ms, id);
    assert_eq!((r["state"].as_str(), r["attempts"].as_u64()), (Some("failed"), Some(1)));
    let reason = r["last_error"].as_str().unwrap();
    assert!(reason.contains("550") && reason.contains("nobody@example.net"), "Postfix's reason: {reason}");

    // retry queues it again (due now, fresh attempts); drop gives it up; both refuse what they cannot do.
    ok(&vmo(&env, &ms).args(["outbox", "retry", &id.to_string()]).output().unwrap());
    let r = row(&env, &ms, id);
    assert_eq!((r["state"].as_str(), r["attempts"].as_u64()), (Some("queued"), Some(0)));
    ok(&vmo(&env, &ms).args(["outbox", "drop", &id.to_string()]).output().unwrap());
    assert_eq!(row(&env, &ms, id)["state"], "dropped");
    let o = vmo(&env, &ms).args(["outbox", "drop", &id.to_string()]).output().unwrap();
    one_line_error(&o, 2, "dropped already");
    let o = vmo(&env, &ms).args(["outbox", "retry", "999"]).output().unwrap();
    one_line_error(&o, 2, "no outbox message 999");
    let v = json(ok(&send(&env, &ms, None)));
    assert_eq!(v["items"].as_array().unwrap().len(), 0, "a dropped message is not sent: {v}");
}

#[test]
fn a_connection_cut_mid_data_is_retried_and_the_reporter_gets_one_copy() {
    let ms = MailServers::start();
    // Plaintext through the proxy, so it can see the 354 and cut right after it.
    let proxy = Proxy::start(
        ms.port("MS_SMTP_PORT"),
        Faults { cut_after_server_says: Some(b"354 ".to_vec()), ..Faults::default() },
    );
    let env = setup(&ms, &Via::Plain(proxy.port), "");
    let file = write_message(&env, "cut-1", REPORTER, &b"A long line of the reply.\r\n".repeat(2000));
    let id = enqueue(&env, &ms, &file, REPORTER, true);

    let v = json(ok(&send(&env, &ms, None)));
    assert_eq!((v["sent"].as_u64(), v["retry"].as_u64()), (Some(0), Some(1)), "{v}");
    assert!(String::from_utf8_lossy(&proxy.client_sent()).contains("DATA\r\n"), "the cut came after DATA");
    assert_eq!(row(&env, &ms, id)["state"], "queued");
    assert_eq!(maildir(&ms, SECURITY, "Sent").len(), 0);

    let clean = Proxy::start(ms.port("MS_SMTP_PORT"), Faults::default());
    configure(&env, &ms, &Via::Plain(clean.port), "");
    let v = json(ok(&send(&env, &ms, Some(&hours_from_now(1)))));
    assert_eq!(v["sent"], 1, "{v}");
    let inbox = reporter_inbox(&ms, 1);
    assert_eq!(inbox.len(), 1, "Postfix kept nothing of the cut transaction, and the retry arrived once");
    assert!(contains(&inbox[0], b"<cut-1@example.org>"));
    assert_eq!(row(&env, &ms, id)["attempts"], 2);
}

#[test]
fn killed_after_sending_the_rerun_finds_the_copy_in_sent_and_sends_nothing_new() {
    let ms = MailServers::start();
    let env = setup(&ms, &Via::Starttls, "");
    let file = write_message(&env, "crash-1", REPORTER, b"Thanks.\r\n");
    let id = enqueue(&env, &ms, &file, REPORTER, true);

    let o = vmo(&env, &ms).args(["outbox", "send"]).env("VULNMAIL_FAULT", "after-send").output().unwrap();
    assert_eq!(o.status.code(), Some(137), "the fault hook fired: {}", stderr(&o));
    assert_eq!(row(&env, &ms, id)["state"], "sending", "died before the store was told");
    assert_eq!(reporter_inbox(&ms, 1).len(), 1, "the server has it");

    let v = json(ok(&send(&env, &ms, None)));
    assert_eq!((v["sent"].as_u64(), v["already_sent"].as_u64()), (Some(0), Some(1)), "{v}");
    let r = row(&env, &ms, id);
    assert_eq!(
        (r["state"].as_str(), r["attempts"].as_u64(), r["sent_copy"].as_bool()),
        (Some("sent"), Some(1), Some(true))
    );
    assert_eq!(reporter_inbox(&ms, 1).len(), 1, "not sent a second time");
    assert_eq!(maildir(&ms, SECURITY, "Sent").len(), 1);
}

#[test]
fn interrupted_without_a_sent_mailbox_it_is_failed_not_sent_again() {
    let ms = MailServers::start();
    let env = setup(&ms, &Via::Starttls, "sent_mailbox = \"\"\n");
    let file = write_message(&env, "crash-2", REPORTER, b"Thanks.\r\n");
    let id = enqueue(&env, &ms, &file, REPORTER, true);
    let o = vmo(&env, &ms).args(["outbox", "send"]).env("VULNMAIL_FAULT", "after-send").output().unwrap();
    assert_eq!(o.status.code(), Some(137));
    let o = send(&env, &ms, None);
    assert_eq!(o.status.code(), Some(1));
    let r = row(&env, &ms, id);
    assert_eq!(r["state"], "failed");
    assert!(r["last_error"].as_str().unwrap().contains("no Sent mailbox"), "{r}");
    assert_eq!(reporter_inbox(&ms, 1).len(), 1, "sent once, by the killed run");
    assert_eq!(maildir(&ms, SECURITY, "Sent").len(), 0);
}

#[test]
fn a_refused_login_keeps_the_reply_queued_and_the_password_out_of_the_reason() {
    let ms = MailServers::start();
    let env = setup(&ms, &Via::Submissions, "");
    let file = write_message(&env, "auth-1", REPORTER, b"Thanks.\r\n");
    let id = enqueue(&env, &ms, &file, REPORTER, true);
    let wrong = "wrong-smtp-secret-42";
    let o = vmo(&env, &ms).args(["outbox", "send", "--json"]).env("VULNMAIL_SMTP_PASSWORD", wrong).output().unwrap();
    let v = json(ok(&o));
    assert_eq!(
        (v["retry"].as_u64(), v["failed"].as_u64()),
        (Some(1), Some(0)),
        "a login problem is not the reply's: {v}"
    );
    let r = row(&env, &ms, id);
    let reason = r["last_error"].as_str().unwrap();
    assert!(reason.contains("535"), "{reason}");
    assert!(!stdout(&o).contains(wrong) && !stderr(&o).contains(wrong) && !reason.contains(wrong));
    assert_eq!(r["state"], "queued");
}

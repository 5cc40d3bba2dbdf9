//! Unattended operation against the real Postfix and Dovecot: `vulnmail run` and
//! `vulnmail watch` with `[ack] auto = true`. Reports arrive through Postfix (so
//! Dovecot LMTP writes the real Return-Path and Delivered-To), acknowledgements
//! leave through Postfix and are read back from the reporter's Maildir.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use mail_parser::MessageParser;

use crate::common::*;
use crate::mailservers::MailServers;

const REPORTER: &str = "reporter@example.net";
const OTHER: &str = "other@example.com";
const SECURITY: &str = "security@example.org";

/// The configuration init wrote, plus [imap], [smtp] (STARTTLS to Postfix, or a
/// plaintext port where nothing listens), [ack] auto and `extra` inside [ack].
fn configure(env: &Env, ms: &MailServers, smtp_port: Option<u16>, ack_extra: &str) {
    let base = std::fs::read_to_string(env.path("config.base")).unwrap_or_else(|_| {
        let c = std::fs::read_to_string(env.config_file()).unwrap();
        std::fs::write(env.path("config.base"), &c).unwrap();
        c
    });
    let imap = ms.imap_section("MS_IMAPS_PORT", "implicit");
    let smtp = match smtp_port {
        None => format!("port = {}\ntls = \"starttls\"\n", ms.port("MS_SMTP_PORT")),
        Some(p) => format!("port = {p}\ntls = \"none\"\nallow_plaintext = true\n"),
    };
    let text = format!(
        "{base}\n{imap}\n[smtp]\nhost = \"127.0.0.1\"\n{smtp}ca_file = \"{}\"\ntimeout_seconds = 10\n\
         backoff_seconds = 60\n\n[ack]\nauto = true\n{ack_extra}\n[store]\ncache_seconds = 0\n",
        ms.get("MS_CA")
    );
    std::fs::write(env.config_file(), text).unwrap();
}

fn setup(ms: &MailServers, ack_extra: &str) -> Env {
    let env = Env::new();
    env.init();
    configure(&env, ms, None, ack_extra);
    env
}

fn vma_std(env: &Env, ms: &MailServers) -> std::process::Command {
    let mut c = env.std_vm();
    c.env("VULNMAIL_PASSPHRASE", PASS).env("VULNMAIL_IMAP_PASSWORD", ms.get("MS_SECURITY_PASS"));
    c
}

fn vma(env: &Env, ms: &MailServers) -> assert_cmd::Command {
    assert_cmd::Command::from_std(vma_std(env, ms))
}

/// `vulnmail run --json`, at `time` when given.
fn run(env: &Env, ms: &MailServers, time: Option<&str>, extra_env: &[(&str, &str)]) -> Output {
    let mut c = vma(env, ms);
    c.args(["run", "--json"]);
    if let Some(t) = time {
        c.env("VULNMAIL_TIME", t);
    }
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// A plain report. `headers` go first (CRLF-terminated lines), then the usual ones.
fn report(from: &str, to: &str, subject: &str, message_id: &str, headers: &str) -> String {
    format!(
        "{headers}From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Summary: stored XSS in the admin panel\r\nSteps: send <script> as the name.\r\n"
    )
}

/// One SMTP session with the test Postfix (plaintext on loopback): each message
/// with its own envelope sender; all to security@.
struct Smtp {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Smtp {
    fn connect(ms: &MailServers) -> Smtp {
        let s = TcpStream::connect(("127.0.0.1", ms.port("MS_SMTP_PORT"))).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut c = Smtp { r: BufReader::new(s.try_clone().unwrap()), w: s };
        c.expect("220");
        c.cmd("EHLO reporter.example.net", "250");
        c
    }

    fn expect(&mut self, code: &str) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.r.read_line(&mut line).unwrap();
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                break;
            }
        }
        assert!(all.starts_with(code), "expected {code}, Postfix said: {all}");
        all
    }

    fn cmd(&mut self, line: &str, code: &str) -> String {
        self.w.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        self.expect(code)
    }

    /// Send `raw` from the envelope sender `mail_from` ("" is the null sender) to `rcpt`.
    fn send(&mut self, mail_from: &str, rcpt: &str, raw: &str) {
        self.cmd(&format!("MAIL FROM:<{mail_from}>"), "250");
        self.cmd(&format!("RCPT TO:<{rcpt}>"), "250");
        self.cmd("DATA", "354");
        let mut data = String::new();
        for line in raw.split_inclusive("\r\n") {
            if line.starts_with('.') {
                data.push('.');
            }
            data.push_str(line);
        }
        self.w.write_all(data.as_bytes()).unwrap();
        self.cmd(".", "250");
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.w.write_all(b"QUIT\r\n");
    }
}

/// Every message file in a user's INBOX.
fn maildir(ms: &MailServers, user: &str) -> Vec<Vec<u8>> {
    let base = PathBuf::from(ms.get("MS_MAIL_DIR")).join(user).join("Maildir");
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(base.join(sub)) {
            for e in rd.flatten() {
                out.push(std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

/// Wait until `user`'s INBOX holds at least `n` messages (Postfix delivers
/// asynchronously), then a little longer to see that no more arrive.
fn inbox(ms: &MailServers, user: &str, n: usize) -> Vec<Vec<u8>> {
    let start = Instant::now();
    while maildir(ms, user).len() < n && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    maildir(ms, user)
}

/// Wait until the security INBOX holds `n` messages.
fn arrived(ms: &MailServers, n: u64) {
    let start = Instant::now();
    while ms.count(SECURITY, "INBOX") < n {
        assert!(start.elapsed() < Duration::from_secs(30), "Postfix did not deliver {n} reports:\n{}", ms.logs());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn header(raw: &[u8], name: &str) -> Option<String> {
    MessageParser::new().parse_headers(raw)?.header_raw(name).map(|v| v.trim().to_string())
}

/// Report id by subject, from `list --json`.
fn ids_by_subject(env: &Env, ms: &MailServers) -> std::collections::BTreeMap<String, String> {
    let v = json(ok(&vma(env, ms).args(["list", "--json"]).output().unwrap()));
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| (r["subject"].as_str().unwrap_or_default().to_string(), r["id"].as_str().unwrap().to_string()))
        .collect()
}

/// (queued ids, skipped id -> reason) from `run --json`.
fn acknowledged(v: &serde_json::Value) -> (Vec<String>, std::collections::BTreeMap<String, String>) {
    let a = &v["acknowledged"];
    let queued = a["queued"].as_array().unwrap_or_else(|| panic!("{v}")).iter().map(|s| s.as_str().unwrap().into());
    let skipped = a["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
        .collect();
    (queued.collect(), skipped)
}

fn outbox(env: &Env, ms: &MailServers) -> Vec<serde_json::Value> {
    json(ok(&vma(env, ms).args(["outbox", "--json"]).output().unwrap())).as_array().unwrap().clone()
}

fn in_days(days: i64) -> String {
    days_from_now(days)
}

/// One no-reply rule: the message (envelope sender, From, To, extra headers) and a
/// phrase the reason must contain.
struct Rule {
    name: &'static str,
    mail_from: &'static str,
    from: &'static str,
    to: &'static str,
    headers: &'static str,
    reason: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        name: "auto-replied",
        mail_from: REPORTER,
        from: REPORTER,
        to: SECURITY,
        headers: "Auto-Submitted: auto-replied\r\n",
        reason: "Auto-Submitted: auto-replied",
    },
    Rule {
        name: "auto-generated",
        mail_from: REPORTER,
        from: REPORTER,
        to: SECURITY,
        headers: "Auto-Submitted: auto-generated\r\n",
        reason: "Auto-Submitted: auto-generated",
    },
    Rule {
        name: "precedence-bulk",
        mail_from: REPORTER,
        from: REPORTER,
        to: SECURITY,
        headers: "Precedence: bulk\r\n",
        reason: "Precedence: bulk",
    },
    Rule {
        name: "precedence-list",
        mail_from: REPORTER,
        from: REPORTER,
        to: SECURITY,
        headers: "Precedence: list\r\n",
        reason: "Precedence: list",
    },
    Rule {
        name: "precedence-junk",
        mail_from: REPORTER,
        from: REPORTER,
        to: SECURITY,
        headers: "Precedence: junk\r\n",
        reason: "Precedence: junk",
    },
    Rule {
        name: "list-id",
        mail_from: REPORTER,
        from: REPORTER,
        to: SECURITY,
        headers: "List-Id: Developers <dev.lists.example.net>\r\n",
        reason: "has a List-ID header",
    },
    Rule {
        name: "list-unsubscribe",
        mail_from: REPORTER,
        from: REPORTER,
        to: SECURITY,
        headers: "List-Unsubscribe: <mailto:dev-leave@example.net>\r\n",
        reason: "has a List-Unsubscribe header",
    },
    Rule {
        name: "suppress",
        mail_from: REPORTER,
        from: REPORTER,
        to: SECURITY,
        headers: "X-Auto-Response-Suppress: All\r\n",
        reason: "X-Auto-Response-Suppress: All",
    },
    Rule {
        name: "mailer-daemon",
        mail_from: REPORTER,
        from: "MAILER-DAEMON@example.net",
        to: SECURITY,
        headers: "",
        reason: "mailer-daemon@example.net is a system or list address",
    },
    Rule {
        name: "postmaster",
        mail_from: REPORTER,
        from: "postmaster@example.net",
        to: SECURITY,
        headers: "",
        reason: "postmaster@example.net is a system or list address",
    },
    Rule {
        name: "request",
        mail_from: REPORTER,
        from: "dev-request@example.net",
        to: SECURITY,
        headers: "",
        reason: "dev-request@example.net is a system or list address",
    },
    Rule {
        name: "owner",
        mail_from: REPORTER,
        from: "owner-dev@example.net",
        to: SECURITY,
        headers: "",
        reason: "owner-dev@example.net is a system or list address",
    },
    Rule {
        name: "noreply",
        mail_from: REPORTER,
        from: "noreply@example.net",
        to: SECURITY,
        headers: "",
        reason: "noreply@example.net does not accept replies",
    },
    Rule {
        // A person's From, but the envelope says a list sent it.
        name: "envelope-owner",
        mail_from: "owner-dev@example.net",
        from: REPORTER,
        to: SECURITY,
        headers: "",
        reason: "owner-dev@example.net is a system or list address",
    },
    Rule {
        name: "null-sender",
        mail_from: "",
        from: REPORTER,
        to: SECURITY,
        headers: "",
        reason: "envelope sender is null",
    },
    Rule {
        name: "from-us",
        mail_from: REPORTER,
        from: SECURITY,
        to: SECURITY,
        headers: "",
        reason: "security@example.org is one of our own addresses",
    },
    Rule {
        // Bcc'd: Postfix delivers to security@, but no header names us.
        name: "not-to-us",
        mail_from: REPORTER,
        from: REPORTER,
        to: OTHER,
        headers: "",
        reason: "none of our addresses is among the recipients",
    },
];

/// Rules the extractor applies first: such mail is stored as "not a report".
const NOT_REPORTS: &[&str] = &[
    "auto-replied",
    "auto-generated",
    "precedence-bulk",
    "precedence-list",
    "precedence-junk",
    "mailer-daemon",
    "postmaster",
];

#[test]
fn each_no_reply_rule_withholds_the_automatic_reply_and_names_the_reason() {
    let ms = MailServers::start();
    let env = setup(&ms, "");
    let mut smtp = Smtp::connect(&ms);
    for r in RULES {
        let raw = report(r.from, r.to, &format!("rule {}", r.name), &format!("{}@example.net", r.name), r.headers);
        smtp.send(r.mail_from, SECURITY, &raw);
    }
    // The control: a person saying so explicitly does get the reply.
    smtp.send(
        OTHER,
        SECURITY,
        &report(OTHER, SECURITY, "rule control", "control@example.com", "Auto-Submitted: no\r\n"),
    );
    drop(smtp);
    arrived(&ms, RULES.len() as u64 + 1);

    // The text output names every reason (a second env would refetch; so text first,
    // then the same decisions again as JSON: withheld reports stay pending).
    let o = vma(&env, &ms).arg("run").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    let v = json(&run(&env, &ms, None, &[]));
    let ids = ids_by_subject(&env, &ms);
    let (queued, skipped) = acknowledged(&v);
    assert!(queued.is_empty(), "the control was queued by the first run: {v}");
    assert!(text.contains(&format!("{}: acknowledgement queued", ids["rule control"])), "{text}");
    // What the extractor already classifies as automatic mail is kept, but not as a
    // report: it never reaches the acknowledgement at all.
    let all = json(ok(&vma(&env, &ms).args(["list", "--all", "--json"]).output().unwrap()));
    for r in RULES {
        let subject = format!("rule {}", r.name);
        if NOT_REPORTS.contains(&r.name) {
            let rec = all.as_array().unwrap().iter().find(|x| x["subject"] == subject.as_str());
            let rec = rec.unwrap_or_else(|| panic!("{}: kept in the store: {all}", r.name));
            assert_eq!(rec["kind"], "not-a-report", "{}: {rec}", r.name);
            assert!(!ids.contains_key(&subject), "{}", r.name);
            continue;
        }
        let id = ids.get(&subject).unwrap_or_else(|| panic!("{} is listed as a report: {ids:?}", r.name));
        let why = skipped.get(id).unwrap_or_else(|| panic!("{}: no reason given: {v}", r.name));
        assert!(why.contains(r.reason), "{}: expected {:?} in {why:?}", r.name, r.reason);
        assert!(!why.contains("had an automatic reply"), "{}: the rule, not the rate limit: {why}", r.name);
        assert!(
            text.contains(&format!("{id}: no automatic acknowledgement: ")) && text.contains(r.reason),
            "{}: {text}",
            r.name
        );
    }

    // Exactly one reply went out, to the control's sender, threaded.
    let got = inbox(&ms, OTHER, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(header(&got[0], "In-Reply-To").as_deref(), Some("<control@example.com>"));
    assert_eq!(inbox(&ms, REPORTER, 0).len(), 0, "no reply to any of the refused messages");
    let rows = outbox(&env, &ms);
    assert_eq!(rows.len(), 1, "nothing else was even queued: {rows:?}");

    // A person may still answer: refused with the reason, then --force.
    let bulk = &ids["rule list-id"];
    let o = vma(&env, &ms).args(["ack", bulk]).output().unwrap();
    one_line_error(&o, 2, "has a List-ID header");
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = vma(&env, &ms).args(["ack", bulk, "--force"]).output().unwrap();
    assert!(stdout(ok(&o)).contains("queued"), "{}", stdout(&o));
    let got = inbox(&ms, REPORTER, 1);
    assert_eq!(got.len(), 1, "the forced reply arrived once");
    assert_eq!(header(&got[0], "In-Reply-To").as_deref(), Some("<list-id@example.net>"));
    assert_eq!(header(&got[0], "Auto-Submitted"), None, "a person's reply is not automatic");
}

#[test]
fn fifty_reports_from_one_sender_in_an_hour_get_one_reply_also_across_a_restart() {
    let ms = MailServers::start();
    let env = setup(&ms, "rate_limit_days = 7\n");
    let mut smtp = Smtp::connect(&ms);
    for i in 0..50 {
        smtp.send(
            REPORTER,
            SECURITY,
            &report(REPORTER, SECURITY, &format!("flood {i}"), &format!("flood-{i}@example.net"), ""),
        );
    }
    drop(smtp);
    arrived(&ms, 50);

    let o = run(&env, &ms, None, &[]);
    let v = json(&o);
    assert_eq!(o.status.code(), Some(0), "{v}\n{}", stderr(&o));
    let (queued, skipped) = acknowledged(&v);
    assert_eq!(queued.len(), 1, "{v}");
    assert_eq!(skipped.len(), 49, "{v}");
    for why in skipped.values() {
        assert!(why.contains("reporter@example.net already had an automatic reply in the last 7 days"), "{why}");
    }
    assert_eq!(v["delivery"]["sent"], 1, "{v}");
    assert_eq!(inbox(&ms, REPORTER, 1).len(), 1);

    // A restart: a new process, the memory is in the store.
    let o = run(&env, &ms, None, &[]);
    let v = json(&o);
    assert_eq!(o.status.code(), Some(0), "{v}\n{}", stderr(&o));
    let (queued, skipped) = acknowledged(&v);
    assert_eq!((queued.len(), skipped.len()), (0, 49), "{v}");
    assert_eq!(inbox(&ms, REPORTER, 1).len(), 1, "still one reply");

    // Eight days later a new report from the same sender is acknowledged again,
    // and none of the old, withheld ones is.
    let later = in_days(8);
    let mut smtp = Smtp::connect(&ms);
    smtp.send(REPORTER, SECURITY, &report(REPORTER, SECURITY, "flood later", "flood-later@example.net", ""));
    drop(smtp);
    arrived(&ms, 51);
    let o = run(&env, &ms, Some(&later), &[]);
    let v = json(&o);
    assert!(matches!(o.status.code(), Some(0 | 3)), "{v}\n{}", stderr(&o));
    let ids = ids_by_subject(&env, &ms);
    let (queued, _) = acknowledged(&v);
    assert_eq!(queued, vec![ids["flood later"].clone()], "{v}");
    let got = inbox(&ms, REPORTER, 2);
    assert_eq!(got.len(), 2, "one more reply");
    assert!(
        got.iter().any(|m| header(m, "In-Reply-To").as_deref() == Some("<flood-later@example.net>")),
        "the new report's reply"
    );
    // And a rerun at the same moment sends nothing more.
    let o = run(&env, &ms, Some(&later), &[]);
    let (queued, _) = acknowledged(&json(&o));
    assert!(queued.is_empty());
    assert_eq!(inbox(&ms, REPORTER, 2).len(), 2);
}

#[test]
fn run_exit_codes_are_meaningful_for_cron() {
    let ms = MailServers::start();
    let env = setup(&ms, "");

    // 0: nothing to do.
    let o = run(&env, &ms, None, &[]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));

    // 1: SMTP down (nothing listening); the reply stays queued.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    configure(&env, &ms, Some(dead), "");
    let mut smtp = Smtp::connect(&ms);
    smtp.send(REPORTER, SECURITY, &report(REPORTER, SECURITY, "exit codes", "exit-1@example.net", ""));
    drop(smtp);
    arrived(&ms, 1);
    let o = run(&env, &ms, None, &[]);
    let v = json(&o);
    assert_eq!(o.status.code(), Some(1), "a delivery that could not happen is a failed step: {v}\n{}", stderr(&o));
    assert_eq!(v["delivery"]["retry"], 1, "{v}");
    let rows = outbox(&env, &ms);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["state"], "queued", "never lost: {rows:?}");
    assert!(rows[0]["last_error"].as_str().unwrap().contains(&format!("127.0.0.1:{dead}")), "{rows:?}");

    // Back up, after the backoff: delivered, exit 0.
    configure(&env, &ms, None, "");
    let soon = (jiff::Timestamp::now() + jiff::SignedDuration::from_mins(5)).strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let o = run(&env, &ms, Some(&soon), &[]);
    let v = json(&o);
    assert_eq!(o.status.code(), Some(0), "{v}\n{}", stderr(&o));
    assert_eq!(v["delivery"]["sent"], 1, "{v}");
    assert_eq!(inbox(&ms, REPORTER, 1).len(), 1);

    // 3: nothing failed, but a deadline (the fix, far ahead) is overdue.
    let o = run(&env, &ms, Some(&in_days(400)), &[]);
    let v = json(&o);
    assert_eq!(o.status.code(), Some(3), "{v}\n{}", stderr(&o));
    assert!(v["due"]["overdue"].as_u64().unwrap() >= 1, "{v}");
    let o = vma(&env, &ms).args(["run"]).env("VULNMAIL_TIME", in_days(400)).output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("overdue"), "{}", stdout(&o));

    // 2: a configuration error, before any work: an SMTP user without a password source.
    let cfg = std::fs::read_to_string(env.config_file()).unwrap();
    std::fs::write(env.config_file(), cfg.replace("[smtp]\n", "[smtp]\nuser = \"security@example.org\"\n")).unwrap();
    let o = vma(&env, &ms).arg("run").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("password"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn killed_after_the_smtp_transaction_the_rerun_sends_no_second_acknowledgement() {
    let ms = MailServers::start();
    let env = setup(&ms, "");
    let mut smtp = Smtp::connect(&ms);
    smtp.send(REPORTER, SECURITY, &report(REPORTER, SECURITY, "crash", "crash-1@example.net", ""));
    drop(smtp);
    arrived(&ms, 1);

    let o = run(&env, &ms, None, &[("VULNMAIL_FAULT", "after-send")]);
    assert_eq!(o.status.code(), Some(137), "the fault hook fired: {}", stderr(&o));
    let rows = outbox(&env, &ms);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["state"], "sending", "died before the store was told: {rows:?}");
    assert_eq!(inbox(&ms, REPORTER, 1).len(), 1, "the server has it");

    let o = run(&env, &ms, None, &[]);
    let v = json(&o);
    assert_eq!(o.status.code(), Some(0), "{v}\n{}", stderr(&o));
    let (queued, _) = acknowledged(&v);
    assert!(queued.is_empty(), "no second acknowledgement is composed: {v}");
    assert_eq!((v["delivery"]["sent"].as_u64(), v["delivery"]["already_sent"].as_u64()), (Some(0), Some(1)), "{v}");
    let got = inbox(&ms, REPORTER, 1);
    assert_eq!(got.len(), 1, "exactly one acknowledgement");
    assert_eq!(header(&got[0], "In-Reply-To").as_deref(), Some("<crash-1@example.net>"));
    let r = json(ok(&vma(&env, &ms).args(["list", "--json"]).output().unwrap()));
    assert_eq!(r[0]["state"], "acknowledged", "{r}");
    // A third run: still nothing.
    let v = json(&run(&env, &ms, None, &[]));
    assert_eq!(v["delivery"]["items"].as_array().map(Vec::len), Some(0), "{v}");
    assert_eq!(inbox(&ms, REPORTER, 1).len(), 1);
}

#[test]
fn watch_acknowledges_a_new_report_without_a_restart_threaded_to_the_from_address() {
    let ms = MailServers::start();
    let env = setup(&ms, "");
    let mut child = vma_std(&env, &ms)
        .args(["watch", "--max-backoff", "2", "--tick-ms", "200"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until watch is idling: give it a moment to connect.
    std::thread::sleep(Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "watch exited early");

    // Reply-To names someone else: the reply still goes to From.
    let sent_at = Instant::now();
    let mut smtp = Smtp::connect(&ms);
    smtp.send(
        REPORTER,
        SECURITY,
        &report(REPORTER, SECURITY, "watched", "watched-1@example.net", &format!("Reply-To: <{OTHER}>\r\n")),
    );
    drop(smtp);
    let start = Instant::now();
    while maildir(&ms, REPORTER).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(60), "no acknowledgement within 60 s:\n{}", ms.logs());
        std::thread::sleep(Duration::from_millis(50));
    }
    let latency = sent_at.elapsed();
    eprintln!("watch: report sent to acknowledgement delivered in {:.2} s", latency.as_secs_f64());

    let got = inbox(&ms, REPORTER, 1);
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(header(m, "In-Reply-To").as_deref(), Some("<watched-1@example.net>"));
    assert!(header(m, "References").unwrap_or_default().contains("<watched-1@example.net>"));
    assert_eq!(header(m, "Auto-Submitted").as_deref(), Some("auto-replied"));
    assert_eq!(header(m, "Return-Path").as_deref(), Some("<>"), "the null envelope sender");
    assert!(header(m, "To").unwrap_or_default().contains(REPORTER));
    assert!(header(m, "Message-ID").unwrap_or_default().ends_with("@example.org>"));
    assert!(maildir(&ms, OTHER).is_empty(), "nothing to the Reply-To address");

    let (status, out) = stop_with_sigterm(child);
    assert_eq!(status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("acknowledgement queued"), "{}", stdout(&out));
    assert!(stdout(&out).contains("watch stopped; 1 new messages stored"), "{}", stdout(&out));
    let r = json(ok(&vma(&env, &ms).args(["list", "--json"]).output().unwrap()));
    assert_eq!(r[0]["state"], "acknowledged", "{r}");
}

//! `vulnmail ack` end to end, against the real Postfix and Dovecot of
//! scripts/mailservers and real GnuPG: a reporter sends a report through Postfix,
//! Dovecot delivers it to the security inbox, vulnmail fetches, processes and
//! acknowledges it, and the test reads the acknowledgement from the reporter's
//! Maildir and decrypts it with GnuPG.

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use mail_parser::{Message, MessageParser, MimeHeaders};

use crate::common::*;
use crate::mailservers::MailServers;
use crate::outbox::{REPORTER, SECURITY, Via, configure, contains, maildir, vmo};

const OTHER: &str = "other@example.com";

/// Someone with a GnuPG home of their own and a key made by GnuPG 2.2
/// (ed25519 + cv25519), so GnuPG can read whatever we encrypt to it.
struct Person {
    home: PathBuf,
    addr: String,
}

impl Person {
    fn new(env: &Env, name: &str, addr: &str) -> Person {
        let home = env.path(&format!("gpg-{}", addr.split('@').next().unwrap()));
        std::fs::create_dir_all(&home).unwrap();
        set_mode(&home, 0o700);
        let p = Person { home, addr: addr.to_string() };
        ok(&p.gpg(&[
            "--passphrase",
            "",
            "--quick-generate-key",
            &format!("{name} <{addr}>"),
            "future-default",
            "default",
            "never",
        ]));
        // The team's certificate, to encrypt reports to it and verify its replies.
        ok(&p.gpg(&["--import", env.data().join("keys/team-public.asc").to_str().unwrap()]));
        p
    }

    fn gpg(&self, args: &[&str]) -> Output {
        std::process::Command::new("gpg")
            .env("GNUPGHOME", &self.home)
            .args(["--batch", "--no-tty", "--quiet", "--pinentry-mode", "loopback", "--trust-model", "always"])
            .args(args)
            .output()
            .expect("gpg runs")
    }

    /// The public certificate, binary.
    fn export(&self) -> Vec<u8> {
        ok(&self.gpg(&["--export", &self.addr])).stdout.clone()
    }

    fn export_armored(&self) -> String {
        String::from_utf8(ok(&self.gpg(&["--armor", "--export", &self.addr])).stdout.clone()).unwrap()
    }

    /// `plaintext` encrypted to the team, signed by this person when `sign`.
    fn encrypt_to_team(&self, plaintext: &str, sign: bool) -> String {
        let input = self.home.join("plain.txt");
        std::fs::write(&input, plaintext).unwrap();
        let mut args = vec!["--armor", "--output", "-", "-r", SECURITY, "--encrypt"];
        if sign {
            args.extend(["--sign", "-u", self.addr.as_str()]);
        }
        args.push(input.to_str().unwrap());
        String::from_utf8(ok(&self.gpg(&args)).stdout.clone()).unwrap().replace("\r\n", "\n").replace('\n', "\r\n")
    }

    /// Decrypt a PGP/MIME reply with GnuPG: (status lines, plaintext).
    fn decrypt_reply(&self, raw: &[u8]) -> (String, Vec<u8>) {
        gpg_decrypt_pgp_mime(&self.home, raw, |a| self.gpg(a))
    }
}

/// An initialised vulnmail reading the security inbox ([imap]) and replying through
/// Postfix with STARTTLS ([smtp]); `tail` is appended (more sections).
fn setup(ms: &MailServers, tail: &str) -> Env {
    let env = Env::new();
    env.init();
    configure(&env, ms, &Via::Starttls, "");
    if !tail.is_empty() {
        let cfg = std::fs::read_to_string(env.config_file()).unwrap();
        std::fs::write(env.config_file(), format!("{cfg}\n{tail}\n")).unwrap();
    }
    env
}

/// Send a message through Postfix's port 25 (no TLS, no AUTH, as any MTA would).
fn smtp_send(env: &Env, ms: &MailServers, from: &str, to: &str, raw: &str) {
    let file = env.work().join("outgoing.eml");
    std::fs::write(&file, raw).unwrap();
    let o = std::process::Command::new("python3")
        .args([
            "-c",
            "import smtplib, sys\n\
             s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))\n\
             s.sendmail(sys.argv[2], [sys.argv[3]], open(sys.argv[4], 'rb').read())\n\
             s.quit()\n",
            ms.get("MS_SMTP_PORT"),
            from,
            to,
            file.to_str().unwrap(),
        ])
        .output()
        .expect("python3 runs");
    assert!(o.status.success(), "smtplib: {}", stderr(&o));
}

/// Wait until a user's folder holds at least `n` messages, then a little longer to
/// see that no more arrive.
fn wait_for(ms: &MailServers, user: &str, folder: &str, n: usize) -> Vec<Vec<u8>> {
    let start = Instant::now();
    while maildir(ms, user, folder).len() < n && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1000));
    maildir(ms, user, folder)
}

/// Wait until the security INBOX holds `n` messages (delivered by Postfix over LMTP).
fn wait_inbox(ms: &MailServers, n: u64) {
    let start = Instant::now();
    while ms.count(SECURITY, "INBOX") < n {
        assert!(start.elapsed() < Duration::from_secs(20), "Postfix did not deliver {n} messages:\n{}", ms.logs());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn fetch(env: &Env, ms: &MailServers) {
    ok(&vmo(env, ms).args(["fetch"]).output().unwrap());
}

fn report_ids(env: &Env, ms: &MailServers) -> Vec<String> {
    let v = json(ok(&vmo(env, ms).args(["list", "--json"]).output().unwrap()));
    let mut ids: Vec<String> = v.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

/// The report whose Message-ID is `message_id`.
fn report_by_message_id(env: &Env, ms: &MailServers, message_id: &str) -> serde_json::Value {
    let v = json(ok(&vmo(env, ms).args(["list", "--json"]).output().unwrap()));
    let r = v.as_array().unwrap().iter().find(|r| r["message_id"] == format!("<{message_id}>")).cloned();
    let id = r.unwrap_or_else(|| panic!("no report for <{message_id}>: {v:#}"))["id"].as_str().unwrap().to_string();
    show(env, ms, &id)
}

fn show(env: &Env, ms: &MailServers, id: &str) -> serde_json::Value {
    json(ok(&vmo(env, ms).args(["show", id, "--json"]).output().unwrap()))
}

/// `ack ID --preview --json`: the one reply it would send.
fn preview(env: &Env, ms: &MailServers, id: &str) -> serde_json::Value {
    let v = json(ok(&vmo(env, ms).args(["ack", id, "--preview", "--json"]).output().unwrap()));
    v["replies"][0].clone()
}

fn team_fpr(env: &Env) -> String {
    let bytes = std::fs::read(env.data().join("keys/team-public.asc")).unwrap();
    vulnmail::openpgp::keys::parse_certs(&bytes).unwrap().remove(0).fingerprint().to_hex()
}

/// The Autocrypt header for a certificate, folded.
fn autocrypt(addr: &str, cert: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert);
    let folded: Vec<&str> = b64.as_bytes().chunks(72).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("Autocrypt: addr={addr}; prefer-encrypt=mutual; keydata=\r\n {}\r\n", folded.join("\r\n "))
}

/// A PGP/MIME message (the encrypted part is the root).
fn pgp_mime(headers: &str, armored: &str) -> String {
    format!(
        "{headers}MIME-Version: 1.0\r\n\
         Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b-enc\"\r\n\r\n\
         This is an OpenPGP/MIME encrypted message.\r\n--b-enc\r\n\
         Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b-enc\r\n\
         Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\
         Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n{armored}\r\n--b-enc--\r\n"
    )
}

fn headers(from: &str, subject: &str, message_id: &str) -> String {
    format!(
        "From: {from}\r\nTo: <{SECURITY}>\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Tue, 01 Dec 2026 09:00:00 +0000\r\n"
    )
}

/// The protected inner message of an encrypted report.
fn inner_report(subject: &str, title: &str, summary: &str) -> String {
    format!(
        "Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\r\n\
         Subject: {subject}\r\n\r\n\
         Title: {title}\r\nSummary: {summary}\r\nAffected versions: <= 2.3.1\r\n\
         Steps to reproduce: send the crafted header to /upload\r\nCredit: Rita Reporter\r\n"
    )
}

fn parse(raw: &[u8]) -> Message<'_> {
    MessageParser::new().parse(raw).unwrap()
}

/// The messages in `list` carrying `<message_id>`.
fn with_message_id<'a>(list: &'a [Vec<u8>], message_id: &str) -> Vec<&'a Vec<u8>> {
    list.iter().filter(|m| contains(m, format!("<{message_id}>").as_bytes())).collect()
}

/// The header section of a raw message, as text.
fn header_section(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    text.split("\n\n").next().unwrap().to_string()
}

#[test]
fn an_encrypted_report_gets_an_encrypted_threaded_signed_acknowledgement() {
    let ms = MailServers::start();
    let env = setup(&ms, "");
    let rita = Person::new(&env, "Rita Reporter", REPORTER);
    let subject = "Heap overflow in the zebra parser";
    let title = "Zebra parser heap overflow on long quagga headers";
    let summary = "A quagga header longer than 4096 bytes overwrites the heap of the zebra parser.";
    // Signed by the From address's key, encrypted part at the root, and the key in
    // an Autocrypt header: the sender is bound to the ciphertext.
    let armored = rita.encrypt_to_team(&inner_report(subject, title, summary), true);
    let h = headers("Rita Reporter <reporter@example.net>", "...", "report-1@example.net")
        + &autocrypt(REPORTER, &rita.export());
    smtp_send(&env, &ms, REPORTER, SECURITY, &pgp_mime(&h, &armored));
    wait_inbox(&ms, 1);
    fetch(&env, &ms);

    let r = report_by_message_id(&env, &ms, "report-1@example.net");
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(
        (r["encryption"]["status"].as_str(), r["signature"]["status"].as_str(), r["subject"].as_str()),
        (Some("decrypted"), Some("good"), Some(subject)),
        "{r:#}"
    );
    assert_eq!(r["state"], "new");
    assert!(r["acknowledged_at"].is_null());

    let o = vmo(&env, &ms).args(["ack", &id, "--json"]).output().unwrap();
    let v = json(ok(&o));
    let item = &v["replies"][0];
    assert_eq!((item["encrypted"].as_bool(), item["echo"].as_bool()), (Some(true), Some(true)), "{v:#}");
    assert_eq!(v["delivery"]["sent"], 1, "{v:#}");
    let our_id = item["message_id"].as_str().unwrap().to_string();
    assert!(our_id.ends_with("@example.org"), "our Message-ID is under the team's domain: {our_id}");

    let inbox = wait_for(&ms, REPORTER, "", 1);
    assert_eq!(inbox.len(), 1, "exactly one acknowledgement");
    let raw = &inbox[0];
    let outer = parse(raw);
    assert_eq!(outer.subject(), Some(format!("Re: [{id}] your security report").as_str()));
    assert_eq!(outer.message_id(), Some(our_id.as_str()));
    assert_eq!(outer.in_reply_to().as_text(), Some("report-1@example.net"));
    let refs: Vec<String> =
        outer.references().as_text_list().unwrap_or_default().iter().map(|s| s.to_string()).collect();
    assert_eq!(refs, ["report-1@example.net"], "{:?}", outer.references());
    for secret in [subject, title, summary, "zebra", "quagga"] {
        assert!(!contains(raw, secret.as_bytes()), "{secret:?} travels in the clear");
    }

    let (status, plain) = rita.decrypt_reply(raw);
    assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{status}");
    assert!(status.contains("[GNUPG:] GOODSIG"), "{status}");
    let validsig = status.lines().find(|l| l.starts_with("[GNUPG:] VALIDSIG")).unwrap_or_default();
    assert!(validsig.trim_end().ends_with(&team_fpr(&env)), "signed by the team key: {validsig}\n{status}");
    let inner = parse(&plain);
    assert_eq!(inner.subject(), Some(format!("Re: [{id}] {subject}").as_str()), "the real subject inside");
    let body = inner.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(body.contains(&id) && body.contains(title), "bound: the reply quotes the title:\n{body}");
    assert!(body.starts_with("Hello Rita Reporter,"), "{body}");

    // A copy in the team's Sent mailbox, and the report is acknowledged.
    let sent = maildir(&ms, SECURITY, "Sent");
    assert_eq!(with_message_id(&sent, &our_id).len(), 1, "one copy in Sent");
    let r = show(&env, &ms, &id);
    assert_eq!(r["state"], "acknowledged", "{r:#}");
    assert!(r["acknowledged_at"].as_str().is_some_and(|t| t.starts_with("20")), "{r:#}");

    // Never twice: a second ack is refused, --pending has nothing, --force sends another.
    let o = vmo(&env, &ms).args(["ack", &id]).output().unwrap();
    one_line_error(&o, 2, "already queued or sent");
    let o = vmo(&env, &ms).args(["ack", "--pending"]).output().unwrap();
    assert!(stdout(ok(&o)).contains("no report is waiting"), "{}", stdout(&o));
    assert_eq!(wait_for(&ms, REPORTER, "", 1).len(), 1, "the refused ack sent nothing");
    let v = json(ok(&vmo(&env, &ms).args(["ack", &id, "--force", "--json"]).output().unwrap()));
    assert_eq!(v["delivery"]["sent"], 1, "{v:#}");
    assert_eq!(wait_for(&ms, REPORTER, "", 2).len(), 2);
    assert_eq!(maildir(&ms, SECURITY, "Sent").len(), 2);
}

#[test]
fn without_a_reporter_key_the_acknowledgement_is_plaintext_and_quotes_nothing() {
    let ms = MailServers::start();
    let env = setup(&ms, "");
    let subject = "Stored XSS in the walrus dashboard";
    let title = "Walrus dashboard stored XSS via the nickname field";
    let summary = "The narwhal nickname is rendered unescaped on the walrus dashboard.";
    let body = format!(
        "Title: {title}\r\nSummary: {summary}\r\nSteps to reproduce: set the nickname to <script>\r\n\
         Credit: Quentin Quokka\r\n\r\nRegards,\r\nQuentin Quokka\r\n"
    );
    let raw = format!(
        "{}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}",
        headers("Quentin Quokka <reporter@example.net>", subject, "plain-1@example.net")
    );
    smtp_send(&env, &ms, REPORTER, SECURITY, &raw);
    wait_inbox(&ms, 1);
    fetch(&env, &ms);
    let r = report_by_message_id(&env, &ms, "plain-1@example.net");
    let id = r["id"].as_str().unwrap().to_string();
    let title_got = r["fields"]["title"].as_str().unwrap_or(title).to_string();
    let summary_got = r["fields"]["summary"].as_str().unwrap_or(summary).to_string();

    let v = json(ok(&vmo(&env, &ms).args(["ack", &id, "--json"]).output().unwrap()));
    assert_eq!((v["replies"][0]["encrypted"].as_bool(), v["replies"][0]["echo"].as_bool()), (Some(false), Some(false)));
    assert_eq!(v["delivery"]["sent"], 1, "{v:#}");
    let inbox = wait_for(&ms, REPORTER, "", 1);
    assert_eq!(inbox.len(), 1);
    let m = parse(&inbox[0]);
    let ct = m.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("text", Some("plain")));
    assert_eq!(m.subject(), Some(format!("Re: [{id}] your security report").as_str()));
    assert_eq!(m.in_reply_to().as_text(), Some("plain-1@example.net"));
    // Decoded (quoted-printable) text and the raw bytes alike.
    let text = m.body_text(0).unwrap().to_string();
    assert!(text.contains(&id) && text.contains("not encrypted"), "{text}");
    for words in
        [subject, title, &title_got, summary, &summary_got, "Quentin", "Quokka", "walrus", "narwhal", "<script>"]
    {
        assert!(!text.contains(words), "the plaintext reply quotes {words:?}:\n{text}");
        assert!(!contains(&inbox[0], words.as_bytes()), "the raw reply carries {words:?}");
    }
    assert_eq!(show(&env, &ms, &id)["state"], "acknowledged");
}

#[test]
fn an_acknowledgement_is_no_decryption_oracle() {
    let ms = MailServers::start();
    let env = setup(&ms, "[ack]\nauto = true\n");
    let rita = Person::new(&env, "Rita Reporter", REPORTER);
    let oscar = Person::new(&env, "Oscar Other", OTHER);
    let run = || {
        let o = vmo(&env, &ms).args(["run", "--json"]).output().unwrap();
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        o
    };

    // (b) The legitimate report: signed by the From address's key, the encrypted part
    // is the root. `run` fetches, acknowledges automatically and delivers; the reply
    // quotes the title.
    let title = "Capybara token leak in the export endpoint";
    let c1 = rita.encrypt_to_team(&inner_report("Token leak in export", title, "The capybara token leaks."), true);
    let h = headers("Rita Reporter <reporter@example.net>", "...", "legit-1@example.net")
        + &autocrypt(REPORTER, &rita.export());
    let legit = pgp_mime(&h, &c1);
    smtp_send(&env, &ms, REPORTER, SECURITY, &legit);
    wait_inbox(&ms, 1);
    run();
    let inbox = wait_for(&ms, REPORTER, "", 1);
    assert_eq!(inbox.len(), 1, "{}", ms.logs());
    let m = parse(&inbox[0]);
    assert_eq!(m.header_raw("Auto-Submitted").map(str::trim), Some("auto-replied"));
    let (status, plain) = rita.decrypt_reply(&inbox[0]);
    assert!(status.contains("GOODSIG"), "{status}");
    let text = parse(&plain).body_text(0).unwrap().to_string();
    assert!(text.contains(title), "bound: the title is echoed:\n{text}");

    // (a) The attacker wraps someone else's intercepted ciphertext (signed by Rita,
    // encrypted to the team) in a mail of their own: multipart/mixed with their text
    // around it and their key attached, so their reply is encrypted to them. The
    // automatic reply, delivered for real, tells them nothing of it.
    let secret_title = "Ocelot admin password reset bypass";
    let secret_summary = "Resetting the ocelot password skips the pangolin check.";
    let c2 = rita.encrypt_to_team(&inner_report("Reset bypass", secret_title, secret_summary), true);
    let wrapped = format!(
        "{}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b-mix\"\r\n\r\n--b-mix\r\n\
         Content-Type: text/plain\r\n\r\nHello, please have a look at the report below.\r\n--b-mix\r\n\
         Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b-enc\"\r\n\r\n\
         --b-enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b-enc\r\n\
         Content-Type: application/octet-stream\r\n\r\n{c2}\r\n--b-enc--\r\n--b-mix\r\n\
         Content-Type: application/pgp-keys; name=\"oscar.asc\"\r\n\
         Content-Disposition: attachment; filename=\"oscar.asc\"\r\n\r\n{}\r\n--b-mix--\r\n",
        headers("Oscar Other <other@example.com>", "Fwd: a report", "wrapped-1@example.com"),
        oscar.export_armored().replace("\r\n", "\n").replace('\n', "\r\n"),
    );
    smtp_send(&env, &ms, OTHER, SECURITY, &wrapped);
    wait_inbox(&ms, 2);
    run();
    let got = wait_for(&ms, OTHER, "", 1);
    assert_eq!(got.len(), 1, "the attacker got an (encrypted) automatic reply: {}", ms.logs());
    let r = report_by_message_id(&env, &ms, "wrapped-1@example.com");
    assert_eq!(r["encryption"]["status"], "decrypted", "the team did decrypt it: {r:#}");
    let (_, plain) = oscar.decrypt_reply(&got[0]);
    let plain = String::from_utf8_lossy(&plain).into_owned();
    let inner = parse(plain.as_bytes());
    let text = inner.body_text(0).unwrap().to_string();
    assert!(text.contains(r["id"].as_str().unwrap()), "the reply carries the report id:\n{text}");
    let rendered = format!("{}\n{text}\n{plain}", inner.subject().unwrap_or_default());
    for words in [secret_title, secret_summary, "Reset bypass", "Ocelot", "ocelot", "pangolin", "Rita"] {
        assert!(!rendered.contains(words), "the reply tells the attacker {words:?}:\n{rendered}");
    }
    assert_eq!(inner.subject(), Some(format!("Re: [{}] your security report", r["id"].as_str().unwrap()).as_str()));

    // More unbound shapes, previewed (the attacker already had their automatic reply):
    // the ciphertext as the root but signed by someone else, and an inline block with
    // text around it. Both decrypt; neither echoes, though the reply would be encrypted.
    let c3 = rita.encrypt_to_team(&inner_report("Root but not yours", "Tapir root title", "tapir"), true);
    let h = headers("Oscar Other <other@example.com>", "...", "root-1@example.com");
    smtp_send(&env, &ms, OTHER, SECURITY, &pgp_mime(&h, &c3));
    let c4 = rita.encrypt_to_team("Title: Inline tapir title\r\nSummary: an inline tapir\r\n", true);
    let inline = format!(
        "{}MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n\r\n{c4}\r\nThanks!\r\n",
        headers("Oscar Other <other@example.com>", "inline", "inline-1@example.com")
    );
    smtp_send(&env, &ms, OTHER, SECURITY, &inline);
    // (c) The legitimate message again, a new Message-ID but the same ciphertext: bound
    // in every other respect, it echoes nothing.
    let replay = legit.replace("legit-1@example.net", "legit-2@example.net");
    smtp_send(&env, &ms, REPORTER, SECURITY, &replay);
    wait_inbox(&ms, 5);
    fetch(&env, &ms);
    for mid in ["root-1@example.com", "inline-1@example.com", "legit-2@example.net"] {
        let r = report_by_message_id(&env, &ms, mid);
        assert_eq!(r["encryption"]["status"], "decrypted", "{mid}: {r:#}");
        let p = preview(&env, &ms, r["id"].as_str().unwrap());
        assert_eq!((p["encrypted"].as_bool(), p["echo"].as_bool()), (Some(true), Some(false)), "{mid}: {p:#}");
        let all = format!("{}\n{}", p["subject"], p["body"]);
        for words in ["tapir", "Tapir", title, "Capybara", "capybara", "Rita"] {
            assert!(!all.contains(words), "{mid}: the reply would echo {words:?}:\n{all}");
        }
    }
    let replay_r = report_by_message_id(&env, &ms, "legit-2@example.net");
    let legit_r = report_by_message_id(&env, &ms, "legit-1@example.net");
    assert_ne!(replay_r["id"], legit_r["id"], "the replay joins nothing");
    // Nothing more went out: the attacker's and the replay's automatic replies are
    // rate-limited, the previews send nothing.
    assert_eq!(wait_for(&ms, OTHER, "", 1).len(), 1);
    assert_eq!(maildir(&ms, REPORTER, "").len(), 1);
}

/// Wait for Postfix to log the delivery of `message_id`; the log lines of its queue id.
fn postfix_lines(ms: &MailServers, message_id: &str) -> Vec<String> {
    let log = PathBuf::from(ms.get("MS_POSTFIX_LOG"));
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let qid = text
            .lines()
            .find(|l| l.contains(&format!("message-id=<{message_id}>")))
            .and_then(|l| l.split(": ").nth(1))
            .map(str::to_string);
        if let Some(q) = qid {
            let lines: Vec<String> = text.lines().filter(|l| l.contains(&format!("{q}: "))).map(String::from).collect();
            if lines.iter().any(|l| l.contains(": removed")) || start.elapsed() > Duration::from_secs(20) {
                return lines;
            }
        } else if start.elapsed() > Duration::from_secs(20) {
            panic!("Postfix never saw <{message_id}>:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_note_with_crlf_adds_no_header_and_no_recipient_and_dots_arrive_whole() {
    let ms = MailServers::start();
    let env = setup(&ms, "");
    let templates = env.config_file().parent().unwrap().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("ack.txt"),
        "Subject: Re: [{{ report.id }}] {{ note }}\n\nThe note:\n{{ note }}\nEnd of the note.\n",
    )
    .unwrap();
    let raw = format!(
        "{}MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nTitle: x\r\nSummary: y\r\n",
        headers("<reporter@example.net>", "A report", "inj-1@example.net")
    );
    smtp_send(&env, &ms, REPORTER, SECURITY, &raw);
    wait_inbox(&ms, 1);
    fetch(&env, &ms);
    let id = report_ids(&env, &ms).remove(0);

    let note = "x\r\nBcc: other@example.com";
    let v = json(ok(&vmo(&env, &ms).args(["ack", &id, "--json", "--note", note]).output().unwrap()));
    assert_eq!(v["delivery"]["sent"], 1, "{v:#}");
    let our_id = v["replies"][0]["message_id"].as_str().unwrap().to_string();
    let inbox = wait_for(&ms, REPORTER, "", 1);
    assert_eq!(inbox.len(), 1);
    let m = parse(&inbox[0]);
    let subject = m.subject().unwrap();
    assert_eq!(subject, format!("Re: [{id}] x Bcc: other@example.com"), "one line, the value as text");
    let head = header_section(&inbox[0]);
    assert!(!head.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "a Bcc header: {head}");
    assert!(m.bcc().is_none());
    // The message as vulnmail sent it (the copy in Sent did not pass through Postfix,
    // which might strip a Bcc header): no Bcc there either.
    let sent = maildir(&ms, SECURITY, "Sent");
    let copy = with_message_id(&sent, &our_id);
    assert_eq!(copy.len(), 1);
    let head = header_section(copy[0]);
    assert!(!head.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "a Bcc header: {head}");
    // One recipient: Postfix logged one delivery, and other@example.com got nothing.
    let lines = postfix_lines(&ms, &our_id);
    let to: Vec<&String> = lines.iter().filter(|l| l.contains(" to=<")).collect();
    assert_eq!(to.len(), 1, "one recipient: {lines:#?}");
    assert!(to[0].contains("to=<reporter@example.net>") && to[0].contains("status=sent"), "{lines:#?}");
    assert!(wait_for(&ms, OTHER, "", 1).is_empty(), "other@example.com got a copy");

    // A note with "\n.\n", a line holding only ".", and dot-led lines arrives whole
    // (RUSTSEC-2026-0561: a bare LF then "." would end the DATA early).
    let note = "first\n.\nsecond\r\n.\r\n..two dots\n.leading dot\nlast";
    let v = json(ok(&vmo(&env, &ms).args(["ack", &id, "--json", "--force", "--note", note]).output().unwrap()));
    assert_eq!(v["delivery"]["sent"], 1, "{v:#}");
    let our_id = v["replies"][0]["message_id"].as_str().unwrap().to_string();
    let inbox = wait_for(&ms, REPORTER, "", 2);
    let got = with_message_id(&inbox, &our_id);
    assert_eq!(got.len(), 1);
    let m = parse(got[0]);
    let body = m.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(body, "The note:\nfirst\n.\nsecond\n.\n..two dots\n.leading dot\nlast\nEnd of the note.\n");
    assert!(m.subject().unwrap().ends_with("first . second . ..two dots .leading dot last"), "{:?}", m.subject());
}

#[test]
fn a_template_error_names_the_file_and_line_and_queues_nothing() {
    let env = Env::new();
    env.init();
    let file = env.work().join("report.eml");
    std::fs::write(
        &file,
        format!(
            "{}MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nTitle: x\r\nSummary: y\r\n",
            headers("<reporter@example.net>", "A report", "tpl-1@example.net")
        ),
    )
    .unwrap();
    ok(&env.vmp().arg("import").arg(&file).output().unwrap());
    let v = json(ok(&env.vmp().args(["list", "--json"]).output().unwrap()));
    let id = v[0]["id"].as_str().unwrap().to_string();

    let templates = env.config_file().parent().unwrap().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let path = templates.join("ack.txt");
    std::fs::write(&path, "Subject: Re: [{{ report.id }}]\n\nHello,\n{% if %}\nbroken\n{% endif %}\n").unwrap();
    for preview in [false, true] {
        let mut c = env.vmp();
        c.args(["ack", &id]);
        if preview {
            c.arg("--preview");
        }
        let o = c.output().unwrap();
        let err = stderr(&o);
        assert!(matches!(o.status.code(), Some(1 | 2)), "{:?}: {err}", o.status);
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(path.to_str().unwrap()) && err.contains("line 4"), "names the file and line: {err}");
        assert!(err.contains("syntax error"), "{err}");
    }
    let v = json(ok(&env.vmp().args(["outbox", "--json"]).output().unwrap()));
    assert_eq!(v.as_array().unwrap().len(), 0, "nothing queued: {v}");
    assert_eq!(json(ok(&env.vmp().args(["show", &id, "--json"]).output().unwrap()))["state"], "new");

    // An undefined variable in an override of another template: also file and line.
    std::fs::write(templates.join("triaged.txt"), "Subject: {{ report.id }}\n\nline 3\n{{ report.severty }}\n")
        .unwrap();
    let o = env.vmp().args(["ack", &id, "--template", "triaged"]).output().unwrap();
    let err = stderr(&o);
    assert!(matches!(o.status.code(), Some(1 | 2)), "{err}");
    assert!(err.contains("triaged.txt") && err.contains("line 4") && err.contains("undefined"), "{err}");
    let v = json(ok(&env.vmp().args(["outbox", "--json"]).output().unwrap()));
    assert_eq!(v.as_array().unwrap().len(), 0, "nothing queued: {v}");
}

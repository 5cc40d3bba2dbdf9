//! `vulnmail fetch`, `import`, `watch` and `messages` against a real Dovecot on
//! 127.0.0.1: incremental sync, faults, crashes, TLS refusals, concurrency.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::common::*;
use crate::mailservers::MailServers;
use crate::proxy::{Faults, Proxy};

/// An initialised vulnmail whose [imap] points at the security inbox.
fn setup(ms: &MailServers) -> Env {
    let env = Env::new();
    env.init();
    configure(&env, ms, "MS_IMAPS_PORT", "implicit", "");
    env
}

fn configure(env: &Env, ms: &MailServers, port_key: &str, tls: &str, extra: &str) {
    configure_at(env, ms, port_key, tls, ms.port(port_key), extra);
}

/// The [imap] section for the server at `port_key`, but connecting to `port` (a proxy).
fn configure_at(env: &Env, ms: &MailServers, port_key: &str, tls: &str, port: u16, extra: &str) {
    let cfg = std::fs::read_to_string(env.config_file()).unwrap();
    let base = cfg.split("\n[imap]").next().unwrap().split("\n[store]").next().unwrap().to_string();
    let section =
        ms.imap_section(port_key, tls).replace(&format!("port = {}", ms.port(port_key)), &format!("port = {port}"));
    std::fs::write(env.config_file(), format!("{base}\n{section}{extra}\n[store]\ncache_seconds = 0\n")).unwrap();
}

fn with_port(env: &Env, ms: &MailServers, port: u16, extra: &str) {
    configure_at(env, ms, "MS_IMAPS_PORT", "implicit", port, extra);
}

fn vmf(env: &Env, ms: &MailServers) -> assert_cmd::Command {
    assert_cmd::Command::from_std(vmf_std(env, ms))
}

/// The same, for spawning in the background.
fn vmf_std(env: &Env, ms: &MailServers) -> std::process::Command {
    let mut c = env.std_vm();
    c.env("VULNMAIL_PASSPHRASE", PASS).env("VULNMAIL_IMAP_PASSWORD", ms.get("MS_SECURITY_PASS"));
    c
}

/// `n` report-like messages (a few KB, CRLF), numbered from `start`.
fn make_reports(dir: &Path, start: usize, n: usize, tag: &str) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (start..start + n)
        .map(|i| {
            let p = dir.join(format!("{tag}-{i:05}.eml"));
            let mut body = String::new();
            for line in 0..40 {
                body.push_str(&format!("Step {line}: send the crafted request number {i} to /admin?q={line}\r\n"));
            }
            let msg = format!(
                "From: Reporter {i} <reporter{i}@example.net>\r\nTo: security@example.org\r\n\
                 Subject: Report {tag} {i}: stored XSS\r\nMessage-ID: <{tag}-{i}@example.net>\r\n\
                 Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\nSummary: issue {i}\r\n{body}"
            );
            std::fs::write(&p, msg).unwrap();
            p
        })
        .collect()
}

fn sha(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// The store, opened through the library with the team key.
fn open_store(env: &Env) -> vulnmail::store::Store {
    use vulnmail::openpgp::keys;
    let tsk = keys::read_tsk(&env.secret_key()).unwrap();
    let unlocked = keys::unlock(&tsk, Some(&sequoia_openpgp::crypto::Password::from(PASS))).unwrap();
    let key = vulnmail::store::key::unwrap(&env.data(), &[unlocked], std::time::SystemTime::now()).unwrap();
    vulnmail::store::Store::open(&vulnmail::store::db_path(&env.data()), &key.0).unwrap()
}

/// sha256 of every stored raw message; panics on a duplicate.
fn stored_hashes(env: &Env) -> BTreeSet<[u8; 32]> {
    let store = open_store(env);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let mut set = BTreeSet::new();
    for row in store.list_messages().unwrap() {
        if let Some(raw) = store.raw(row.id).unwrap() {
            assert!(set.insert(sha(&raw)), "message {} stored twice", row.id);
        }
    }
    set
}

fn file_hashes(files: &[PathBuf]) -> BTreeSet<[u8; 32]> {
    files.iter().map(|f| sha(&std::fs::read(f).unwrap())).collect()
}

fn fetch_json(env: &Env, ms: &MailServers) -> serde_json::Value {
    let o = vmf(env, ms).args(["fetch", "--json"]).output().unwrap();
    json(ok(&o))
}

#[test]
fn incremental_fetch_gets_exactly_the_new_messages_byte_identical() {
    let ms = MailServers::start();
    let env = setup(&ms);
    let first = make_reports(&env.path("mail"), 0, 30, "inc");
    ms.deliver("security@example.org", &first);
    let v = fetch_json(&env, &ms);
    assert_eq!(v["new"], 30, "{v}");
    let more = make_reports(&env.path("mail"), 30, 20, "inc");
    ms.deliver("security@example.org", &more);
    let v = fetch_json(&env, &ms);
    assert_eq!((v["new"].as_u64(), v["duplicate"].as_u64()), (Some(20), Some(0)), "{v}");
    let v = fetch_json(&env, &ms);
    assert_eq!(v["new"], 0, "a third run fetches nothing: {v}");
    assert_eq!(v["mailboxes"][0]["batches"], 0, "no FETCH at all on a no-op: {v}");

    let all: Vec<PathBuf> = first.iter().chain(&more).cloned().collect();
    assert_eq!(stored_hashes(&env), file_hashes(&all), "byte-identical to what the server holds");

    // BODY.PEEK: the server's \Seen flags are untouched.
    let flags = ms.doveadm(&["fetch", "-u", "security@example.org", "flags", "mailbox", "INBOX"]);
    assert!(!flags.contains("\\Seen"), "{flags}");

    // The text summary is one line; the listing is sanitised and complete.
    ms.deliver("security@example.org", &make_reports(&env.path("mail"), 50, 1, "inc"));
    let o = vmf(&env, &ms).arg("fetch").output().unwrap();
    let line = stdout(ok(&o));
    assert_eq!(line.trim_end().lines().count(), 1, "{line}");
    assert!(line.starts_with("fetched 1 new, 0 already stored, 0 oversize in "), "{line}");
    let v = json(&env.vm().args(["messages", "--json"]).env("VULNMAIL_PASSPHRASE", PASS).output().unwrap());
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 51);
    assert_eq!(rows[0]["mailbox"], "INBOX");
    assert_eq!(rows[0]["uid"], 1);
    assert!(rows[0]["subject"].as_str().unwrap().starts_with("Report inc 0"));
}

#[test]
fn the_store_holds_no_plaintext_and_no_password() {
    let ms = MailServers::start();
    let env = setup(&ms);
    let p = env.path("marker.eml");
    std::fs::write(&p, "From: a@example.net\r\nSubject: x\r\n\r\nUNIQUE-MARKER-7f1c9e plaintext report body\r\n")
        .unwrap();
    ms.deliver("security@example.org", &[p]);
    let o = vmf(&env, &ms).args(["-vv", "fetch"]).output().unwrap();
    ok(&o);
    let pass = ms.get("MS_SECURITY_PASS");
    assert!(!stderr(&o).contains(pass) && !stdout(&o).contains(pass));
    for entry in std::fs::read_dir(env.data()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            let hay = String::from_utf8_lossy(&bytes);
            assert!(!hay.contains("UNIQUE-MARKER-7f1c9e"), "{} holds report plaintext", path.display());
            assert!(!hay.contains(pass), "{} holds the IMAP password", path.display());
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    // Through the library (decrypted), the message is there.
    assert_eq!(stored_hashes(&env).len(), 1);
}

#[test]
fn a_connection_cut_anywhere_loses_nothing_and_duplicates_nothing() {
    let ms = MailServers::start();
    let env = setup(&ms);
    let files = make_reports(&env.path("mail"), 0, 300, "cut");
    ms.deliver("security@example.org", &files);
    // Learn how many bytes a whole fetch takes, through a recording proxy.
    let probe_env = setup(&ms);
    let probe = Proxy::start(ms.port("MS_IMAPS_PORT"), Faults::default());
    with_port(&probe_env, &ms, probe.port, "");
    ok(&vmf(&probe_env, &ms).arg("fetch").output().unwrap());
    let total = probe.server_bytes.load(std::sync::atomic::Ordering::Relaxed);
    assert!(total > 300 * 2000, "{total}");

    // Cut during the TLS handshake, after login, inside FETCH literals (several
    // places), and near the end.
    for cut in [200, 3_000, total / 5, total / 3 + 777, total / 2, total * 3 / 4 + 1, total - 100] {
        let proxy = Proxy::start(ms.port("MS_IMAPS_PORT"), Faults { cut_after: Some(cut), ..Faults::default() });
        with_port(&env, &ms, proxy.port, "");
        let o = vmf(&env, &ms).arg("fetch").output().unwrap();
        if !o.status.success() {
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "cut at {cut}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        }
        // Whatever was committed is consistent.
        let partial = stored_hashes(&env);
        assert!(partial.is_subset(&file_hashes(&files)));
    }
    configure(&env, &ms, "MS_IMAPS_PORT", "implicit", "");
    ok(&vmf(&env, &ms).arg("fetch").output().unwrap());
    assert_eq!(stored_hashes(&env), file_hashes(&files), "every message exactly once, byte-identical");
}

#[test]
fn killed_at_twenty_random_moments_a_rerun_completes_with_nothing_lost_or_doubled() {
    let ms = MailServers::start();
    let template = setup(&ms);
    let files = make_reports(&template.path("mail"), 0, 2000, "kill");
    ms.deliver("security@example.org", &files);
    let want = file_hashes(&files);
    // How long a whole fetch takes here, to spread the kills over it.
    let t0 = Instant::now();
    ok(&vmf(&template, &ms).arg("fetch").output().unwrap());
    let full = t0.elapsed().max(Duration::from_millis(200));

    let mut seed: u64 = std::env::var("VULNMAIL_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1234);
    eprintln!("kill test seed {seed}, full fetch {full:?}");
    let mut killed_mid_way = 0;
    for round in 0..20 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let at = Duration::from_micros((seed >> 33) % (full.as_micros() as u64 * 11 / 10).max(1));
        let env = Env::new();
        copy_dir(&template.path("config"), &env.path("config"));
        copy_dir(&template.data().join("keys"), &env.data().join("keys"));
        std::fs::copy(template.data().join("store.key.pgp"), env.data().join("store.key.pgp")).unwrap();
        // Each round starts from an empty store (same key).
        let mut child = vmf_std(&env, &ms).arg("fetch").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_none() {
            killed_mid_way += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let o = vmf(&env, &ms).arg("fetch").output().unwrap();
        assert!(o.status.success(), "round {round} (killed at {at:?}): rerun failed: {}", stderr(&o));
        assert_eq!(stored_hashes(&env), want, "round {round}: killed at {at:?}");
    }
    assert!(killed_mid_way >= 10, "most kills should land during the fetch ({killed_mid_way}/20)");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
    set_mode(to, 0o700);
}

#[test]
fn a_uidvalidity_reset_duplicates_nothing() {
    let ms = MailServers::start();
    let env = setup(&ms);
    let files = make_reports(&env.path("mail"), 0, 40, "uv");
    ms.deliver_to("security@example.org", Some("Reports"), &files);
    configure(&env, &ms, "MS_IMAPS_PORT", "implicit", "");
    let cfg = std::fs::read_to_string(env.config_file())
        .unwrap()
        .replace("mailboxes = [\"INBOX\"]", "mailboxes = [\"Reports\"]");
    std::fs::write(env.config_file(), cfg).unwrap();
    let v = fetch_json(&env, &ms);
    assert_eq!(v["new"], 40);
    let before = v["mailboxes"][0]["uidvalidity"].as_u64().unwrap();
    // The mailbox is recreated with the same messages: new UIDVALIDITY, new UIDs.
    ms.doveadm(&["mailbox", "delete", "-u", "security@example.org", "Reports"]);
    std::thread::sleep(Duration::from_millis(1100)); // UIDVALIDITY is time-based in Dovecot
    ms.deliver_to("security@example.org", Some("Reports"), &files);
    let v = fetch_json(&env, &ms);
    let m = &v["mailboxes"][0];
    assert_ne!(m["uidvalidity"].as_u64().unwrap(), before, "{v}");
    assert_eq!(m["uidvalidity_changed"], true);
    assert_eq!((v["new"].as_u64(), v["duplicate"].as_u64()), (Some(0), Some(40)), "{v}");
    assert_eq!(stored_hashes(&env), file_hashes(&files));
    let v = fetch_json(&env, &ms);
    assert_eq!((v["new"].as_u64(), v["duplicate"].as_u64()), (Some(0), Some(0)), "{v}");
}

#[test]
fn dovecot_stopped_mid_sync_gives_a_clear_error_and_the_next_run_resumes() {
    let ms = MailServers::start();
    let env = setup(&ms);
    // Large enough (about 30 MB) that the kernel's socket buffers cannot hold
    // the rest of the fetch when the server goes away.
    let files = make_reports(&env.path("mail"), 0, 1500, "stop");
    for f in &files {
        let mut text = std::fs::read(f).unwrap();
        text.extend(
            std::iter::repeat_n(b"padding padding padding padding padding padding padding padding\r\n".as_slice(), 300)
                .flatten(),
        );
        std::fs::write(f, text).unwrap();
    }
    ms.deliver("security@example.org", &files);
    // A slow link, so that the server can be stopped while the fetch runs.
    let proxy = Proxy::start(
        ms.port("MS_IMAPS_PORT"),
        Faults { delay_per_chunk: Some(Duration::from_millis(5)), chunk: Some(16384), ..Faults::default() },
    );
    with_port(&env, &ms, proxy.port, "");
    let child = vmf_std(&env, &ms).arg("fetch").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(900));
    ms.stop_imap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "stdout {} stderr {}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("run again to resume"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let partial = stored_hashes(&env);
    assert!(partial.len() < files.len(), "the stop came too late to test anything");
    assert!(partial.is_subset(&file_hashes(&files)));
    // The cursor covers exactly what is stored: a prefix of the UIDs.
    let store = open_store(&env);
    let state = store.mailbox_state("INBOX").unwrap();
    let stored_uids: BTreeSet<u32> = store.list_messages().unwrap().iter().filter_map(|r| r.uid).collect();
    if let Some(s) = state {
        assert_eq!(stored_uids, (1..=s.last_uid).collect(), "no partial batch");
    } else {
        assert!(stored_uids.is_empty());
    }
    ms.start_imap();
    configure(&env, &ms, "MS_IMAPS_PORT", "implicit", "");
    ok(&vmf(&env, &ms).arg("fetch").output().unwrap());
    assert_eq!(stored_hashes(&env), file_hashes(&files));
}

/// Run a fetch through a recording proxy and return (output, bytes the client sent).
fn fetch_via_recorder(env: &Env, ms: &MailServers, target_key: &str, tls: &str) -> (std::process::Output, Vec<u8>) {
    let proxy = Proxy::start(ms.port(target_key), Faults::default());
    configure_at(env, ms, target_key, tls, proxy.port, "");
    let o = vmf(env, ms).arg("fetch").output().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    (o, proxy.client_sent())
}

#[test]
fn tls_and_login_failures_are_refused_before_any_credential_is_sent() {
    let ms = MailServers::start();
    let env = setup(&ms);
    let pass = ms.get("MS_SECURITY_PASS").as_bytes().to_vec();
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    for (port, tls, needle) in [
        ("MS_IMAPS_UNTRUSTED_PORT", "implicit", "not issued by a trusted CA"),
        ("MS_IMAPS_EXPIRED_PORT", "implicit", "certificate has expired"),
        ("MS_IMAP_STARTTLS_PORT", "implicit", "did not answer with TLS"),
        ("MS_IMAP_NOTLS_PORT", "starttls", "does not offer STARTTLS"),
    ] {
        let (o, sent) = fetch_via_recorder(&env, &ms, port, tls);
        one_line_error(&o, if needle.contains("STARTTLS") { 2 } else { 1 }, needle);
        assert!(!contains(&sent, &pass), "{port}: the password crossed the wire");
        assert!(!contains(&sent, b"LOGIN"), "{port}: LOGIN was sent");
    }
    // STARTTLS done right works, and the password only travels inside TLS.
    let (o, sent) = fetch_via_recorder(&env, &ms, "MS_IMAP_STARTTLS_PORT", "starttls");
    ok(&o);
    assert!(!contains(&sent, &pass) && contains(&sent, b"STARTTLS"));
    // A wrong password: refused by the server, named as such.
    configure(&env, &ms, "MS_IMAPS_PORT", "implicit", "");
    let o = env.vmp().env("VULNMAIL_IMAP_PASSWORD", "wrong-password").arg("fetch").output().unwrap();
    one_line_error(&o, 2, "refused the login");
    // Plaintext only when explicitly allowed, and then only to loopback.
    configure(&env, &ms, "MS_IMAP_NOTLS_PORT", "none", "");
    let o = vmf(&env, &ms).arg("fetch").output().unwrap();
    one_line_error(&o, 2, "allow_plaintext");
    configure(&env, &ms, "MS_IMAP_NOTLS_PORT", "none", "allow_plaintext = true\n");
    ok(&vmf(&env, &ms).arg("fetch").output().unwrap());
}

#[test]
fn the_password_never_appears_in_process_arguments() {
    let ms = MailServers::start();
    let env = setup(&ms);
    let mut child = vmf_std(&env, &ms)
        .args(["watch", "--idle-seconds", "10"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let pass = ms.get("MS_SECURITY_PASS");
    assert!(!String::from_utf8_lossy(&cmdline).contains(pass));
    assert!(String::from_utf8_lossy(&cmdline).contains("watch"));
}

#[test]
fn two_fetches_at_once_one_waits_or_exits_and_nothing_is_corrupted() {
    let ms = MailServers::start();
    let env = setup(&ms);
    let files = make_reports(&env.path("mail"), 0, 600, "two");
    ms.deliver("security@example.org", &files);
    let proxy = Proxy::start(
        ms.port("MS_IMAPS_PORT"),
        Faults { delay_per_chunk: Some(Duration::from_millis(5)), ..Faults::default() },
    );
    with_port(&env, &ms, proxy.port, "");
    let first = vmf_std(&env, &ms).arg("fetch").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let second = vmf(&env, &ms).args(["fetch", "--wait", "0"]).output().unwrap();
    let waiting = vmf_std(&env, &ms).args(["fetch", "--wait", "120"]).output().unwrap();
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert!(stderr(&second).contains("another vulnmail is writing to the store"), "{}", stderr(&second));
    assert!(stderr(&second).contains("`vulnmail fetch`") && stderr(&second).contains("pid "), "{}", stderr(&second));
    assert!(waiting.status.success(), "the waiting one goes on after the first: {}", stderr(&waiting));
    assert_eq!(stored_hashes(&env), file_hashes(&files));
    // Readers never block: listing works while a writer holds the lock.
    let _lock = vulnmail::store::WriteLock::acquire(&env.data(), "test", Duration::ZERO).unwrap();
    let o = env.vmp().args(["messages", "--json"]).output().unwrap();
    assert_eq!(json(ok(&o)).as_array().unwrap().len(), 600);
}

#[test]
fn importing_maildir_and_mbox_copies_of_fetched_mail_adds_nothing() {
    let ms = MailServers::start();
    let env = setup(&ms);
    let files = make_reports(&env.path("mail"), 0, 25, "imp");
    ms.deliver("security@example.org", &files);
    assert_eq!(fetch_json(&env, &ms)["new"], 25);
    // The server's own Maildir (LF or CRLF as Dovecot keeps it).
    let maildir = Path::new(ms.get("MS_MAIL_DIR")).join("security@example.org/Maildir");
    let maildir = if maildir.is_dir() { maildir } else { find_maildir(Path::new(ms.get("MS_MAIL_DIR"))) };
    // An mbox export of the same messages, LF line endings, with a >From line quoted.
    let mut mbox = Vec::new();
    for f in &files {
        let text = String::from_utf8(std::fs::read(f).unwrap()).unwrap().replace("\r\n", "\n");
        mbox.extend_from_slice(b"From reporter@example.net Tue Dec  1 09:00:00 2026\n");
        mbox.extend_from_slice(text.as_bytes());
        mbox.extend_from_slice(b"\n");
    }
    let mbox_path = env.path("export.mbox");
    std::fs::write(&mbox_path, &mbox).unwrap();
    let o = env.vmp().args(["import", "--json"]).arg(&maildir).arg(&mbox_path).arg(&files[0]).output().unwrap();
    let v = json(ok(&o));
    assert_eq!((v["new"].as_u64(), v["duplicate"].as_u64()), (Some(0), Some(51)), "{v}");
    // Something really new is imported once.
    let extra = make_reports(&env.path("mail"), 100, 1, "imp");
    let o = env.vmp().args(["import", "--json"]).arg(&extra[0]).arg(&extra[0]).output().unwrap();
    assert_eq!(json(ok(&o))["new"], 1);
    assert_eq!(stored_hashes(&env).len(), 26);
}

fn find_maildir(root: &Path) -> PathBuf {
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.join("cur").is_dir() && d.join("new").is_dir() {
            return d;
        }
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            }
        }
    }
    panic!("no Maildir under {}", root.display());
}

#[test]
fn an_oversize_message_is_kept_as_a_placeholder_and_fetched_later() {
    let ms = MailServers::start();
    let env = setup(&ms);
    configure(&env, &ms, "MS_IMAPS_PORT", "implicit", "max_message_size = \"20KiB\"\n");
    let big = env.path("big.eml");
    let body = "A".repeat(76) + "\r\n";
    std::fs::write(&big, format!("From: a@example.net\r\nSubject: huge PoC\r\n\r\n{}", body.repeat(1000))).unwrap();
    let small = make_reports(&env.path("mail"), 0, 2, "os");
    ms.deliver("security@example.org", &[small[0].clone(), big.clone(), small[1].clone()]);
    let v = fetch_json(&env, &ms);
    assert_eq!((v["new"].as_u64(), v["oversize"].as_u64()), (Some(2), Some(1)), "{v}");
    let o = env.vmp().arg("messages").output().unwrap();
    let text = stdout(ok(&o));
    assert!(text.contains("oversize: ") && text.contains("byte limit"), "{text}");
    let v = fetch_json(&env, &ms);
    assert_eq!(v["oversize"], 0, "a placeholder is not recounted: {v}");
    let o = vmf(&env, &ms).args(["fetch", "--json", "--max-size", "1MiB"]).output().unwrap();
    let v = json(ok(&o));
    assert_eq!(v["new"], 1, "{v}");
    let mut want = file_hashes(&small);
    want.insert(sha(&std::fs::read(&big).unwrap()));
    assert_eq!(stored_hashes(&env), want);
    let v = json(&env.vmp().args(["messages", "--json"]).output().unwrap());
    assert!(v.as_array().unwrap().iter().all(|r| r["state"] == "stored"), "{v}");
}

#[test]
fn after_store_keyword_is_set_only_when_configured() {
    let ms = MailServers::start();
    let env = setup(&ms);
    configure(&env, &ms, "MS_IMAPS_PORT", "implicit", "mark_stored = \"$VulnmailStored\"\n");
    ms.deliver("security@example.org", &make_reports(&env.path("mail"), 0, 3, "kw"));
    assert_eq!(fetch_json(&env, &ms)["new"], 3);
    let flags = ms.doveadm(&["fetch", "-u", "security@example.org", "flags", "mailbox", "INBOX"]);
    assert_eq!(flags.matches("$VulnmailStored").count(), 3, "{flags}");
    assert!(!flags.contains("\\Seen"), "{flags}");
}

#[test]
fn watch_fetches_new_mail_survives_a_server_restart_and_stops_on_sigterm() {
    let ms = MailServers::start();
    let env = setup(&ms);
    ms.deliver("security@example.org", &make_reports(&env.path("mail"), 0, 2, "w"));
    let child = vmf_std(&env, &ms)
        .args(["watch", "--max-backoff", "2", "--tick-ms", "200"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let count = |env: &Env| -> usize {
        let o = env.vmp().args(["messages", "--json"]).output().unwrap();
        if !o.status.success() {
            return 0;
        }
        json(&o).as_array().map(|a| a.len()).unwrap_or(0)
    };
    let wait_for = |n: usize, what: &str| {
        let start = Instant::now();
        while count(&env) < n {
            assert!(start.elapsed() < Duration::from_secs(60), "watch did not fetch {what}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait_for(2, "the initial messages");
    ms.deliver("security@example.org", &make_reports(&env.path("mail"), 2, 1, "w"));
    wait_for(3, "a message delivered while idle");
    ms.restart_imap();
    ms.deliver("security@example.org", &make_reports(&env.path("mail"), 3, 1, "w"));
    wait_for(4, "a message delivered after a server restart");
    let (status, out) = stop_with_sigterm(child);
    assert!(status.success(), "{status}: {}", stderr(&out));
    assert!(stdout(&out).contains("watch stopped; 4 new messages stored"), "{}", stdout(&out));
}

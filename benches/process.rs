//! Processing benchmark (issue: decrypt, verify and extract).
//!
//! `cargo bench --bench process` prints a Markdown table:
//! - 2,000 PGP/MIME encrypted reports: vulnmail's per-message processing cost
//!   (parse MIME, decrypt, extract) against the floor, a bare sequoia-openpgp
//!   decrypt loop over the same ciphertexts (target: at most 2x the floor);
//! - the speed-up over running `gpg --decrypt` and `sq decrypt` once per message
//!   (measured on a sample of 100 messages);
//! - peak memory (max RSS) of `vulnmail import` for a report carrying a 50 MiB
//!   encrypted attachment (target: at most 4x the attachment size).
//!
//! A benchmark, not a test: it reports, it does not fail.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use pgp::parse::Parse;
use pgp::parse::stream::{DecryptionHelper, DecryptorBuilder, MessageStructure, VerificationHelper};
use sequoia_openpgp as pgp;

const N: usize = 2000;
const SAMPLE: usize = 100;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys").join(name)
}

fn cert(name: &str) -> pgp::Cert {
    vulnmail::openpgp::keys::parse_certs(&std::fs::read(fixture(name)).unwrap()).unwrap().remove(0)
}

fn report_text(i: usize) -> String {
    let mut s = format!(
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHi team,\r\n\r\n## Summary\r\nStored XSS number {i} in the comment form.\r\n\r\n## Steps to reproduce\r\n"
    );
    for step in 0..30 {
        s.push_str(&format!("{step}. Send request {i}/{step} to https://example.org/admin?q={step}\r\n"));
    }
    s.push_str("\r\n## Impact\r\nSession theft.\r\n\r\nCVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N, CWE-79\r\n\r\nBest regards,\r\nAda\r\n");
    s
}

fn armored_encrypt(team: &pgp::Cert, data: &[u8]) -> Vec<u8> {
    let bin = vulnmail::openpgp::decrypt::encrypt_to(std::slice::from_ref(team), data, SystemTime::now()).unwrap();
    let mut w = pgp::armor::Writer::new(Vec::new(), pgp::armor::Kind::Message).unwrap();
    w.write_all(&bin).unwrap();
    w.finalize().unwrap()
}

/// Encrypt every text to the team key in one `gpg --multifile` run.
fn gpg_encrypt_all(texts: &[String]) -> Option<Vec<Vec<u8>>> {
    let dir = tempfile::tempdir().ok()?;
    let home = dir.path().join("g");
    std::fs::create_dir_all(&home).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).ok()?;
    }
    let ok = Command::new("gpg")
        .env("GNUPGHOME", &home)
        .args(["--batch", "--quiet", "--import"])
        .arg(fixture("team.pub.asc"))
        .status()
        .ok()?;
    if !ok.success() {
        return None;
    }
    let mut files = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let f = dir.path().join(format!("{i}.eml"));
        std::fs::write(&f, t).ok()?;
        files.push(f);
    }
    for chunk in files.chunks(500) {
        let st = Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args([
                "--batch",
                "--quiet",
                "--yes",
                "--trust-model",
                "always",
                "--armor",
                "-r",
                "security@example.org",
                "--multifile",
                "--encrypt",
            ])
            .args(chunk)
            .status()
            .ok()?;
        if !st.success() {
            return None;
        }
    }
    files.iter().map(|f| std::fs::read(f.with_extension("eml.asc")).ok()).collect()
}

fn pgp_mime(i: usize, armored: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "From: Ada <ada@example.net>\r\nTo: security@example.org\r\nSubject: Security report {i}\r\nMessage-ID: <bench-{i}@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    m.extend_from_slice(armored);
    m.extend_from_slice(b"\r\n--b--\r\n");
    m
}

struct Bare<'a> {
    key: &'a pgp::Cert,
}
impl VerificationHelper for Bare<'_> {
    fn get_certs(&mut self, _: &[pgp::KeyHandle]) -> pgp::Result<Vec<pgp::Cert>> {
        Ok(Vec::new())
    }
    fn check(&mut self, _: MessageStructure) -> pgp::Result<()> {
        Ok(())
    }
}
impl DecryptionHelper for Bare<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[pgp::packet::PKESK],
        _: &[pgp::packet::SKESK],
        sym: Option<pgp::types::SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<pgp::types::SymmetricAlgorithm>, &pgp::crypto::SessionKey) -> bool,
    ) -> pgp::Result<Option<pgp::Cert>> {
        let p = pgp::policy::StandardPolicy::new();
        for ka in self.key.keys().with_policy(&p, None).secret().for_transport_encryption() {
            let mut pair = ka.key().clone().into_keypair()?;
            for pkesk in pkesks {
                if let Some((algo, sk)) = pkesk.decrypt(&mut pair, sym)
                    && decrypt(algo, &sk)
                {
                    return Ok(None);
                }
            }
        }
        Err(anyhow::anyhow!("no key"))
    }
}

fn per_msg(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1000.0 / n as f64
}

fn main() {
    // `cargo test --all-targets` runs bench binaries too, without `--bench`: a
    // benchmark is not a test, so do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("benches/process.rs: run it with `cargo bench --bench process`");
        return;
    }
    let team_secret = cert("team.sec.asc");
    let team = team_secret.clone().strip_secret_key_material();
    eprintln!("encrypting {N} reports with GnuPG (as reporters do; SEIPv1, which every peer reads)…");
    let ciphertexts = gpg_encrypt_all(&(0..N).map(report_text).collect::<Vec<_>>()).unwrap_or_else(|| {
        eprintln!("gpg not usable; encrypting with sequoia instead");
        (0..N).map(|i| armored_encrypt(&team, report_text(i).as_bytes())).collect()
    });
    let messages: Vec<Vec<u8>> = ciphertexts.iter().enumerate().map(|(i, c)| pgp_mime(i, c)).collect();

    // The floor: sequoia alone, decrypting each ciphertext to memory.
    let p = pgp::policy::StandardPolicy::new();
    let t = Instant::now();
    for c in &ciphertexts {
        let mut d = DecryptorBuilder::from_bytes(c).unwrap().with_policy(&p, None, Bare { key: &team_secret }).unwrap();
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        assert!(!out.is_empty());
    }
    let floor = t.elapsed();

    // vulnmail: parse MIME, decrypt, verify, extract.
    let keys = vulnmail::process::Keys { team: std::slice::from_ref(&team_secret), known: &[] };
    let opts = vulnmail::process::Options::default();
    let t = Instant::now();
    for m in &messages {
        let o = vulnmail::process::process(m, &keys, None, &opts);
        assert_eq!(o.report.encryption.status, "decrypted");
        assert!(o.report.fields.summary.is_some());
    }
    let ours = t.elapsed();

    // The peers, once per message, on a sample.
    let tmp = tempfile::tempdir().unwrap();
    let gnupg = tmp.path().join("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let ok = Command::new("gpg")
        .env("GNUPGHOME", &gnupg)
        .args(["--batch", "--quiet", "--import"])
        .arg(fixture("team.sec.asc"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let mut files = Vec::new();
    for (i, c) in ciphertexts.iter().take(SAMPLE).enumerate() {
        let f = tmp.path().join(format!("{i}.asc"));
        std::fs::write(&f, c).unwrap();
        files.push(f);
    }
    let time_tool = |mk: &dyn Fn(&Path) -> Command| -> Option<Duration> {
        let t = Instant::now();
        for f in &files {
            let o = mk(f).output().ok()?;
            if !o.status.success() {
                eprintln!("peer failed: {}", String::from_utf8_lossy(&o.stderr));
                return None;
            }
        }
        Some(t.elapsed())
    };
    let gpg = if ok {
        time_tool(&|f| {
            let mut c = Command::new("gpg");
            c.env("GNUPGHOME", &gnupg).args(["--batch", "--quiet", "--decrypt"]).arg(f);
            c
        })
    } else {
        None
    };
    let sq = time_tool(&|f| {
        let mut c = Command::new("sq");
        c.arg("decrypt").arg("--recipient-key").arg(fixture("team.sec.asc")).arg(f);
        c
    });

    // Peak memory for a report with a 50 MiB encrypted attachment.
    let peak = peak_memory_50mib(tmp.path(), &team);

    let floor_ms = per_msg(floor, N);
    let ours_ms = per_msg(ours, N);
    println!("| measurement | per message | ratio | target |");
    println!("|---|---|---|---|");
    println!("| sequoia-openpgp bare decrypt loop ({N} messages, the floor) | {floor_ms:.3} ms | 1.00 | |");
    println!(
        "| vulnmail process: MIME + decrypt + extract ({N} messages) | {ours_ms:.3} ms | {:.2} × floor | ≤ 2.00 × floor: {} |",
        ours_ms / floor_ms,
        if ours_ms <= 2.0 * floor_ms { "PASS" } else { "FAIL" }
    );
    if let Some(g) = gpg {
        let g_ms = per_msg(g, SAMPLE);
        println!(
            "| `gpg --decrypt`, one process per message ({SAMPLE} sampled) | {g_ms:.2} ms | vulnmail {:.0}× faster | reported |",
            g_ms / ours_ms
        );
    }
    if let Some(s) = sq {
        let s_ms = per_msg(s, SAMPLE);
        println!(
            "| `sq decrypt`, one process per message ({SAMPLE} sampled) | {s_ms:.2} ms | vulnmail {:.0}× faster | reported |",
            s_ms / ours_ms
        );
    }
    match peak {
        Some(kib) => {
            let mib = kib as f64 / 1024.0;
            println!(
                "| peak memory, `vulnmail import` of a report with a 50 MiB encrypted attachment | {mib:.0} MiB | {:.2} × 50 MiB | ≤ 4 × size: {} |",
                mib / 50.0,
                if mib <= 200.0 { "PASS" } else { "FAIL" }
            );
        }
        None => println!("| peak memory (50 MiB attachment) | not measured (GNU time missing?) | | |"),
    }
}

/// Build the message, import it with the release binary under GNU time, return max RSS (KiB).
fn peak_memory_50mib(dir: &Path, team: &pgp::Cert) -> Option<u64> {
    let size = 50 * 1024 * 1024;
    let mut data = vec![0u8; size];
    // Incompressible, like a real capture or binary.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let ct = vulnmail::openpgp::decrypt::encrypt_to(std::slice::from_ref(team), &data, SystemTime::now()).ok()?;
    drop(data);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&ct);
    drop(ct);
    let mut msg = String::from(
        "From: Ada <ada@example.net>\r\nTo: security@example.org\r\nSubject: big capture\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSummary: see the attached capture.\r\n--b\r\nContent-Type: application/pgp-encrypted; name=capture.pcap.pgp\r\nContent-Disposition: attachment; filename=capture.pcap.pgp\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    for chunk in b64.as_bytes().chunks(76) {
        msg.push_str(std::str::from_utf8(chunk).ok()?);
        msg.push_str("\r\n");
    }
    msg.push_str("--b--\r\n");
    let eml = dir.join("big.eml");
    std::fs::write(&eml, msg).ok()?;
    let home = dir.join("vmhome");
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/vulnmail");
    if !bin.exists() {
        let _ = Command::new("cargo")
            .args(["build", "--release", "--quiet"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status();
    }
    let env = |c: &mut Command| {
        c.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("VULNMAIL_HOME", home.join("data"))
            .env_remove("VULNMAIL_PASSPHRASE");
    };
    let mut init = Command::new(&bin);
    env(&mut init);
    init.args(["init", "--batch", "--address", "security@example.org", "--import"]).arg(fixture("team.sec.asc"));
    if !init.output().ok()?.status.success() {
        return None;
    }
    let mut imp = Command::new("/usr/bin/time");
    env(&mut imp);
    imp.args(["-f", "%M"]).arg(&bin).arg("import").arg(&eml);
    let o = imp.output().ok()?;
    let err = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() {
        eprintln!("import failed: {err}");
    }
    err.lines().last()?.trim().parse().ok()
}
